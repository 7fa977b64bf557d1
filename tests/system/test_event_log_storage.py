"""The batching event log writes exactly what Dagster's own SQLite event log writes.

The same backfill runs on two instances over the same exports: one with Dagster's
`SqliteEventLogStorage` (a dagster.yaml of the user's own, which scorecard leaves alone), one
with the instance scorecard writes (`pipelines/event_log_storage.py`). Every row of the index
(events, asset keys, tags, asset check executions) and of the run's own file is compared, ids
included, and Dagster's API answers the same about every asset.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import yaml
from demo_homes import FIRST, LAST, home_on, runtime_paths_at

from pipelines.defs.jobs import HISTORY_JOB
from pipelines.event_log_storage import BatchingSqliteEventLogStorage
from pipelines.runner import instance_config, instance_for, run_job
from pipelines.settings import RuntimePaths

# Columns that differ between any two runs: run ids, times, the serialized event (times inside).
_PER_RUN = {
    "run_id",
    "last_run_id",
    "event",
    "timestamp",
    "event_timestamp",
    "create_timestamp",
    "last_materialization",
    "last_materialization_timestamp",
    "cached_status_data",
    "evaluation_event",
    "evaluation_event_timestamp",
    "update_timestamp",
    "assigned_timestamp",
    "asset_details",
    "migration_completed",
}
_RUN_DERIVED_TAGS = ("dagster/data_version",)  # a hash over the run id, among others


def _rows(database: Path) -> dict[str, list[tuple]]:
    con = sqlite3.connect(database)
    try:
        tables = [
            name
            for (name,) in con.execute(
                "select name from sqlite_master where type = 'table' order by name"
            )
        ]
        contents = {}
        for table in tables:
            columns = [
                f'"{c[1]}"'
                for c in con.execute(f"pragma table_info({table})")
                if c[1] not in _PER_RUN
            ]
            rows = con.execute(f"select {', '.join(columns)} from {table} order by 1").fetchall()
            if table == "asset_event_tags":  # (id, event_id, asset_key, key, value)
                rows = [(*r[:4], None if r[3] in _RUN_DERIVED_TAGS else r[4]) for r in rows]
            contents[table] = rows
        return contents
    finally:
        con.close()


def _run_file(paths: RuntimePaths, run_id: str) -> Path:
    return paths.dagster_home / "history" / "runs" / f"{run_id}.db"


def test_batched_event_log_equals_dagsters_own(tmp_path, quarter_exports, monkeypatch):
    own = home_on(tmp_path, quarter_exports, "dagster_storage")
    own.dagster_home.mkdir(parents=True)
    # the same instance without the event_log_storage key and the first line: Dagster's storage
    config = yaml.safe_load(instance_config(own.dagster_home))
    del config["event_log_storage"]
    (own.dagster_home / "dagster.yaml").write_text(yaml.safe_dump(config))
    batched = home_on(tmp_path, quarter_exports, "batched")

    groups: list[int] = []
    store = BatchingSqliteEventLogStorage._store_asset_events
    monkeypatch.setattr(
        BatchingSqliteEventLogStorage,
        "_store_asset_events",
        lambda self, events: (groups.append(len(events)), store(self, events)),
    )
    monkeypatch.delenv("DAGSTER_EVENT_BATCH_SIZE", raising=False)
    first = run_job(own, HISTORY_JOB, FIRST, LAST)
    assert first.success and groups == [], "Dagster's own storage wrote the first run"
    second = run_job(batched, HISTORY_JOB, FIRST, LAST)
    assert second.success
    months, kpis = 3, 19
    assert max(groups) >= months * kpis, f"the KPI step's materializations in one batch: {groups}"

    index = _rows(own.dagster_home / "history" / "runs" / "index.db")
    assert index["event_logs"], "the index holds the run's asset events"
    assert index == _rows(batched.dagster_home / "history" / "runs" / "index.db")
    assert _rows(_run_file(own, first.run_id)) == _rows(_run_file(batched, second.run_id))

    with instance_for(own) as reference, instance_for(batched) as instance:
        assert type(instance.event_log_storage) is BatchingSqliteEventLogStorage
        assert type(reference.event_log_storage) is not BatchingSqliteEventLogStorage
        keys = reference.get_asset_keys()
        assert len(keys) == 33 and sorted(keys) == sorted(instance.get_asset_keys())
        for key in keys:
            assert (
                reference.get_materialized_partitions(key)
                == instance.get_materialized_partitions(key)
                == {"2026-01", "2026-02", "2026-03"}
            )
            ours = instance.get_latest_materialization_event(key)
            theirs = reference.get_latest_materialization_event(key)
            assert ours.dagster_event.partition == theirs.dagster_event.partition
            assert (
                ours.asset_materialization.metadata.keys()
                == theirs.asset_materialization.metadata.keys()
            )


def test_the_instance_file_follows_the_runtime_folder(tmp_path):
    """Written on first use, rewritten when the folder moved, a user's own file left alone."""
    moved = runtime_paths_at(tmp_path / "moved")
    moved.dagster_home.mkdir(parents=True)
    config = moved.dagster_home / "dagster.yaml"
    config.write_text(instance_config(tmp_path / "elsewhere" / "dagster"))
    with instance_for(moved) as instance:
        assert instance.event_log_storage._base_dir == str(moved.dagster_home / "history" / "runs")
    assert config.read_text() == instance_config(moved.dagster_home)
    own = "# mine\nconcurrency:\n  pools:\n    default_limit: 2\n"
    config.write_text(own)
    with instance_for(moved) as instance:
        assert type(instance.event_log_storage) is not BatchingSqliteEventLogStorage
    assert config.read_text() == own

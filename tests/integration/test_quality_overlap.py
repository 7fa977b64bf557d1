"""The load step validates a table on a worker thread while it loads the next table of the source:
each check overlaps the next load, results still come one per table, after its materialization,
and a check that cannot record its verdicts fails the step."""

from __future__ import annotations

import threading

from dagster import DagsterEventType, DagsterInstance
from demo_homes import FIRST, home_on

from pipelines.catalog import load_catalog
from pipelines.defs import ingest
from pipelines.defs.jobs import HISTORY_JOB
from pipelines.quality import worker
from pipelines.runner import run_job

WAIT_S = 20  # far longer than any load of the test data: a check that waits this long overlapped
             # nothing


def _next_in_source(catalog) -> dict[str, str]:
    """Each table's key -> the key of the table its source loads after it."""
    after = {}
    for source in catalog.sources:
        keys = [f"{source.source}.{t.name}" for t in source.tables]
        after |= dict(zip(keys, keys[1:], strict=False))
    return after


def test_each_check_runs_while_the_next_table_loads(tmp_path, quarter_exports, monkeypatch):
    paths = home_on(tmp_path, quarter_exports, "overlap")
    catalog = load_catalog(paths.definitions, paths.sql)
    after = _next_in_source(catalog)
    load_started = {t.key: threading.Event() for t in catalog.tables}  # made before any thread
    overlapped, threads = {}, {}
    real_load, real_check = ingest.load_source_table, worker.validate_and_record

    def load(context, con, table, *args):
        load_started[table.key].set()
        return real_load(context, con, table, *args)

    def check(con, table, *args):
        threads[table.key] = threading.current_thread().name
        if table.key in after:  # a sequential step would load the next table only after this
            overlapped[table.key] = load_started[after[table.key]].wait(WAIT_S)
        return real_check(con, table, *args)

    monkeypatch.setattr(ingest, "load_source_table", load)
    monkeypatch.setattr(worker, "validate_and_record", check)
    outcome = run_job(paths, HISTORY_JOB, FIRST, FIRST)

    assert outcome.success, outcome.errors
    assert overlapped == dict.fromkeys(after, True)
    assert len(threads) == 11
    assert all(name.startswith("quality") for name in threads.values())
    with DagsterInstance.from_config(str(paths.dagster_home)) as instance:
        records = instance.get_records_for_run(outcome.run_id, limit=10000).records
    order = [(r.event_log_entry.dagster_event.event_type,
              r.event_log_entry.dagster_event.asset_key
              or r.event_log_entry.dagster_event.event_specific_data.asset_key)
             for r in records if r.event_log_entry.dagster_event and
             r.event_log_entry.dagster_event.event_type in (
                 DagsterEventType.ASSET_MATERIALIZATION, DagsterEventType.ASSET_CHECK_EVALUATION)]
    order = [(kind, key) for kind, key in order if key.path[0].startswith("raw_")]
    checked = [key for kind, key in order if kind == DagsterEventType.ASSET_CHECK_EVALUATION]
    assert len(checked) == len(set(checked)) == 11
    for kind, key in order:  # every check after its table's materialization
        if kind == DagsterEventType.ASSET_CHECK_EVALUATION:
            assert (DagsterEventType.ASSET_MATERIALIZATION, key) in order[:order.index((kind, key))]


def test_a_check_that_cannot_record_its_verdicts_fails_the_step(tmp_path, quarter_exports,
                                                                 monkeypatch):
    paths = home_on(tmp_path, quarter_exports, "unrecorded")
    real_write = worker.write_verdicts

    def write(con, verdicts, run_id):
        if verdicts and verdicts[0].table_key == "finance.gl_entries":
            raise OSError("quality results could not be written: disk gone")
        return real_write(con, verdicts, run_id)

    monkeypatch.setattr(worker, "write_verdicts", write)
    outcome = run_job(paths, HISTORY_JOB, FIRST, FIRST)

    assert not outcome.success
    assert any("disk gone" in error for error in outcome.errors)

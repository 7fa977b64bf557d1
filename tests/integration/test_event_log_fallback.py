"""Without the Dagster internals it builds on, the batching event log is Dagster's own storage:
runs still record every event (pipelines/event_log_storage.py, `MISSING`)."""

from __future__ import annotations

import os

import pytest
from dagster import AssetKey, DagsterInstance, asset, materialize

from pipelines import event_log_storage
from pipelines.runner import instance_config


@asset
def one_number() -> int:
    return 1


@pytest.mark.parametrize("missing", [[], ["_store_asset_event"]], ids=["batching", "stock"])
def test_runs_record_their_events_batching_or_stock(tmp_path, monkeypatch, missing):
    monkeypatch.setattr(event_log_storage, "MISSING", missing)
    monkeypatch.delenv("DAGSTER_EVENT_BATCH_SIZE", raising=False)
    (tmp_path / "dagster.yaml").write_text(instance_config(tmp_path))
    with DagsterInstance.from_config(str(tmp_path)) as instance:
        storage = instance.event_log_storage
        assert isinstance(storage, event_log_storage.BatchingSqliteEventLogStorage)
        result = materialize([one_number], instance=instance)
        assert result.success
        assert instance.get_latest_materialization_event(AssetKey("one_number")) is not None
        batching = not missing
        assert storage._batching is batching
        assert bool(storage._engines) is batching, "kept engines only when batching"
        assert ("DAGSTER_EVENT_BATCH_SIZE" in os.environ) is batching

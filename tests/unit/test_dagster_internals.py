"""The places that build on Dagster's private parts still find them: these fail loudly on a
Dagster upgrade that removes or reshapes them (docs/decisions/patched-internals.md). Without
them each falls back to Dagster's stock behaviour after one warning; see
tests/integration/test_event_log_fallback.py and tests/integration/test_pool_wait.py."""

from __future__ import annotations

import inspect

from dagster._core.execution.plan.instance_concurrency_context import InstanceConcurrencyContext
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from pipelines import event_log_storage, pool_wait, run_origin
from pipelines.defs import partitions


def test_the_sqlite_event_log_internals_the_batching_storage_builds_on_are_there():
    """If this fails after upgrading Dagster, the event log is Dagster's own (one warning at
    start, a backfill some 35 % slower): adapt or remove pipelines/event_log_storage.py."""
    assert event_log_storage.MISSING == [], (
        f"Dagster's SqliteEventLogStorage changed: {event_log_storage.MISSING}"
    )
    assert list(inspect.signature(SqliteEventLogStorage._store_asset_event).parameters) == [
        "self",
        "conn",
        "event",
        "event_id",
    ]


def test_the_concurrency_context_internals_the_pool_wait_fix_builds_on_are_there():
    """If this fails after upgrading Dagster, a run waiting for the warehouse slot spins a core
    (one warning at start): check whether Dagster fixed its wait, then adapt or remove
    pipelines/pool_wait.py."""
    assert pool_wait.PATCHABLE, "Dagster's InstanceConcurrencyContext changed"
    assert pool_wait.apply()
    assert (
        InstanceConcurrencyContext.interval_to_next_pending_claim_check
        is pool_wait.interval_to_next_pending_claim_check
    )


def test_the_checks_see_a_missing_internal(monkeypatch):
    monkeypatch.setattr(SqliteEventLogStorage, "_store_asset_event_tags", None)
    assert event_log_storage._missing_internals() == ["_store_asset_event_tags"]
    monkeypatch.setattr(SqliteEventLogStorage, "_store_asset_event", lambda self, conn, event: None)
    assert event_log_storage._missing_internals() == [
        "_store_asset_event",
        "_store_asset_event_tags",
    ]
    assert pool_wait._patchable()
    monkeypatch.setattr(pool_wait, "_METHOD", "a_method_an_upgrade_removed")
    assert not pool_wait._patchable()


def test_a_fallback_is_said_once_on_stderr_whatever_great_expectations_did_to_warnings(capsys):
    import great_expectations.validator.validator  # noqa: F401 - captures warnings into a logger

    from pipelines.stock_fallback import fall_back

    fall_back("a patch does not apply here: stock behaviour")
    fall_back("a patch does not apply here: stock behaviour")
    assert capsys.readouterr().err == (
        "scorecard: warning: a patch does not apply here: stock behaviour\n"
    )


def test_the_run_internals_a_cli_run_uses_to_belong_to_its_code_location_are_there():
    """If this fails after upgrading Dagster, runs the CLI starts are missing from their job's
    page in the UI (one warning at start): adapt pipelines/run_origin.py."""
    assert run_origin.AVAILABLE, "Dagster's execute_run, InMemoryJob or remote origins moved"
    origin = run_origin.job_origin("monthly_scorecard")
    assert origin.repository_origin.get_label() == "__repository__@balanced_scorecard"


def test_a_backfills_check_evaluations_can_name_the_materialization_they_judged():
    """If this fails after upgrading Dagster, a backfill's checks are not shown on its months'
    partitions (one warning at start): adapt pipelines/defs/partitions.py."""
    assert partitions._Target is not None
    target = partitions._Target(run_id="r", storage_id=7, timestamp=1.0)
    assert (target.run_id, target.storage_id, target.timestamp) == ("r", 7, 1.0)

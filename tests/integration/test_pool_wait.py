"""The wait for a warehouse pool slot: the time left to the next claim, on Dagster's own
concurrency context (pipelines/pool_wait.py)."""

from __future__ import annotations

from dagster import DagsterInstance
from dagster._core.execution.plan.instance_concurrency_context import (
    InstanceConcurrencyContext,
)
from dagster._core.storage.dagster_run import DagsterRun

from pipelines import pool_wait


def test_a_blocked_claim_waits_until_its_next_try_and_nothing_pending_waits_nothing(tmp_path):
    assert pool_wait.apply()
    with DagsterInstance.local_temp(str(tmp_path)) as instance:
        storage = instance.event_log_storage
        storage.set_concurrency_slots("warehouse", 1)
        assert storage.claim_concurrency_slot("warehouse", "other-run", "load").is_claimed
        with InstanceConcurrencyContext(instance, DagsterRun(job_name="j", run_id="r")) as ctx:
            assert ctx.interval_to_next_pending_claim_check() == 0.0
            assert not ctx.claim("warehouse", "scores")
            assert 0.5 < ctx.interval_to_next_pending_claim_check() <= 1.0
            storage.free_concurrency_slots_for_run("other-run")
            ctx._pending_timeouts["scores"] = 0.0  # its back-off is over: due now
            assert ctx.interval_to_next_pending_claim_check() == 0.0
            assert ctx.claim("warehouse", "scores")
            assert ctx.interval_to_next_pending_claim_check() == 0.0

"""Run the scorecard's jobs through Dagster, in process, recorded in the instance under $SCORECARD_HOME.

The CLI and the tests call these; they are the same jobs `dagster dev` and the schedule run.
"""

from __future__ import annotations

import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

from dagster import DagsterInstance, ExecuteInProcessResult

from pipelines.definitions import build_definitions
from pipelines.periods import Period
from pipelines.settings import RuntimePaths

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
# The CLI prints its own summary; the full event log stays in the instance and the UI.
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


@dataclass(frozen=True)
class RunOutcome:
    """What a run did: its id, whether it succeeded, and the failed steps' errors."""

    run_id: str
    success: bool
    errors: tuple[str, ...]


def instance_for(paths: RuntimePaths) -> DagsterInstance:
    """The Dagster instance under the runtime folder (created on first use)."""
    paths.dagster_home.mkdir(parents=True, exist_ok=True)
    config = paths.dagster_home / "dagster.yaml"
    if not config.exists():
        shutil.copyfile(Path(__file__).with_name("instance.yaml"), config)
    return DagsterInstance.from_config(str(paths.dagster_home))


def _outcome(result: ExecuteInProcessResult) -> RunOutcome:
    errors = []
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data.error:
            error = event.step_failure_data.error
            while error.cause is not None:  # the user code's exception, not Dagster's wrapper
                error = error.cause
            errors.append(f"{event.step_key}: {error.message.strip()}")
    return RunOutcome(result.run_id, result.success, tuple(errors))


def run_job(paths: RuntimePaths, job_name: str, first: Period, last: Period) -> RunOutcome:
    """Execute a partitioned job over the months first..last in one run."""
    warnings.filterwarnings("ignore", category=Warning, module="dagster")
    defs = build_definitions(paths)
    job = defs.resolve_job_def(job_name)
    if first == last:
        kwargs = {"partition_key": first.key}
    else:
        kwargs = {"tags": {RANGE_START_TAG: first.key, RANGE_END_TAG: last.key}}
    with instance_for(paths) as instance:
        result = job.execute_in_process(
            instance=instance, raise_on_error=False, run_config=QUIET, **kwargs
        )
    return _outcome(result)

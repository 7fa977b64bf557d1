"""A run the CLI executes in its own process belongs to the code location the UI loads.

Runs started from the UI, the schedule, the failure sensor or `dagster job launch` carry the
origin of their code location (workspace.yaml: `balanced_scorecard`), and the UI lists a job's
runs, its timeline and re-execution by that origin and the job's snapshot. `execute_in_process`
records neither: no origin, and the snapshot of an ephemeral copy of the job, so a CLI run was
missing from its job's Runs tab and the timeline, and re-executing it warned of "a different
version". Launching through the location instead (a code server, then a run worker) starts two
more Python processes, each importing the definitions: some 7 s more on a 13 s monthly run.

So `execute` does in this process what a run worker does: it creates the run with the
location's origin and the job's own snapshot (`DagsterInstance.create_run_for_job`), then
executes it with Dagster's `execute_run`. Dagster has no public call for that (`dagster job
execute` has the same gap), so this imports from `dagster._core`
(docs/decisions/patched-internals.md). `AVAILABLE` says whether those names are still there:
if an upgrade moved them, runs fall back to `execute_in_process` after one warning (the runs
work; the UI lists them under Runs only). tests/unit/test_dagster_internals.py fails loudly on
such an upgrade.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path

from dagster import DagsterInstance, JobDefinition

from pipelines.settings import PROJECT_ROOT
from pipelines.stock_fallback import fall_back

try:
    from dagster._core.definitions.job_base import InMemoryJob
    from dagster._core.execution.api import execute_run
    from dagster._core.remote_origin import RemoteJobOrigin, RemoteRepositoryOrigin
    from dagster._core.workspace.load import location_origins_from_yaml_paths
except ImportError:  # moved or gone in this Dagster: AVAILABLE is False
    AVAILABLE = False
else:
    AVAILABLE = True

WORKSPACE = PROJECT_ROOT / "workspace.yaml"
# The repository a Definitions object makes (Dagster's name for it, shown as "__repository__").
REPOSITORY = "__repository__"

if not AVAILABLE:
    fall_back(
        "Dagster's run internals have changed: runs started by scorecard are executed without "
        "their code location, so the UI lists them under Runs but not on their job's page"
    )


@cache
def job_origin(job_name: str, workspace: Path = WORKSPACE) -> RemoteJobOrigin:
    """The origin the UI gives `job_name`: the code location workspace.yaml declares."""
    (location,) = location_origins_from_yaml_paths([str(workspace)])
    return RemoteJobOrigin(RemoteRepositoryOrigin(location, REPOSITORY), job_name)


def execute(
    instance: DagsterInstance,
    job: JobDefinition,
    *,
    run_id: str,
    run_config: Mapping,
    tags: Mapping[str, str],
):
    """Create the run of `job` as its code location's and execute it here, in this process.

    Returns Dagster's result (run_id, success, all_events), as `execute_in_process` does."""
    run = instance.create_run_for_job(
        job_def=job,
        run_id=run_id,
        run_config=run_config,
        tags={**job.run_tags, **tags},
        remote_job_origin=job_origin(job.name),
    )
    return execute_run(InMemoryJob(job), run, instance, raise_on_error=False)

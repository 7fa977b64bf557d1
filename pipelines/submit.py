"""Submit a range of months to a production Dagster instance, for its daemon to run.

`scorecard backfill --submit` does what an operator would otherwise type: `dagster job launch`
of the history job with the partition-range tags, against the instance at $DAGSTER_HOME
(deploy/dagster.yaml), so the run waits in the queue and the daemon's run coordinator launches it
when the warehouse pool lets it. Nothing runs here: the command returns once the run is queued.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from pipelines.ingest.redact import Redactor
from pipelines.periods import Period
from pipelines.runner import RANGE_END_TAG, RANGE_START_TAG
from pipelines.settings import PROJECT_ROOT

DEFAULT_WORKSPACE = PROJECT_ROOT / "workspace.yaml"
SUBMIT_TIMEOUT_SECONDS = 300


class SubmitError(RuntimeError):
    """The run could not be queued; the message says why and what to do."""


def _queued_instance_home() -> str:
    from dagster import DagsterInstance, QueuedRunCoordinator

    home = os.environ.get("DAGSTER_HOME", "")
    if not home:
        raise SubmitError(
            "--submit queues the run on the Dagster instance in $DAGSTER_HOME; set "
            "DAGSTER_HOME to the folder holding deploy/dagster.yaml"
        )
    with DagsterInstance.get() as instance:
        if not isinstance(instance.run_coordinator, QueuedRunCoordinator):
            raise SubmitError(
                f"the Dagster instance in {home} does not queue runs (its dagster.yaml sets a "
                "run coordinator other than QueuedRunCoordinator), so no daemon would pick this "
                "run up; use deploy/dagster.yaml, or run the backfill here without --submit"
            )
    return home


def range_tags(first: Period, last: Period) -> dict[str, str]:
    """The tags that make one run cover the months first..last (as runner.run_job does)."""
    if first == last:
        return {"dagster/partition": first.key}
    return {RANGE_START_TAG: first.key, RANGE_END_TAG: last.key}


def submit_range(
    job_name: str,
    first: Period,
    last: Period,
    *,
    workspace: Path = DEFAULT_WORKSPACE,
    tags: dict | None = None,
) -> str:
    """Queue one run of `job_name` over first..last on the instance at $DAGSTER_HOME; its run id."""
    _queued_instance_home()
    if not workspace.is_file():
        raise SubmitError(
            f"no workspace file at {workspace}; pass --workspace, the file the "
            "daemon was started with"
        )
    run_id = str(uuid.uuid4())
    command = [
        sys.executable,
        "-m",
        "dagster",
        "job",
        "launch",
        "-w",
        str(workspace),
        "-j",
        job_name,
        "--run-id",
        run_id,
        "--tags",
        json.dumps({**(tags or {}), **range_tags(first, last)}),
    ]
    try:
        done = subprocess.run(  # noqa: S603
            command,
            capture_output=True,
            text=True,
            check=False,
            timeout=SUBMIT_TIMEOUT_SECONDS,
            cwd=workspace.parent,
        )
    except subprocess.TimeoutExpired:
        raise SubmitError(
            f"`dagster job launch` did not answer in {SUBMIT_TIMEOUT_SECONDS} s; "
            "is the instance's PostgreSQL reachable?"
        ) from None
    if done.returncode:
        # the instance's PostgreSQL password must not reach the terminal, even if Dagster says it
        redact = Redactor([os.environ.get("DAGSTER_PG_PASSWORD")])
        last_lines = redact("\n".join(done.stderr.strip().splitlines()[-8:]))
        raise SubmitError(f"`dagster job launch` failed (exit {done.returncode}):\n{last_lines}")
    return run_id

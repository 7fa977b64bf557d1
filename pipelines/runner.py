"""Run the scorecard's jobs through Dagster, in process, recorded in the instance under
$SCORECARD_HOME.

The CLI and the tests call these; they are the same jobs `dagster dev` and the schedule run.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import threading
import uuid
import warnings
from collections.abc import Callable
from contextlib import redirect_stderr, suppress
from dataclasses import dataclass
from pathlib import Path

from dagster import (
    DagsterEventType,
    DagsterInstance,
    DagsterRunStatus,
    RunsFilter,
)

from pipelines import run_origin
from pipelines.definitions import build_definitions
from pipelines.instance_full import HeldStorageNotes, instance_full_error
from pipelines.periods import Period
from pipelines.settings import RuntimePaths
from pipelines.warehouse.lake import writers_at_once

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
PID_TAG = "scorecard/process"  # the process executing a run in process: pid:start time
_UNFINISHED = [
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
    DagsterRunStatus.CANCELING,
]
# The first line of every dagster.yaml scorecard wrote (pipelines/instance.yaml, then and now).
_WRITTEN_BY_SCORECARD = "# The local Dagster instance under $SCORECARD_HOME/dagster"
# The CLI prints its own summary; the full event log stays in the instance and the UI.
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


@dataclass(frozen=True)
class RunOutcome:
    """What a run did: its id, whether it succeeded, and the failed steps' errors."""

    run_id: str
    success: bool
    errors: tuple[str, ...]


def instance_config(dagster_home: Path) -> str:
    """pipelines/instance.yaml for the instance in `dagster_home` (its event log's folder), its
    warehouse pool as wide as the warehouse takes writers."""
    template = Path(__file__).with_name("instance.yaml").read_text(encoding="utf-8")
    # A JSON string is a YAML string: any path, quoted and escaped.
    return template.replace(
        "${event_log_dir}", json.dumps(str(dagster_home / "history" / "runs"))
    ).replace("${writers}", str(writers_at_once()))


def instance_for(paths: RuntimePaths) -> DagsterInstance:
    """The Dagster instance under the runtime folder (created on first use).

    Its dagster.yaml is written from pipelines/instance.yaml, and written again when the file
    scorecard wrote differs (an older scorecard, a runtime folder moved elsewhere); a file
    without the template's first line is the user's own and left alone. A disk too full to
    open it raises InstanceFullError."""
    try:
        return _open_instance(paths)
    except Exception as exc:
        full = instance_full_error(paths.dagster_home, exc)
        if full is None:
            raise
        raise full from None


def _open_instance(paths: RuntimePaths) -> DagsterInstance:
    paths.dagster_home.mkdir(parents=True, exist_ok=True)
    config = paths.dagster_home / "dagster.yaml"
    wanted = instance_config(paths.dagster_home)
    # one process at a time writes the file and opens the instance: two commands started
    # together on a new folder (runs side by side on a DuckLake) would both create its SQLite
    # storage, and one would fail in Dagster's migrations ("more than one head")
    with open(paths.dagster_home / ".opening", "a", encoding="utf-8") as opening:
        fcntl.flock(opening, fcntl.LOCK_EX)
        present = config.read_text(encoding="utf-8") if config.exists() else None
        if present is None or (present != wanted and present.startswith(_WRITTEN_BY_SCORECARD)):
            written = config.with_name(f".dagster.yaml.{os.getpid()}")
            written.write_text(wanted, encoding="utf-8")
            written.replace(config)
        return DagsterInstance.from_config(str(paths.dagster_home))


def _outcome(result) -> RunOutcome:
    errors = []
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data.error:
            error = event.step_failure_data.error
            while error.cause is not None:  # the user code's exception, not Dagster's wrapper
                error = error.cause
            message = error.message.strip()
            qualified, _, rest = message.partition(": ")
            # Raised on purpose (a Dagster Failure, the project's own errors): the text says it
            # all. Anything else keeps its exception class, the first clue to what went wrong.
            if (
                rest
                and qualified.endswith(error.cls_name)
                and (error.cls_name == "Failure" or qualified.startswith("pipelines."))
            ):
                message = rest
            errors.append(f"{event.step_key}: {message}")
    return RunOutcome(result.run_id, result.success, tuple(errors))


StepCallback = Callable[[str, str], None]  # (step key, "success" | "failure" | "skipped")
_STEP_EVENTS = {
    DagsterEventType.STEP_SUCCESS: "success",
    DagsterEventType.STEP_FAILURE: "failure",
    DagsterEventType.STEP_SKIPPED: "skipped",
}


def _watch_steps(
    instance: DagsterInstance, run_id: str, done: threading.Event, on_step: StepCallback
) -> None:
    cursor = None  # only the events after the last seen: a backfill logs thousands
    while True:
        finished = done.is_set()
        page = instance.get_records_for_run(run_id, cursor=cursor, of_type=set(_STEP_EVENTS))
        for record in page.records:
            event = record.event_log_entry
            on_step(event.step_key, _STEP_EVENTS[event.dagster_event.event_type])
        cursor = page.cursor
        if finished:
            return
        done.wait(0.5)


def step_count(paths: RuntimePaths, job_name: str) -> int:
    """How many steps a run of the job has (for progress bars)."""
    job = build_definitions(paths).resolve_job_def(job_name)
    return len(job.graph.node_dict)


def process_identity(pid: int) -> str:
    """'pid:start time': one process, not a later one that reuses its pid (Linux /proc; where
    there is no /proc, the pid alone)."""
    stat = Path(f"/proc/{pid}/stat")
    with suppress(OSError, IndexError):
        # field 22 (start time, in clock ticks since boot); the command name before it is in
        # parentheses and may hold spaces, so count from the last ')'
        return f"{pid}:{stat.read_text().rpartition(')')[2].split()[19]}"
    return str(pid)


def _process_alive(identity: str) -> bool:
    """Whether the process a run was tagged with still exists (the same one, not a reuse)."""
    pid = identity.partition(":")[0]
    if not pid.isdigit():
        return True  # not ours to judge
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return ":" not in identity or process_identity(int(pid)) == identity


def release_dead_runs(instance: DagsterInstance) -> list[str]:
    """Runs this CLI executed whose process is gone (killed, crashed, the machine rebooted):
    marked failed, and the warehouse slot they held freed, so the next run does not wait on a
    writer that no longer exists. Runs of the daemon (no pid tag) are run monitoring's."""
    released = []
    for run in instance.get_runs(filters=RunsFilter(statuses=_UNFINISHED)):
        identity = run.tags.get(PID_TAG)
        if not identity or _process_alive(identity):
            continue
        pid = identity.partition(":")[0]
        instance.report_run_failed(
            run, message=f"its process ({pid}) is gone: killed or crashed before it finished"
        )
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        released.append(run.run_id)
    return released


def run_job(
    paths: RuntimePaths,
    job_name: str,
    first: Period,
    last: Period,
    on_step: StepCallback | None = None,
    tags: dict | None = None,
) -> RunOutcome:
    """Execute a partitioned job over the months first..last in one run.

    `on_step` is called as each step finishes, from a watcher of the run's event log. A disk
    too full for the instance to record the run raises InstanceFullError (one line).
    """
    warnings.filterwarnings("ignore", category=Warning, module="dagster")
    job = build_definitions(paths).resolve_job_def(job_name)
    run_tags = dict(tags or {})
    if first == last:
        run_tags |= job.get_tags_for_partition_key(first.key, selected_asset_keys=None)
    else:
        run_tags |= {RANGE_START_TAG: first.key, RANGE_END_TAG: last.key}
    run_tags[PID_TAG] = process_identity(os.getpid())
    notes = HeldStorageNotes(sys.stderr)
    try:
        with redirect_stderr(notes):
            result = _execute(paths, job, run_tags, on_step)
    except Exception as exc:
        full = instance_full_error(paths.dagster_home, exc)
        if full is None:
            notes.replay()
            raise
        raise full from None
    notes.replay()  # storage trouble that did not end the run stays visible
    return _outcome(result)


def _execute(paths: RuntimePaths, job, run_tags: dict, on_step: StepCallback | None):
    run_id = str(uuid.uuid4())
    with instance_for(paths) as instance:
        for dead in release_dead_runs(instance):
            print(
                f"Run {dead} had stopped without finishing (its process is gone): marked "
                "failed and its hold on the warehouse released.",
                file=sys.stderr,
            )
        done = threading.Event()
        watcher = None
        if on_step is not None:
            watcher = threading.Thread(
                target=_watch_steps, args=(instance, run_id, done, on_step), daemon=True
            )
            watcher.start()
        try:
            if run_origin.AVAILABLE:  # the run belongs to the code location, as the UI's do
                return run_origin.execute(
                    instance, job, run_id=run_id, run_config=QUIET, tags=run_tags
                )
            return job.execute_in_process(
                instance=instance,
                raise_on_error=False,
                run_config=QUIET,
                run_id=run_id,
                tags=run_tags,
            )
        finally:
            done.set()
            if watcher is not None:
                watcher.join()

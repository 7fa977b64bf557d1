"""The production instance: deploy/dagster.yaml on PostgreSQL, with the daemon running.

A three-month backfill queued with `scorecard backfill --submit` is launched by a real
`dagster-daemon run` (its queued run coordinator) and leaves the same warehouse as the same
backfill run by the CLI on the laptop's SQLite instance.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from contextlib import suppress
from pathlib import Path

import psycopg
import pytest
from dagster import (
    DagsterEventType,
    DagsterInstance,
    DagsterRunStatus,
    DefaultScheduleStatus,
    in_process_executor,
)
from demo_homes import FIRST, LAST, home_on
from warehouse_contents import table_contents

from pipelines.cli import main
from pipelines.definitions import build_definitions
from pipelines.defs.jobs import HISTORY_JOB
from pipelines.runner import RANGE_END_TAG, RANGE_START_TAG, run_job
from pipelines.settings import PROJECT_ROOT

RUN_DEADLINE_SECONDS = 150  # a bound for a loaded 2-core machine; it takes about 30 s alone
DAGSTER_ROLE, DAGSTER_PASSWORD = "dagster", "dagster-Pw-31e8"  # noqa: S105 - test credentials


@pytest.fixture
def instance_env(postgres, tmp_path) -> dict[str, str]:
    """A fresh database owned by a plain role, and a DAGSTER_HOME holding deploy/dagster.yaml."""
    database = f"dagster_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres.url, autocommit=True) as conn:
        if not conn.execute("select 1 from pg_roles where rolname = %s", [DAGSTER_ROLE]).fetchone():
            conn.execute(f"create role {DAGSTER_ROLE} login password '{DAGSTER_PASSWORD}'")
        conn.execute(f"create database {database} owner {DAGSTER_ROLE}")
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    shutil.copyfile(PROJECT_ROOT / "deploy" / "dagster.yaml", dagster_home / "dagster.yaml")
    return {
        "DAGSTER_HOME": str(dagster_home),
        "DAGSTER_PG_HOST": "127.0.0.1",
        "DAGSTER_PG_PORT": str(postgres.port),
        "DAGSTER_PG_DB": database,
        "DAGSTER_PG_USER": DAGSTER_ROLE,
        "DAGSTER_PG_PASSWORD": DAGSTER_PASSWORD,
    }


def _start_daemon(env: dict[str, str], log: Path) -> subprocess.Popen:
    daemon = Path(sys.executable).with_name("dagster-daemon")
    with log.open("w") as out:
        # its own process group: the code server and run workers it starts go with it
        return subprocess.Popen(
            [str(daemon), "run", "-w", str(PROJECT_ROOT / "workspace.yaml")],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM the daemon's process group, then SIGKILL whatever of it is left."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=20)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _wait_for_run(instance: DagsterInstance, run_id: str, log: Path):
    deadline = time.monotonic() + RUN_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        run = instance.get_run_by_id(run_id)
        if run is not None and run.is_finished:
            return run
        time.sleep(1)
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
    pytest.fail(
        f"run {run_id} not finished after {RUN_DEADLINE_SECONDS} s "
        f"(status {run.status if run else None}); daemon log:\n{tail}"
    )


def test_a_backfill_submitted_to_the_instance_is_run_by_the_daemon(
    tmp_path, quarter_exports, instance_env, monkeypatch, capsys
):
    on_server = home_on(tmp_path, quarter_exports, "server")
    by_cli = home_on(tmp_path, quarter_exports, "laptop")
    for name, value in {**instance_env, "SCORECARD_HOME": str(on_server.home)}.items():
        monkeypatch.setenv(name, value)
    log = tmp_path / "daemon.log"
    daemon = _start_daemon(dict(os.environ), log)
    try:
        assert main(["backfill", "--from", FIRST.key, "--to", LAST.key, "--submit"]) == 0
        run_id = re.search(r"Queued Dagster run (\S+)", capsys.readouterr().out).group(1)
        # the same months through the CLI, on its own SQLite instance, while the daemon works
        assert run_job(by_cli, HISTORY_JOB, FIRST, LAST).success
        with DagsterInstance.get() as instance:
            run = _wait_for_run(instance, run_id, log)
            assert run.status == DagsterRunStatus.SUCCESS, log.read_text()[-3000:]
            assert run.tags[RANGE_START_TAG] == FIRST.key and run.tags[RANGE_END_TAG] == LAST.key
            # queued by the submit, then taken off the queue and launched by the daemon
            events = [
                e.dagster_event.event_type
                for e in instance.all_logs(
                    run_id, of_type={DagsterEventType.RUN_ENQUEUED, DagsterEventType.RUN_STARTING}
                )
            ]
            assert events == [DagsterEventType.RUN_ENQUEUED, DagsterEventType.RUN_STARTING]
        assert "Launched 1 runs" in log.read_text()
    finally:
        _stop(daemon)
    on_server_tables = table_contents(on_server)
    assert on_server_tables["kpi.kpi_values"] and on_server_tables["score.rollup_scores"]
    assert on_server_tables == table_contents(by_cli)


def test_submit_refuses_an_instance_without_a_run_queue(
    tmp_path, quarter_exports, monkeypatch, capsys
):
    home = home_on(tmp_path, quarter_exports, "laptop")
    (home.home / "dagster").mkdir()
    (home.home / "dagster" / "dagster.yaml").write_text(
        "run_coordinator: {module: dagster._core.run_coordinator, class: DefaultRunCoordinator}\n"
    )
    monkeypatch.setenv("SCORECARD_HOME", str(home.home))
    monkeypatch.setenv("DAGSTER_HOME", str(home.home / "dagster"))
    assert main(["backfill", "--from", FIRST.key, "--to", LAST.key, "--submit"]) == 2
    assert "does not queue runs" in capsys.readouterr().err
    monkeypatch.delenv("DAGSTER_HOME")
    assert main(["backfill", "--from", FIRST.key, "--to", LAST.key, "--submit"]) == 2
    assert "set DAGSTER_HOME" in capsys.readouterr().err


def test_the_daemon_finds_the_schedule_on_and_runs_in_one_process(paths):
    defs = build_definitions(paths)
    schedule = defs.resolve_schedule_def("monthly_scorecard_schedule")
    assert schedule.default_status == DefaultScheduleStatus.RUNNING  # no switch in the UI
    assert defs.resolve_job_def(HISTORY_JOB).executor_def is in_process_executor

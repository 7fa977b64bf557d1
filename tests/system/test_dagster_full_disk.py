"""A full disk under the Dagster instance ($SCORECARD_HOME/dagster, SQLite): one line naming the
folder, no traceback; with room again, the instance opens and the run cut short is released.

The instance lives on a small tmpfs mounted for the test (root only; CI runs as root, elsewhere
the test is skipped), filled until a run cannot record itself: once half way through a run,
once when the instance is opened. `scorecard run` runs in a process of its own, as a user runs
it, so a run it could not finish is released by the next one.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import DagsterRunStatus
from delivery_support import fill_missing_exports
from tmpfs import mounted_tmpfs

from pipelines.delivery.transport import SMTP_ENVIRONMENT
from pipelines.runner import instance_for, release_dead_runs
from pipelines.settings import PROJECT_ROOT

PERIOD = "2026-02"


@pytest.fixture
def instance_disk(paths) -> Path:
    """A 16 MiB tmpfs mounted at $SCORECARD_HOME/dagster, unmounted afterwards."""
    with mounted_tmpfs(paths.dagster_home, 16) as mount_point:
        yield mount_point


def _fill(disk: Path, leave_bytes: int) -> Path:
    stat = os.statvfs(disk)
    filler = disk / "filler"
    filler.write_bytes(b"\0" * max(stat.f_bavail * stat.f_frsize - leave_bytes, 0))
    return filler


def _scorecard(paths, *args: str) -> tuple[int, str]:
    """`scorecard ARGS` in a process of its own (the outbox, no SMTP); its code and stderr."""
    env = {k: v for k, v in os.environ.items() if k not in SMTP_ENVIRONMENT.values()}
    env["SCORECARD_HOME"] = str(paths.home)
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return done.returncode, done.stderr


def test_a_full_disk_under_the_dagster_instance_is_one_line(
    paths, catalog, tiny_exports, instance_disk
):
    fill_missing_exports(catalog, paths.home)
    with instance_for(paths):  # the instance's databases exist, as after earlier runs
        pass
    filler = _fill(instance_disk, leave_bytes=400 * 1024)
    expected = re.compile(
        re.escape(f"scorecard run: the disk holding the Dagster instance {instance_disk} is full ")
        + r"\(0\.\d MiB free\)"  # what the last event left depends on the run's events
        + re.escape(
            ", so Dagster could not record the run; free space on that disk, then run again"
        )
    )
    for when in ("half way through the run", "when the instance is opened"):
        code, err = _scorecard(paths, "run", "--period", PERIOD)
        assert code == 1, (when, err)
        assert any(expected.fullmatch(line) for line in err.splitlines()), (when, err)
        for noise in ("Traceback", "sqlite", "OperationalError", "Exception while"):
            assert noise not in err, (when, err)

    filler.unlink()  # room again: the instance opens, and the run cut short is released
    with instance_for(paths) as instance:
        released = release_dead_runs(instance)
        assert [run.status for run in instance.get_runs()] == [DagsterRunStatus.FAILURE]
    assert len(released) == 1  # the first attempt had started its run

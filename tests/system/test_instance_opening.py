"""Commands started together on a new runtime folder (runs side by side on a DuckLake) each
open the local Dagster instance: one at a time, so its SQLite storage is made once."""

from __future__ import annotations

import os
import subprocess
import sys

OPEN = (
    "from pipelines.runner import instance_for\n"
    "from pipelines.settings import runtime_paths\n"
    "with instance_for(runtime_paths()) as instance:\n"
    "    print(len(instance.get_runs()))\n"
)


def test_processes_opening_a_new_instance_at_once_all_open_it(tmp_path):
    env = {**os.environ, "SCORECARD_HOME": str(tmp_path / "home")}
    processes = [
        subprocess.Popen(  # noqa: S603
            [sys.executable, "-c", OPEN],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(4)
    ]
    said = [process.communicate(timeout=300)[0] for process in processes]
    assert [process.returncode for process in processes] == [0] * 4, said
    assert [output.strip().splitlines()[-1] for output in said] == ["0"] * 4, said

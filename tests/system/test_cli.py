"""The `scorecard` console script: its exit code, its output and the exit handlers it runs."""

from __future__ import annotations

import os
import subprocess
import textwrap

from fresh_python import run_python


def _scorecard(tmp_path, *args: str) -> subprocess.CompletedProcess:
    script = textwrap.dedent(f"""
        import atexit, sys
        atexit.register(lambda: print("exit handler ran", flush=True))
        sys.argv = ["scorecard", *{list(args)!r}]
        from pipelines.cli import run
        print("started")  # buffered: a pipe is not a terminal
        run()
    """)
    return run_python(script, env={**os.environ, "SCORECARD_HOME": str(tmp_path)})


def test_the_exit_code_output_and_exit_handlers(tmp_path):
    refused = _scorecard(tmp_path, "run", "--period", "2099-01")
    assert refused.returncode == 2
    assert "period 2099-01 is outside the scorecard's months" in refused.stderr
    assert refused.stdout.splitlines() == ["started", "exit handler ran"]

    checked = _scorecard(tmp_path, "check")
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith("started\n") and "exit handler ran" in checked.stdout
    assert len(checked.stdout.splitlines()) > 2, "the check printed its findings"

"""The `scorecard` console script: its exit code, its output and the exit handlers it runs."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from fresh_python import run_python

from pipelines.settings import PROJECT_ROOT


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


def test_dagster_definitions_validate_ends_a_broken_catalog_in_its_list(copied_catalog, tmp_path):
    kpis = copied_catalog / "definitions" / "kpis" / "customer.yaml"
    kpis.write_text(kpis.read_text().replace("    unit: count", "    unit: MWh", 1))
    env = {
        **os.environ,
        "SCORECARD_HOME": str(tmp_path / "home"),
        "SCORECARD_DEFINITIONS": str(copied_catalog / "definitions"),
        "SCORECARD_SQL": str(copied_catalog / "sql"),
    }
    env.pop("DAGSTER_HOME", None)
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("dagster")),
            "definitions",
            "validate",
            "-w",
            str(PROJECT_ROOT / "workspace.yaml"),
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "the catalog has 1 problem(s):" in output
    assert "kpis/customer.yaml:" in output and "unknown unit 'MWh'" in output
    assert "loader.py" not in output, "the stack stops at the code location's one line"

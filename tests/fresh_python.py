"""Python run in a fresh interpreter, from the project folder: for what only shows before
anything is imported (lazy imports, library lookups) or at the process's exit."""

from __future__ import annotations

import subprocess
import sys

from pipelines.settings import PROJECT_ROOT


def run_python(script: str, timeout: float = 120, env: dict | None = None):
    """`python -c script`; its CompletedProcess, output as text."""
    return subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
        timeout=timeout,
    )

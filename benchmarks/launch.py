"""A small launcher that runs one measured command and records what the kernel says it cost.

Run as `python -S -m benchmarks.launch RESULT.json -- COMMAND...`. It writes the command's process
id to RESULT.json.pid as soon as it starts (so the benchmark can sample it), then, once it has
reaped it, its wall time, CPU time, peak RSS and exit code to RESULT.json.

Why a launcher: a child's peak RSS (ru_maxrss) counts the memory of the process that forked it,
up to the exec; forked from the benchmark itself (which holds Dagster, DuckDB and pandas), every
measurement would start at the benchmark's own size. Forked from this small launcher, it starts at
a few MB. Standard library only, so `-S` keeps the launcher small.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    """Run argv after `--`, write its figures to the file named by argv[0]."""
    result = Path(argv[0])
    command = argv[argv.index("--") + 1 :]
    started = time.time()
    t0 = time.perf_counter()
    proc = subprocess.Popen(command)  # noqa: S603 - the benchmark's own commands
    pid_file = result.with_name(result.name + ".pid")
    pid_file.write_text(str(proc.pid), encoding="utf-8")
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    result.write_text(
        json.dumps(
            {
                "started": started,
                "ended": time.time(),
                "wall_s": wall,
                "cpu_s": usage.ru_utime + usage.ru_stime,
                "peak_rss_kb": usage.ru_maxrss,  # KiB on Linux
                "returncode": os.waitstatus_to_exitcode(status),
            }
        ),
        encoding="utf-8",
    )
    proc.returncode = os.waitstatus_to_exitcode(status)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

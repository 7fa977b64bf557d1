"""Run one command in a subprocess and measure it: wall time, CPU time, peak RSS, and a timeline.

Totals come from the kernel when the command is reaped (os.wait4, in benchmarks.launch): its own
CPU time and peak RSS, never another measurement's. The timeline samples its CPU time and RSS from
/proc every `interval` seconds, so a stage of the run (a Dagster step) can be given its CPU time
and peak RSS; without /proc (not Linux) the timeline is empty and stages get wall time only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from bisect import bisect_left
from dataclasses import dataclass, field
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
MB = 1024 * 1024


class MeasurementFailed(RuntimeError):
    """The measured command exited with an error; the message holds the end of its output."""


@dataclass(frozen=True)
class Sample:
    """The child's state at one moment: epoch seconds, CPU seconds so far, resident memory."""

    t: float
    cpu_s: float
    rss_mb: float


@dataclass
class Measured:
    """What one subprocess cost, in total and over time."""

    label: str
    started: float  # epoch seconds, just before the child was started
    ended: float  # epoch seconds, when it was reaped
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    stdout: str
    samples: list[Sample] = field(default_factory=list)

    def cpu_at(self, t: float) -> float:
        """CPU seconds the child had used at epoch time t, interpolated between samples."""
        points = [
            Sample(self.started, 0.0, 0.0),
            *self.samples,
            Sample(self.ended, self.cpu_s, 0.0),
        ]
        times = [p.t for p in points]
        i = bisect_left(times, t)
        if i <= 0:
            return 0.0
        if i >= len(points):
            return self.cpu_s
        before, after = points[i - 1], points[i]
        span = after.t - before.t
        share = (t - before.t) / span if span > 0 else 1.0
        return before.cpu_s + share * (after.cpu_s - before.cpu_s)

    def peak_rss_between(self, start: float, end: float) -> float | None:
        """The largest sampled RSS in [start, end] (the nearest sample for a short interval)."""
        inside = [s.rss_mb for s in self.samples if start <= s.t <= end]
        if inside:
            return max(inside)
        if not self.samples:
            return None
        nearest = min(self.samples, key=lambda s: abs(s.t - (start + end) / 2))
        return nearest.rss_mb


def _read_proc(pid: int) -> tuple[float, float] | None:
    """(CPU seconds, RSS MB) of a live process from /proc, or None when unreadable."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        statm = Path(f"/proc/{pid}/statm").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    # utime, stime, cutime, cstime (fields 14-17): its own and its reaped children's, as wait4
    cpu = sum(int(value) for value in fields[11:15]) / _TICKS
    rss = int(statm.split()[1]) * _PAGE / MB
    return cpu, rss


def _pid_of(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def measure(
    label: str, command: list[str], *, env: dict[str, str], cwd: Path, interval: float = 0.05
) -> Measured:
    """Run `command` to completion through the launcher, sampling it; raise MeasurementFailed on
    a non-zero exit."""
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch, tempfile.TemporaryFile() as out:
        result = Path(scratch) / "result.json"
        pid_file = Path(scratch) / "result.json.pid"
        launcher = [sys.executable, "-S", "-m", "benchmarks.launch", str(result), "--", *command]
        proc = subprocess.Popen(  # noqa: S603
            launcher,
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        samples, pid = [], None
        while proc.poll() is None:
            pid = pid or _pid_of(pid_file)
            if pid is not None:
                now = time.time()
                state = _read_proc(pid)
                if state is not None and state[1] > 0:
                    samples.append(Sample(now, *state))
            time.sleep(interval)
        out.seek(0)
        text = out.read().decode(errors="replace")
        figures = json.loads(result.read_text(encoding="utf-8")) if result.exists() else None
    if figures is None or figures["returncode"] != 0:
        tail = "\n".join(text.splitlines()[-30:])
        code = figures["returncode"] if figures else proc.returncode
        raise MeasurementFailed(f"{label}: `{' '.join(command)}` exited with {code}:\n{tail}")
    return Measured(
        label,
        figures["started"],
        figures["ended"],
        figures["wall_s"],
        figures["cpu_s"],
        figures["peak_rss_kb"] / 1024,
        text,
        samples,
    )

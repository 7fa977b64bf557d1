"""`scorecard backfill --runs N`: a backfill split into N Dagster runs side by side, on a
warehouse that several runs can write at once (a DuckLake).

A month's year to date and trailing twelve months read the months before it, and a year's
review reads its twelve months, so the months cannot simply be dealt out to runs that each do
everything. The backfill goes in three stages instead (pipelines/defs/jobs.py,
HISTORY_STAGE_JOBS): every month is loaded and checked, N runs of consecutive months at once;
then every month's KPIs and scores, N runs at once, over loads that are all there; then the
quarters and years, one run. Each run is a `scorecard backfill --stage` process of its own,
recorded in the Dagster instance like any other run; the warehouse pool lets them write
together (`lake.writers_at_once`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass

from pipelines.periods import Period, months_between
from pipelines.warehouse.backup import KEEP_VARIABLE

STAGES = ("load", "score", "review")
_DOING = {"load": "Loading", "score": "Scoring", "review": "Scoring the quarters and years of"}


def split(first: Period, last: Period, runs: int) -> list[tuple[Period, Period]]:
    """first..last as at most `runs` ranges of consecutive months, as even as they go."""
    months = months_between(first, last)
    runs = max(1, min(runs, len(months)))
    size, extra = divmod(len(months), runs)
    ranges, start = [], 0
    for index in range(runs):
        end = start + size + (1 if index < extra else 0)
        ranges.append((months[start], months[end - 1]))
        start = end
    return ranges


@dataclass(frozen=True)
class StageRun:
    """One `scorecard backfill --stage` process over a range, and how it ended."""

    first: Period
    last: Period
    returncode: int
    output: str

    @property
    def label(self) -> str:
        """The range, as the command line writes it."""
        return f"{self.first}..{self.last}"


def _stage_command(stage: str, first: Period, last: Period) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pipelines.cli",
        "backfill",
        "--from",
        first.key,
        "--to",
        last.key,
        "--stage",
        stage,
    ]


def run_stage(stage: str, ranges: list[tuple[Period, Period]]) -> list[StageRun]:
    """Start one process per range, all at once, and wait for every one. They take no backup
    of their own: the backfill's command took one before its first stage."""
    environ = {**os.environ, KEEP_VARIABLE: "0"}
    processes = [
        (
            first,
            last,
            subprocess.Popen(  # noqa: S603 - our own command, arguments are months
                _stage_command(stage, first, last),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                env=environ,
            ),
        )
        for first, last in ranges
    ]
    done = []
    for first, last, process in processes:
        output, _ = process.communicate()
        done.append(StageRun(first, last, process.returncode, output))
    return done


def backfill_in_runs(first: Period, last: Period, runs: int) -> int:
    """The three stages over first..last, `runs` at once; 0 when every run succeeded.

    A failed run does not stop the stages after it, as a failed step does not stop a one-run
    backfill: a month whose source failed is scored with the KPIs that read it withheld. Each
    failed run is named with what it said."""
    ranges = split(first, last, runs)
    print(
        f"Loading and scoring {first} to {last} in {len(ranges)} runs side by side "
        f"({', '.join(f'{a}..{b}' for a, b in ranges)}), then the quarters and years ..."
    )
    status = 0
    for stage in STAGES:
        stage_ranges = ranges if stage != "review" else [(first, last)]
        started = time.monotonic()
        finished = run_stage(stage, stage_ranges)
        failed = [run for run in finished if run.returncode != 0]
        print(
            f"  {_DOING[stage]} {first}..{last}: {len(finished) - len(failed)} of "
            f"{len(finished)} run(s) succeeded, {time.monotonic() - started:.0f} s"
        )
        for run in failed:
            print(f"  The {stage} run of {run.label}:", file=sys.stderr)
            for line in run.output.strip().splitlines():
                print(f"    {line}", file=sys.stderr)
            status = 1
    return status

"""A measured pipeline run split into stages, from its Dagster run's step events.

Every step of the run is an interval [STEP_START, STEP_SUCCESS] in the instance's event log; each
step belongs to a stage (load, quality, kpis, scores, report, delivery). Two kinds of stretch are
cut out of the steps by the events' timestamps:

- `dagster events`: Dagster writing one event per asset and partition, from the first to the last
  of a run of consecutive events for the same asset (the per-partition materializations of a
  step; the planned materializations before the first step). Only event writing happens there.
- `quality`: the wall time the asset checks add to the load step they run in. A table's check
  runs on a worker thread while the step loads the next tables, so this is what is left of the
  checks once the loads are done: from the step's latest materialization to each evaluation.

What is not inside a step is Dagster's and the CLI's own time: `setup` (interpreter, imports, the
catalog check, building the Definitions, creating the run: from the command to the first step),
`between steps` and `teardown` (the last step to the process's exit).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from benchmarks.procs import Measured

SETUP, BETWEEN, TEARDOWN = "setup", "between steps", "teardown"
EVENTS = "dagster events"
STEP_STAGES = ("load", "quality", "kpis", "scores", "units", "report", "delivery", "other steps")
STAGES = (SETUP, *STEP_STAGES, EVENTS, BETWEEN, TEARDOWN)


def stage_of(step_key: str) -> str:
    """The stage a step belongs to, by the project's asset naming (raw_…, kpi_…, scorecard_…)."""
    key = step_key.lower()
    if any(word in key for word in ("check", "quality", "expect")):
        return "quality"
    if key.startswith("raw_"):
        return "load"
    if key.startswith("unit_"):
        return "units"
    if key.startswith("kpi"):
        return "kpis"
    if key.startswith("report"):
        return "report"
    if "deliver" in key or "email" in key:
        return "delivery"
    if "score" in key:
        return "scores"
    return "other steps"


@dataclass(frozen=True)
class Interval:
    """A stretch of a run: part of a step (named by its key) or Dagster's own time."""

    name: str
    stage: str
    start: float
    end: float


@dataclass(frozen=True)
class RunTimeline:
    """A run's steps, and the stretches inside them (or before them) that belong elsewhere."""

    run_id: str
    steps: list[Interval]
    carved: list[Interval]  # sorted, disjoint: Dagster's event writes, quality checks


def _bursts(records, kind, stage: str, name_of) -> list[Interval]:
    """From the first to the last of each run of consecutive `kind` events for the same asset:
    Dagster writing one event per partition (nothing else runs in between)."""
    out, previous = [], None
    for record in records:
        event = record.dagster_event
        key = (record.step_key, event.asset_key) if event.event_type == kind else None
        if key is not None and previous is not None and previous[0] == key:
            out.append(Interval(name_of(record), stage, previous[1], record.timestamp))
        previous = (key, record.timestamp) if key is not None else None
    return out


def _checks(records, types) -> list[Interval]:
    """The time the checks add to their step: from the step's latest materialization before a
    check's evaluation to that evaluation. A table's check runs beside the loads of the tables
    after it, so only what is left when the loads are done counts here (the rest is in load)."""
    materialized, latest, out = set(), {}, []
    for record in records:
        event = record.dagster_event
        if event.event_type == types.ASSET_MATERIALIZATION:
            materialized.add((record.step_key, event.asset_key))
            latest[record.step_key] = record.timestamp
        elif event.event_type == types.ASSET_CHECK_EVALUATION:
            asset = event.event_specific_data.asset_key
            if (record.step_key, asset) in materialized:
                out.append(
                    Interval(record.step_key, "quality", latest[record.step_key], record.timestamp)
                )
    return out


def _merge(intervals: list[Interval]) -> list[Interval]:
    """Sorted and disjoint (a later stretch is cut where an earlier one ends)."""
    out: list[Interval] = []
    for interval in sorted(intervals, key=lambda i: i.start):
        start = max(interval.start, out[-1].end) if out else interval.start
        if interval.end > start:
            out.append(replace(interval, start=start))
    return out


def read_timeline(dagster_home: Path, job_name: str) -> RunTimeline:
    """The latest run of `job_name` in the instance: its steps, its event writes and checks."""
    from dagster import DagsterEventType, DagsterInstance, RunsFilter

    with DagsterInstance.from_config(str(dagster_home)) as instance:
        runs = instance.get_runs(filters=RunsFilter(job_name=job_name), limit=1)
        if not runs:
            raise LookupError(f"no run of {job_name} in the instance under {dagster_home}")
        run_id = runs[0].run_id
        records = [r for r in instance.all_logs(run_id) if r.dagster_event is not None]
    types = DagsterEventType
    starts, steps = {}, []
    for record in records:
        kind = record.dagster_event.event_type
        if kind == types.STEP_START:
            starts[record.step_key] = record.timestamp
        elif (
            kind in (types.STEP_SUCCESS, types.STEP_FAILURE, types.STEP_SKIPPED)
            and record.step_key in starts
        ):
            start = starts.pop(record.step_key)
            steps.append(
                Interval(record.step_key, stage_of(record.step_key), start, record.timestamp)
            )
    carved = _bursts(records, types.ASSET_MATERIALIZATION_PLANNED, EVENTS, lambda r: SETUP)
    carved += _bursts(records, types.ASSET_MATERIALIZATION, EVENTS, lambda r: r.step_key)
    carved += _checks(records, types)
    return RunTimeline(run_id, sorted(steps, key=lambda i: i.start), _merge(carved))


def with_dagster_time(measured: Measured, steps: list[Interval]) -> list[Interval]:
    """The steps plus the setup, the gaps between steps and the teardown: the whole process."""
    if not steps:
        return [Interval(SETUP, SETUP, measured.started, measured.ended)]
    whole = [Interval(SETUP, SETUP, measured.started, steps[0].start)]
    reached = steps[0].start
    for step in steps:
        if step.start > reached:
            whole.append(Interval(BETWEEN, BETWEEN, reached, step.start))
        whole.append(step)
        reached = max(reached, step.end)
    whole.append(Interval(TEARDOWN, TEARDOWN, reached, measured.ended))
    return whole


def carve(whole: list[Interval], carved: list[Interval]) -> list[Interval]:
    """`whole` with the `carved` stretches cut out of it and put in their own stages."""
    out = []
    for part in whole:
        cursor = part.start
        for cut in carved:
            start, end = max(cut.start, part.start), min(cut.end, part.end)
            if end <= start:
                continue
            if start > cursor:
                out.append(replace(part, start=cursor, end=start))
            out.append(Interval(part.name, cut.stage, start, end))
            cursor = max(cursor, end)
        if part.end > cursor:
            out.append(replace(part, start=cursor))
    return out


def _figures(measured: Measured, parts: list[Interval], rows: int | None) -> dict:
    wall = sum(p.end - p.start for p in parts)
    cpu = sum(measured.cpu_at(p.end) - measured.cpu_at(p.start) for p in parts)
    peaks = [measured.peak_rss_between(p.start, p.end) for p in parts]
    peaks = [p for p in peaks if p is not None]
    return {
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "peak_rss_mb": round(max(peaks), 1) if peaks else None,
        "rows_per_s": round(rows / wall) if rows and wall > 0 else None,
    }


def run_figures(measured: Measured, timeline: RunTimeline, rows: int) -> dict:
    """Total, per stage (and per step within each stage) and per whole step: wall_s, cpu_s,
    peak_rss_mb, rows_per_s (source rows of the run over the stretch's wall time)."""
    parts = carve(with_dagster_time(measured, timeline.steps), timeline.carved)
    stages, by_stage = {}, {}
    for stage in STAGES:
        mine = [p for p in parts if p.stage == stage]
        if not mine:
            continue
        stages[stage] = _figures(measured, mine, rows)
        names = list(dict.fromkeys(p.name for p in mine))
        by_stage[stage] = {
            n: _figures(measured, [p for p in mine if p.name == n], rows) for n in names
        }
    total = {
        "wall_s": round(measured.wall_s, 3),
        "cpu_s": round(measured.cpu_s, 3),
        "peak_rss_mb": round(measured.peak_rss_mb, 1),
        "rows": rows,
        "rows_per_s": round(rows / measured.wall_s) if rows else None,
    }
    return {
        "total": total,
        "stages": stages,
        "stage_parts": by_stage,
        "steps": {s.name: _figures(measured, [s], rows) for s in timeline.steps},
    }

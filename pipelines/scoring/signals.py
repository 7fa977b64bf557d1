"""Signals told apart from routine variation: a KPI's process-behaviour (XmR) chart.

Wheeler's method, as docs/semantics.md ("Signals and routine variation") explains it. A KPI's
monthly values since its process last changed are one process. Its natural process limits come
from a baseline of those values: by default the values before the month judged, the first 24 of
the process at most and 12 at least (before 12 there is too little history); or the months the
catalog fixes (`signals.baseline`). The centre line is their mean, and the limits are the centre
plus and minus 2.66 times their average moving range (the mean absolute difference between
successive values). Three rules find a signal, each judged on the months up to the one at hand:

1. outside the limits: the value is above the upper or below the lower limit;
2. a run of eight: it and the seven values before it are on the same side of the centre line;
3. three of four near a limit: of it and the three values before it, at least three (it among
   them) are closer to the same limit than to the centre line.

Anything else is routine variation: the process doing what it always does. Months without a
value are skipped: the moving range is taken between successive values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipelines.catalog.models import MIN_BASELINE
from pipelines.periods import Period

SCALING = 2.66  # 3 / d2 for moving ranges of two values (d2 = 1.128)
MAX_BASELINE = 24  # values a default baseline takes from the process's start
RUN_LENGTH = 8
NEAR_WINDOW, NEAR_COUNT = 4, 3

SIGNAL, ROUTINE, TOO_LITTLE = "signal", "routine", "too_little_history"
OUTSIDE, RUN, NEAR = "outside_limits", "run_of_eight", "three_of_four"
ABOVE, BELOW = "above", "below"


@dataclass(frozen=True)
class Limits:
    """A process's centre line and natural process limits, and the months they came from."""

    centre: float
    lower: float
    upper: float
    average_moving_range: float
    baseline_first: str  # 'YYYY-MM'
    baseline_last: str
    baseline_values: int
    # the lower limit falls below zero for a baseline of values that are never negative: the
    # process has no lower limit in practice (the report shows none; the rules are unchanged)
    below_zero: bool = False

    def side(self, value: float) -> str | None:
        """Which side of the centre line a value is on (None: on it)."""
        if value > self.centre:
            return ABOVE
        if value < self.centre:
            return BELOW
        return None

    def near(self, value: float) -> str | None:
        """The limit a value is closer to than to the centre line, if any."""
        half = SCALING * self.average_moving_range / 2
        if value > self.centre + half:
            return ABOVE
        if value < self.centre - half:
            return BELOW
        return None


@dataclass(frozen=True)
class MonthSignal:
    """One month's verdict: a signal (with the rules that found it), routine variation, or too
    little history for limits; the limits it was judged against."""

    state: str  # signal, routine, too_little_history
    limits: Limits | None
    rules: tuple[str, ...] = ()  # outside_limits, run_of_eight, three_of_four
    side: str | None = None  # above, below: where the signal lies
    process_start: str | None = None  # 'YYYY-MM': the first month of the current process
    values_in_process: int = 0  # values from the process's start to the month
    baseline_needed: int = MIN_BASELINE
    baseline_count: int = 0  # the baseline's values so far (too little history: fewer than needed)
    fixed_baseline: tuple[str, str] | None = None  # the catalog's baseline months, when used


def limits_of(points: Sequence[tuple[str, float]]) -> Limits:
    """The limits of a baseline of (month, value) points, in order; two values at least."""
    if len(points) < 2:
        raise ValueError("a baseline needs two values at least")
    values = [v for _, v in points]
    centre = sum(values) / len(values)
    ranges = [abs(b - a) for a, b in zip(values, values[1:], strict=False)]
    mr = sum(ranges) / len(ranges)
    lower = centre - SCALING * mr
    return Limits(
        centre,
        lower,
        centre + SCALING * mr,
        mr,
        points[0][0],
        points[-1][0],
        len(points),
        lower < 0 <= min(values),
    )


def _rules(values: Sequence[float], limits: Limits) -> tuple[tuple[str, ...], str | None]:
    """The rules the last of `values` (the month judged, after those before it) breaks."""
    current = values[-1]
    found: list[str] = []
    sides: list[str] = []
    if current > limits.upper or current < limits.lower:
        found.append(OUTSIDE)
        sides.append(ABOVE if current > limits.upper else BELOW)
    run = values[-RUN_LENGTH:]
    side = limits.side(current)
    if side and len(run) == RUN_LENGTH and all(limits.side(v) == side for v in run):
        found.append(RUN)
        sides.append(side)
    near = limits.near(current)
    window = values[-NEAR_WINDOW:]
    if near and sum(limits.near(v) == near for v in window) >= NEAR_COUNT:
        found.append(NEAR)
        sides.append(near)
    return tuple(found), (sides[0] if sides else None)


def process_start(changes: Sequence[Period], period: Period) -> Period | None:
    """The latest process change at or before `period` (None: the process never changed)."""
    started = [c for c in changes if c <= period]
    return max(started) if started else None


def baseline_points(
    points: Sequence[tuple[str, float]], fixed: tuple[Period, Period] | None
) -> list[tuple[str, float]]:
    """The baseline among a process's points up to the month judged (the last point): the
    months the catalog fixes, as far as they have come; else the first MAX_BASELINE values
    before the month, so a month is judged against limits it took no part in."""
    if fixed is not None:
        first, last = fixed
        return [(m, v) for m, v in points if first.key <= m <= last.key]
    return list(points[:-1][:MAX_BASELINE])


def month_signal(
    history: Sequence[tuple[str, float | None]],
    period: Period,
    changes: Sequence[Period] = (),
    baseline: tuple[Period, Period] | None = None,
) -> MonthSignal | None:
    """The verdict on `period` from a KPI's monthly values ('YYYY-MM', value or None), in any
    order and of any months: those of the process in force in `period` (from the latest of
    `changes` at or before it) up to `period` are used. None when the month has no value.
    `baseline`: the months (first, last) the catalog fixes for the process it falls in."""
    start = process_start(changes, period)
    points = sorted(
        (m, v)
        for m, v in history
        if v is not None and m <= period.key and (start is None or m >= start.key)
    )
    if not points or points[-1][0] != period.key:
        return None
    first = points[0][0]
    if baseline is not None and process_start(changes, baseline[0]) != start:
        baseline = None  # the catalog's baseline belongs to another process
    base = baseline_points(points, baseline)
    about = {
        "process_start": first,
        "values_in_process": len(points),
        "baseline_count": len(base),
        "fixed_baseline": (baseline[0].key, baseline[1].key) if baseline else None,
    }
    if len(base) < MIN_BASELINE:
        return MonthSignal(TOO_LITTLE, None, **about)
    limits = limits_of(base)
    rules, side = _rules([v for _, v in points], limits)
    return MonthSignal(SIGNAL if rules else ROUTINE, limits, rules, side, **about)


def signal_months(
    history: Sequence[tuple[str, float | None]],
    months: Sequence[Period],
    changes: Sequence[Period] = (),
    baseline: tuple[Period, Period] | None = None,
) -> dict[str, MonthSignal]:
    """`month_signal` of each of `months` that has a value, keyed 'YYYY-MM'."""
    found = {}
    for period in months:
        verdict = month_signal(history, period, changes, baseline)
        if verdict is not None:
            found[period.key] = verdict
    return found

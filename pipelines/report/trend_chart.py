"""A KPI's detail chart as inline SVG: twelve months of actuals against the target and red flag.

Behind the line, each month's zones are shaded: on track (past the target), at risk (between the
target and the red flag) and off track (past the red flag); the zones are named in words at the
right edge, so the chart reads in black and white. A change of the KPI's definition within the
twelve months is a dashed vertical line before its first month, labelled, with the note as its
tooltip. Where the KPI has natural process limits (pipelines.scoring.signals), its centre line and
limits are drawn over the months of its current process, and each month that is a signal is
marked with a diamond. Text is escaped; the markup is safe to insert unescaped.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from pipelines.report import palette
from pipelines.report.charts import break_indexes, break_title
from pipelines.report.model import KpiLine, TrendPoint
from pipelines.scoring.statuses import AT_RISK, OFF_TRACK, ON_TRACK

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
ZONE_LABELS = {ON_TRACK: "On track", AT_RISK: "At risk", OFF_TRACK: "Off track"}
LEFT, RIGHT, TOP, BOTTOM = 58.0, 52.0, 12.0, 22.0


@dataclass(frozen=True)
class _Frame:
    """The plot area and the value range it shows."""

    width: float
    height: float
    low: float
    high: float
    count: int

    def x(self, index: float) -> float:
        """The x of month `index` (the centre of its slot)."""
        slot = (self.width - LEFT - RIGHT) / self.count
        return LEFT + slot * (index + 0.5)

    def y(self, value: float) -> float:
        """The y of a value, clamped to the plot area."""
        span = self.high - self.low
        share = (value - self.low) / span if span else 0.5
        return TOP + (1 - max(0.0, min(1.0, share))) * (self.height - TOP - BOTTOM)


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _f(value: float) -> str:
    return f"{value:.1f}"


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering low..high (steps of 1, 2, 2.5 or 5 times a power of ten)."""
    if not high > low:
        return [low]
    raw = (high - low) / max(1, count - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    count = min(11, math.ceil((high - first) / step - 1e-9))
    return [round(first + k * step, 10) for k in range(count + 1)]


def _bounds(point: TrendPoint, direction: str) -> list[tuple[float, float, str]] | None:
    """The month's zones as (from, to, status) in value terms, unbounded ends as ±inf."""
    inf = math.inf
    if direction == "within_range":
        if not (_finite(point.target_lower) and _finite(point.target_upper)):
            return None
        return [
            (-inf, point.target_lower, AT_RISK),
            (point.target_lower, point.target_upper, ON_TRACK),
            (point.target_upper, inf, AT_RISK),
        ]
    if not (_finite(point.target) and _finite(point.red_flag)):
        return None
    goal, flag = point.target, point.red_flag
    if direction == "lower_is_better":
        return [(-inf, goal, ON_TRACK), (goal, flag, AT_RISK), (flag, inf, OFF_TRACK)]
    return [(-inf, flag, OFF_TRACK), (flag, goal, AT_RISK), (goal, inf, ON_TRACK)]


def _zones(points, direction: str, frame: _Frame) -> tuple[str, list[tuple[float, str]]]:
    """The shaded zones, one rectangle per run of months with the same thresholds, and the
    last month's zone centres for their labels."""
    slot = (frame.width - LEFT - RIGHT) / frame.count
    runs: list[tuple[int, int, list | None]] = []
    for i, point in enumerate(points):
        zones = _bounds(point, direction)
        if runs and runs[-1][2] == zones:
            runs[-1] = (runs[-1][0], i, zones)
        else:
            runs.append((i, i, zones))
    parts, labels = [], []
    for first, last, zones in runs:
        for lo, hi, status in zones or []:
            top, bottom = frame.y(min(hi, frame.high)), frame.y(max(lo, frame.low))
            if bottom - top < 0.05:
                continue
            left, width = frame.x(first) - slot / 2, slot * (last - first + 1)
            parts.append(
                f'<rect x="{_f(left)}" y="{_f(top)}" width="{_f(width)}"'
                f' height="{_f(bottom - top)}" fill="{palette.ZONE_TINT[status]}"/>'
            )
            if last == len(points) - 1 and bottom - top >= 9:
                labels.append(((top + bottom) / 2, status))
    return "".join(parts), labels


def _series(points, frame: _Frame, attr: str) -> list[tuple[float, float] | None]:
    return [
        (frame.x(i), frame.y(getattr(p, attr))) if _finite(getattr(p, attr)) else None
        for i, p in enumerate(points)
    ]


def _target_steps(points, frame: _Frame) -> str:
    """The monthly target as a dashed step line (targets can change from month to month)."""
    slot = (frame.width - LEFT - RIGHT) / frame.count
    steps: list[list] = []  # [first month, last month, target]
    for i, point in enumerate(points):
        if not _finite(point.target):
            continue
        if steps and steps[-1][1] == i - 1 and steps[-1][2] == point.target:
            steps[-1][1] = i
        else:
            steps.append([i, i, point.target])
    coords = []
    for first, last, target in steps:
        y = frame.y(target)
        coords.append(f"M{_f(frame.x(first) - slot / 2)},{_f(y)}H{_f(frame.x(last) + slot / 2)}")
    if not coords:
        return ""
    return (
        f'<path d="{"".join(coords)}" fill="none" stroke="{palette.INK_SOFT}"'
        ' stroke-width="1.1" stroke-dasharray="4 2.5"/>'
    )


def _actual_line(points, frame: _Frame) -> str:
    coords = _series(points, frame, "actual")
    runs, current = [], []
    for c in coords:
        if c is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(c)
    if current:
        runs.append(current)
    parts = [
        f'<polyline points="{" ".join(f"{_f(x)},{_f(y)}" for x, y in run)}" fill="none"'
        f' stroke="{palette.ACTUAL}" stroke-width="1.8" stroke-linejoin="round"/>'
        for run in runs
        if len(run) > 1
    ]
    last = next((c for c in reversed(coords) if c), None)
    if last:  # the report's month (or the latest with a value) is marked
        parts.append(
            f'<circle cx="{_f(last[0])}" cy="{_f(last[1])}" r="2.6"'
            f' fill="{palette.ACTUAL}" stroke="#ffffff" stroke-width="1"/>'
        )
    return "".join(parts)


def _text(
    x: float,
    y: float,
    content: str,
    *,
    size: float = 7,
    fill: str = palette.MUTED,
    anchor: str = "start",
    bold: bool = False,
) -> str:
    weight = ' font-weight="bold"' if bold else ""
    return (
        f'<text x="{_f(x)}" y="{_f(y)}" font-size="{size}" fill="{fill}"'
        f' text-anchor="{anchor}"{weight}>{escape(content)}</text>'
    )


def _axes(points, frame: _Frame, ticks: list[float], fmt: Callable[[float], str]) -> str:
    parts = []
    for tick in ticks:
        y = frame.y(tick)
        parts.append(
            f'<line x1="{LEFT}" y1="{_f(y)}" x2="{_f(frame.width - RIGHT)}"'
            f' y2="{_f(y)}" stroke="{palette.RULE}" stroke-width="0.5"/>'
        )
        parts.append(_text(LEFT - 5, y + 2.5, fmt(tick), anchor="end"))
    last = len(points) - 1
    for i, point in enumerate(points):
        if (last - i) % 2:
            continue  # every other month, ending with the report's month
        year, month = int(point.period[:4]), int(point.period[5:7])
        label = MONTHS[month - 1] + (f" \u2019{year % 100:02d}" if i <= 1 or month <= 2 else "")
        parts.append(_text(frame.x(i), frame.height - 7, label, anchor="middle"))
    return "".join(parts)


def _breaks(kpi: KpiLine, frame: _Frame) -> str:
    """A dashed vertical line at the start of each definition change, labelled at the top."""
    slot = (frame.width - LEFT - RIGHT) / frame.count
    parts = []
    for i, revision in break_indexes(kpi.trend, kpi.trend_breaks):
        x = frame.x(i) - slot / 2
        late = i > frame.count - 4  # label to the left, clear of the zone names
        parts.append(
            f'<g class="definition-break"><title>{escape(break_title(revision))}</title>'
            f'<line x1="{_f(x)}" y1="{_f(TOP - 4)}" x2="{_f(x)}" y2="{_f(frame.height - BOTTOM)}"'
            f' stroke="{palette.INK_SOFT}" stroke-width="1" stroke-dasharray="3 2"/>'
            + _text(
                x - 2 if late else x + 2,
                TOP + 2,
                "\u2020 new definition",
                size=6.2,
                fill=palette.INK_SOFT,
                anchor="end" if late else "start",
            )
            + "</g>"
        )
    return "".join(parts)


def _limits(kpi: KpiLine, frame: _Frame) -> str:
    """The centre line and natural process limits over the current process's months,
    labelled at their left end, and a diamond on each month that is a signal."""
    signal = kpi.signal
    parts = []
    if signal is not None and signal.limits is not None:
        slot = (frame.width - LEFT - RIGHT) / frame.count
        first = next(
            (i for i, p in enumerate(kpi.trend) if p.period >= (signal.process_start or "")), 0
        )
        left, right = frame.x(first) - slot / 2, frame.x(frame.count - 1) + slot / 2
        limits = signal.limits
        for value, label, dash in (
            (limits.upper, "upper limit", "1.2 2"),
            (limits.centre, "centre", "5 2 1.2 2"),
            (None if limits.below_zero else limits.lower, "lower limit", "1.2 2"),
        ):
            if value is None or not frame.low <= value <= frame.high:
                continue
            y = frame.y(value)
            parts.append(
                f'<g class="process-limit"><line x1="{_f(left)}" y1="{_f(y)}" x2="{_f(right)}"'
                f' y2="{_f(y)}" stroke="{palette.LIMITS}" stroke-width="0.9"'
                f' stroke-dasharray="{dash}"/>'
                + _text(left + 2, y - 2, label, size=5.8, fill=palette.LIMITS)
                + "</g>"
            )
    for x, y in (
        c
        for c, p in zip(_series(kpi.trend, frame, "actual"), kpi.trend, strict=True)
        if c is not None and p.signal
    ):
        parts.append(
            f'<path class="signal-point" d="M{_f(x)},{_f(y - 4)}L{_f(x + 4)},{_f(y)}'
            f'L{_f(x)},{_f(y + 4)}L{_f(x - 4)},{_f(y)}Z" fill="{palette.LIMITS}"'
            ' stroke="#ffffff" stroke-width="0.8"/>'
        )
    return "".join(parts)


def _frame(points, width: float, height: float, extra: tuple[float, ...] = ()) -> _Frame | None:
    values = [
        v
        for p in points
        for v in (p.actual, p.target, p.red_flag, p.target_lower, p.target_upper)
        if _finite(v)
    ] + [v for v in extra if _finite(v)]
    if not any(_finite(p.actual) for p in points):
        return None
    low, high = min(values), max(values)
    pad = (high - low) * 0.12 or abs(high) * 0.1 or 1.0
    low, high = low - pad, high + pad
    if low < 0 <= min(values):
        low = 0.0
    ticks = nice_ticks(low, high)
    return _Frame(width, height, min(low, ticks[0]), max(high, ticks[-1]), len(points))


def trend_chart_svg(
    kpi: KpiLine, fmt: Callable[[float], str], width: float = 500, height: float = 200
) -> str:
    """The detail chart of a KPI's last twelve months; '' when it has no actual to show."""
    points = kpi.trend
    limits = kpi.signal.limits if kpi.signal is not None else None
    extra: tuple[float, ...] = ()
    if limits is not None:
        extra = (limits.upper,) if limits.below_zero else (limits.lower, limits.upper)
    frame = _frame(points, width, height, extra) if points else None
    if frame is None:
        return ""
    zones, labels = _zones(points, kpi.direction, frame)
    ticks = [t for t in nice_ticks(frame.low, frame.high) if frame.low <= t <= frame.high]
    zone_text = "".join(
        _text(
            frame.width - RIGHT + 5,
            y + 2.5,
            ZONE_LABELS[s],
            fill=palette.text(s),
            bold=True,
            size=6.6,
        )
        for y, s in labels
    )
    last = next((c for c in reversed(_series(points, frame, "actual")) if c), None)
    value = next(p.actual for p in reversed(points) if _finite(p.actual))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="trend-chart" viewBox="0 0 {width:g}'
        f' {height:g}" width="{width:g}" height="{height:g}" role="img"'
        f' aria-label="{escape(kpi.name)}: actual by month against target and red flag"'
        ' font-family="DejaVu Sans, sans-serif">'
        + zones
        + _axes(points, frame, ticks, fmt)
        + _breaks(kpi, frame)
        + _target_steps(points, frame)
        + _actual_line(points, frame)
        + _limits(kpi, frame)
        + zone_text
        + _text(
            last[0],
            last[1] - 6 if last[1] > TOP + 12 else last[1] + 13,
            fmt(value),
            size=7.5,
            fill=palette.ACTUAL,
            bold=True,
            anchor="end",
        )
        + "</svg>"
    )

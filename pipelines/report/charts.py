"""Small inline SVG charts for the report, built in Python from numbers only.

The markup holds coordinates formatted from floats and colours from the constants below; the
only text, the tooltip of a definition change, is escaped, so it is safe to insert unescaped
into a template.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from pipelines.periods import Period
from pipelines.report import palette
from pipelines.report.model import ReviewScore, RevisionLine, TrendPoint

ACTUAL_COLOUR = palette.ACTUAL
TARGET_COLOUR = palette.TARGET
TRACK_COLOUR = palette.TRACK
_PAD = 2.0


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _size(value: float, name: str) -> float:
    size = float(value)
    if not math.isfinite(size) or size <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return size


def _runs(coords: Sequence[tuple[float, float] | None]) -> list[list[tuple[float, float]]]:
    """Split a series at its gaps into runs of consecutive points."""
    runs: list[list[tuple[float, float]]] = [[]]
    for point in coords:
        if point is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append(point)
    return [run for run in runs if run]


def _series_markup(runs: list[list[tuple[float, float]]], colour: str, dashed: bool) -> str:
    dash = ' stroke-dasharray="2.5 2"' if dashed else ""
    parts = []
    for run in runs:
        if len(run) == 1:
            x, y = run[0]
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="1.2" fill="{colour}"/>')
            continue
        coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
        parts.append(
            f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="1.2"'
            f' stroke-linejoin="round" stroke-linecap="round"{dash}/>'
        )
    return "".join(parts)


def _scaler(points: Sequence[TrendPoint], width: float, height: float):
    values = [v for p in points for v in (p.actual, p.target) if _finite(v)]
    low, high = min(values), max(values)
    if high == low:
        spread = abs(high) * 0.1 or 1.0
        low, high = low - spread, high + spread
    step = (width - 2 * _PAD) / (len(points) - 1) if len(points) > 1 else 0.0

    def scale(index: int, value: float | None) -> tuple[float, float] | None:
        if not _finite(value):
            return None
        x = _PAD + index * step if len(points) > 1 else width / 2
        y = _PAD + (high - value) / (high - low) * (height - 2 * _PAD)
        return x, y

    return scale


def break_title(revision: RevisionLine) -> str:
    """The tooltip of a definition change: 'Definition changed in April 2026: <note>'."""
    return f"Definition changed in {Period.parse(revision.effective).label}: {revision.note}"


def break_indexes(
    points: Sequence[TrendPoint], breaks: Sequence[RevisionLine]
) -> list[tuple[int, RevisionLine]]:
    """Each change shown on the chart with the index of its first month (never the first point:
    a change before the window breaks nothing in it)."""
    index = {p.period: i for i, p in enumerate(points)}
    return [(index[b.effective], b) for b in breaks if index.get(b.effective, 0) > 0]


def _break_markup(
    points: Sequence[TrendPoint], breaks: Sequence[RevisionLine], width: float, height: float
) -> str:
    step = (width - 2 * _PAD) / (len(points) - 1) if len(points) > 1 else 0.0
    parts = []
    for i, revision in break_indexes(points, breaks):
        x = _PAD + (i - 0.5) * step  # between the last month before and the first under it
        parts.append(
            f'<g class="definition-break"><title>{escape(break_title(revision))}</title>'
            f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height:g}" stroke="{palette.INK_SOFT}"'
            ' stroke-width="0.8" stroke-dasharray="1.5 1.5"/></g>'
        )
    return "".join(parts)


def sparkline_svg(
    points: Sequence[TrendPoint],
    width: float = 84,
    height: float = 22,
    breaks: Sequence[RevisionLine] = (),
) -> str:
    """An inline SVG sparkline of the actuals, with the target as a dashed line and a dotted
    vertical line where the definition changed; '' without data."""
    width, height = _size(width, "width"), _size(height, "height")
    if not any(_finite(p.actual) for p in points):
        return ""
    marks = _break_markup(points, breaks, width, height)
    label = "; a dotted vertical line marks a change of definition" if marks else ""
    scale = _scaler(points, width, height)
    actual = [scale(i, p.actual) for i, p in enumerate(points)]
    target = [scale(i, p.target) for i, p in enumerate(points)]
    last_x, last_y = next(c for c in reversed(actual) if c is not None)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sparkline" width="{width:g}"'
        f' height="{height:g}" viewBox="0 0 {width:g} {height:g}" role="img"'
        f' aria-label="Trend of the last months: actual (solid) and target (dashed){label}">'
        + marks
        + _series_markup(_runs(target), TARGET_COLOUR, dashed=True)
        + _series_markup(_runs(actual), ACTUAL_COLOUR, dashed=False)
        + f'<circle cx="{last_x:.1f}" cy="{last_y:.1f}" r="1.8" fill="{ACTUAL_COLOUR}"/>'
        + "</svg>"
    )


def score_bar_svg(
    score: float | None, status: str = "", width: float = 120, height: float = 6
) -> str:
    """A bar showing a 0..10 score in its status colour; only the empty track if None."""
    width, height = _size(width, "width"), _size(height, "height")
    colour = palette.STATUS_MARK.get(status, palette.GREY)
    radius = height / 2
    fill = ""
    if _finite(score):
        filled = max(0.0, min(1.0, float(score) / 10.0)) * width
        if filled > 0:
            fill = (
                f'<rect x="0" y="0" width="{max(filled, height):.1f}" height="{height:g}"'
                f' rx="{radius:g}" fill="{colour}"/>'
            )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="score-bar" width="{width:g}"'
        f' height="{height:g}" viewBox="0 0 {width:g} {height:g}" aria-hidden="true">'
        f'<rect x="0" y="0" width="{width:g}" height="{height:g}" rx="{radius:g}"'
        f' fill="{TRACK_COLOUR}"/>{fill}</svg>'
    )


_PROGRESS_COLOURS = {
    "overdue": palette.STATUS_MARK["off_track"],
    "at-risk": palette.STATUS_MARK["at_risk"],
    "done": palette.STATUS_MARK["on_track"],
    "open": palette.ACTUAL,
}


def progress_bar_svg(
    percent: float | None, state: str = "open", width: float = 80, height: float = 7
) -> str:
    """An initiative's progress as a bar (0..100 %), coloured by its derived state."""
    width, height = _size(width, "width"), _size(height, "height")
    share = max(0.0, min(1.0, float(percent) / 100)) if _finite(percent) else 0.0
    colour = _PROGRESS_COLOURS.get(state, palette.ACTUAL)
    fill = ""
    if share > 0:
        fill = (
            f'<rect x="0" y="0" width="{max(share * width, height):.1f}" height="{height:g}"'
            f' rx="{height / 2:g}" fill="{colour}"/>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="progress-bar" width="{width:g}"'
        f' height="{height:g}" viewBox="0 0 {width:g} {height:g}" aria-hidden="true">'
        f'<rect x="0" y="0" width="{width:g}" height="{height:g}" rx="{height / 2:g}"'
        f' fill="{TRACK_COLOUR}"/>{fill}</svg>'
    )


def score_trend_svg(points: Sequence[ReviewScore], width: float = 360, height: float = 92) -> str:
    """Bars of the overall score (0-10) of the last quarters or years, coloured by status, each
    with its score above and its label below; '' without any. The labels are escaped."""
    width, height = _size(width, "width"), _size(height, "height")
    if not points:
        return ""
    top, bottom = 14.0, 16.0
    plot = height - top - bottom
    slot = width / len(points)
    bar = min(28.0, slot * 0.6)
    parts = [
        f'<line x1="0" y1="{top + plot:.1f}" x2="{width:g}" y2="{top + plot:.1f}"'
        f' stroke="{palette.RULE}" stroke-width="1"/>'
    ]
    for i, point in enumerate(points):
        centre = slot * (i + 0.5)
        label = escape(point.label)
        parts.append(
            f'<text x="{centre:.1f}" y="{height - 3:.1f}" font-size="8" text-anchor="middle"'
            f' fill="{palette.MUTED}">{label}</text>'
        )
        if not _finite(point.score):
            parts.append(
                f'<text x="{centre:.1f}" y="{top + plot - 3:.1f}" font-size="8"'
                f' text-anchor="middle" fill="{palette.MUTED}">no score</text>'
            )
            continue
        h = max(1.0, plot * min(10.0, max(0.0, point.score)) / 10)
        colour = palette.STATUS_MARK.get(point.status, palette.NEUTRAL_MARK)
        parts.append(
            f'<rect x="{centre - bar / 2:.1f}" y="{top + plot - h:.1f}" width="{bar:.1f}"'
            f' height="{h:.1f}" fill="{colour}"/>'
            f'<text x="{centre:.1f}" y="{top + plot - h - 3:.1f}" font-size="8.5"'
            f' text-anchor="middle" fill="{palette.INK}">{point.score:.1f}</text>'
        )
    summary = "; ".join(
        f"{p.label} {p.score:.1f}" if _finite(p.score) else f"{p.label} no score" for p in points
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="score-trend" width="{width:g}"'
        f' height="{height:g}" viewBox="0 0 {width:g} {height:g}" role="img"'
        f' aria-label="Overall score (0 to 10): {escape(summary)}">' + "".join(parts) + "</svg>"
    )

"""The strategy map as inline SVG: perspective bands, objective boxes by status, causal arrows.

The geometry comes from pipelines.report.strategy_layout. Every piece of text from the catalog
(objective and perspective names) is escaped here, so the returned markup is safe to insert
unescaped into a template. Status is written in each box as a symbol and a word, never shown by
colour alone.
"""

from __future__ import annotations

import math
from dataclasses import replace
from html import escape

from pipelines.report import palette
from pipelines.report.formatting import format_score, status_label, status_symbol
from pipelines.report.model import ObjectiveLine, PerspectiveLine, ScorecardReport
from pipelines.report.strategy_layout import Arrow, MapLayout, MapSettings, Rect, layout_map
from pipelines.report.textfit import wrap
from pipelines.scoring.statuses import WITHHELD

FONT = 'font-family="DejaVu Sans, sans-serif"'
NAME_SIZE = 7.2
LINE = 8.6
HEAD = 5.0  # arrowhead length
CORNER = 4.0  # radius of an arrow's bends
MAP_HEIGHT = 560.0  # what a small map may grow to (points), leaving room for the page header


def _attr(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _text(
    x: float,
    y: float,
    content: str,
    size: float,
    fill: str,
    *,
    bold: bool = False,
    anchor: str = "start",
) -> str:
    weight = ' font-weight="bold"' if bold else ""
    return (
        f'<text x="{_attr(x)}" y="{_attr(y)}" font-size="{size}" fill="{fill}"'
        f' text-anchor="{anchor}"{weight}>{escape(content)}</text>'
    )


def _status_line(objective: ObjectiveLine, locale: str) -> str:
    """'● On track · 7.2'; a withheld objective has no score to show: '⊘ Withheld'."""
    status = objective.map_status
    label = f"{status_symbol(status)} {status_label(status)}"
    if status == WITHHELD:
        return label
    return f"{label} \u00b7 {format_score(objective.score, locale)}"


def _box(objective: ObjectiveLine, rect: Rect, locale: str) -> str:
    """One objective: a tinted box with a status stripe, its name and its status in words; an
    objective with some KPIs withheld says how many, above its status."""
    status = objective.map_status
    partial = status != WITHHELD and objective.withheld_count > 0
    parts = [
        f'<g class="objective-box"><rect x="{_attr(rect.x)}" y="{_attr(rect.y)}"'
        f' width="{_attr(rect.w)}" height="{_attr(rect.h)}" rx="3" fill="{palette.tint(status)}"'
        f' stroke="{palette.mark(status)}" stroke-width="0.8"/>',
        f'<rect x="{_attr(rect.x)}" y="{_attr(rect.y)}" width="3.5" height="{_attr(rect.h)}"'
        f' fill="{palette.mark(status)}"/>',
    ]
    inner = rect.w - 12
    for i, line in enumerate(
        wrap(objective.name, inner, NAME_SIZE, 2 if partial else 3, bold=True)
    ):
        parts.append(
            _text(rect.x + 8, rect.y + 11 + i * LINE, line, NAME_SIZE, palette.INK, bold=True)
        )
    if partial:
        note = (
            f"{status_symbol(WITHHELD)} {objective.withheld_count} of "
            f"{len(objective.kpis)} KPIs withheld"
        )
        parts.append(
            _text(
                rect.x + 8,
                rect.y + rect.h - 14,
                wrap(note, inner, 6.2, 1)[0],
                6.2,
                palette.text(WITHHELD),
            )
        )
    parts.append(
        _text(
            rect.x + 8,
            rect.y + rect.h - 5.5,
            wrap(_status_line(objective, locale), inner, 6.6, 1)[0],
            6.6,
            palette.text(status),
            bold=True,
        )
    )
    parts.append("</g>")
    return "".join(parts)


def _band(perspective: PerspectiveLine, rect: Rect, index: int, s: MapSettings, locale: str) -> str:
    """A perspective's band: a light background and a coloured label with its score."""
    colour = palette.PERSPECTIVE[index % len(palette.PERSPECTIVE)]
    tint = palette.PERSPECTIVE_TINT[index % len(palette.PERSPECTIVE_TINT)]
    y, h = rect.y + 1, rect.h - 2
    lines = wrap(perspective.name, s.label_width - 16, 7.6, 3, bold=True)
    block = len(lines) * 9.2 + 26
    top = y + max(8.0, (h - block) / 2) + 7
    parts = [
        f'<rect x="0" y="{_attr(y)}" width="{_attr(rect.w)}" height="{_attr(h)}" rx="4"'
        f' fill="{tint}"/>',
        f'<rect x="0" y="{_attr(y)}" width="{_attr(s.label_width - 6)}" height="{_attr(h)}"'
        f' rx="4" fill="{colour}"/>',
    ]
    parts += [
        _text(8, top + i * 9.2, line, 7.6, "#ffffff", bold=True) for i, line in enumerate(lines)
    ]
    base = top + len(lines) * 9.2 + 6
    parts.append(
        _text(8, base + 6, format_score(perspective.score, locale), 12, "#ffffff", bold=True)
    )
    status = f"{status_symbol(perspective.status)} {status_label(perspective.status)}"
    parts.append(_text(8, base + 16, wrap(status, s.label_width - 16, 6.4, 1)[0], 6.4, "#ffffff"))
    return "".join(parts)


def _rounded_path(points: list[tuple[float, float]]) -> str:
    """An orthogonal polyline as a path with rounded bends, stopping short of the arrowhead."""
    (ex, ey), (px, py) = points[-1], points[-2]
    length = math.hypot(ex - px, ey - py) or 1.0
    tip = (ex - (ex - px) / length * HEAD * 0.8, ey - (ey - py) / length * HEAD * 0.8)
    pts = [*points[:-1], tip]
    out = [f"M{_attr(pts[0][0])},{_attr(pts[0][1])}"]
    for before, corner, after in zip(pts, pts[1:], pts[2:], strict=False):
        r = min(CORNER, math.dist(before, corner) / 2, math.dist(corner, after) / 2)
        a = _toward(corner, before, r)
        b = _toward(corner, after, r)
        out.append(
            f"L{_attr(a[0])},{_attr(a[1])}Q{_attr(corner[0])},{_attr(corner[1])}"
            f" {_attr(b[0])},{_attr(b[1])}"
        )
    out.append(f"L{_attr(pts[-1][0])},{_attr(pts[-1][1])}")
    return "".join(out)


def _toward(origin: tuple[float, float], to: tuple[float, float], r: float):
    length = math.dist(origin, to) or 1.0
    return (
        origin[0] + (to[0] - origin[0]) / length * r,
        origin[1] + (to[1] - origin[1]) / length * r,
    )


def _arrow(arrow: Arrow) -> str:
    """The arrow's line and a filled head touching the target's edge."""
    (ex, ey), (px, py) = arrow.points[-1], arrow.points[-2]
    length = math.hypot(ex - px, ey - py) or 1.0
    ux, uy = (ex - px) / length, (ey - py) / length
    bx, by = ex - ux * HEAD, ey - uy * HEAD
    wing = 2.6
    head = (
        f"{_attr(ex)},{_attr(ey)} {_attr(bx - uy * wing)},{_attr(by + ux * wing)}"
        f" {_attr(bx + uy * wing)},{_attr(by - ux * wing)}"
    )
    return (
        f'<path d="{_rounded_path(arrow.points)}" fill="none" stroke="{palette.ARROW}"'
        f' stroke-width="0.9" stroke-linejoin="round"/>'
        f'<polygon points="{head}" fill="{palette.ARROW}"/>'
    )


def map_settings(report: ScorecardReport) -> MapSettings:
    """Sizes that let a small map breathe and a large one still fit one page."""
    base = MapSettings()
    counts = [len(p.objectives) for p in report.perspectives] or [1]
    columns = max(1, min(base.max_columns, max(counts)))
    rows = sum(max(1, math.ceil(n / columns)) for n in counts)
    box_height = 54.0 if rows <= 6 else base.box_height
    channel = max(base.min_channel, min(44.0, (MAP_HEIGHT - rows * box_height) / (rows + 1)))
    return replace(base, box_height=box_height, min_channel=channel)


def map_layout(report: ScorecardReport, settings: MapSettings | None = None) -> MapLayout:
    """The layout of the report's objectives and links."""
    bands = [[o.id for o in p.objectives] for p in report.perspectives]
    return layout_map(bands, [(link.source, link.target) for link in report.links], settings)


def strategy_map_svg(report: ScorecardReport, settings: MapSettings | None = None) -> str:
    """The strategy map of a report as one inline SVG element."""
    s = settings or map_settings(report)
    layout = map_layout(report, s)
    objectives = {o.id: o for p in report.perspectives for o in p.objectives}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="strategy-map-svg"'
        f' viewBox="0 0 {_attr(layout.width)} {_attr(layout.height)}"'
        f' width="{_attr(layout.width)}" height="{_attr(layout.height)}" role="img"'
        f' aria-label="Strategy map: {len(layout.boxes)} objectives in'
        f' {len(layout.bands)} perspectives, {len(layout.arrows)} cause-and-effect links"'
        f" {FONT}>"
    ]
    parts += [
        _band(p, rect, i, s, report.locale)
        for i, (p, rect) in enumerate(zip(report.perspectives, layout.bands, strict=True))
    ]
    parts += [_arrow(a) for a in layout.arrows]
    parts += [_box(objectives[o], rect, report.locale) for o, rect in layout.boxes.items()]
    parts.append("</svg>")
    return "".join(parts)

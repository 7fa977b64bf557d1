"""The strategy map's geometry: objective boxes in perspective bands and orthogonal arrows.

Pure geometry, no SVG. Objectives sit in rows inside their perspective's band (the first band on
top); rows are separated by horizontal channels, and every arrow runs only inside those channels
and through vertical passages chosen where no box of the rows it crosses stands. So, by
construction, no box overlaps another and no arrow passes through a box: it leaves its source
from an edge and ends on an edge of its target. Each arrow gets its own port on a box edge and its
own track in a channel, so arrows do not run on top of each other.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from pipelines.report.strategy_routing import (
    Route,
    assign_ports,
    assign_tracks,
    choose_passages,
    plan_routes,
)

Point = tuple[float, float]


@dataclass(frozen=True)
class Rect:
    """An axis-aligned rectangle."""

    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        """The horizontal centre."""
        return self.x + self.w / 2


@dataclass(frozen=True)
class MapSettings:
    """Sizes in points (the SVG's user unit)."""

    width: float = 515.0
    label_width: float = 84.0
    lane: float = 14.0  # free passage left and right of the boxes
    box_height: float = 48.0
    min_box_width: float = 60.0
    max_columns: int = 5
    column_gap: float = 16.0
    min_channel: float = 18.0
    track_gap: float = 5.0
    clearance: float = 3.0  # distance an arrow keeps from a box it passes


@dataclass
class Arrow:
    """A routed arrow: its polyline from the source's edge to the target's edge."""

    source: str
    target: str
    points: list[Point] = field(default_factory=list)


@dataclass
class MapLayout:
    """Where everything of the map goes."""

    width: float
    height: float
    box_width: float
    bands: list[Rect]
    boxes: dict[str, Rect]
    arrows: list[Arrow]


def _barycentre(
    objective: str, band: list[str], position: dict[str, float], neighbours: dict[str, list[str]]
) -> float:
    """The mean position of an objective's linked objectives in other bands (or its own)."""
    near = [position[n] for n in neighbours[objective] if n in position and n not in band]
    return sum(near) / len(near) if near else position[objective]


def _order_bands(bands: Sequence[Sequence[str]], links: Sequence[tuple[str, str]]):
    """Objectives reordered inside each band so that linked boxes line up (barycentre sweeps)."""
    order = [list(b) for b in bands]
    neighbours: dict[str, list[str]] = defaultdict(list)
    for a, b in links:
        neighbours[a].append(b)
        neighbours[b].append(a)
    for sweep in range(4):
        position = {o: (i + 0.5) / len(b) for b in order for i, o in enumerate(b)}
        indices = range(len(order)) if sweep % 2 == 0 else reversed(range(len(order)))
        for index in indices:
            band = order[index]
            keys = {o: _barycentre(o, band, position, neighbours) for o in band}
            band.sort(key=keys.__getitem__)
    return order


def _rows(order: list[list[str]], columns: int) -> tuple[list[list[str]], list[int]]:
    """The bands split into rows of at most `columns` boxes; each row's band index."""
    rows, band_of_row = [], []
    for index, band in enumerate(order):
        count = max(1, math.ceil(len(band) / columns))
        per_row = math.ceil(len(band) / count) if band else 0
        for r in range(count):
            rows.append(band[r * per_row : (r + 1) * per_row])
            band_of_row.append(index)
    return rows, band_of_row


def _box_xs(rows: list[list[str]], s: MapSettings) -> tuple[dict[str, tuple[float, int]], float]:
    """Each box's left x and row, and the common box width: rows spread over equal slots."""
    left, right = s.label_width + s.lane, s.width - s.lane
    columns = max([len(r) for r in rows] + [1])
    box_w = (right - left - (columns - 1) * s.column_gap) / columns
    box_w = max(s.min_box_width, min(box_w, 150.0))
    placed = {}
    for r, row in enumerate(rows):
        slot = (right - left) / max(1, len(row))
        for i, o in enumerate(row):
            placed[o] = (left + slot * (i + 0.5) - box_w / 2, r)
    return placed, box_w


def _vertical_layout(tracks: list[int], rows: int, s: MapSettings):
    """The top y of each row and each channel, the channels' heights and the total height."""
    heights = [max(s.min_channel, (t + 1) * s.track_gap) for t in tracks]
    row_y, channel_y, y = [], [], 0.0
    for r in range(rows):
        channel_y.append(y)
        y += heights[r]
        row_y.append(y)
        y += s.box_height
    channel_y.append(y)
    return row_y, channel_y, heights, y + heights[rows]


def _polyline(route: Route, boxes: dict[str, Rect], track_y) -> list[Point]:
    """The arrow's points from the source's edge to the target's edge."""
    src, dst = boxes[route.source], boxes[route.target]
    if route.exit_side in ("left", "right"):
        y = src.y + src.h / 2
        start = src.x + src.w if route.exit_side == "right" else src.x
        end = dst.x if route.entry_side == "left" else dst.x + dst.w
        return [(start, y), (end, y)]
    start_y = src.y if route.exit_side == "top" else src.y + src.h
    end_y = dst.y if route.entry_side == "top" else dst.y + dst.h
    y1 = track_y(route.exit_channel, route.tracks[route.exit_channel])
    points = [(route.exit_x, start_y), (route.exit_x, y1)]
    if route.passage_x is not None:
        y2 = track_y(route.entry_channel, route.tracks[route.entry_channel])
        points += [(route.passage_x, y1), (route.passage_x, y2), (route.entry_x, y2)]
    else:
        points.append((route.entry_x, y1))
    points.append((route.entry_x, end_y))
    return _simplify(points)


def _simplify(points: list[Point]) -> list[Point]:
    """Drop repeated points and points in the middle of a straight run."""
    out: list[Point] = []
    for p in points:
        if out and math.isclose(p[0], out[-1][0]) and math.isclose(p[1], out[-1][1]):
            continue
        if len(out) >= 2:
            (ax, ay), (bx, by) = out[-2], out[-1]
            if (math.isclose(ax, bx) and math.isclose(bx, p[0])) or (
                math.isclose(ay, by) and math.isclose(by, p[1])
            ):
                out[-1] = p
                continue
        out.append(p)
    return out


def _band_rects(band_of_row: list[int], channel_y, heights, total: float, s: MapSettings):
    """One rectangle per band, split at the middle of the channel between bands."""
    rects = []
    for band in sorted(set(band_of_row)):
        rows = [r for r, b in enumerate(band_of_row) if b == band]
        first, last = rows[0], rows[-1]
        top = 0.0 if first == 0 else channel_y[first] + heights[first] / 2
        is_last = last == len(band_of_row) - 1
        bottom = total if is_last else channel_y[last + 1] + heights[last + 1] / 2
        rects.append(Rect(0.0, top, s.width, bottom - top))
    return rects


def layout_map(
    bands: Sequence[Sequence[str]],
    links: Sequence[tuple[str, str]],
    settings: MapSettings | None = None,
) -> MapLayout:
    """Boxes and arrows for objectives in bands (top band first) and links between them."""
    s = settings or MapSettings()
    known = {o for band in bands for o in band}
    links = list(dict.fromkeys((a, b) for a, b in links if a in known and b in known and a != b))
    order = _order_bands(bands, links)
    columns = max(1, min(s.max_columns, max([len(b) for b in order] + [1])))
    rows, band_of_row = _rows(order, columns)
    placed, box_w = _box_xs(rows, s)
    routes = plan_routes(links, placed)
    assign_ports(routes, placed, box_w)
    choose_passages(routes, rows, placed, box_w, s)
    tracks = assign_tracks(routes, len(rows), s.track_gap)
    row_y, channel_y, heights, total = _vertical_layout(tracks, len(rows), s)
    boxes = {o: Rect(x, row_y[r], box_w, s.box_height) for o, (x, r) in placed.items()}

    def track_y(channel: int, track: int) -> float:
        return channel_y[channel] + (track + 1) * heights[channel] / (tracks[channel] + 1)

    arrows = [Arrow(r.source, r.target, _polyline(r, boxes, track_y)) for r in routes]
    return MapLayout(
        s.width, total, box_w, _band_rects(band_of_row, channel_y, heights, total, s), boxes, arrows
    )

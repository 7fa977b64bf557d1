"""Routing the strategy map's arrows: sides, ports on box edges, passages and channel tracks.

Rows of boxes are separated by horizontal channels (channel r lies above row r). An arrow leaves
its source through the edge facing the target, runs along its own track in a channel, crosses
the rows in between through a vertical passage where none of their boxes stands, and enters its
target through the facing edge. Helpers of pipelines.report.strategy_layout.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipelines.report.strategy_layout import MapSettings


@dataclass
class Route:
    """An arrow while it is routed: ports, channels and the x where it changes rows."""

    source: str
    target: str
    exit_side: str  # top, bottom, right, left
    entry_side: str
    exit_channel: int = -1
    entry_channel: int = -1
    exit_x: float = 0.0
    entry_x: float = 0.0
    passage_x: float | None = None
    tracks: dict[int, int] = field(default_factory=dict)  # channel -> track index


def _sides(rs: int, rt: int, xs: float, xt: float, adjacent: bool) -> tuple[str, str]:
    if rt < rs:
        return "top", "bottom"
    if rt > rs:
        return "bottom", "top"
    if adjacent:
        return ("right", "left") if xs < xt else ("left", "right")
    return "top", "top"


def _channel(row: int, side: str) -> int:
    """Channel r lies above row r, so a box's top edge faces channel r and its bottom r + 1."""
    return row + 1 if side == "bottom" else row


def plan_routes(links, placed) -> list[Route]:
    """Sides and channels of each arrow."""
    routes = []
    for source, target in links:
        (xs, rs), (xt, rt) = placed[source], placed[target]
        between = [o for o, (x, r) in placed.items() if r == rs and min(xs, xt) < x < max(xs, xt)]
        exit_side, entry_side = _sides(rs, rt, xs, xt, adjacent=not between)
        route = Route(source, target, exit_side, entry_side)
        route.exit_channel = _channel(rs, exit_side)
        route.entry_channel = _channel(rt, entry_side)
        routes.append(route)
    return routes


def assign_ports(routes: list[Route], placed, box_w: float) -> None:
    """Spread the arrows meeting one edge of a box evenly along that edge."""
    edges = defaultdict(list)
    for route in routes:
        xt = placed[route.target][0] + box_w / 2
        xs = placed[route.source][0] + box_w / 2
        edges[(route.source, route.exit_side)].append((xt, route, "exit"))
        edges[(route.target, route.entry_side)].append((xs, route, "entry"))
    for (box, side), ends in edges.items():
        if side in ("left", "right"):
            continue
        ends.sort(key=lambda e: e[0])
        x = placed[box][0]
        for i, (_, route, which) in enumerate(ends):
            port = x + box_w * (i + 1) / (len(ends) + 1)
            setattr(route, f"{which}_x", port)


def _free(row: list[str], placed, box_w: float, s: MapSettings) -> list[tuple[float, float]]:
    """The x intervals of a row where no box stands (with clearance)."""
    spans = sorted((placed[o][0] - s.clearance, placed[o][0] + box_w + s.clearance) for o in row)
    free, start = [], s.label_width + s.clearance
    for a, b in spans:
        if a > start:
            free.append((start, a))
        start = max(start, b)
    free.append((start, s.width - s.clearance))
    return free


def _intersect(a: list[tuple[float, float]], b: list[tuple[float, float]]):
    out = []
    for a1, a2 in a:
        for b1, b2 in b:
            lo, hi = max(a1, b1), min(a2, b2)
            if hi - lo > 1e-6:
                out.append((lo, hi))
    return out


def _pick_x(free, preferred: float, taken: list[float], gap: float) -> float:
    """The x nearest `preferred` inside a free interval, `gap` away from the x's taken."""
    candidates = []
    for lo, hi in free:
        middle = (lo + hi) / 2
        if hi - lo < 2 * gap:
            candidates.append(middle)
            continue
        steps = int((hi - lo) / gap)
        candidates.extend(lo + gap * k for k in range(1, steps))
    clear = [x for x in candidates if all(abs(x - t) >= gap * 0.99 for t in taken)]
    return min(clear or candidates, key=lambda x: abs(x - preferred))


def choose_passages(routes: list[Route], rows, placed, box_w: float, s: MapSettings) -> None:
    """The x where each arrow that changes channel crosses the rows between them."""
    used: list[tuple[float, int, int]] = []
    for route in sorted(routes, key=lambda r: abs(r.exit_channel - r.entry_channel)):
        lo, hi = sorted((route.exit_channel, route.entry_channel))
        if lo == hi or route.exit_side in ("left", "right"):
            continue
        free = [(s.label_width, s.width)]
        for r in range(lo, hi):
            free = _intersect(free, _free(rows[r], placed, box_w, s))
        taken = [x for x, a, b in used if a < hi and lo < b]
        route.passage_x = _pick_x(free, (route.exit_x + route.entry_x) / 2, taken, s.track_gap)
        used.append((route.passage_x, lo, hi))


def _segments(route: Route) -> list[tuple[int, float, float]]:
    """The horizontal stretches of an arrow: (channel, x from, x to)."""
    if route.exit_side in ("left", "right"):
        return []
    if route.passage_x is None:
        return [(route.exit_channel, route.exit_x, route.entry_x)]
    return [
        (route.exit_channel, route.exit_x, route.passage_x),
        (route.entry_channel, route.passage_x, route.entry_x),
    ]


def assign_tracks(routes: list[Route], count: int, gap: float) -> list[int]:
    """Give each horizontal stretch its own track in its channel; the tracks per channel."""
    stretches = defaultdict(list)
    for route in routes:
        for channel, a, b in _segments(route):
            stretches[channel].append((min(a, b), max(a, b), route))
    tracks = [0] * (count + 1)
    for channel, items in stretches.items():
        ends: list[float] = []
        for lo, hi, route in sorted(items, key=lambda i: (i[0], i[1])):
            track = next((k for k, end in enumerate(ends) if end + gap < lo), len(ends))
            if track == len(ends):
                ends.append(hi)
            ends[track] = hi
            route.tracks[channel] = track
        tracks[channel] = len(ends)
    return tracks

"""The strategy map: boxes never overlap, arrows never cross a box, for any catalog size."""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET

import pytest
from report_factory import generated_report, report_from_catalog

from pipelines.report.model import StrategyLink
from pipelines.report.strategy_layout import MapLayout, Rect, layout_map
from pipelines.report.strategy_map import map_layout, map_settings, strategy_map_svg

EPS = 0.01


def _overlap(a: Rect, b: Rect) -> bool:
    return a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h


def _crosses(p, q, box: Rect) -> bool:
    """Whether segment p-q enters the box's interior (touching its edge is allowed)."""
    lo_x, hi_x = sorted((p[0], q[0]))
    lo_y, hi_y = sorted((p[1], q[1]))
    return (
        lo_x < box.x + box.w - EPS
        and hi_x > box.x + EPS
        and lo_y < box.y + box.h - EPS
        and hi_y > box.y + EPS
    )


def assert_clean(layout: MapLayout, links: int | None = None) -> None:
    """No two boxes intersect; every arrow is orthogonal, inside the map, clear of every box,
    starts on its source's edge and ends on its target's edge."""
    boxes = list(layout.boxes.items())
    for i, (a, ra) in enumerate(boxes):
        for b, rb in boxes[i + 1 :]:
            assert not _overlap(ra, rb), f"boxes {a} and {b} overlap"
    if links is not None:
        assert len(layout.arrows) == links
    for arrow in layout.arrows:
        points = arrow.points
        assert len(points) >= 2
        for p, q in zip(points, points[1:], strict=False):
            assert p[0] == pytest.approx(q[0]) or p[1] == pytest.approx(q[1]), arrow
            for name, box in boxes:
                assert not _crosses(p, q, box), f"{arrow.source}->{arrow.target} crosses {name}"
        for x, y in points:
            assert 0 <= x <= layout.width and 0 <= y <= layout.height
        for end, name in ((points[0], arrow.source), (points[-1], arrow.target)):
            box = layout.boxes[name]
            on_edge = (
                abs(end[0] - box.x) < EPS
                or abs(end[0] - box.x - box.w) < EPS
                or abs(end[1] - box.y) < EPS
                or abs(end[1] - box.y - box.h) < EPS
            )
            assert on_edge, f"{arrow.source}->{arrow.target} does not touch {name}"


def _random_catalog(seed: int, objectives: int, links: int):
    rng = random.Random(seed)
    ids = [f"o{i}" for i in range(objectives)]
    bands = [ids[i::4] for i in range(4)]
    pairs: set[tuple[str, str]] = set()
    while len(pairs) < links:
        pairs.add(tuple(rng.sample(ids, 2)))
    return bands, sorted(pairs)


@pytest.mark.parametrize("seed", range(8))
def test_forty_objectives_sixty_links_lay_out_cleanly(seed):
    bands, links = _random_catalog(seed, 40, 60)
    assert_clean(layout_map(bands, links), links=60)


def test_uneven_bands_and_same_band_links():
    bands = [["a"], ["b", "c", "d", "e", "f", "g", "h"], ["i", "j"], ["k", "l", "m"]]
    links = [
        ("b", "h"),
        ("c", "d"),
        ("h", "b"),
        ("k", "a"),
        ("a", "m"),
        ("i", "j"),
        ("k", "k"),
        ("x", "a"),
        ("k", "a"),
    ]  # a self-link, an unknown id, a duplicate
    layout = layout_map(bands, links)
    assert_clean(layout, links=6)


def test_demo_catalog_map(catalog):
    report = report_from_catalog(catalog)
    layout = map_layout(report, map_settings(report))
    assert_clean(layout, links=len(catalog.links))
    order = [p.id for p in catalog.perspectives]
    first, last = order[0], order[-1]
    top = min(
        layout.boxes[o.id].y for p in catalog.perspectives if p.id == first for o in p.objectives
    )
    bottom = max(
        layout.boxes[o.id].y for p in catalog.perspectives if p.id == last for o in p.objectives
    )
    assert top < bottom  # financial on top, learning and growth at the bottom


def test_twice_the_demo_lays_out_and_draws(catalog):
    """About 40 objectives and 100 KPIs (twice the demo and more) on one map."""
    report = generated_report(objectives=40, kpis=100, links=60)
    layout = map_layout(report, map_settings(report))
    assert_clean(layout, links=60)
    svg = strategy_map_svg(report)
    root = ET.fromstring(svg)  # well-formed
    assert root.get("viewBox").startswith("0 0 ")
    assert svg.count('class="objective-box"') == 40


def test_svg_writes_status_in_words_and_escapes_names(catalog):
    report = report_from_catalog(catalog)
    objective = report.perspectives[0].objectives[0]
    hostile = objective.__class__(
        **{**objective.__dict__, "name": "<img src=x onerror=alert(1)> & {{ 7*7 }}"}
    )
    first = report.perspectives[0].__class__(
        **{
            **report.perspectives[0].__dict__,
            "objectives": (hostile, *report.perspectives[0].objectives[1:]),
        }
    )
    report = report.__class__(
        **{**report.__dict__, "perspectives": (first, *report.perspectives[1:])}
    )
    svg = strategy_map_svg(report)
    ET.fromstring(svg)
    assert "<img" not in svg and "&lt;img" in svg and "onerror=alert(1)&gt;" in svg
    words = [t.text for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]
    assert any(
        w and "On track" in w or w and "At risk" in w or w and "Off track" in w for w in words
    )


def test_map_with_no_links_and_one_objective():
    layout = layout_map([["only"]], [])
    assert_clean(layout, links=0)
    assert list(layout.boxes) == ["only"]


def test_links_follow_the_report(catalog):
    report = report_from_catalog(catalog)
    assert report.links and all(isinstance(link, StrategyLink) for link in report.links)
    assert {(link.source, link.target) for link in report.links} == {
        (link.from_, link.to) for link in catalog.links
    }

"""The report's pure helpers: the detail chart, text fitting, progress bars, labels, page views."""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from report_factory import generated_report, make_kpi, report_from_catalog

from pipelines.catalog import load_catalog
from pipelines.report import view
from pipelines.report.charts import progress_bar_svg
from pipelines.report.formatting import format_value
from pipelines.report.labels import initiative_label, initiative_state, month_label
from pipelines.report.model import RestatedValue, Restatement, TrendPoint
from pipelines.report.render import render_html
from pipelines.report.textfit import text_width, wrap
from pipelines.report.trend_chart import nice_ticks, trend_chart_svg
from pipelines.scoring.signals import OUTSIDE, SIGNAL, MonthSignal, limits_of
from pipelines.settings import PROJECT_ROOT

SVG = "{http://www.w3.org/2000/svg}"


def _fmt(value: float) -> str:
    return format_value(value, "usd")


def test_trend_chart_names_its_zones_in_words_and_merges_equal_months():
    kpi = make_kpi(random.Random(2), "rev", "Revenue <b>", "usd", "higher_is_better")
    svg = trend_chart_svg(kpi, _fmt)
    root = ET.fromstring(svg)
    words = {t.text for t in root.iter(f"{SVG}text")}
    assert {"On track", "At risk", "Off track"} <= words
    assert len(list(root.iter(f"{SVG}rect"))) == 3  # one per zone: the thresholds never change
    assert "Revenue &lt;b&gt;" in svg and "<b>" not in svg
    assert len(list(root.iter(f"{SVG}path"))) == 1  # the target, one dashed step line


def test_trend_chart_follows_changing_targets_and_gaps():
    kpi = make_kpi(random.Random(3), "days", "Days", "days", "lower_is_better")
    shift = [2.0 if i >= 6 else 0.0 for i in range(12)]
    points = [
        replace(
            p,
            target=p.target + shift[i],
            red_flag=p.red_flag + shift[i],
            actual=None if i == 4 else p.actual,
        )
        for i, p in enumerate(kpi.trend)
    ]
    svg = trend_chart_svg(replace(kpi, trend=tuple(points)), _fmt)
    root = ET.fromstring(svg)
    assert len(list(root.iter(f"{SVG}rect"))) == 6  # the zones change in month 7
    assert len(list(root.iter(f"{SVG}polyline"))) == 2  # the gap splits the actual line


def test_trend_chart_without_values_is_empty():
    kpi = make_kpi(random.Random(4), "x", "X", "pct", "within_range")
    assert trend_chart_svg(replace(kpi, trend=()), _fmt) == ""
    empty = tuple(TrendPoint(p.period, None, p.target) for p in kpi.trend)
    assert trend_chart_svg(replace(kpi, trend=empty), _fmt) == ""
    within = ET.fromstring(trend_chart_svg(kpi, _fmt))
    assert "On track" in {t.text for t in within.iter(f"{SVG}text")}


def test_trend_chart_draws_the_process_limits_and_marks_signals():
    kpi = make_kpi(random.Random(5), "nps", "NPS", "usd", "higher_is_better")
    limits = limits_of([(p.period, p.actual) for p in kpi.trend[:-1]])
    spike = limits.upper + 3 * limits.average_moving_range  # far above: outside, and drawn
    trend = tuple(
        replace(p, actual=spike, signal=True) if i == 11 else p for i, p in enumerate(kpi.trend)
    )
    start = kpi.trend[3].period  # the process changed in the fourth month
    signal = MonthSignal(SIGNAL, limits, (OUTSIDE,), "above", process_start=start)
    root = ET.fromstring(trend_chart_svg(replace(kpi, trend=trend, signal=signal), _fmt))
    groups = [g for g in root.iter(f"{SVG}g") if g.get("class") == "process-limit"]
    assert [next(g.iter(f"{SVG}text")).text for g in groups] == [
        "upper limit",
        "centre",
        "lower limit",
    ]
    lines = [next(g.iter(f"{SVG}line")) for g in groups]
    ys = [float(line.get("y1")) for line in lines]
    assert ys[0] < ys[1] < ys[2]  # upper above centre above lower
    assert len({line.get("x1") for line in lines}) == 1
    assert float(lines[0].get("x1")) > 58 + 3 * (500 - 58 - 52) / 12 - 1  # from the fourth month
    marks = [p for p in root.iter(f"{SVG}path") if p.get("class") == "signal-point"]
    assert len(marks) == 1
    plain = ET.fromstring(trend_chart_svg(replace(kpi, signal=None), _fmt))
    assert not [g for g in plain.iter(f"{SVG}g") if g.get("class") == "process-limit"]


@pytest.mark.parametrize(
    ("low", "high"), [(0, 1), (3.2, 3.9), (-40, 120), (1e6, 2.5e6), (0.001, 0.004), (5, 5)]
)
def test_nice_ticks_cover_the_range(low, high):
    ticks = nice_ticks(low, high)
    assert ticks[0] <= low and (ticks[-1] >= high or low == high)
    assert 1 <= len(ticks) <= 12


def test_wrap_fits_and_ellipsizes():
    text = "Delight customers at every touchpoint of the journey"
    lines = wrap(text, 90, 7.2, 2, bold=True)
    assert len(lines) == 2 and lines[-1].endswith("\u2026")
    assert all(text_width(line, 7.2, bold=True) <= 90 for line in lines)
    assert wrap("Short", 90, 7.2, 3) == ["Short"]
    long_word = wrap("x" * 200, 50, 8, 2)
    assert len(long_word) <= 2 and all(text_width(line, 8) <= 50 for line in long_word)


def test_progress_bar_and_initiative_words():
    assert 'width="40.0"' in progress_bar_svg(50, "open", width=80)
    assert progress_bar_svg(None).count("<rect") == 1
    assert progress_bar_svg(250, "done").count('width="80.0"') == 1
    assert initiative_label("on_schedule") == "On schedule"
    assert initiative_label("paused_for_review") == "Paused for review"
    assert month_label("2026-09") == "September 2026" and month_label(None) == ""
    report = generated_report(objectives=4, kpis=4, links=2)
    states = {initiative_state(i) for i in report.initiatives}
    assert states <= {"overdue", "at-risk", "done", "open"}


def test_detail_pages_setting_and_contents():
    report = generated_report(objectives=8, kpis=16, links=6, seed=9)
    assert view.detail_kpis(report) == report.kpis()
    off = replace(report, kpi_detail_pages="off_track")
    assert all(k.status == "off_track" for k in view.detail_kpis(off))
    entries = view.contents(off, view.detail_kpis(off))
    assert [e["title"] for e in entries][:2] == ["Summary", "Strategy map"]
    assert entries[-1]["href"] == "#appendix"
    groups = view.highlight_groups(report)
    assert [g["kind"] for g in groups] == [
        "signal",
        "success",
        "improvement_area",
        "status_change",
    ]


def test_freshness():
    now = datetime(2026, 11, 4, 6, 0)
    assert view.freshness(None, now) == "\u2014"
    assert view.freshness(now - timedelta(minutes=5), now) == "under an hour"
    assert view.freshness(now - timedelta(hours=5), now) == "5 h"
    assert view.freshness(now - timedelta(days=3), now) == "3 days"


def test_a_restatement_says_whether_the_catalog_changed():
    catalog = load_catalog(PROJECT_ROOT / "definitions", PROJECT_ROOT / "sql")
    change = (RestatedValue("nps", "Net Promoter Score", "score", 40.0, 42.0),)
    sent = datetime(2026, 11, 4, 6, 0, tzinfo=UTC)
    for changed, words in ((False, "the data of the month was corrected"), (True, "the catalog")):
        report = report_from_catalog(catalog, restatement=Restatement(sent, change, changed))
        html = " ".join(render_html(report, PROJECT_ROOT / "reports").split())
        assert f"rendered on 2026-11-04 06:00 UTC: {words}" in html

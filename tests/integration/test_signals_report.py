"""Signals in the report, from the KPI history stored in a real DuckDB warehouse.

Fourteen months of NPS are written to kpi.kpi_values and scored as the pipeline does: twelve of a
stable process (centre 11.5, limits 7.87 to 15.13: tests/unit/test_signals.py), then an outlier.
The report built from the warehouse calls the outlier a signal, draws the limits and lists it
first on the cover; a process change recorded in the catalog starts the limits again.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import yaml

from pipelines.catalog import load_catalog
from pipelines.kpis.evaluate import VALUE, KpiValue, write_kpi_values
from pipelines.periods import Period
from pipelines.report.context import build_report
from pipelines.report.publish import publish_report
from pipelines.report.render import render_html
from pipelines.scoring.scorecard import score_period
from pipelines.scoring.signals import ABOVE, OUTSIDE, ROUTINE, SIGNAL, TOO_LITTLE
from pipelines.settings import PROJECT_ROOT
from pipelines.warehouse.connection import connect, ensure_tables

BASE = [10, 12, 11, 13, 12, 10, 11, 12, 13, 11, 12, 11]
FIRST = Period(2025, 1)
OUTLIER, AFTER = Period(2026, 1), Period(2026, 2)


def _write(con, catalog, values: list[float]) -> None:
    for i, value in enumerate(values):
        period = FIRST.shift(i)
        write_kpi_values(
            con, catalog, period, [KpiValue("nps", VALUE, value, value, value)], "test-run"
        )
        score_period(con, catalog, period, "test-run")


@pytest.fixture
def warehouse(paths):
    con = connect(paths.warehouse)
    ensure_tables(con)
    yield con
    con.close()


def _nps(report):
    return next(k for k in report.kpis() if k.id == "nps")


def test_an_outlier_is_a_signal_in_the_report_and_its_chart(warehouse, catalog, paths):
    _write(warehouse, catalog, [*BASE, 15.2, 11.0])
    report = build_report(warehouse, catalog, OUTLIER, "test-run")
    nps = _nps(report)
    assert (nps.signal.state, nps.signal.rules, nps.signal.side) == (SIGNAL, (OUTSIDE,), ABOVE)
    assert nps.signal.limits.centre == pytest.approx(11.5)
    assert nps.signal.limits.upper == pytest.approx(15.127273, abs=1e-6)
    assert nps.signal.limits.baseline_first == "2025-01"
    assert [p.signal for p in nps.trend] == [False] * 11 + [True]
    assert (report.highlights[0].kind, report.highlights[0].kpi.id) == ("signal", "nps")
    assert report.highlights[0].reason == "above the upper limit (improvement)"
    html = render_html(report, PROJECT_ROOT / "reports")
    assert "Signal (improvement):" in html and "above the upper limit." in html
    detail = html[html.index('id="kpi-detail-nps"') :]
    svg = detail[detail.index("<svg") : detail.index("</svg>") + 6]
    root = ET.fromstring(svg)
    labels = [
        t.text
        for g in root.iter("{http://www.w3.org/2000/svg}g")
        if g.get("class") == "process-limit"
        for t in g.iter("{http://www.w3.org/2000/svg}text")
    ]
    assert labels == ["upper limit", "centre", "lower limit"]
    # what the report step tells Dagster's UI
    published = publish_report(warehouse, catalog, OUTLIER, "test-run", paths)
    assert published.signals == ("Net Promoter Score: above the upper limit (improvement)",)
    # the month after is routine variation again, and the trend keeps the outlier's mark
    after = _nps(build_report(warehouse, catalog, AFTER, "test-run"))
    assert after.signal.state == ROUTINE
    assert [p.signal for p in after.trend][-2:] == [True, False]


def test_a_process_change_in_the_catalog_starts_the_limits_again(warehouse, copied_catalog, paths):
    path = copied_catalog / "definitions/kpis/customer.yaml"
    data = yaml.safe_load(path.read_text())
    nps = next(k for k in data["kpis"] if k["id"] == "nps")
    nps["signals"] = {
        "process_changes": [{"effective": OUTLIER.key, "note": "A new survey vendor."}]
    }
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    catalog = load_catalog(copied_catalog / "definitions", copied_catalog / "sql")
    _write(warehouse, catalog, [*BASE, 15.2])
    report = build_report(warehouse, catalog, OUTLIER, "test-run")
    line = _nps(report)
    assert (line.signal.state, line.signal.values_in_process) == (TOO_LITTLE, 1)
    assert not any(h.kind == "signal" for h in report.highlights)
    html = render_html(report, paths.report_assets)
    assert "Too little history for process limits:" in html
    assert "0 value(s) before this month since January 2026; the limits need 12." in html

"""A KPI measured quarterly: its value is the quarter's, taken in the quarter's last month, and
the months between measurements carry it, scored, never as missing data.

Net Promoter Score is made quarterly in a copy of the catalog (fiscal year from January: measured
in March, June, September and December). The first quarter of 2026's survey answers are loaded
into a real DuckDB warehouse and the months are evaluated as the pipeline evaluates them; the
expected NPS is computed here from the export with the standard library.
"""

from __future__ import annotations

import csv
from dataclasses import replace

import pytest
import yaml
from demo_homes import home_on

from pipelines.catalog import load_catalog
from pipelines.ingest.files import load_file_table
from pipelines.kpis.evaluate import NO_DATA, VALUE, period_values, write_kpi_values
from pipelines.periods import Period
from pipelines.report.context import build_report
from pipelines.report.render import render_html
from pipelines.scoring.scorecard import score_period
from pipelines.scoring.statuses import NO_DATA as NO_DATA_STATUS
from pipelines.warehouse.connection import connect, ensure_tables

JAN, FEB, MAR, APR = (Period(2026, m) for m in (1, 2, 3, 4))


def _quarterly_catalog(root, **fields):
    path = root / "definitions/kpis/customer.yaml"
    data = yaml.safe_load(path.read_text())
    nps = next(k for k in data["kpis"] if k["id"] == "nps")
    nps.update(frequency="quarterly", **fields)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_catalog(root / "definitions", root / "sql")


def _nps_by_hand(exports, first: Period, last: Period) -> float:
    with open(exports / "crm/nps_responses.csv", newline="") as handle:
        scores = [
            int(row["score"])
            for row in csv.DictReader(handle)
            if first.start.isoformat() <= row["response_date"] < last.end.isoformat()
        ]
    promoters = sum(s >= 9 for s in scores)
    detractors = sum(s <= 6 for s in scores)
    return (promoters - detractors) / len(scores) * 100


@pytest.fixture
def quarterly(tmp_path, quarter_exports, copied_catalog):
    catalog = _quarterly_catalog(copied_catalog)
    paths = replace(
        home_on(tmp_path, quarter_exports, "home"),
        definitions=copied_catalog / "definitions",
        sql=copied_catalog / "sql",
    )
    con = connect(paths.warehouse)
    ensure_tables(con)
    load_file_table(con, catalog.table("crm.nps_responses"), JAN, MAR, paths.home, "test-run")
    for period in (JAN, FEB, MAR, APR):
        write_kpi_values(
            con, catalog, period, period_values(con, catalog, list(catalog.kpis), period), "t"
        )
        score_period(con, catalog, period, "t")
    yield catalog, con, paths
    con.close()


def _stored(con, period: Period) -> tuple:
    return con.execute(
        "select state, value, strftime(measured_in, '%Y-%m') from kpi.kpi_values "
        "where kpi_id = 'nps' and period = ?",
        [period.start],
    ).fetchone()


def test_the_quarter_is_measured_in_its_last_month_and_carried_after(quarterly, quarter_exports):
    catalog, con, _ = quarterly
    quarter = _nps_by_hand(quarter_exports, JAN, MAR)
    march_alone = _nps_by_hand(quarter_exports, MAR, MAR)
    assert quarter != pytest.approx(march_alone)  # the quarter's answers, not March's only
    # January and February carry the December 2025 measurement, which had no answers
    assert _stored(con, JAN) == (NO_DATA, None, "2025-12")
    assert _stored(con, FEB) == (NO_DATA, None, "2025-12")
    # ... with their own year to date: January's answers, not last year's
    jan_ytd = con.execute(
        "select ytd_value from kpi.kpi_values where kpi_id = 'nps' and period = ?", [JAN.start]
    ).fetchone()[0]
    assert jan_ytd == pytest.approx(_nps_by_hand(quarter_exports, JAN, JAN), abs=1e-9)
    state, value, measured = _stored(con, MAR)
    assert (state, measured) == (VALUE, "2026-03")
    assert value == pytest.approx(quarter, abs=1e-9)
    # April has no answers loaded at all, and carries March's measurement
    state, value, measured = _stored(con, APR)
    assert (state, measured) == (VALUE, "2026-03")
    assert value == pytest.approx(quarter, abs=1e-9)
    status = con.execute(
        "select status from score.kpi_scores where kpi_id = 'nps' and period = ?", [APR.start]
    ).fetchone()[0]
    assert status != NO_DATA_STATUS  # scored on the carried value, not missing data


def test_the_report_says_which_measurement_it_shows(quarterly):
    catalog, con, paths = quarterly
    april = next(k for k in build_report(con, catalog, APR, "t").kpis() if k.id == "nps")
    assert (april.frequency, april.measured_in, april.carried) == ("quarterly", "2026-03", True)
    march = next(k for k in build_report(con, catalog, MAR, "t").kpis() if k.id == "nps")
    assert (march.measured_in, march.carried) == ("2026-03", False)
    html = render_html(build_report(con, catalog, APR, "t"), paths.report_assets)
    assert "quarterly, March 2026" in html
    assert "latest measurement: March 2026" in html


def test_measurement_months_follow_the_catalog(copied_catalog):
    catalog = _quarterly_catalog(copied_catalog, measured_in=[2, 5, 8, 11])
    nps = catalog.kpi("nps")
    assert nps.measurement_at(APR) == Period(2026, 2)
    assert nps.measurement_window(Period(2026, 2)) == (Period(2025, 12), Period(2026, 2))

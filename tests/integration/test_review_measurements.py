"""A KPI measured quarterly in a quarter's review: its value, state and target are its latest
measurement's, never the months carrying an earlier one. Rows are written into a real DuckDB
warehouse as the monthly pipeline stores them (a quarterly NPS, measured in June and September)."""

from __future__ import annotations

import pytest
import yaml

from pipelines.catalog import load_catalog
from pipelines.kpis.evaluate import NO_DATA, VALUE, WITHHELD
from pipelines.kpis.review import review_values
from pipelines.periods import Period, ReviewPeriod
from pipelines.scoring.review import review_goal
from pipelines.scoring.scorecard import goal_for
from pipelines.warehouse.connection import connect, ensure_tables

Q3 = ReviewPeriod.parse("2026-Q3")


@pytest.fixture
def quarterly(copied_catalog, tmp_path):
    path = copied_catalog / "definitions/kpis/customer.yaml"
    data = yaml.safe_load(path.read_text())
    next(k for k in data["kpis"] if k["id"] == "nps")["frequency"] = "quarterly"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    catalog = load_catalog(copied_catalog / "definitions", copied_catalog / "sql")
    con = connect(tmp_path / "warehouse.duckdb")
    ensure_tables(con)
    for month in Q3.months:  # the months are scored
        con.execute(
            "insert into score.rollup_scores (period, level, node_id, status, scored_count, "
            "total_count, scored_weight, total_weight, run_id) "
            "values (?, 'overall', 'overall', 'no_data', 0, 1, 0, 1, 't')",
            [month.start],
        )
    yield catalog, con
    con.close()


def _nps_months(con, rows: dict[str, tuple]) -> None:
    """Store NPS for July to September: (state, value, reason, measured in)."""
    for month, (state, value, reason, measured) in rows.items():
        con.execute(
            "insert into kpi.kpi_values (period, kpi_id, state, value, withheld_reason, "
            "tables_read, catalog_version, run_id, computed_at, measured_in) "
            "values (?, 'nps', ?, ?, ?, 'crm.nps_responses', 'v', 't', now(), ?)",
            [Period.parse(month).start, state, value, reason, Period.parse(measured).start],
        )


def _nps(catalog, con):
    return next(v for v in review_values(con, catalog, Q3) if v.kpi_id == "nps")


def test_a_quarter_shows_its_own_measurement_not_the_one_carried_before(quarterly):
    catalog, con = quarterly
    june = (WITHHELD, None, "failed a check", "2026-06")
    _nps_months(
        con,
        {"2026-07": june, "2026-08": june, "2026-09": (VALUE, 41.5, None, "2026-09")},
    )
    nps = _nps(catalog, con)
    assert (nps.state, nps.value, nps.measured_in) == (VALUE, 41.5, "2026-09")
    assert (nps.months, nps.months_with_data) == (1, 1)
    # its target is the measurement month's, not three months' worth
    nps_kpi = catalog.kpi("nps")
    assert review_goal(catalog, nps_kpi, Q3) == goal_for(catalog, nps_kpi, Period(2026, 9))


def test_a_withheld_measurement_withholds_the_quarter(quarterly):
    catalog, con = quarterly
    _nps_months(
        con,
        {
            "2026-07": (VALUE, 38.0, None, "2026-06"),
            "2026-08": (VALUE, 38.0, None, "2026-06"),
            "2026-09": (WITHHELD, None, "nps_responses failed a check", "2026-09"),
        },
    )
    nps = _nps(catalog, con)
    assert nps.state == WITHHELD
    assert nps.withheld_reason == "withheld in September 2026: nps_responses failed a check"
    monthly = next(v for v in review_values(con, catalog, Q3) if v.kpi_id == "revenue_usd")
    assert (monthly.state, monthly.months_with_data) == (NO_DATA, 0)  # no month has a value

"""KPI SQL against a hand-written data set whose values were computed by hand."""

from __future__ import annotations

import pytest

from pipelines.ingest.files import load_file_table
from pipelines.kpis.evaluate import NO_DATA, kpi_value
from pipelines.periods import Period
from pipelines.warehouse.connection import connect, ensure_tables

JAN, FEB = Period(2026, 1), Period(2026, 2)

# (kpi, period, month value, year-to-date value), all worked out by hand from tests/data/tiny.
EXPECTED = [
    ("revenue_usd", JAN, 1500.0, 1500.0),
    ("revenue_usd", FEB, 2000.0, 3500.0),
    ("gross_margin_pct", JAN, 60.0, 60.0),
    # YTD is (3500 - 1600) / 3500, a ratio of sums, not the mean of 60 % and 50 %.
    ("gross_margin_pct", FEB, 50.0, 1900 / 3500 * 100),
    ("opex_ratio_pct", FEB, 25.0, 800 / 3500 * 100),
    ("nps", JAN, 0.0, 0.0),  # 2 promoters, 2 detractors of 5
    ("nps", FEB, 75.0, (5 - 2) / 9 * 100),
    ("on_time_delivery_pct", JAN, 200 / 3, 200 / 3),  # O-4 undelivered, O-2 late
    ("order_cycle_days", JAN, 22 / 3, 22 / 3),
    ("defects_per_1000_orders", JAN, 250.0, 250.0),
    ("defects_per_1000_orders", FEB, 1000.0, 400.0),
]


@pytest.fixture
def warehouse(paths, catalog, tiny_exports):
    con = connect(paths.warehouse)
    ensure_tables(con)
    for key in ("finance.gl_entries", "crm.nps_responses", "operations.orders",
                "operations.defects"):
        load_file_table(con, catalog.table(key), JAN, FEB, paths.home, "test-run")
    yield con
    con.close()


@pytest.mark.parametrize(("kpi_id", "period", "month", "ytd"), EXPECTED,
                         ids=[f"{e[0]}-{e[1]}" for e in EXPECTED])
def test_kpi_values_match_hand_computation(warehouse, catalog, kpi_id, period, month, ytd):
    value = kpi_value(warehouse, catalog, catalog.kpi(kpi_id), period)
    assert value.value == pytest.approx(month)
    assert value.ytd_value == pytest.approx(ytd)


def test_rows_outside_the_loaded_months_are_not_loaded(warehouse):
    # GL-8 is dated 2026-03-01, after the loaded range.
    assert warehouse.execute(
        "select count(*) from raw.finance_gl_entries where entry_id = 'GL-8'").fetchone()[0] == 0


def test_kpi_without_rows_for_the_month_is_no_data_not_zero(warehouse, catalog):
    value = kpi_value(warehouse, catalog, catalog.kpi("csat_pct"), JAN)
    assert value.state == NO_DATA
    assert value.value is None

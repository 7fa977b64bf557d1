"""KPI SQL against a hand-written data set whose values were computed by hand."""

from __future__ import annotations

import pytest

from pipelines.catalog import load_catalog
from pipelines.ingest.files import load_file_table
from pipelines.kpis.evaluate import (
    NO_DATA,
    KpiQueryError,
    kpi_value,
    period_values,
    values_by_month,
)
from pipelines.periods import Period, months_between
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
    for key in (
        "finance.gl_entries",
        "crm.nps_responses",
        "operations.orders",
        "operations.defects",
    ):
        load_file_table(con, catalog.table(key), JAN, FEB, paths.home, "test-run")
    yield con
    con.close()


@pytest.mark.parametrize(
    ("kpi_id", "period", "month", "ytd"), EXPECTED, ids=[f"{e[0]}-{e[1]}" for e in EXPECTED]
)
def test_kpi_values_match_hand_computation(warehouse, catalog, kpi_id, period, month, ytd):
    value = kpi_value(warehouse, catalog, catalog.kpi(kpi_id), period)
    assert value.value == pytest.approx(month)
    assert value.ytd_value == pytest.approx(ytd)


def test_rows_outside_the_loaded_months_are_not_loaded(warehouse):
    # GL-8 is dated 2026-03-01, after the loaded range.
    assert (
        warehouse.execute(
            "select count(*) from raw.finance_gl_entries where entry_id = 'GL-8'"
        ).fetchone()[0]
        == 0
    )


def test_kpi_without_rows_for_the_month_is_no_data_not_zero(warehouse, catalog):
    value = kpi_value(warehouse, catalog, catalog.kpi("csat_pct"), JAN)
    assert value.state == NO_DATA
    assert value.value is None


def test_months_evaluated_side_by_side_equal_one_at_a_time(warehouse, catalog):
    months = months_between(Period(2025, 11), Period(2026, 3))  # two without rows on each side
    kpis = list(catalog.kpis)
    alone = [(p, period_values(warehouse, catalog, kpis, p)) for p in months]
    together = list(values_by_month(warehouse, catalog, kpis, months))
    assert [p for p, _ in together] == months
    assert together == alone
    assert any(v.value is not None for _, values in together for v in values)


def test_a_month_that_fails_stops_the_months_after_it(paths, copied_catalog, tiny_exports):
    (copied_catalog / "sql" / "kpis" / "revenue_usd.sql").write_text(
        "select case when $window_start = date '2026-02-01' then error('no February') "
        "else 1.0 end as value from (select count(*) from raw.finance_gl_entries)\n"
    )
    catalog = load_catalog(copied_catalog / "definitions", copied_catalog / "sql")
    con = connect(paths.warehouse)
    ensure_tables(con)
    load_file_table(con, catalog.table("finance.gl_entries"), JAN, FEB, paths.home, "test-run")
    kpi = [catalog.kpi("revenue_usd")]
    done = []
    with pytest.raises(KpiQueryError, match="revenue_usd.*no February"):
        for period, values in values_by_month(con, catalog, kpi, [JAN, FEB, Period(2026, 3)]):
            done.append((period, values[0].value))
    assert done == [(JAN, 1.0)]
    con.close()

"""No data, not a false zero: a KPI over several tables has no value in a month where one of them
has no rows (unless the KPI says that table's empty month means zero), and a month without
data keeps its year to date and trailing twelve months over the months that have rows."""

from __future__ import annotations

import pytest

from pipelines.catalog import load_catalog
from pipelines.catalog.loader import CatalogError
from pipelines.ingest.files import load_file_table
from pipelines.kpis.evaluate import NO_DATA, VALUE, kpi_value
from pipelines.periods import Period
from pipelines.warehouse.connection import connect, ensure_tables

JAN, FEB = Period(2026, 1), Period(2026, 2)
DEFECTS = "defects_per_1000_orders"


@pytest.fixture
def warehouse(paths, catalog, tiny_exports):
    """The tiny exports loaded for January and February (tests/data/tiny)."""
    con = connect(paths.warehouse)
    ensure_tables(con)
    for key in ("finance.gl_entries", "operations.orders", "operations.defects"):
        load_file_table(con, catalog.table(key), JAN, FEB, paths.home, "test-run")
    yield con
    con.close()


def _empty(con, raw: str, period: Period) -> None:
    con.execute(f"delete from raw.{raw} where _period = ?", [period.start])


def test_an_empty_table_that_means_zero_gives_zero(warehouse, catalog):
    _empty(warehouse, "operations_defects", FEB)  # no defect reported in February
    assert catalog.kpi(DEFECTS).empty_means_zero == ["operations.defects"]
    value = kpi_value(warehouse, catalog, catalog.kpi(DEFECTS), FEB)
    assert (value.state, value.value) == (VALUE, 0.0)


def test_an_empty_table_is_no_data_unless_the_kpi_says_it_means_zero(
    warehouse, copied_catalog, paths
):
    kpis = copied_catalog / "definitions" / "kpis" / "internal_process.yaml"
    kpis.write_text(kpis.read_text().replace("    empty_means_zero: [operations.defects]", ""))
    catalog = load_catalog(copied_catalog / "definitions", copied_catalog / "sql")
    _empty(warehouse, "operations_defects", FEB)
    value = kpi_value(warehouse, catalog, catalog.kpi(DEFECTS), FEB)
    assert (value.state, value.value) == (NO_DATA, None)


def test_a_missing_denominator_table_is_no_data_even_where_empty_means_zero(warehouse, catalog):
    _empty(warehouse, "operations_orders", FEB)
    value = kpi_value(warehouse, catalog, catalog.kpi(DEFECTS), FEB)
    assert (value.state, value.value) == (NO_DATA, None)


def test_a_month_without_data_keeps_its_year_to_date_and_trailing_twelve_months(warehouse, catalog):
    _empty(warehouse, "finance_gl_entries", FEB)
    value = kpi_value(warehouse, catalog, catalog.kpi("revenue_usd"), FEB)
    assert (value.state, value.value) == (NO_DATA, None)
    assert value.ytd_value == pytest.approx(1500.0)  # January's, worked out by hand
    assert value.ttm_value == pytest.approx(1500.0)


def test_check_refuses_empty_means_zero_on_a_table_the_kpi_does_not_read(copied_catalog):
    kpis = copied_catalog / "definitions" / "kpis" / "internal_process.yaml"
    kpis.write_text(
        kpis.read_text().replace(
            "empty_means_zero: [operations.defects]", "empty_means_zero: [finance.gl_entries]"
        )
    )
    with pytest.raises(CatalogError) as raised:
        load_catalog(copied_catalog / "definitions", copied_catalog / "sql")
    assert (
        "kpis (defects_per_1000_orders).empty_means_zero: 'finance.gl_entries' is not a "
        "table the KPI's SQL reads (operations.defects, operations.orders)"
    ) in str(raised.value)

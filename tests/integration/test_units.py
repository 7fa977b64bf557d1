"""Business units: each unit's value is the KPI's own SQL over its rows, the company's over all
rows; targets inherit up the tree; rows of no unit are counted; a unit with no rows in a month has
no data; the company report shows the units side by side, read back from its PDF.

The demo's first quarter of 2026 is loaded into a real DuckDB warehouse. France's February
ledger lines are removed and one March line is coded for no unit. The expected revenue and
gross margin are computed here from the general-ledger export with the standard library.
"""

from __future__ import annotations

import csv
import shutil
import subprocess

import pytest

from pipelines.catalog import load_catalog
from pipelines.ingest.files import load_file_table
from pipelines.kpis.evaluate import NO_DATA, VALUE, period_values, write_kpi_values
from pipelines.kpis.units import attach_units, units_values, unmapped_rows, write_unit_values
from pipelines.periods import Period, months_between
from pipelines.report.context import build_report
from pipelines.report.render import write_report
from pipelines.scoring.scorecard import score_period
from pipelines.scoring.statuses import NO_TARGET
from pipelines.scoring.units import score_unit_period
from pipelines.settings import PROJECT_ROOT, RuntimePaths
from pipelines.warehouse.connection import connect, ensure_tables

JAN, FEB, MAR = (Period(2026, m) for m in (1, 2, 3))
EMEA = {"NL", "ES", "DE", "FR", "GB"}


def _edit_ledger(path) -> None:
    """Drop France's February lines; code one March revenue line for no unit ('XX')."""
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames, list(reader)
    kept = [r for r in rows if not (r["country"] == "FR" and r["entry_date"].startswith("2026-02"))]
    stray = next(
        r for r in kept if r["entry_date"].startswith("2026-03") and r["account_type"] == "revenue"
    )
    stray["country"] = "XX"
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(kept)


@pytest.fixture(scope="module")
def units(tmp_path_factory, quarter_exports):
    home = tmp_path_factory.mktemp("units")
    shutil.copytree(quarter_exports, home / "demo")
    _edit_ledger(home / "demo/finance/gl_entries.csv")
    paths = RuntimePaths(
        home=home,
        definitions=PROJECT_ROOT / "definitions",
        sql=PROJECT_ROOT / "sql",
        report_assets=PROJECT_ROOT / "reports",
    )
    catalog = load_catalog(paths.definitions, paths.sql)
    con = connect(paths.warehouse)
    ensure_tables(con)
    for table in catalog.tables:
        load_file_table(con, table, JAN, MAR, home, "t")
    attach_units(con, catalog)
    for period in months_between(JAN, MAR):
        write_kpi_values(
            con, catalog, period, period_values(con, catalog, list(catalog.kpis), period), "t"
        )
        score_period(con, catalog, period, "t")
        for unit_id, values in units_values(con, catalog, period).items():
            write_unit_values(con, catalog, unit_id, period, values, "t")
            score_unit_period(con, catalog, unit_id, period, "t")
    yield catalog, con, paths
    con.close()


def _ledger(paths, codes: set[str] | None, first: Period, last: Period) -> tuple[float, float]:
    """(revenue, gross margin %) of the ledger lines of `codes` (None: all) in first..last."""
    revenue = cost = 0.0
    with open(paths.demo / "finance/gl_entries.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            if codes is not None and row["country"] not in codes:
                continue
            if not first.start.isoformat() <= row["entry_date"] < last.end.isoformat():
                continue
            if row["account_type"] == "revenue":
                revenue += float(row["amount_usd"])
            elif row["account_type"] == "cost_of_sales":
                cost += float(row["amount_usd"])
    return revenue, (revenue - cost) / revenue * 100


def _unit_row(con, unit_id: str, kpi_id: str, period: Period, table: str = "kpi_values") -> dict:
    cursor = con.execute(
        f"select * from unit.{table} where unit_id = ? and kpi_id = ? and period = ?",  # noqa: S608
        [unit_id, kpi_id, period.start],
    )
    names = [d[0] for d in cursor.description]
    return dict(zip(names, cursor.fetchone(), strict=True))


def _company(con, kpi_id: str, period: Period) -> float:
    return con.execute(
        "select value from kpi.kpi_values where kpi_id = ? and period = ?", [kpi_id, period.start]
    ).fetchone()[0]


def test_a_units_value_is_the_same_sql_over_its_rows(units):
    catalog, con, paths = units
    revenue, margin = _ledger(paths, EMEA, MAR, MAR)
    emea = _unit_row(con, "emea", "revenue_usd", MAR)
    assert emea["value"] == pytest.approx(revenue)
    assert emea["ytd_value"] == pytest.approx(_ledger(paths, EMEA, JAN, MAR)[0])
    # a ratio of the unit's sums
    assert _unit_row(con, "emea", "gross_margin_pct", MAR)["value"] == pytest.approx(margin)
    germany = _unit_row(con, "germany", "gross_margin_pct", MAR)["value"]
    assert germany == pytest.approx(_ledger(paths, {"DE"}, MAR, MAR)[1])
    # the company over all rows, the stray one included: never the units' sum or mean
    assert _company(con, "revenue_usd", MAR) == pytest.approx(_ledger(paths, None, MAR, MAR)[0])
    tops = sum(_unit_row(con, u, "revenue_usd", MAR)["value"] for u in ("emea", "americas", "apac"))
    assert tops < _company(con, "revenue_usd", MAR)


def test_a_unit_without_rows_in_a_month_has_no_data_not_zero(units):
    catalog, con, paths = units
    february = _unit_row(con, "france", "revenue_usd", FEB)
    assert (february["state"], february["value"]) == (NO_DATA, None)
    march = _unit_row(con, "france", "revenue_usd", MAR)
    assert march["state"] == VALUE
    # its year to date covers the months it has rows in
    assert march["ytd_value"] == pytest.approx(_ledger(paths, {"FR"}, JAN, MAR)[0])


def test_rows_of_no_unit_are_counted(units):
    catalog, con, _ = units
    assert unmapped_rows(con, catalog, MAR) == {"finance.gl_entries": 1}
    assert unmapped_rows(con, catalog, FEB) == {}


def test_targets_are_the_units_own_else_inherited(units):
    catalog, con, _ = units
    # own
    assert _unit_row(con, "germany", "revenue_usd", MAR, "kpi_scores")["target"] == 450000
    assert _unit_row(con, "apac", "on_time_delivery_pct", MAR, "kpi_scores")["target"] == 92
    # inherited from the company (a ratio)
    assert _unit_row(con, "germany", "gross_margin_pct", MAR, "kpi_scores")["target"] == 42
    # an amount with no target of its own: none, never the company's
    headcount = _unit_row(con, "france", "headcount", MAR, "kpi_scores")
    assert (headcount["target_lower"], headcount["status"]) == (None, NO_TARGET)


def test_the_company_report_shows_the_units_side_by_side(units):
    catalog, con, paths = units
    report = build_report(con, catalog, MAR, "t")
    scores = [u.overall.score for u in report.units]
    assert {u.id for u in report.units} == {u.id for u in catalog.units}
    assert scores == sorted(scores)  # those needing attention first
    germany = next(u for u in report.units if u.id == "germany")
    assert germany.path == ("Europe, Middle East & Africa",)
    _, pdf = write_report(report, paths.report_assets, paths.report_dir(MAR.key))
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Units at a glance" in text
    for unit in catalog.units:
        assert _flat(unit.name) in _flat(text), unit.name


def _flat(text: str) -> str:
    return "".join(text.split())

"""A unit removed or renamed in units.yaml leaves the months scored again: its rows in unit.*
and its report folder go, the other units' stay."""

from __future__ import annotations

from datetime import date

import duckdb

from pipelines.catalog import load_catalog
from pipelines.periods import Period
from pipelines.report.publish import remove_former_unit_reports
from pipelines.scoring.units import UNIT_TABLES, drop_former_units
from pipelines.settings import PROJECT_ROOT, RuntimePaths
from pipelines.warehouse.connection import ensure_tables

MAR, APR = Period(2026, 3), Period(2026, 4)


def _rows(con, unit_id: str, period: Period) -> None:
    day = period.start
    con.execute(
        "insert into unit.kpi_values (period, unit_id, kpi_id, state, catalog_version, run_id, "
        "computed_at) values (?, ?, 'revenue_usd', 'value', 'v', 't', now())",
        [day, unit_id],
    )
    con.execute(
        "insert into unit.kpi_scores (period, unit_id, kpi_id, objective_id, status, weight, "
        "run_id) values (?, ?, 'revenue_usd', 'grow_revenue', 'on_track', 1, 't')",
        [day, unit_id],
    )
    con.execute(
        "insert into unit.rollup_scores (period, unit_id, level, node_id, status, scored_count, "
        "total_count, scored_weight, total_weight, run_id) "
        "values (?, ?, 'overall', 'overall', 'on_track', 1, 1, 1, 1, 't')",
        [day, unit_id],
    )


def test_a_former_units_rows_leave_the_month_scored_again(shipped_definitions):
    catalog = load_catalog(shipped_definitions, PROJECT_ROOT / "sql")
    assert "benelux" not in {u.id for u in catalog.units}
    con = duckdb.connect()
    ensure_tables(con)
    for unit_id, period in (("emea", MAR), ("benelux", MAR), ("benelux", APR)):
        _rows(con, unit_id, period)
    assert drop_former_units(con, catalog, MAR) == ["benelux"]
    for table in UNIT_TABLES:
        left = con.execute(f"select unit_id, period from {table} order by all").fetchall()  # noqa: S608
        # March keeps EMEA only; April, not scored again, is left as it was
        assert left == [("benelux", date(2026, 4, 1)), ("emea", date(2026, 3, 1))], table
    assert drop_former_units(con, catalog, MAR) == []


def test_a_former_units_report_folder_goes(shipped_definitions, tmp_path):
    catalog = load_catalog(shipped_definitions, PROJECT_ROOT / "sql")
    paths = RuntimePaths(tmp_path, shipped_definitions, PROJECT_ROOT / "sql", tmp_path)
    for unit_id in ("emea", "benelux"):
        folder = paths.unit_report_dir(MAR.key, unit_id)
        folder.mkdir(parents=True)
        (folder / "scorecard.pdf").write_bytes(b"%PDF")
    kept = [u.id for u in catalog.units]
    assert remove_former_unit_reports(paths, MAR.key, kept) == ["benelux"]
    assert [p.name for p in (paths.report_dir(MAR.key) / "units").iterdir()] == ["emea"]
    assert remove_former_unit_reports(paths, APR.key, kept) == []  # no folder: nothing to do

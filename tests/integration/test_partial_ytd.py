"""A year to date over fewer months than the fiscal year so far (a source added later, months
never loaded) is marked as partial in the report, never shown as if it were the whole year."""

from __future__ import annotations

import pytest
from demo_homes import home_on

from pipelines.catalog import load_catalog
from pipelines.defs.jobs import HISTORY_JOB, MONTHLY_JOB
from pipelines.periods import Period
from pipelines.report.context import build_report
from pipelines.report.render import render_html
from pipelines.runner import run_job
from pipelines.warehouse.connection import connect

JAN, MAR = Period(2026, 1), Period(2026, 3)


def _report(paths):
    catalog = load_catalog(paths.definitions, paths.sql)
    con = connect(paths.warehouse, read_only=True)
    try:
        return build_report(con, catalog, MAR, "test")
    finally:
        con.close()


def test_a_month_run_alone_has_a_partial_year_to_date_and_says_so(tmp_path, quarter_exports):
    paths = home_on(tmp_path, quarter_exports, "home")
    outcome = run_job(paths, MONTHLY_JOB, MAR, MAR)
    assert outcome.success, outcome.errors
    report = _report(paths)
    revenue = {k.id: k for k in report.kpis()}["revenue_usd"]
    assert revenue.ytd_actual == pytest.approx(revenue.actual)  # March alone
    assert (revenue.ytd_months, revenue.ytd_months_loaded, revenue.ytd_partial) == (3, 1, True)
    html = (paths.report_dir(MAR.key) / "scorecard.html").read_text()
    assert "partial: 1 of 3 months loaded" in html
    assert "partial: 1 of 3 months loaded" in render_html(report, paths.report_assets)

    # once January and February are loaded (and March scored again with them), the year to
    # date is whole and the report's HTML, rendered from the warehouse, leaves it unmarked
    assert run_job(paths, HISTORY_JOB, JAN, MAR).success
    report = _report(paths)
    revenue = {k.id: k for k in report.kpis()}["revenue_usd"]
    assert (revenue.ytd_months_loaded, revenue.ytd_partial) == (3, False)
    assert revenue.ytd_actual > revenue.actual
    assert "months loaded" not in render_html(report, paths.report_assets)

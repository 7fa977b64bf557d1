"""The gate through Dagster: a table failing an error-level check withholds exactly the KPIs
reading it (and their share of the roll-up) for that month, everything else computes, the raw
asset's check says why, the run fails for the data team, the report marks it, and a corrected
export clears it. Warnings are listed and withhold nothing."""

from __future__ import annotations

import shutil

import pytest
from dagster import AssetCheckSeverity, DagsterEventType, DagsterInstance
from demo_homes import runtime_paths_at

from pipelines.catalog import load_catalog
from pipelines.defs.jobs import HISTORY_JOB
from pipelines.demo.generator import generate_demo
from pipelines.periods import Period
from pipelines.report.context import build_report
from pipelines.report.render import render_html
from pipelines.runner import run_job
from pipelines.settings import RuntimePaths
from pipelines.warehouse.connection import connect

JAN, FEB = Period(2026, 1), Period(2026, 2)
UNIQUE = "finance.gl_entries: expect_column_values_to_be_unique(entry_id) failed: 2 of "


def _break(paths: RuntimePaths) -> None:
    """February: a general-ledger key used twice (error); a roster department not allowed
    (warning)."""
    gl = paths.demo / "finance" / "gl_entries.csv"
    lines = gl.read_text().splitlines()
    feb = [i for i, line in enumerate(lines) if ",2026-02-" in line]
    lines[feb[1]] = lines[feb[0]].split(",", 1)[0] + "," + lines[feb[1]].split(",", 1)[1]
    gl.write_text("\n".join(lines) + "\n")
    roster = paths.demo / "hr" / "roster.csv"
    lines = roster.read_text().splitlines()
    feb = next(i for i, line in enumerate(lines) if line.startswith("2026-02-28,"))
    fields = lines[feb].split(",")
    fields[2] = "marketing"
    lines[feb] = ",".join(fields)
    roster.write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    home = tmp_path_factory.mktemp("gate")
    paths = runtime_paths_at(home)
    generate_demo(paths.demo, start=JAN.key, end=FEB.key, scale=0.03, seed=5)
    shutil.copytree(paths.demo, home / "clean")
    _break(paths)
    outcome = run_job(paths, HISTORY_JOB, JAN, FEB)
    return paths, outcome


def _states(paths, period) -> dict[str, tuple]:
    con = connect(paths.warehouse, read_only=True)
    try:
        return {
            r[0]: r[1:]
            for r in con.execute(
                "select kpi_id, state, withheld_reason from kpi.kpi_values where period = ?",
                [period.start],
            ).fetchall()
        }
    finally:
        con.close()


def test_the_run_fails_for_the_data_team_naming_the_check(broken):
    _, outcome = broken
    assert not outcome.success
    [error] = outcome.errors
    assert error.startswith("scorecard_scores_quality_gate: ")
    assert "dagster._core" not in error  # the cause, not Dagster's wrapper
    assert "1 error-level data-quality check(s) failed; 4 KPI value(s) withheld" in error
    assert "2026-02: " + UNIQUE in error


def test_only_the_kpis_reading_the_failed_table_are_withheld_that_month(broken):
    paths, _ = broken
    catalog = load_catalog(paths.definitions, paths.sql)
    feb = _states(paths, FEB)
    withheld = {k for k, (state, _) in feb.items() if state == "withheld"}
    assert withheld == {
        "revenue_usd",
        "gross_margin_pct",
        "opex_ratio_pct",
        "revenue_per_employee_usd",
    }
    assert withheld == {k for k, t in catalog.kpi_tables.items() if "finance.gl_entries" in t}
    assert feb["revenue_usd"][1].startswith("failed data-quality check(s): " + UNIQUE)
    assert feb["revenue_per_employee_usd"][1] == "input KPI(s) withheld: revenue_usd"
    assert feb["headcount"][0] == "value"  # the roster only warned
    assert {state for k, (state, _) in feb.items() if k not in withheld} <= {"value", "no_data"}
    assert "withheld" not in {state for state, _ in _states(paths, JAN).values()}
    con = connect(paths.warehouse, read_only=True)
    financial = con.execute(
        "select status, scored_count, total_count from score.rollup_scores "
        "where period = ? and node_id = 'financial'",
        [FEB.start],
    ).fetchone()
    con.close()
    assert financial[0] != "withheld" and financial[1] < financial[2]


def test_the_raw_assets_checks_carry_severity_failures_and_sample_rows(broken):
    paths, outcome = broken
    with DagsterInstance.from_config(str(paths.dagster_home)) as instance:
        records = instance.get_records_for_run(outcome.run_id, limit=5000).records
    checks = {}
    for record in records:
        event = record.event_log_entry.dagster_event
        if event and event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            data = event.event_specific_data
            checks[(data.asset_key.to_user_string(), data.check_name)] = data
    gl = checks[("raw_finance_gl_entries", "quality")]
    assert (gl.passed, gl.severity) == (False, AssetCheckSeverity.ERROR)
    [failing] = gl.metadata["failing_expectations"].value
    assert (failing["month"], failing["expectation"], failing["outcome"]) == (
        "2026-02",
        "expect_column_values_to_be_unique(entry_id)",
        "failed",
    )
    assert "entry_id" in gl.metadata["sample_rows"].value
    roster = checks[("raw_hr_roster", "quality")]
    assert (roster.passed, roster.severity) == (False, AssetCheckSeverity.WARN)
    passed = {k for k, c in checks.items() if c.passed and k[1] == "quality"}
    assert len(passed) == 9


def test_the_warehouse_and_the_report_say_what_failed(broken):
    paths, _ = broken
    catalog = load_catalog(paths.definitions, paths.sql)
    con = connect(paths.warehouse, read_only=True)
    try:
        month = con.execute(
            "select tables_checked, tables_failed, complete from "
            "quality.month_status order by period"
        ).fetchall()
        report = build_report(con, catalog, FEB, "test")
    finally:
        con.close()
    assert month == [(11, 0, True), (11, 1, False)]
    assert {k.id for k in report.withheld} == {
        "revenue_usd",
        "gross_margin_pct",
        "opex_ratio_pct",
        "revenue_per_employee_usd",
    }
    assert not report.data_complete
    assert report.incomplete_reasons == (
        "finance.gl_entries failed 1 error-level data-quality check(s); the KPIs reading it are "
        "withheld.",
    )
    assert report.quality_warnings == (
        "hr.roster: expect_column_values_to_be_in_set(department) failed: 1 of 299 rows unexpected",
    )
    gl = next(q for q in report.quality if q.table == "finance.gl_entries")
    assert (gl.status, gl.failed, gl.checks_run) == ("failed", 1, 13)
    html = render_html(report, paths.report_assets)
    assert "The data of February 2026 is incomplete" in html
    assert "expect_column_values_to_be_unique(entry_id) failed" in html


def test_a_corrected_export_clears_the_gate(broken):
    paths, _ = broken
    shutil.rmtree(paths.demo)
    shutil.copytree(paths.home / "clean", paths.demo)
    outcome = run_job(paths, HISTORY_JOB, FEB, FEB)
    assert outcome.success, outcome.errors
    assert "withheld" not in {state for state, _ in _states(paths, FEB).values()}
    assert _states(paths, FEB)["revenue_usd"][0] == "value"
    con = connect(paths.warehouse, read_only=True)
    runs = con.execute(
        "select count(distinct run_id) from quality.table_results where period = ?", [FEB.start]
    ).fetchone()[0]
    con.close()
    assert runs == 2  # the failed check stays on record for audits


def test_a_failed_load_shows_as_a_failed_check_naming_the_file(paths, tiny_exports):
    outcome = run_job(paths, HISTORY_JOB, JAN, JAN)  # tiny exports: 4 of the 11 tables
    assert not outcome.success
    assert any(
        "source finance, table invoices: no file matches" in e and "invoices.csv" in e
        for e in outcome.errors
    )
    with DagsterInstance.from_config(str(paths.dagster_home)) as instance:
        records = instance.get_records_for_run(outcome.run_id, limit=5000).records
    evaluations = [
        r.event_log_entry.dagster_event.event_specific_data
        for r in records
        if r.event_log_entry.dagster_event
        and r.event_log_entry.dagster_event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION
    ]
    checks = {e.asset_key.to_user_string(): e for e in evaluations}
    invoices = checks["raw_finance_invoices"]
    assert (invoices.passed, invoices.severity) == (False, AssetCheckSeverity.ERROR)
    assert "invoices.csv" in invoices.metadata["load_error"].value
    assert checks["raw_finance_gl_entries"].passed

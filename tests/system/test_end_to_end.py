"""The whole pipeline on a small demo: exports -> Dagster runs -> warehouse -> HTML and PDF."""

from __future__ import annotations

import subprocess
import sys

import pytest
from demo_homes import runtime_paths_at
from pypdf import PdfReader
from warehouse_contents import table_contents

from pipelines.catalog import load_catalog
from pipelines.cli import main
from pipelines.defs.jobs import HISTORY_JOB, MONTHLY_JOB
from pipelines.demo.generator import generate_demo
from pipelines.periods import Period
from pipelines.runner import run_job
from pipelines.settings import PROJECT_ROOT, RuntimePaths
from pipelines.warehouse.connection import connect

# three months across a fiscal year's start (January): two loaded and scored, the last rendered
FIRST, LAST = Period(2025, 12), Period(2026, 2)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> RuntimePaths:
    """A small demo (scale 0.05, three months) loaded and scored, and its last month rendered."""
    home = tmp_path_factory.mktemp("e2e")
    paths = runtime_paths_at(home)
    generate_demo(paths.demo, start=FIRST.key, end=LAST.key, scale=0.05, seed=11)
    history = run_job(paths, HISTORY_JOB, FIRST, LAST.shift(-1))
    assert history.success, history.errors
    month = run_job(paths, MONTHLY_JOB, LAST, LAST)
    assert month.success, month.errors
    return paths


def test_report_files_exist(demo):
    folder = demo.report_dir(LAST.key)
    assert (folder / "scorecard.html").stat().st_size > 10_000
    assert (folder / "scorecard.pdf").read_bytes().startswith(b"%PDF")


def test_pdf_lists_organization_period_and_every_kpi_with_its_number(demo):
    catalog = load_catalog(demo.definitions, demo.sql)
    pages = PdfReader(demo.report_dir(LAST.key) / "scorecard.pdf").pages
    text = " ".join(" ".join(page.extract_text() for page in pages).split())
    assert catalog.organization.name in text
    assert LAST.label in text
    for kpi in catalog.kpis:
        assert kpi.name in text, kpi.name


def test_warehouse_numbers_are_the_reports_numbers(demo):
    con = connect(demo.warehouse, read_only=True)
    try:
        states = dict(
            con.execute(
                "select kpi_id, state from kpi.kpi_values where period = ?", [LAST.start]
            ).fetchall()
        )
        overall = con.execute(
            "select score from score.rollup_scores where level = 'overall' and period = ?",
            [LAST.start],
        ).fetchone()[0]
    finally:
        con.close()
    catalog = load_catalog(demo.definitions, demo.sql)
    assert set(states) == {k.id for k in catalog.kpis}
    assert list(states.values()).count("value") >= len(catalog.kpis) - 1
    html = (demo.report_dir(LAST.key) / "scorecard.html").read_text()
    assert f"{overall:.1f}" in html


def test_rerunning_a_month_leaves_identical_tables(demo):
    before = table_contents(demo)
    again = run_job(demo, MONTHLY_JOB, LAST, LAST)
    assert again.success, again.errors
    after = table_contents(demo)
    assert before.keys() == after.keys()
    for table in before:
        assert before[table] == after[table], table


def test_cli_rejects_bad_periods(demo, monkeypatch, capsys):
    monkeypatch.setenv("SCORECARD_HOME", str(demo.home))
    assert main(["run", "--period", "2026-13"]) == 2
    assert "month 13" in capsys.readouterr().err
    assert main(["run", "--period", "1999-01"]) == 2
    assert "outside the scorecard's months" in capsys.readouterr().err
    assert main(["run", "--period", "next month"]) == 2


def test_dagster_definitions_validate_with_no_smtp_settings(demo):
    """In a fresh process, as `dagster dev` loads them, with no SCORECARD_SMTP_* variable set."""
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-m", "pipelines.definitions"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=120,
        env={
            "SCORECARD_HOME": str(demo.home),
            "PATH": "/usr/bin:/bin",
            "DAGSTER_HOME": str(demo.dagster_home),
        },
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Validation successful" in result.stderr + result.stdout

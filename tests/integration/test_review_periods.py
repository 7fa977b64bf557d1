"""Fiscal quarters and years as periods: each KPI over the review from its own SQL, the review's
target from the months' targets, scores and roll-ups, and the board pack read back from its PDF.

A copy of the demo catalog runs a fiscal year from April (FY 2025/26: April 2025 to March 2026)
with revenue's target given as an annual figure phased by month. A year of demo exports at a
small scale is loaded into a real DuckDB warehouse and scored month by month as the pipeline
does; the quarter's and year's gross margin (a ratio) and revenue (additive) are computed here
from the general-ledger export with the standard library.
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess

import pytest
import yaml

from pipelines.catalog import load_catalog
from pipelines.demo.generator import generate_demo
from pipelines.ingest.files import load_file_table
from pipelines.kpis.evaluate import period_values, write_kpi_values
from pipelines.kpis.review import ReviewNotReadyError
from pipelines.periods import Period, ReviewPeriod, months_between
from pipelines.report.pack import build_pack
from pipelines.report.render import write_pack
from pipelines.scoring.review import score_review
from pipelines.scoring.scorecard import score_period
from pipelines.settings import PROJECT_ROOT, RuntimePaths
from pipelines.warehouse.connection import connect, ensure_tables

FIRST, LAST = Period(2025, 4), Period(2026, 3)
PHASING = [6, 7, 8, 8, 8, 9, 9, 9, 10, 8, 8, 10]  # April first
ANNUAL = 36_000_000.0


def _catalog_copy(root):
    shutil.copytree(PROJECT_ROOT / "definitions", root / "definitions")
    shutil.copytree(PROJECT_ROOT / "sql", root / "sql")
    scorecard = root / "definitions/scorecard.yaml"
    data = yaml.safe_load(scorecard.read_text())
    data["organization"].update(fiscal_year_start_month=4, first_period=FIRST.key)
    scorecard.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    targets = root / "definitions/targets.yaml"
    data = yaml.safe_load(targets.read_text())
    data["targets"]["revenue_usd"] = [{"from": "2022-04", "annual": ANNUAL, "phasing": PHASING}]
    targets.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return load_catalog(root / "definitions", root / "sql")


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    """A warehouse with every month of FY 2025/26 scored, and its runtime paths."""
    root = tmp_path_factory.mktemp("review")
    catalog = _catalog_copy(root)
    home = root / "home"
    generate_demo(home / "demo", start=FIRST.key, end=LAST.key, scale=0.01, seed=11)
    paths = RuntimePaths(
        home=home,
        definitions=root / "definitions",
        sql=root / "sql",
        report_assets=PROJECT_ROOT / "reports",
    )
    con = connect(paths.warehouse)
    ensure_tables(con)
    for table in catalog.tables:
        load_file_table(con, table, FIRST, LAST, home, "test-run")
    for period in months_between(FIRST, LAST):
        values = period_values(con, catalog, list(catalog.kpis), period)
        write_kpi_values(con, catalog, period, values, "test-run")
        score_period(con, catalog, period, "test-run")
    yield catalog, con, paths
    con.close()


def _ledger_by_hand(exports, first: Period, last: Period) -> tuple[float, float]:
    """(revenue, gross margin %) of the general ledger's entries from first to last."""
    revenue = cost = 0.0
    with open(exports / "finance/gl_entries.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            if not first.start.isoformat() <= row["entry_date"] < last.end.isoformat():
                continue
            if row["account_type"] == "revenue":
                revenue += float(row["amount_usd"])
            elif row["account_type"] == "cost_of_sales":
                cost += float(row["amount_usd"])
    return revenue, (revenue - cost) / revenue * 100


def _result(con, review: ReviewPeriod, kpi_id: str) -> dict:
    cursor = con.execute(
        "select * from review.kpi_results where review_key = ? and kpi_id = ?",
        [review.key, kpi_id],
    )
    names = [d[0] for d in cursor.description]
    return dict(zip(names, cursor.fetchone(), strict=True))


def test_fiscal_quarters_and_years_follow_the_fiscal_start():
    q4 = ReviewPeriod.parse("2025-Q4", 4)
    assert (q4.first, q4.last, q4.label) == (Period(2026, 1), Period(2026, 3), "Q4 FY 2025/26")
    assert [r.key for r in ReviewPeriod.closed_by(Period(2026, 3), 4)] == ["2025-Q4", "2025"]
    assert ReviewPeriod.closed_by(Period(2026, 2), 4) == []
    assert ReviewPeriod.parse("2025", 4).span == "April 2025 to March 2026"
    assert (q4.previous.key, q4.year_ago.key) == ("2025-Q3", "2024-Q4")


def test_quarter_and_year_values_are_the_same_sql_over_their_months(year):
    catalog, con, paths = year
    q4, fy = ReviewPeriod.parse("2025-Q4", 4), ReviewPeriod.parse("2025", 4)
    for review in (q4, fy):
        score_review(con, catalog, review, "test-run")
        revenue, margin = _ledger_by_hand(paths.demo, review.first, review.last)
        assert _result(con, review, "revenue_usd")["value"] == pytest.approx(revenue)
        # a ratio of the review's sums, not the mean of its months' ratios
        assert _result(con, review, "gross_margin_pct")["value"] == pytest.approx(margin)
        monthly = [_ledger_by_hand(paths.demo, p, p)[1] for p in review.months]
        assert sum(monthly) / len(monthly) != pytest.approx(margin, abs=1e-9)
        months = _result(con, review, "revenue_usd")
        assert (months["months"], months["months_with_data"]) == (len(review.months),) * 2


def test_review_targets_come_from_the_months_targets(year):
    catalog, con, _ = year
    q4, fy = ReviewPeriod.parse("2025-Q4", 4), ReviewPeriod.parse("2025", 4)
    for review in (q4, fy):
        score_review(con, catalog, review, "test-run")
    # additive, annual target phased: January to March are the fiscal year's months 10 to 12
    quarter = _result(con, q4, "revenue_usd")
    assert quarter["target"] == pytest.approx(ANNUAL * sum(PHASING[9:]) / sum(PHASING))
    assert _result(con, fy, "revenue_usd")["target"] == pytest.approx(ANNUAL)
    # the default red flag (10 % short) of each month, summed
    assert quarter["red_flag"] == pytest.approx(quarter["target"] * 0.9)
    # a ratio keeps its monthly goal and red flag
    margin = _result(con, q4, "gross_margin_pct")
    assert (margin["target"], margin["red_flag"]) == (42, 38)
    assert margin["status"] in ("on_track", "at_risk", "off_track")
    overall = con.execute(
        "select score, scored_count, total_count from review.rollup_scores "
        "where review_key = ? and level = 'overall'",
        [q4.key],
    ).fetchone()
    assert overall[0] is not None and 0 <= overall[0] <= 10 and overall[1] <= overall[2]


def test_a_review_waits_for_its_months(year):
    catalog, con, _ = year
    with pytest.raises(ReviewNotReadyError, match="2026-04, 2026-05, 2026-06 are not"):
        score_review(con, catalog, ReviewPeriod.parse("2026-Q1", 4), "test-run")


def test_the_board_pack_reads_back_from_its_pdf(year):
    catalog, con, paths = year
    q3, q4 = ReviewPeriod.parse("2025-Q3", 4), ReviewPeriod.parse("2025-Q4", 4)
    for review in (q3, q4):
        score_review(con, catalog, review, "test-run")
    pack = build_pack(con, catalog, q4, "test-run")
    revenue = next(k for k in pack.report.kpis() if k.id == "revenue_usd")
    assert revenue.previous == pytest.approx(_result(con, q3, "revenue_usd")["value"])
    assert [s.key for s in pack.score_trend] == ["2025-Q3", "2025-Q4"]
    _, pdf = write_pack(pack, paths.report_assets, paths.report_dir(q4.key))
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    for expected in (
        "Quarterly board pack",
        "Q4 FY 2025/26",
        "January to March 2026",
        "Overall score over the last 2 quarters",
        "Strategy map",
        "Initiatives review",
        "Owners' commentary",
        "Q4 FY 2024/25",  # the same quarter a year before (not scored here)
        "Q3 FY 2025/26",
    ):
        # labels set in capitals and letter-spaced by the stylesheet: compared without either
        assert _flat(expected) in _flat(text), expected
    assert f"{pack.report.overall_score:.1f} / 10" in text
    assert not revenue.review_partial


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()

"""Late and corrected data: a month reloaded after its source was corrected is re-rendered with a
restatement note (when the sent report was made, which KPI values changed, old and new), and the
report as it was sent stays available, byte for byte, with its hash checked."""

from __future__ import annotations

import csv
import hashlib
import shutil

import pytest
from pypdf import PdfReader

from pipelines.cli import main
from pipelines.defs.jobs import MONTHLY_JOB
from pipelines.periods import Period
from pipelines.runner import run_job
from pipelines.warehouse.connection import connect

# February: a month that closes no quarter, so its runs render no board pack besides the report
MONTH = Period(2026, 2)
CORRECTION_USD = 500_000.0


def _correct_revenue(gl_entries) -> None:
    """Book a revenue line of the month that the first export had missed."""
    with gl_entries.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    line = next(
        r for r in rows if r["entry_date"].startswith(MONTH.key) and r["account_type"] == "revenue"
    )
    line["amount_usd"] = f"{float(line['amount_usd']) + CORRECTION_USD:.2f}"
    with gl_entries.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _revenue(paths) -> float:
    con = connect(paths.warehouse, read_only=True)
    try:
        return con.execute(
            "select value from kpi.kpi_values where kpi_id = 'revenue_usd' and period = ?",
            [MONTH.start],
        ).fetchone()[0]
    finally:
        con.close()


def test_a_corrected_month_is_restated_and_the_sent_report_is_kept(paths, quarter_exports, capsys):
    shutil.copytree(quarter_exports, paths.home / "demo")  # a copy: the test corrects it
    first = run_job(paths, MONTHLY_JOB, MONTH, MONTH)
    assert first.success, first.errors
    pdf = paths.report_dir(MONTH.key) / "scorecard.pdf"
    sent_bytes, sent_revenue = pdf.read_bytes(), _revenue(paths)
    assert list((paths.home / "outbox" / MONTH.key).glob("leadership-*.eml")), "it was sent"
    assert "Restated" not in (paths.report_dir(MONTH.key) / "scorecard.html").read_text()

    _correct_revenue(paths.home / "demo" / "finance" / "gl_entries.csv")
    again = run_job(paths, MONTHLY_JOB, MONTH, MONTH)
    assert again.success, again.errors
    restated_revenue = _revenue(paths)
    assert restated_revenue == pytest.approx(sent_revenue + CORRECTION_USD)

    html = (paths.report_dir(MONTH.key) / "scorecard.html").read_text()
    assert "Restated report" in html and "KPI value(s) changed since the report sent" in html
    assert "the data of the month was corrected and reloaded" in " ".join(html.split())
    assert f"${sent_revenue / 1e6:.2f}M" in html and f"${restated_revenue / 1e6:.2f}M" in html
    text = " ".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "Restated report" in text and "Revenue" in text
    assert pdf.read_bytes() != sent_bytes

    # the rerun did not email the restated report as if it were new
    assert len(list((paths.home / "outbox" / MONTH.key).glob("leadership-*.eml"))) == 1

    capsys.readouterr()
    assert main(["report", "--period", MONTH.key, "--as-sent"]) == 0
    archived = capsys.readouterr().out.split("PDF:", 1)[1].strip()
    with open(archived, "rb") as handle:
        kept = handle.read()
    assert hashlib.sha256(kept).digest() == hashlib.sha256(sent_bytes).digest()

    # an archived copy that was tampered with is refused, not passed off as the sent report
    with open(archived, "ab") as handle:
        handle.write(b"%tampered")
    assert main(["report", "--period", MONTH.key, "--as-sent"]) == 1

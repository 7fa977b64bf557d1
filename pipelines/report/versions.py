"""Report versions: each rendering archived with its KPI values; restatements against the sent one.

When a month is reloaded after its source was corrected, its report is rendered again. If a
version of it was emailed, the new report says it was restated, when the sent one was made, and
which KPI values changed. The sent PDF stays on disk with its hash.
"""

from __future__ import annotations

import json
import math
import shutil
from datetime import datetime
from pathlib import Path

from pipelines.periods import Period
from pipelines.report.model import RestatedValue, Restatement, ScorecardReport

VERSIONS_FOLDER = "versions"


def _ledger_exists(con) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'delivery' and table_name = 'ledger'"
        ).fetchone()[0]
    )


def sent_version(con, period: Period) -> dict | None:
    """The latest version of the period's report that was emailed, or None."""
    if not _ledger_exists(con):
        return None
    row = con.execute(
        "select v.kpi_values, v.rendered_at, v.archived_pdf, v.pdf_sha256, v.catalog_version "
        "from meta.report_versions v where v.period = ? and v.pdf_sha256 in ("
        "  select report_sha256 from delivery.ledger where period = ? and state = 'sent') "
        "order by v.version desc limit 1",
        [period.start, period.start],
    ).fetchone()
    if row is None:
        return None
    return {
        "values": json.loads(row[0]),
        "rendered_at": row[1],
        "archived_pdf": row[2],
        "pdf_sha256": row[3],
        "catalog_version": row[4],
    }


def _differs(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return (a is None) != (b is None)
    return not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def restatement(con, report: ScorecardReport) -> Restatement | None:
    """What changed since the sent report of this period (None when nothing was sent)."""
    sent = sent_version(con, Period.parse(report.period))
    if sent is None:
        return None
    changes = tuple(
        RestatedValue(k.id, k.name, k.unit, sent["values"].get(k.id), k.actual)
        for k in report.kpis()
        if _differs(sent["values"].get(k.id), k.actual)
    )
    if not changes:
        return None
    return Restatement(
        sent["rendered_at"], changes, sent["catalog_version"] != report.catalog_version
    )


def record_version(
    con, report: ScorecardReport, pdf: Path, sha256: str, run_id: str, catalog_version: str
) -> Path:
    """Archive the rendered PDF and its KPI values as the period's next version."""
    period = Period.parse(report.period)
    version = con.execute(
        "select coalesce(max(version), 0) + 1 from meta.report_versions where period = ?",
        [period.start],
    ).fetchone()[0]
    archive = pdf.parent / VERSIONS_FOLDER / f"scorecard-v{version}-{sha256[:12]}.pdf"
    archive.parent.mkdir(exist_ok=True)
    shutil.copyfile(pdf, archive)
    values = {k.id: k.actual for k in report.kpis()}
    con.execute(
        "insert into meta.report_versions values (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            period.start,
            version,
            sha256,
            str(archive),
            json.dumps(values),
            catalog_version,
            run_id,
            datetime.now(),
        ],
    )
    return archive

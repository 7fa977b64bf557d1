"""Publish one period's report: read it from the warehouse, render HTML and PDF, record it."""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from pipelines.catalog import Catalog
from pipelines.periods import Period
from pipelines.report.context import build_report
from pipelines.report.versions import record_version, restatement
from pipelines.settings import RuntimePaths
from pipelines.warehouse.connection import transactions


@dataclass(frozen=True)
class Published:
    """Where a period's report went and what it says."""

    html: Path
    pdf: Path
    sha256: str
    archived_pdf: Path
    restated_kpis: int
    withheld_kpis: int
    signals: tuple[str, ...] = ()  # 'KPI name: the rules it broke', the month's signals
    overdue_actions: int = 0


def publish_report(
    con, catalog: Catalog, period: Period, run_id: str, paths: RuntimePaths
) -> Published:
    """Render the period's scorecard and record the version in meta.reports and report_versions."""
    from pipelines.report.render import write_report  # WeasyPrint loads only when rendering

    report = build_report(con, catalog, period, run_id)
    report = replace(report, restatement=restatement(con, report))
    # the sweep: what renders killed mid-way left anywhere under reports/ (other months too)
    html, pdf = write_report(
        report, paths.report_assets, paths.report_dir(period.key), sweep=paths.reports
    )
    digest = hashlib.sha256(pdf.read_bytes()).hexdigest()
    for attempt in transactions(con, "the report's record"):
        with attempt:
            archived = record_version(con, report, pdf, digest, run_id, catalog.version)
            con.execute("delete from meta.reports where period = ?", [period.start])
            con.execute(
                "insert into meta.reports values (?, ?, ?, ?, ?, ?, ?)",
                [
                    period.start,
                    str(html),
                    str(pdf),
                    digest,
                    catalog.version,
                    run_id,
                    datetime.now(),
                ],
            )
    changes = len(report.restatement.changes) if report.restatement else 0
    signals = tuple(f"{h.kpi.name}: {h.reason}" for h in report.highlights if h.kind == "signal")
    overdue = sum(a.overdue for a in report.actions)
    return Published(html, pdf, digest, archived, changes, len(report.withheld), signals, overdue)


@dataclass(frozen=True)
class PublishedUnit:
    """Where a business unit's report of a period went and how it scored."""

    unit: str
    html: Path
    pdf: Path
    overall_score: float | None
    overall_status: str


def publish_unit_report(
    con, catalog: Catalog, period: Period, unit: str, run_id: str, paths: RuntimePaths
) -> PublishedUnit:
    """Render a business unit's scorecard of the period (its own folder under the period's).
    Not versioned: a restatement is the company report's to say."""
    from pipelines.report.render import write_report  # WeasyPrint loads only when rendering

    report = build_report(con, catalog, period, run_id, unit)
    html, pdf = write_report(report, paths.report_assets, paths.unit_report_dir(period.key, unit))
    return PublishedUnit(unit, html, pdf, report.overall_score, report.overall_status)


def remove_former_unit_reports(paths: RuntimePaths, period: str, units: list[str]) -> list[str]:
    """Remove the period's reports of units the tree no longer holds (reports/<month>/units/
    <unit>/ whose unit is not in `units`); returns their ids."""
    folder = paths.report_dir(period) / "units"
    gone = sorted(
        p.name
        for p in (folder.iterdir() if folder.is_dir() else ())
        if p.is_dir() and p.name not in units
    )
    for unit in gone:
        shutil.rmtree(folder / unit)
    return gone

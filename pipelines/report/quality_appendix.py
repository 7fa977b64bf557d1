"""The report's view of data quality for a period: the appendix lines and whether the month is
complete. Reads the warehouse (quality.*, meta.loads, kpi.kpi_values); no Dagster.

A month is incomplete when a source table failed to load (meta.load_failures) or failed an
error-level check (an empty table where rows are expected is one), when a table was loaded but
never checked, when no KPI has a value, or when the month has not closed yet: such a report
says so and is not sent as final.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from pipelines.catalog.catalog import Catalog
from pipelines.ingest.load_failures import LoadFailure, failed_loads
from pipelines.periods import Period
from pipelines.quality.store import failures, table_results
from pipelines.report.model import QualityLine, ScorecardReport, SourceLine

MAX_FAILING = 5


def _summary(row: dict) -> str:
    parts = [f"{row['checks_passed']} passed"]
    parts += [
        f"{row[k]} {w}"
        for k, w in (("checks_warned", "warned"), ("checks_failed", "failed"))
        if row[k]
    ]
    return f"{row['checks_run']} checks: " + ", ".join(parts)


def _line(
    key: str, row: dict | None, loaded: SourceLine | None, failing: list[str], declared: bool
) -> QualityLine:
    if row is None:  # 'none': the catalog declares no expectations for the table
        return QualityLine(
            key,
            loaded.rows if loaded else 0,
            0,
            0,
            0,
            0,
            0,
            0,
            "unchecked" if declared else "none",
            None,
            None,
            loaded.loaded_at if loaded else None,
        )
    return QualityLine(
        key,
        row["rows_checked"],
        row["rows_rejected"],
        row["checks_run"],
        row["checks_passed"],
        row["checks_warned"],
        row["checks_failed"],
        row["checks_errored"],
        row["status"],
        row["latest_record"],
        row["lag_days"],
        loaded.loaded_at if loaded else None,
        tuple(failing[:MAX_FAILING]),
    )


def _reasons(
    report: ScorecardReport,
    lines: list[QualityLine],
    period: Period,
    today: date,
    loads: list[LoadFailure],
) -> list[str]:
    reasons = [
        f"{f.table_key} failed to load for {period.label}; the KPIs reading it are "
        f"withheld (its earlier rows are kept, not used): {f.message}"
        for f in loads
    ]
    failed_loads = {f.table_key for f in loads}
    if period.end > today:
        reasons.append(
            f"{period.label} has not closed yet (it ends on "
            f"{period.last_day:%Y-%m-%d}); its data is not final."
        )
    for line in (line for line in lines if line.table not in failed_loads):
        if line.status == "failed":
            reasons.append(
                f"{line.table} failed {line.failed} error-level data-quality check(s); "
                "the KPIs reading it are withheld."
            )
        elif line.status == "unchecked" and line.rows:
            reasons.append(f"{line.table} was loaded but not checked for {period.label}.")
    if not any(k.actual is not None for k in report.kpis()):
        reasons.append("No KPI has a value: there is no data for this month.")
    return reasons


def with_quality(
    con, catalog: Catalog, period: Period, report: ScorecardReport, today: date | None = None
) -> ScorecardReport:
    """The report with its data-quality appendix, warnings, completeness and failed loads
    filled in."""
    results = table_results(con, period)
    loaded = {s.table: s for s in report.sources}
    found = failures(con, period, severity=None)
    lines = []
    for table in catalog.tables:
        failing = [
            f"{f.label} {f.outcome}" + (f": {f.message}" if f.message else "")
            for f in sorted(found, key=lambda f: f.severity)  # error before warning
            if f.table_key == table.key
        ]
        lines.append(
            _line(
                table.key,
                results.get(table.key),
                loaded.get(table.key),
                failing,
                bool(table.table.expectations),
            )
        )
    sources = tuple(
        replace(s, quality=_summary(results[s.table])) if s.table in results else s
        for s in report.sources
    )
    loads = failed_loads(con, period, period)
    reasons = _reasons(report, lines, period, today or date.today(), loads)
    return replace(
        report,
        sources=sources,
        quality=tuple(lines),
        quality_warnings=tuple(f.line() for f in found if f.severity == "warning"),
        data_complete=not reasons,
        incomplete_reasons=tuple(reasons),
        load_failures=tuple(f.table_key for f in loads),
    )

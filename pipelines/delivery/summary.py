"""What the email says: a recipient list's view of the report, and whether the month is complete.

Pure functions over the report model (pipelines/report/model.py); no SQL, no Dagster.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pipelines.catalog.models import RecipientList
from pipelines.report.model import KpiLine, ScorecardReport
from pipelines.scoring.statuses import NO_DATA, OFF_TRACK, WITHHELD


@dataclass(frozen=True)
class Completeness:
    """Whether a month's scorecard is complete, and if not, why (one line per reason)."""

    reasons: tuple[str, ...]
    empty: bool  # not a single KPI has a value: built from empty data

    @property
    def incomplete(self) -> bool:
        """Anything withheld, missing or empty."""
        return bool(self.reasons)


def _withheld_lines(withheld: list, said_below: tuple[str, ...]) -> list[str]:
    """One line per cause: the KPIs it withholds, then the cause, unless the report's own line
    about the failed load (said_below) already gives it."""
    by_reason: dict[str, list[str]] = {}
    for kpi in withheld:
        by_reason.setdefault(kpi.withheld_reason or "its data failed a quality check", []).append(
            kpi.name
        )
    lines = []
    for why, names in by_reason.items():
        verb = "is" if len(names) == 1 else "are"
        cause = why.removeprefix("source load failed: ")
        if cause != why and any(cause in line for line in said_below):
            why = "a table they read failed to load (below)"
        lines.append(f"{', '.join(names)} {verb} withheld: {why}")
    return lines


def assess(report: ScorecardReport) -> Completeness:
    """The gaps of a report: withheld KPIs, KPIs without data, tables without rows, no data, and
    whatever else made the report call its month incomplete (not closed yet, unchecked tables)."""
    kpis = report.kpis()
    withheld = [k for k in kpis if k.status == WITHHELD]
    no_data = [k for k in kpis if k.status == NO_DATA]
    empty_tables = [s.table for s in report.sources if s.rows == 0]
    reasons = []
    empty = not any(k.actual is not None for k in kpis)
    if empty:
        reasons.append("No KPI has a value: the scorecard was built from empty data.")
    reasons += _withheld_lines(withheld, report.incomplete_reasons)
    if no_data and not empty:
        reasons.append("No data this month for: " + ", ".join(k.name for k in no_data) + ".")
    if empty_tables:
        reasons.append("Source tables without rows this month: " + ", ".join(empty_tables) + ".")
    # The report's own verdict (pipelines/report/quality_appendix.py): a month not closed yet,
    # a table loaded but never checked, a failed table. Said once, whichever side found it first.
    reasons += [
        r
        for r in report.incomplete_reasons
        if r not in reasons and not (empty and r.startswith("No KPI has a value"))
    ]
    if not report.data_complete and not reasons:
        reasons.append("The report marks the month's data as incomplete.")
    return Completeness(tuple(reasons), empty)


def for_list(report: ScorecardReport, recipient_list: RecipientList | None) -> ScorecardReport:
    """The report as a list sees it: only its perspectives (all when it names none), and only
    the failed loads of tables their KPIs read (so its provisional share is of what it sees)."""
    if recipient_list is None or not recipient_list.perspectives:
        return report
    wanted = set(recipient_list.perspectives)
    perspectives = tuple(p for p in report.perspectives if p.id in wanted)
    kpis = [k for p in perspectives for o in p.objectives for k in o.kpis]
    ids = {k.id for k in kpis}
    tables = {t for k in kpis for t in k.tables}
    objective_names = {o.name for p in perspectives for o in p.objectives}
    return replace(
        report,
        perspectives=perspectives,
        withheld=tuple(k for k in report.withheld if k.id in ids),
        load_failures=tuple(t for t in report.load_failures if t in tables),
        highlights=tuple(h for h in report.highlights if h.kpi.id in ids),
        initiatives=tuple(
            i for i in report.initiatives if any(name in objective_names for name in i.objectives)
        ),
    )


def off_track(report: ScorecardReport) -> list[KpiLine]:
    """The off-track KPIs, in catalog order."""
    return [k for k in report.kpis() if k.status == OFF_TRACK]


def perspective_names(report: ScorecardReport) -> list[str]:
    """The names of the perspectives the report shows."""
    return [p.name for p in report.perspectives]

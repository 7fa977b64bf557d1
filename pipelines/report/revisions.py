"""A KPI's definition changes as the report shows them: which comparisons span one, where the
trend breaks.

A comparison spans a change when a revision took effect after the compared month and by the
report's month (by the catalog), or when the stored rows say they were computed under different
revisions (kpi.kpi_values.definition_revision), e.g. a month restated under a newer definition.
"""

from __future__ import annotations

from pipelines.catalog.models import Kpi
from pipelines.periods import Period
from pipelines.report.model import RevisionLine


def revision_lines(kpi: Kpi, period: Period) -> tuple[RevisionLine, ...]:
    """The KPI's revisions in force by `period`, oldest first."""
    return tuple(
        RevisionLine(number, r.effective, r.note, f"sql/{r.sql}" if r.sql else None)
        for number, r in enumerate(kpi.revisions, start=1)
        if r.period <= period
    )


Stored = tuple[int | None, int | None]


def breaks_between(
    revisions: tuple[RevisionLine, ...],
    since: Period,
    period: Period,
    stored: Stored = (None, None),
) -> tuple[RevisionLine, ...]:
    """The revisions between the month `since` and `period`: effective after `since` and by
    `period`, or numbered between the two months' stored revisions."""
    older, newer = sorted(n if n is not None else 0 for n in stored)
    return tuple(
        r
        for r in revisions
        if since < Period.parse(r.effective) <= period or older < r.number <= newer
    )


def revision_fields(
    kpi: Kpi,
    period: Period,
    fiscal_start: Period,
    stored_now: int | None,
    history: dict,
    has_ytd: bool,
) -> dict:
    """The KpiLine fields on definition changes, from the catalog and the stored revisions.

    `history` maps (kpi id, 'YYYY-MM') to the month's stored row (value, definition_revision).
    """
    revisions = revision_lines(kpi, period)
    if not revisions:
        return {}

    def comparison(months: int) -> tuple[RevisionLine, ...]:
        row = history.get((kpi.id, period.shift(-months).key), {})
        if row.get("value") is None:
            return ()  # nothing is compared
        stored = (row.get("definition_revision"), stored_now)
        return breaks_between(
            revisions, period.shift(-months), period, stored if None not in stored else (None, None)
        )

    return {
        "revisions": revisions,
        "previous_breaks": comparison(1),
        "last_year_breaks": comparison(12),
        "ytd_breaks": breaks_between(revisions, fiscal_start, period) if has_ytd else (),
        "trend_breaks": breaks_between(revisions, period.shift(-11), period),
    }

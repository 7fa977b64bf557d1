"""Initiatives' overdue and at-risk flags, derived from dates and progress (never typed in), and
the reviews' decided actions as of a month, overdue derived from the due date."""

from __future__ import annotations

from datetime import date

from pipelines.catalog.catalog import Catalog
from pipelines.catalog.models import Action, Initiative
from pipelines.periods import Period
from pipelines.report.model import ActionLine, InitiativeChange, InitiativeLine

CLOSED = ("completed", "cancelled")
PROGRESS_SLACK_POINTS = 20  # progress this far behind the time elapsed reads as at risk


def elapsed_share(initiative: Initiative, as_of: date) -> float | None:
    """The share of the initiative's time that has passed on `as_of` (None without a start)."""
    if initiative.start is None:
        return None
    start = Period.parse(initiative.start).start
    deadline = date.fromisoformat(initiative.deadline)
    if deadline <= start:
        return 1.0
    return min(1.0, max(0.0, (as_of - start).days / (deadline - start).days))


def initiative_line(catalog: Catalog, initiative: Initiative, as_of: date) -> InitiativeLine:
    """The initiative as of a date (the period's last day)."""
    deadline = date.fromisoformat(initiative.deadline)
    status, percent = initiative.as_of(Period.of(as_of))
    is_open = status not in CLOSED
    overdue = is_open and deadline < as_of
    share = elapsed_share(initiative, as_of)
    lagging = share is not None and percent < share * 100 - PROGRESS_SLACK_POINTS
    names = {o.id: o.name for o in catalog.objectives}
    return InitiativeLine(
        id=initiative.id,
        name=initiative.name,
        owner=initiative.owner,
        objectives=tuple(names[o] for o in initiative.objectives),
        start=initiative.start,
        deadline=deadline,
        status=status,
        percent_complete=percent,
        overdue=overdue,
        at_risk=is_open and not overdue and (status == "behind" or lagging),
        days_overdue=(as_of - deadline).days if overdue else 0,
    )


def initiative_lines(
    catalog: Catalog, period: Period, unit: str | None = None
) -> tuple[InitiativeLine, ...]:
    """Every initiative as of the period's end (a unit's report: those of the unit and the units
    under it), overdue first, then at risk, then by deadline."""
    run_by = None if unit is None else {unit, *(u.id for u in catalog.units_under(unit))}
    lines = [
        initiative_line(catalog, i, period.last_day)
        for i in catalog.initiatives
        if run_by is None or i.unit in run_by
    ]
    return tuple(sorted(lines, key=lambda i: (not i.overdue, not i.at_risk, i.deadline)))


ACTION_CLOSED = ("done", "cancelled")


def action_line(catalog: Catalog, action: Action, as_of: date) -> ActionLine:
    """The action as of a date (the period's last day): one closed after it was still open."""
    closed = date.fromisoformat(action.closed) if action.closed else None
    status = action.status
    if closed is not None and closed > as_of:
        status, closed = "in_progress", None
    due = date.fromisoformat(action.due)
    overdue = status not in ACTION_CLOSED and due < as_of
    names = {k.id: k.name for k in catalog.kpis}
    return ActionLine(
        id=action.id,
        decision=action.decision,
        action=action.action,
        owner=action.owner,
        decided=action.decided,
        due=due,
        status=status,
        closed=closed,
        kpis=tuple(names.get(k, k) for k in action.kpis),
        overdue=overdue,
        days_overdue=(as_of - due).days if overdue else 0,
    )


def action_lines(
    catalog: Catalog, period: Period, first: Period | None = None
) -> tuple[ActionLine, ...]:
    """The actions decided by the period's end that were open then or closed within the
    period (a review: within its months, `first` to `period`): overdue first, then open by
    due date, then those closed."""
    lines = [
        action_line(catalog, a, period.last_day)
        for a in catalog.actions
        if Period.parse(a.decided) <= period
    ]
    since = (first or period).start
    shown = [a for a in lines if a.closed is None or a.closed >= since]
    return tuple(
        sorted(shown, key=lambda a: (not a.overdue, a.status in ACTION_CLOSED, a.due, a.id))
    )


def initiative_changes(
    catalog: Catalog, first: Period, last: Period
) -> tuple[InitiativeChange, ...]:
    """What happened to the initiatives from `first` to `last` (a review), by their updates:
    completed, slipped (its deadline fell in the review and it was not completed by the end, or
    its planned start did and it had not started), started, or a changed status. One line per
    initiative, in that order of weight."""
    found = []
    before_review = first.shift(-1)
    for initiative in catalog.initiatives:
        line = initiative_line(catalog, initiative, last.last_day)
        before = initiative.as_of(before_review)[0] if initiative.updates else None
        after = line.status
        deadline = date.fromisoformat(initiative.deadline)
        planned = initiative.start is not None and first <= Period.parse(initiative.start) <= last
        started = planned and after != "not_started"
        if initiative.updates and after == "completed" and before != "completed":
            change = "completed"
        elif (first.start <= deadline <= last.last_day and after not in CLOSED) or (
            planned and not started
        ):
            change = "slipped"
        elif started:
            change = "started"
        elif initiative.updates and before != after:
            change = "status_changed"
        else:
            continue
        notes = [
            u.note for u in initiative.updates if first <= Period.parse(u.month) <= last and u.note
        ]
        was = None if started or before == "not_started" else before
        found.append(InitiativeChange(change, line, was, notes[-1] if notes else ""))
    order = ("completed", "slipped", "started", "status_changed")
    return tuple(sorted(found, key=lambda c: (order.index(c.change), c.initiative.deadline)))

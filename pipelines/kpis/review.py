"""A KPI's value over a fiscal quarter or year (a review period), from the same SQL as its months.

A KPI measured monthly runs its SQL over the review's whole window, so a ratio stays a ratio of
sums and a snapshot KPI follows its aggregation rule (`last`: the last month; `average`: the mean
of the months), exactly as a year to date does. A KPI measured quarterly or annually shows its
latest measurement as of the review's last month. A calculated KPI applies its formula to its
inputs' review values. The months' own rows decide what the review may show: a KPI withheld in
any month of the review is withheld for the review, and the months with data are counted, so a
quarter missing a month says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.catalog import formula
from pipelines.catalog.catalog import Catalog
from pipelines.catalog.models import Kpi
from pipelines.kpis.evaluate import NO_DATA, VALUE, WITHHELD, checked_sql, evaluate
from pipelines.periods import Period, ReviewPeriod, Window


class ReviewNotReadyError(RuntimeError):
    """A month of the review has not been computed yet: its KPI values are missing."""


@dataclass(frozen=True)
class ReviewValue:
    """One KPI's value for one review period."""

    kpi_id: str
    state: str  # value, no_data, withheld
    value: float | None
    months: int  # months in the review (a quarterly or annual KPI: 1, its measurement)
    months_with_data: int  # of which the KPI had a value
    withheld_reason: str | None = None
    measured_in: str | None = None  # a quarterly or annual KPI: its measurement's month


def _month_rows(con, review: ReviewPeriod) -> dict[tuple[str, str], tuple]:
    """(kpi_id, 'YYYY-MM') -> (state, value, withheld_reason, measured_in), its months' rows."""
    rows = con.execute(
        "select kpi_id, strftime(period, '%Y-%m'), state, value, withheld_reason, "
        "strftime(measured_in, '%Y-%m') from kpi.kpi_values where period >= ? and period <= ?",
        [review.first.start, review.last.start],
    ).fetchall()
    return {(kpi_id, month): tuple(rest) for kpi_id, month, *rest in rows}


def check_ready(con, review: ReviewPeriod) -> None:
    """Raise ReviewNotReadyError naming the months of the review that have not been scored."""
    scored = {
        month
        for (month,) in con.execute(
            "select distinct strftime(period, '%Y-%m') from score.rollup_scores "
            "where period >= ? and period <= ?",
            [review.first.start, review.last.start],
        ).fetchall()
    }
    missing = [p.key for p in review.months if p.key not in scored]
    if missing:
        raise ReviewNotReadyError(
            f"{review.label} needs every month from {review.first} to {review.last} scored; "
            f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not: run "
            f"scorecard backfill --from {missing[0]} --to {missing[-1]}"
        )


def _withheld(kpi: Kpi, review: ReviewPeriod, rows: dict) -> str | None:
    for period in review.months:
        state, _, reason, _ = rows.get((kpi.id, period.key), (None,) * 4)
        if state == WITHHELD:
            return f"withheld in {period.label}: {reason}"
    return None


def _sql_value(con, catalog: Catalog, kpi: Kpi, review: ReviewPeriod, rows: dict) -> ReviewValue:
    months = review.months
    if kpi.frequency != "monthly":  # its latest measurement as of the review's last month
        state, value, reason, measured = rows.get(
            (kpi.id, review.last.key), (NO_DATA, None, None, None)
        )
        if state == WITHHELD:
            reason = f"withheld in {Period.parse(measured or review.last.key).label}: {reason}"
            return ReviewValue(kpi.id, WITHHELD, None, 1, 0, reason, measured)
        state = VALUE if value is not None else NO_DATA
        return ReviewValue(kpi.id, state, value, 1, int(value is not None), None, measured)
    with_data = sum(rows.get((kpi.id, p.key), (None,))[0] == VALUE for p in months)
    reason = _withheld(kpi, review, rows)
    if reason:
        return ReviewValue(kpi.id, WITHHELD, None, len(months), with_data, reason)
    if not with_data:
        return ReviewValue(kpi.id, NO_DATA, None, len(months), 0)
    # the definition in force in the review's last month runs over the whole review
    sql, file = checked_sql(con, catalog, kpi, review.last)
    value = evaluate(con, kpi, sql, Window(review.kind, review.first, review.last), file)
    state = VALUE if value is not None else NO_DATA
    return ReviewValue(kpi.id, state, value, len(months), with_data)


def _calculated(kpi: Kpi, review: ReviewPeriod, found: dict[str, ReviewValue]) -> ReviewValue:
    names = formula.inputs(kpi.formula)
    inputs = [found[n] for n in names if n in found]
    # as partial as its most partial input
    shortest = max(inputs, key=lambda v: v.months - v.months_with_data, default=None)
    months = shortest.months if shortest else len(review.months)
    with_data = shortest.months_with_data if shortest else 0
    withheld = [v.kpi_id for v in inputs if v.state == WITHHELD]
    if withheld:
        reason = f"input KPI(s) withheld: {', '.join(withheld)}"
        return ReviewValue(kpi.id, WITHHELD, None, months, with_data, reason)
    value = formula.evaluate(kpi.formula, {n: getattr(found.get(n), "value", None) for n in names})
    state = VALUE if value is not None else NO_DATA
    return ReviewValue(kpi.id, state, value, months, with_data)


def review_values(con, catalog: Catalog, review: ReviewPeriod) -> list[ReviewValue]:
    """The review's value of every KPI in force in its last month, in catalog order."""
    check_ready(con, review)
    rows = _month_rows(con, review)
    kpis = [k for k in catalog.kpis if k.in_force(review.last)]
    found = {k.id: _sql_value(con, catalog, k, review, rows) for k in kpis if not k.calculated}
    for kpi in (k for k in kpis if k.calculated):
        found[kpi.id] = _calculated(kpi, review, found)
    return [found[k.id] for k in kpis]

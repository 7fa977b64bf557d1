"""Score a fiscal quarter or year: each KPI's review value against the review's target, then
objectives, perspectives and overall, exactly as a month is scored.

The review's target comes from the monthly targets (an annual target phased as today): an
additive KPI's goal and red flag are the sums of its months' (a quarter of revenue against the
quarter's phased share), any other KPI's the mean of its months' (as its year to date is); a
within-range KPI keeps the band of the review's last month, and a quarterly or annual KPI, whose
value is one measurement, that month's goal. Weights are those in force in the
last month. Writes review.kpi_results and review.rollup_scores in one transaction.
"""

from __future__ import annotations

from datetime import datetime

from pipelines.catalog.catalog import Catalog
from pipelines.catalog.models import Kpi, weight_at
from pipelines.kpis.review import ReviewValue, review_values
from pipelines.periods import Period, ReviewPeriod
from pipelines.scoring import score as scoring
from pipelines.scoring.scorecard import goal_for, judged, rollup_rows
from pipelines.warehouse.connection import transactions


def review_goal(catalog: Catalog, kpi: Kpi, review: ReviewPeriod) -> scoring.Goal | None:
    """The goal and red flag of a KPI for a review, from its months' goals (None: the last
    month has no target, or an additive KPI lacks one in some month)."""
    last = goal_for(catalog, kpi, review.last)
    if last is None or kpi.direction == "within_range" or kpi.frequency != "monthly":
        return last  # a quarterly or annual KPI's value is one measurement: its month's goal
    goals = [goal_for(catalog, kpi, p) for p in review.months]
    if any(g is None for g in goals):
        return None if kpi.additive else last
    combine = sum if kpi.additive else (lambda values: sum(values) / len(values))
    return scoring.Goal(
        kpi.direction,
        goal=combine([g.goal for g in goals]),
        red_flag=combine([g.red_flag for g in goals]),
    )


def review_row(catalog: Catalog, kpi: Kpi, review: ReviewPeriod, value: ReviewValue) -> dict:
    """The review.kpi_results row of one KPI (without review key and run)."""
    goal = review_goal(catalog, kpi, review)
    row = {
        "kpi_id": kpi.id,
        "objective_id": kpi.objective,
        "state": value.state,
        "value": value.value,
        "months": value.months,
        "months_with_data": value.months_with_data,
        "measured_in": Period.parse(value.measured_in).start if value.measured_in else None,
        "withheld_reason": value.withheld_reason,
        "status": None,
        "score": None,
        "target": goal.goal if goal else None,
        "target_lower": goal.lower if goal else None,
        "target_upper": goal.upper if goal else None,
        "red_flag": goal.red_flag if goal else None,
        "variance": None,
        "variance_pct": None,
        "weight": weight_at(kpi.weight, review.last),
    }
    return judged(row, goal, value.state, value.value)


def score_review(con, catalog: Catalog, review: ReviewPeriod, run_id: str) -> dict:
    """Compute, score and store a review from its months' values; returns the overall row.

    Raises ReviewNotReadyError when a month of the review has not been scored."""
    values = {v.kpi_id: v for v in review_values(con, catalog, review)}
    kpi_rows = [
        review_row(catalog, k, review, values[k.id]) for k in catalog.kpis if k.id in values
    ]
    node_rows = rollup_rows(catalog, kpi_rows, review.last)
    now = datetime.now()
    head = {
        "review_key": review.key,
        "kind": review.kind,
        "first_month": review.first.start,
        "last_month": review.last.start,
    }
    for attempt in transactions(con, f"the scores of {review.label}"):
        with attempt:
            for table in ("review.kpi_results", "review.rollup_scores"):
                con.execute(f"delete from {table} where review_key = ?", [review.key])  # noqa: S608
            for table, rows in (
                ("review.kpi_results", kpi_rows),
                ("review.rollup_scores", node_rows),
            ):
                rows = [
                    {
                        **head,
                        **r,
                        "catalog_version": catalog.version,
                        "run_id": run_id,
                        "computed_at": now,
                    }
                    for r in rows
                ]
                columns = list(rows[0])
                placeholders = f"({', '.join('?' * len(columns))})"
                con.execute(
                    f"insert into {table} ({', '.join(columns)}) "  # noqa: S608 - our own names
                    f"values {', '.join([placeholders] * len(rows))}",
                    [v for r in rows for v in r.values()],
                )
    return node_rows[-1]

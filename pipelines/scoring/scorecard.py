"""Score one period: each KPI against its target, then objectives, perspectives and overall.

Reads kpi.kpi_values and writes score.kpi_scores and score.rollup_scores for the period in one
transaction.
"""

from __future__ import annotations

from pipelines.catalog.catalog import Catalog
from pipelines.catalog.models import Kpi, TargetVersion
from pipelines.periods import Period, fiscal_year_start, months_between
from pipelines.scoring import score as scoring
from pipelines.scoring.rollup import rollup
from pipelines.scoring.statuses import NO_DATA, NO_TARGET, WITHHELD
from pipelines.warehouse.connection import transactions


def phase_share(catalog: Catalog, version: TargetVersion, period: Period) -> float:
    """The share of an annual target that falls in `period` under the version's phasing."""
    if version.phasing == "even":
        return 1 / 12
    index = (period.month - catalog.organization.fiscal_year_start_month) % 12
    return version.phasing[index] / sum(version.phasing)


def goal_for(
    catalog: Catalog, kpi: Kpi, period: Period, unit: str | None = None
) -> scoring.Goal | None:
    """The goal and red flags in force for a KPI in a period (the company's, or a business
    unit's: its own target, else the nearest parent's), or None without a target."""
    version = catalog.target_for(kpi.id, period, unit)
    if version is None:
        return None
    if version.annual is not None:
        share = phase_share(catalog, version, period) if kpi.additive else 1.0
        version = version.model_copy(
            update={
                "value": version.annual * share,
                "red_flag": version.red_flag * share if version.red_flag is not None else None,
            }
        )
    if kpi.direction == "within_range":
        width = version.upper - version.lower
        return scoring.Goal(
            kpi.direction,
            lower=version.lower,
            upper=version.upper,
            red_flag_lower=version.red_flag_lower
            if version.red_flag_lower is not None
            else version.lower - width * 0.5,
            red_flag_upper=version.red_flag_upper
            if version.red_flag_upper is not None
            else version.upper + width * 0.5,
        )
    red_flag = version.red_flag
    if red_flag is None:
        red_flag = scoring.default_red_flag(version.value, kpi.direction, kpi.red_flag_ratio)
    return scoring.Goal(kpi.direction, goal=version.value, red_flag=red_flag)


def ytd_target(catalog: Catalog, kpi: Kpi, period: Period, unit: str | None = None) -> float | None:
    """Year-to-date target: the sum of monthly goals for additive KPIs, else their mean."""
    first = fiscal_year_start(period, catalog.organization.fiscal_year_start_month)
    goals = [goal_for(catalog, kpi, p, unit) for p in months_between(first, period)]
    if kpi.direction == "within_range" or any(g is None for g in goals):
        return None
    values = [g.goal for g in goals]
    return sum(values) if kpi.additive else sum(values) / len(values)


def forecast(
    catalog: Catalog, kpi: Kpi, period: Period, ytd_value: float | None, unit: str | None = None
) -> dict:
    """Year-end projection for a KPI with an annual target: value, target, method, meets."""
    version = catalog.target_for(kpi.id, period, unit)
    empty = {
        "forecast": None,
        "forecast_target": None,
        "forecast_method": None,
        "forecast_meets": None,
    }
    if version is None or version.annual is None or ytd_value is None:
        return empty
    first = fiscal_year_start(period, catalog.organization.fiscal_year_start_month)
    year = months_between(first, first.shift(11))
    if kpi.additive:
        elapsed = sum(phase_share(catalog, version, p) for p in year if p <= period)
        value, method = ytd_value / elapsed, "year-to-date run rate, adjusted for the phasing"
    else:
        value, method = ytd_value, "year-to-date value held to year end"
    higher = kpi.direction != "lower_is_better"
    meets = value >= version.annual if higher else value <= version.annual
    return {
        "forecast": value,
        "forecast_target": version.annual,
        "forecast_method": method,
        "forecast_meets": meets,
    }


def kpi_score_row(
    catalog: Catalog,
    kpi: Kpi,
    period: Period,
    state: str,
    value: float | None,
    ytd_value: float | None = None,
    unit: str | None = None,
) -> dict:
    """The score.kpi_scores row of one KPI (without period and run id); with `unit`, of a
    business unit's KPI against the unit's targets."""
    goal = goal_for(catalog, kpi, period, unit)
    row = {
        "kpi_id": kpi.id,
        "objective_id": kpi.objective,
        "status": NO_DATA,
        "score": None,
        "target": goal.goal if goal else None,
        "target_lower": goal.lower if goal else None,
        "target_upper": goal.upper if goal else None,
        "red_flag": goal.red_flag if goal else None,
        "ytd_target": ytd_target(catalog, kpi, period, unit),
        "variance": None,
        "variance_pct": None,
        "weight": catalog.weight_of(kpi, period, unit),
        **forecast(catalog, kpi, period, ytd_value if state != WITHHELD else None, unit),
    }
    return judged(row, goal, state, value)


def judged(row: dict, goal: scoring.Goal | None, state: str, value: float | None) -> dict:
    """`row` with the status, score and variance of a value against its goal (a month's or a
    review's): withheld, no data without a value, no target without a goal."""
    if state == WITHHELD:
        return {**row, "status": WITHHELD}
    if value is None:
        return {**row, "status": NO_DATA}
    if goal is None:
        return {**row, "status": NO_TARGET}
    if goal.goal is not None:
        row["variance"] = value - goal.goal
        row["variance_pct"] = (value - goal.goal) / abs(goal.goal) * 100 if goal.goal else None
    return {**row, "status": scoring.status(value, goal), "score": scoring.score(value, goal)}


def rollup_rows(
    catalog: Catalog, kpi_rows: list[dict], period: Period, unit: str | None = None
) -> list[dict]:
    """Objective, perspective and overall rows rolled up from the KPI rows, with the weights
    in force in `period` (a business unit's rows: its KPIs only, company-only ones left out,
    and its own weights where units.yaml gives them)."""
    by_kpi = {r["kpi_id"]: r for r in kpi_rows}
    rows, perspective_members = [], []
    for perspective in catalog.perspectives:
        objective_members = []
        for objective in perspective.objectives:
            members = [
                (by_kpi[k.id]["score"], by_kpi[k.id]["weight"])
                for k in catalog.kpis_of(objective.id, period)
                if k.id in by_kpi
            ]
            rows.append(_node("objective", objective.id, perspective.id, *rollup(members)))
            weight = catalog.weight_of(objective, period, unit)
            objective_members.append((rows[-1]["score"], weight))
        rows.append(_node("perspective", perspective.id, "overall", *rollup(objective_members)))
        weight = catalog.weight_of(perspective, period, unit)
        perspective_members.append((rows[-1]["score"], weight))
    rows.append(_node("overall", "overall", None, *rollup(perspective_members)))
    return rows


def _node(level, node_id, parent_id, value, coverage) -> dict:
    return {
        "level": level,
        "node_id": node_id,
        "parent_id": parent_id,
        "status": scoring.status_of_score(value) if value is not None else NO_DATA,
        "score": value,
        "scored_count": coverage.scored,
        "total_count": coverage.total,
        "scored_weight": coverage.scored_weight,
        "total_weight": coverage.total_weight,
    }


def score_period(con, catalog: Catalog, period: Period, run_id: str) -> dict:
    """Score a period from its KPI values and replace its score rows; returns the overall row."""
    values = {
        kpi_id: (state, value, ytd_value)
        for kpi_id, state, value, ytd_value in con.execute(
            "select kpi_id, state, value, ytd_value from kpi.kpi_values where period = ?",
            [period.start],
        ).fetchall()
    }
    kpi_rows = [
        kpi_score_row(catalog, k, period, *values.get(k.id, (NO_DATA, None, None)))
        for k in catalog.kpis
        if k.in_force(period)  # a retired KPI is no longer scored
    ]
    node_rows = rollup_rows(catalog, kpi_rows, period)
    for attempt in transactions(con, f"the scores of {period}"):
        with attempt:
            con.execute("delete from score.kpi_scores where period = ?", [period.start])
            con.execute("delete from score.rollup_scores where period = ?", [period.start])
            kpi_cols = list(kpi_rows[0])
            con.executemany(
                f"insert into score.kpi_scores (period, run_id, {', '.join(kpi_cols)}) "
                f"values (?, ?, {', '.join('?' * len(kpi_cols))})",
                [[period.start, run_id, *r.values()] for r in kpi_rows],
            )
            node_cols = list(node_rows[0])
            con.executemany(
                f"insert into score.rollup_scores (period, run_id, {', '.join(node_cols)}) "
                f"values (?, ?, {', '.join('?' * len(node_cols))})",
                [[period.start, run_id, *r.values()] for r in node_rows],
            )
    return node_rows[-1]

"""Score a business unit's month: each of its KPIs against the unit's targets (its own, else
the nearest parent unit's, else the company's), then objectives, perspectives and overall with
coverage, exactly as the company's month (pipelines/scoring/scorecard.py)."""

from __future__ import annotations

from pipelines.catalog.catalog import Catalog
from pipelines.periods import Period
from pipelines.scoring.scorecard import kpi_score_row, rollup_rows
from pipelines.scoring.statuses import NO_DATA
from pipelines.warehouse.connection import transactions


def score_unit_period(con, catalog: Catalog, unit_id: str, period: Period, run_id: str) -> dict:
    """Score the unit's month from unit.kpi_values and replace its score rows; returns the
    overall row."""
    values = {
        kpi_id: (state, value, ytd)
        for kpi_id, state, value, ytd in con.execute(
            "select kpi_id, state, value, ytd_value from unit.kpi_values "
            "where period = ? and unit_id = ?",
            [period.start, unit_id],
        ).fetchall()
    }
    kpi_rows = [
        kpi_score_row(catalog, k, period, *values.get(k.id, (NO_DATA, None, None)), unit=unit_id)
        for k in catalog.unit_kpis()
        if k.in_force(period)
    ]
    node_rows = rollup_rows(catalog, kpi_rows, period, unit_id)
    for attempt in transactions(con, f"the scores of unit {unit_id} for {period}"):
        with attempt:
            for table in ("unit.kpi_scores", "unit.rollup_scores"):
                con.execute(
                    f"delete from {table} where period = ? and unit_id = ?",  # noqa: S608
                    [period.start, unit_id],
                )
            for table, rows in (("unit.kpi_scores", kpi_rows), ("unit.rollup_scores", node_rows)):
                if not rows:
                    continue
                columns = list(rows[0])
                placeholders = f"(?, ?, ?, {', '.join('?' * len(columns))})"
                con.execute(
                    f"insert into {table} (period, unit_id, run_id, {', '.join(columns)}) "  # noqa: S608
                    f"values {', '.join([placeholders] * len(rows))}",
                    [v for r in rows for v in (period.start, unit_id, run_id, *r.values())],
                )
    return node_rows[-1]


UNIT_TABLES = ("unit.kpi_values", "unit.kpi_scores", "unit.rollup_scores")


def drop_former_units(con, catalog: Catalog, period: Period) -> list[str]:
    """Delete the month's rows of units the tree no longer holds (renamed or removed since the
    month was last scored), in one transaction; returns their ids."""
    current = [u.id for u in catalog.units]
    former = f"unit_id not in ({', '.join('?' * len(current))})" if current else "true"
    gone = [
        unit_id
        for (unit_id,) in con.execute(
            f"select distinct unit_id from unit.kpi_values where period = ? and {former} "  # noqa: S608
            "order by unit_id",
            [period.start, *current],
        ).fetchall()
    ]
    if gone:
        for attempt in transactions(con, f"the rows of former units for {period}"):
            with attempt:
                for table in UNIT_TABLES:
                    con.execute(
                        f"delete from {table} where period = ? and {former}",  # noqa: S608
                        [period.start, *current],
                    )
    return gone

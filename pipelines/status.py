"""What the warehouse holds per month: loaded, computed, scored, rendered and sent.

Read-only: `scorecard status` opens the warehouse without taking the writer's lock.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.periods import Period, months_between

_TABLES = {
    "loads": "meta.loads",
    "kpis": "kpi.kpi_values",
    "scores": "score.rollup_scores",
    "reports": "meta.reports",
    "ledger": "delivery.ledger",
}


@dataclass(frozen=True)
class MonthStatus:
    """One month's progress through the pipeline."""

    period: str
    tables_loaded: int
    rows_loaded: int
    kpis_with_value: int
    kpis_withheld: int
    kpis_total: int
    overall_score: float | None
    overall_status: str | None
    rendered_at: str | None
    emails_sent: int


def _existing(con) -> set[str]:
    rows = con.execute(
        "select table_schema || '.' || table_name from information_schema.tables"
    ).fetchall()
    return {r[0] for r in rows}


def _by_period(con, present: set[str], table: str, sql: str, first: Period,
               last: Period) -> dict:
    if _TABLES[table] not in present:
        return {}
    rows = con.execute(sql, [first.start, last.start]).fetchall()
    return {r[0]: r[1:] for r in rows}


def month_statuses(con, first: Period, last: Period) -> list[MonthStatus]:
    """The status of every month first..last."""
    present = _existing(con)
    loads = _by_period(con, present, "loads",
        "select strftime(period, '%Y-%m'), count(*) filter (where rows_loaded > 0), "
        "sum(rows_loaded) from meta.loads where period between ? and ? group by 1", first, last)
    kpis = _by_period(con, present, "kpis",
        "select strftime(period, '%Y-%m'), count(*) filter (where state = 'value'), "
        "count(*) filter (where state = 'withheld'), count(*) from kpi.kpi_values "
        "where period between ? and ? group by 1", first, last)
    scores = _by_period(con, present, "scores",
        "select strftime(period, '%Y-%m'), score, status from score.rollup_scores "
        "where level = 'overall' and period between ? and ?", first, last)
    reports = _by_period(con, present, "reports",
        "select strftime(period, '%Y-%m'), strftime(rendered_at, '%Y-%m-%d %H:%M') "
        "from meta.reports where period between ? and ?", first, last)
    sent = _by_period(con, present, "ledger",
        "select strftime(period, '%Y-%m'), count(*) filter (where state = 'sent') "
        "from delivery.ledger where kind = 'scorecard' and period between ? and ? group by 1",
        first, last)
    result = []
    for period in months_between(first, last):
        key = period.key
        tables, rows = loads.get(key, (0, 0))
        with_value, withheld, total = kpis.get(key, (0, 0, 0))
        score, status = scores.get(key, (None, None))
        result.append(MonthStatus(key, tables, int(rows or 0), with_value, withheld, total,
                                  score, status, reports.get(key, (None,))[0],
                                  sent.get(key, (0,))[0]))
    return result

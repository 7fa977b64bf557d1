"""What the warehouse holds per month: loaded, computed, scored, rendered and sent, and how
the month came out: complete, provisional (KPIs withheld or without data) or with failed loads.

Read-only: `scorecard status` opens the warehouse without taking the writer's lock. A warehouse
made before meta.load_failures existed reads as having no failed loads.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from pipelines.ingest.load_failures import LoadFailure, failed_loads
from pipelines.periods import Period, months_between

_TABLES = {
    "loads": "meta.loads",
    "kpis": "kpi.kpi_values",
    "scores": "score.rollup_scores",
    "reports": "meta.reports",
    "ledger": "delivery.ledger",
    "failures": "meta.load_failures",
}
COMPLETE, PROVISIONAL = "complete", "provisional"
WIDTH = 88  # the printed table's widest line


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
    kpis_no_data: int = 0
    failed_loads: tuple[LoadFailure, ...] = ()

    @property
    def outcome(self) -> str:
        """'2 failed loads', 'provisional' (KPIs withheld or without data), 'complete', or
        'not scored' ('—' when nothing was loaded either)."""
        if self.failed_loads:
            count = len(self.failed_loads)
            return f"{count} failed load" + ("" if count == 1 else "s")
        if self.overall_status is None:
            return "not scored" if self.tables_loaded or self.kpis_total else "\u2014"
        return PROVISIONAL if self.kpis_withheld or self.kpis_no_data else COMPLETE


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
        "count(*) filter (where state = 'withheld'), count(*), "
        "count(*) filter (where state = 'no_data') from kpi.kpi_values "
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
    failures = defaultdict(list)
    if _TABLES["failures"] in present:
        for failure in failed_loads(con, first, last):
            failures[failure.period].append(failure)
    result = []
    for period in months_between(first, last):
        key = period.key
        tables, rows = loads.get(key, (0, 0))
        with_value, withheld, total, no_data = kpis.get(key, (0, 0, 0, 0))
        score, status = scores.get(key, (None, None))
        result.append(MonthStatus(key, tables, int(rows or 0), with_value, withheld, total,
                                  score, status, reports.get(key, (None,))[0],
                                  sent.get(key, (0,))[0], no_data, tuple(failures[key])))
    return result


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "\u2026"


def status_lines(rows: list[MonthStatus]) -> list[str]:
    """The table `scorecard status` prints (at most WIDTH characters a line), then each failed
    load with its table and cause."""
    lines = [f"{'month':<7} {'tables':>6} {'rows':>9} {'KPIs':>7} {'withheld':>8} "
             f"{'overall':<14} {'outcome':<14} {'rendered':<11} {'sent':>4}"]
    for r in rows:
        overall = (f"{r.overall_score:.2f} {r.overall_status}" if r.overall_score is not None
                   else "\u2014")
        kpis = f"{r.kpis_with_value}/{r.kpis_total}" if r.kpis_total else "\u2014"
        rendered = r.rendered_at[5:] if r.rendered_at else "\u2014"  # 'MM-DD HH:MM'
        lines.append(f"{r.period:<7} {r.tables_loaded:>6} {r.rows_loaded:>9,} {kpis:>7} "
                     f"{r.kpis_withheld:>8} {overall:<14} {r.outcome:<14} {rendered:<11} "
                     f"{r.emails_sent:>4}")
    failures = [f for r in rows for f in r.failed_loads]
    if failures:
        lines += ["", "Failed loads (the month keeps its earlier rows; the KPIs reading the "
                      "table are withheld)"]
        lines += [_fit(f"  {f.line()}", WIDTH) for f in failures]
    return lines

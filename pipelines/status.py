"""What the warehouse holds per month: loaded, computed, scored, rendered and sent, and how
the month came out: complete, provisional (KPIs withheld or without data) or with failed loads.
Email per list by each recipient's latest ledger row: sent, failed or unconfirmed (claimed, never
confirmed by the server); the lists with failed or unconfirmed recipients are listed below the
table.

Read-only: `scorecard status` opens the warehouse without taking the writer's lock. A warehouse
made before meta.load_failures existed reads as having no failed loads.
"""

from __future__ import annotations

import textwrap
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
class ListEmail:
    """A month's email to one list, by each recipient's latest ledger row."""

    period: str
    kind: str  # scorecard or data_notice
    list_id: str
    sent: int
    failed: tuple[str, ...] = ()
    unconfirmed: tuple[str, ...] = ()

    def line(self) -> str:
        """'2026-06 leadership: sent 5, unconfirmed 1 (alex@example.com)'."""
        parts = [f"sent {self.sent}"]
        for word, people in (("unconfirmed", self.unconfirmed), ("failed", self.failed)):
            if people:
                parts.append(f"{word} {len(people)} ({', '.join(people)})")
        notice = " (data notice)" if self.kind != "scorecard" else ""
        return f"{self.period} {self.list_id}{notice}: " + ", ".join(parts)


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
    email: tuple[ListEmail, ...] = ()  # per list; the scorecard's and the data team's notice

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


def _by_period(con, present: set[str], table: str, sql: str, first: Period, last: Period) -> dict:
    if _TABLES[table] not in present:
        return {}
    rows = con.execute(sql, [first.start, last.start]).fetchall()
    return {r[0]: r[1:] for r in rows}


def _email(con, present: set[str], first: Period, last: Period) -> dict[str, list[ListEmail]]:
    """Per month, each list's recipients by their latest row (any transport)."""
    if _TABLES["ledger"] not in present:
        return {}
    rows = con.execute(
        "select strftime(period, '%Y-%m'), kind, list_id, state, recipient from delivery.ledger "
        "where kind in ('scorecard', 'data_notice') and period between ? and ? qualify "
        "row_number() over (partition by period, kind, list_id, recipient "
        "order by claimed_at desc) = 1 order by 1, 2 desc, 3, 5",
        [first.start, last.start],
    ).fetchall()
    lists: dict[tuple[str, str, str], dict[str, list[str]]] = {}
    for period, kind, list_id, state, recipient in rows:
        lists.setdefault((period, kind, list_id), defaultdict(list))[state].append(recipient)
    result: dict[str, list[ListEmail]] = defaultdict(list)
    for (period, kind, list_id), states in lists.items():
        result[period].append(
            ListEmail(
                period,
                kind,
                list_id,
                len(states["sent"]),
                tuple(states["failed"]),
                tuple(states["claimed"]),
            )
        )
    return result


def month_statuses(con, first: Period, last: Period) -> list[MonthStatus]:
    """The status of every month first..last."""
    present = _existing(con)
    # a month's rows of a table whose latest load failed are kept but not used: not counted
    unused = (
        "anti join meta.load_failures f using (period, table_key) "
        if _TABLES["failures"] in present
        else ""
    )
    loads = _by_period(
        con,
        present,
        "loads",
        "select strftime(period, '%Y-%m'), count(*) filter (where rows_loaded > 0), "
        f"sum(rows_loaded) from meta.loads {unused}where period between ? and ? group by 1",
        first,
        last,
    )
    kpis = _by_period(
        con,
        present,
        "kpis",
        "select strftime(period, '%Y-%m'), count(*) filter (where state = 'value'), "
        "count(*) filter (where state = 'withheld'), count(*), "
        "count(*) filter (where state = 'no_data') from kpi.kpi_values "
        "where period between ? and ? group by 1",
        first,
        last,
    )
    scores = _by_period(
        con,
        present,
        "scores",
        "select strftime(period, '%Y-%m'), score, status from score.rollup_scores "
        "where level = 'overall' and period between ? and ?",
        first,
        last,
    )
    reports = _by_period(
        con,
        present,
        "reports",
        "select strftime(period, '%Y-%m'), strftime(rendered_at, '%Y-%m-%d %H:%M') "
        "from meta.reports where period between ? and ?",
        first,
        last,
    )
    email = _email(con, present, first, last)
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
        lists = tuple(email.get(key, ()))
        sent = sum(e.sent for e in lists if e.kind == "scorecard")
        result.append(
            MonthStatus(
                key,
                tables,
                int(rows or 0),
                with_value,
                withheld,
                total,
                score,
                status,
                reports.get(key, (None,))[0],
                sent,
                no_data,
                tuple(failures[key]),
                lists,
            )
        )
    return result


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def status_lines(rows: list[MonthStatus]) -> list[str]:
    """The table `scorecard status` prints (at most WIDTH characters a line), then each failed
    load with its table and cause."""
    lines = [
        f"{'month':<7} {'tables':>6} {'rows':>9} {'KPIs':>7} {'withheld':>8} "
        f"{'overall':<14} {'outcome':<14} {'rendered':<11} {'sent':>4}"
    ]
    for r in rows:
        overall = (
            f"{r.overall_score:.2f} {r.overall_status}" if r.overall_score is not None else "\u2014"
        )
        kpis = f"{r.kpis_with_value}/{r.kpis_total}" if r.kpis_total else "\u2014"
        rendered = r.rendered_at[5:] if r.rendered_at else "\u2014"  # 'MM-DD HH:MM'
        lines.append(
            f"{r.period:<7} {r.tables_loaded:>6} {r.rows_loaded:>9,} {kpis:>7} "
            f"{r.kpis_withheld:>8} {overall:<14} {r.outcome:<14} {rendered:<11} "
            f"{r.emails_sent:>4}"
        )
    failures = [f for r in rows for f in r.failed_loads]
    if failures:
        lines += [
            "",
            "Failed loads (the month keeps its earlier rows; the KPIs reading the "
            "table are withheld)",
        ]
        lines += [
            line
            for f in failures  # the whole cause: it is what to fix
            for line in textwrap.wrap(
                f.line(), WIDTH, initial_indent="  ", subsequent_indent="    "
            )
        ]
    return lines + _email_lines(rows)


def _email_lines(rows: list[MonthStatus]) -> list[str]:
    """The lists whose email failed or is unconfirmed, each with what to run."""
    troubled = [e for r in rows for e in r.email if e.failed or e.unconfirmed]
    if not troubled:
        return []
    lines = [
        "",
        "Email not delivered (unconfirmed: the server never confirmed it; it may not be there)",
    ]
    lines += [_fit(f"  {e.line()}", WIDTH) for e in troubled]
    for period in dict.fromkeys(e.period for e in troubled if e.unconfirmed):
        lines.append(
            f"  resend {period} to its unconfirmed: scorecard send --period {period} --unconfirmed"
        )
    if any(e.failed for e in troubled):
        lines.append("  failed recipients are retried by the next run or scorecard send")
    return lines

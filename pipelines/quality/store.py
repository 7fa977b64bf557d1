"""Quality results in the warehouse (schema quality): written per run, read as the latest.

quality.expectation_results holds one row per run, month, table and expectation;
quality.table_results one per run, month and table. The views latest_* pick each month and
table's latest check, which is what the gate, the report and audits read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from pipelines.periods import Period
from pipelines.quality.outcomes import ERROR, TableVerdict, json_safe


def _expectation_rows(verdict: TableVerdict, run_id: str, now: datetime) -> list[list]:
    start = Period.parse(verdict.period).start
    return [[start, verdict.table_key, o.position, o.entry.name, o.entry.label(),
             json.dumps(json_safe(o.entry.kwargs)), o.entry.severity, o.outcome,
             json.dumps(json_safe(o.observed)) if o.observed is not None else None,
             o.unexpected_count, o.element_count,
             json.dumps(list(o.sample)) if o.sample else None, o.message, run_id, now]
            for o in verdict.outcomes]


def write_verdicts(con, verdicts: list[TableVerdict], run_id: str) -> None:
    """Record the verdicts of a run (replacing this run's earlier rows, as a step retry would)."""
    if not verdicts:
        return
    now = datetime.now()
    con.execute("begin transaction")
    try:
        for verdict in verdicts:
            key = [run_id, Period.parse(verdict.period).start, verdict.table_key]
            for name in ("expectation_results", "table_results"):
                con.execute(f"delete from quality.{name} where run_id = ? and period = ? "
                            "and table_key = ?", key)
            rows = _expectation_rows(verdict, run_id, now)
            if rows:
                con.executemany("insert into quality.expectation_results values "
                                f"({', '.join('?' * len(rows[0]))})", rows)
            con.execute(
                f"insert into quality.table_results values ({', '.join('?' * 14)})",
                [key[1], verdict.table_key, verdict.rows, verdict.rows_rejected,
                 len(verdict.outcomes), verdict.passed, verdict.warned, verdict.failed,
                 verdict.errored, verdict.status, verdict.latest_record, verdict.lag_days,
                 run_id, now])
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


@dataclass(frozen=True)
class Failure:
    """A failing expectation of a month's latest check."""

    table_key: str
    label: str
    severity: str
    outcome: str
    message: str | None

    def line(self) -> str:
        """'finance.gl_entries: expect_column_values_to_be_unique(entry_id) failed: …'."""
        detail = f": {self.message}" if self.message else ""
        return f"{self.table_key}: {self.label} {self.outcome}{detail}"


def failures(con, period: Period | date, table_keys: list[str] | None = None,
             severity: str | None = ERROR) -> list[Failure]:
    """The failed or errored expectations of a month's latest checks (of `severity`, or all)."""
    start = period.start if isinstance(period, Period) else period
    rows = con.execute(
        "select table_key, label, severity, outcome, message "
        "from quality.latest_expectation_results where period = ? and outcome <> 'passed' "
        "and (? is null or severity = ?) and (? is null or list_contains(?, table_key)) "
        "order by table_key, position",
        [start, severity, severity, table_keys, table_keys]).fetchall()
    return [Failure(*row) for row in rows]


def table_results(con, period: Period) -> dict[str, dict]:
    """The latest check of each table for a month, by table key."""
    cursor = con.execute("select * from quality.latest_table_results where period = ?",
                         [period.start])
    names = [d[0] for d in cursor.description]
    return {row[1]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}

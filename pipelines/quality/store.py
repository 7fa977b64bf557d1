"""Quality results in the warehouse (schema quality): written per run, read as the latest.

quality.expectation_results holds one row per run, month, table and expectation;
quality.table_results one per run, month and table. The views latest_* pick each month and
table's latest check, which is what the gate, the report and audits read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

import pyarrow as pa

from pipelines.periods import Period
from pipelines.quality.outcomes import ERROR, TableVerdict, json_safe
from pipelines.warehouse.connection import transactions

_EXPECTATION_COLUMNS = (
    ("period", pa.date32()),
    ("table_key", pa.string()),
    ("position", pa.int32()),
    ("expectation", pa.string()),
    ("label", pa.string()),
    ("kwargs", pa.string()),
    ("severity", pa.string()),
    ("outcome", pa.string()),
    ("observed_value", pa.string()),
    ("unexpected_count", pa.int64()),
    ("element_count", pa.int64()),
    ("sample_rows", pa.string()),
    ("message", pa.string()),
    ("run_id", pa.string()),
    ("checked_at", pa.timestamp("us")),
)
_TABLE_COLUMNS = (
    ("period", pa.date32()),
    ("table_key", pa.string()),
    ("rows_checked", pa.int64()),
    ("rows_rejected", pa.int64()),
    ("checks_run", pa.int32()),
    ("checks_passed", pa.int32()),
    ("checks_warned", pa.int32()),
    ("checks_failed", pa.int32()),
    ("checks_errored", pa.int32()),
    ("status", pa.string()),
    ("latest_record", pa.timestamp("us")),
    ("lag_days", pa.int32()),
    ("run_id", pa.string()),
    ("checked_at", pa.timestamp("us")),
)


def _expectation_rows(verdict: TableVerdict, run_id: str, now: datetime) -> list[list]:
    start = Period.parse(verdict.period).start
    return [
        [
            start,
            verdict.table_key,
            o.position,
            o.entry.name,
            o.entry.label(),
            json.dumps(json_safe(o.entry.kwargs)),
            o.entry.severity,
            o.outcome,
            json.dumps(json_safe(o.observed)) if o.observed is not None else None,
            o.unexpected_count,
            o.element_count,
            json.dumps(list(o.sample)) if o.sample else None,
            o.message,
            run_id,
            now,
        ]
        for o in verdict.outcomes
    ]


def _table_row(verdict: TableVerdict, run_id: str, now: datetime) -> list:
    return [
        Period.parse(verdict.period).start,
        verdict.table_key,
        verdict.rows,
        verdict.rows_rejected,
        len(verdict.outcomes),
        verdict.passed,
        verdict.warned,
        verdict.failed,
        verdict.errored,
        verdict.status,
        verdict.latest_record,
        verdict.lag_days,
        run_id,
        now,
    ]


def _arrow(rows: list[list], columns: tuple) -> pa.Table:
    """Rows as an Arrow table with the warehouse table's column types."""
    return pa.table(
        {
            name: pa.array([row[i] for row in rows], type=kind)
            for i, (name, kind) in enumerate(columns)
        }
    )


def write_verdicts(con, verdicts: list[TableVerdict], run_id: str) -> None:
    """Record the verdicts of a run (replacing this run's earlier rows, as a step retry would).

    One delete and one insert per table of quality.*, whatever the number of months: a
    backfill's statements row by row cost more than its checks.
    """
    if not verdicts:
        return
    now = datetime.now()
    keys = _arrow(
        [[Period.parse(v.period).start, v.table_key] for v in verdicts], _TABLE_COLUMNS[:2]
    )
    results = _arrow(
        [row for v in verdicts for row in _expectation_rows(v, run_id, now)], _EXPECTATION_COLUMNS
    )
    tables = _arrow([_table_row(v, run_id, now) for v in verdicts], _TABLE_COLUMNS)
    try:
        for attempt in transactions(con, "the quality verdicts"):
            with attempt:
                con.register("quality_keys", keys)
                for name, rows in (("expectation_results", results), ("table_results", tables)):
                    con.execute(
                        f"delete from quality.{name} as r using quality_keys k "
                        "where r.run_id = ? and r.period = k.period "
                        "and r.table_key = k.table_key",
                        [run_id],
                    )
                    con.register("quality_rows", rows)
                    columns = ", ".join(rows.column_names)
                    con.execute(
                        f"insert into quality.{name} ({columns}) select {columns} from quality_rows"
                    )
    finally:
        for view in ("quality_keys", "quality_rows"):
            con.unregister(view)


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


def failures(
    con, period: Period | date, table_keys: list[str] | None = None, severity: str | None = ERROR
) -> list[Failure]:
    """The failed or errored expectations of a month's latest checks (of `severity`, or all)."""
    start = period.start if isinstance(period, Period) else period
    rows = con.execute(
        "select table_key, label, severity, outcome, message "
        "from quality.latest_expectation_results where period = ? and outcome <> 'passed' "
        "and (? is null or severity = ?) and (? is null or list_contains(?, table_key)) "
        "order by table_key, position",
        [start, severity, severity, table_keys, table_keys],
    ).fetchall()
    return [Failure(*row) for row in rows]


def table_results(con, period: Period) -> dict[str, dict]:
    """The latest check of each table for a month, by table key."""
    cursor = con.execute(
        "select * from quality.latest_table_results where period = ?", [period.start]
    )
    names = [d[0] for d in cursor.description]
    return {row[1]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}

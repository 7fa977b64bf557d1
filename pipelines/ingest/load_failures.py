"""Failed loads per source table and month (meta.load_failures).

The unit of failure is a source table in a month. A load that fails leaves the month's earlier
rows in place but records the failure here; the KPIs that read the table are withheld for that
month (pipelines.kpis.evaluate), the report and `scorecard status` name it, and the run ends
failed. A later load of the month that succeeds deletes the record (raw_tables.replace_months).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pipelines.periods import Period
from pipelines.warehouse.connection import transactions


@dataclass(frozen=True)
class LoadFailure:
    """A table's failed load of one month."""

    period: str  # YYYY-MM
    table_key: str
    message: str
    run_id: str
    failed_at: datetime

    def line(self) -> str:
        """'2026-06 facilities.energy: <what was wrong>'."""
        return f"{self.period} {self.table_key}: {self.message}"


def record_failures(con, table_key: str, periods: list[Period], message: str, run_id: str) -> None:
    """Record that the table's load failed for `periods` (replacing earlier records)."""
    if not periods:
        return
    message = " ".join(message.split())  # one line, whatever the cause printed
    now = datetime.now()
    for attempt in transactions(con, f"the failed load of {table_key}"):
        with attempt:
            clear_failures(con, table_key, periods)
            con.executemany(
                "insert into meta.load_failures values (?, ?, ?, ?, ?)",
                [[p.start, table_key, message, run_id, now] for p in periods],
            )


def clear_failures(con, table_key: str, periods: list[Period]) -> None:
    """Forget the failures of months that have just loaded (call inside their transaction)."""
    con.execute(
        "delete from meta.load_failures where table_key = ? and list_contains(?, period)",
        [table_key, [p.start for p in periods]],
    )


def failed_loads(
    con, first: Period, last: Period, table_keys: list[str] | None = None
) -> list[LoadFailure]:
    """The failed loads standing for months first..last (of `table_keys`, or every table)."""
    rows = con.execute(
        "select strftime(period, '%Y-%m'), table_key, message, run_id, failed_at "
        "from meta.load_failures where period between ? and ? "
        "and (? is null or list_contains(?, table_key)) order by period, table_key",
        [first.start, last.start, table_keys, table_keys],
    ).fetchall()
    return [LoadFailure(*row) for row in rows]

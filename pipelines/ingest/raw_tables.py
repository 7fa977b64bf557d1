"""Raw tables in the warehouse: their DDL from the catalog and the idempotent monthly replace."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pipelines.catalog.catalog import SourceTable
from pipelines.ingest.load_failures import clear_failures
from pipelines.periods import Period, months_between
from pipelines.warehouse.connection import conflict_retries, quote_identifier, transactions

SQL_TYPES = {
    "varchar": "varchar",
    "integer": "integer",
    "bigint": "bigint",
    "double": "double",
    "decimal": "decimal(18, 4)",
    "date": "date",
    "timestamp": "timestamp",
    "boolean": "boolean",
}
META_COLUMNS = (
    '"_period" date not null',
    '"_run_id" varchar not null',
    '"_loaded_at" timestamp not null',
)


def raw_typed_columns(table: SourceTable, kept: list[tuple[str, str]]) -> str:
    """The select list of a stage's rows as the raw table takes them: each declared column cast
    to its type, then each kept added column (name, SQL type), in that order."""
    columns = [(c.name, SQL_TYPES[c.type]) for c in table.table.columns] + list(kept)
    return ", ".join(
        f"cast({quote_identifier(n)} as {t}) as {quote_identifier(n)}" for n, t in columns
    )


class SourceLoadError(RuntimeError):
    """A source table could not be loaded; the message names the source, table and cause.

    `periods`: the months (YYYY-MM) the failure blocks; None blocks every month of the load.
    """

    def __init__(self, message: str, periods: tuple[str, ...] | None = None):
        super().__init__(message)
        self.periods = periods


class EmptyExportError(SourceLoadError):
    """An export file without data rows (empty, or a header only). Alone it fails the load; one
    file of a glob whose other files hold rows is skipped with a note (its month, if any, is
    caught by the table's row-count checks)."""


@dataclass(frozen=True)
class LoadResult:
    """Rows written per month for one table."""

    table_key: str
    rows_by_period: dict[str, int]
    source_path: str
    extra_columns: tuple[str, ...] = ()
    unkept_columns: tuple[str, ...] = ()  # added columns whose names cannot be warehouse columns
    rejected_by_period: dict[str, int] = field(default_factory=dict)  # rows left out, per month
    # months of the range that were not replaced, with why (a broken file behind a glob)
    failed_periods: dict[str, str] = field(default_factory=dict)
    # what the load noticed and accepted, one note each: a column matched only ignoring case or
    # spaces ("<file>: column ' Order_ID' read as order_id"), a file of a glob with no rows skipped
    notes: tuple[str, ...] = ()

    @property
    def total_rows(self) -> int:
        """All rows written."""
        return sum(self.rows_by_period.values())


def qualified_name(table: SourceTable) -> str:
    """raw."<source>_<table>"."""
    return f"raw.{quote_identifier(table.raw_name)}"


def create_raw_table(con, table: SourceTable) -> None:
    """Create the raw table from the catalog's declared columns if it does not exist."""
    columns = [f"{quote_identifier(c.name)} {SQL_TYPES[c.type]}" for c in table.table.columns]
    for attempt in conflict_retries():
        with attempt:  # runs that load a new DuckLake at once both create it: one retries
            con.execute(
                f"create table if not exists {qualified_name(table)} "
                f"({', '.join(columns + list(META_COLUMNS))})"
            )


def replace_months(
    con,
    table: SourceTable,
    select_sql: str,
    params: dict,
    first: Period,
    last: Period,
    run_id: str,
    source_path: str,
    extra_columns: tuple[tuple[str, str], ...] = (),
) -> dict[str, int]:
    """Swap the months first..last of a raw table for the rows of `select_sql`, in one transaction.

    `select_sql` yields the declared columns in order, then the `extra_columns` (name, SQL type)
    the source added, which the raw table gains if it lacks them; rows outside the months are
    dropped.
    """
    date_column = quote_identifier(table.table.date_column)
    names = ", ".join(quote_identifier(c.name) for c in table.table.columns)
    extras = "".join(f", {quote_identifier(name)}" for name, _ in extra_columns)
    loaded_at = datetime.now()
    for attempt in transactions(con, f"the load of {table.key} for {first}..{last}"):
        with attempt:
            for name, sql_type in extra_columns:
                con.execute(
                    f"alter table {qualified_name(table)} add column if not exists "
                    f"{quote_identifier(name)} {sql_type}"
                )
            con.execute(
                f"delete from {qualified_name(table)} where _period >= ? and _period <= ?",
                [first.start, last.start],
            )
            con.execute(
                f"insert into {qualified_name(table)} "
                f"({names}, _period, _run_id, _loaded_at{extras}) "
                f"select {names}, date_trunc('month', {date_column})::date, $run_id, $loaded_at"
                f"{extras} "
                f"from ({select_sql}) as incoming "
                f"where {date_column} >= $first_day and {date_column} < $end_day",
                {
                    **params,
                    "run_id": run_id,
                    "loaded_at": loaded_at,
                    "first_day": first.start,
                    "end_day": last.end,
                },
            )
            counts = dict(
                con.execute(
                    f"select strftime(_period, '%Y-%m'), count(*) from {qualified_name(table)} "
                    "where _period >= ? and _period <= ? group by 1",
                    [first.start, last.start],
                ).fetchall()
            )
            months = months_between(first, last)
            rows_by_period = {p.key: counts.get(p.key, 0) for p in months}
            clear_failures(con, table.key, months)
            con.execute(
                "delete from meta.loads where table_key = ? and period >= ? and period <= ?",
                [table.key, first.start, last.start],
            )
            con.executemany(
                "insert into meta.loads values (?, ?, ?, ?, ?, ?)",
                [
                    [Period.parse(k).start, table.key, n, source_path, run_id, loaded_at]
                    for k, n in rows_by_period.items()
                ],
            )
    return rows_by_period

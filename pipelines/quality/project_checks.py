"""The project checks: what a table's month is judged on that Great Expectations has no
expectation for. They read the warehouse, not the rows in pandas.

- column_types: the raw table has every declared column with the declared type (a catalog edit
  that a raw table created earlier does not follow is caught here).
- row_count_vs_previous: the month did not collapse against the month before (a truncated
  export), judged once the previous month had `min_previous_rows`.
- freshness: the month's latest date is at most `max_lag_days` before its last day (an export
  taken before the month ended).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pipelines.catalog.catalog import SourceTable
from pipelines.catalog.expectations import PROJECT_CHECKS, ExpectationEntry
from pipelines.ingest.raw_tables import SQL_TYPES, qualified_name
from pipelines.periods import Period
from pipelines.quality.outcomes import ERRORED, FAILED, PASSED, CheckOutcome
from pipelines.warehouse.connection import quote_identifier


@dataclass(frozen=True)
class MonthStats:
    """Rows and the latest date of a table's month in the warehouse."""

    rows: int
    latest: datetime | None


def month_stats(con, table: SourceTable, first: Period, last: Period) -> dict[str, MonthStats]:
    """Per month from the one before `first` to `last`: rows and latest date_column value."""
    date = quote_identifier(table.table.date_column)
    rows = con.execute(
        f"select strftime(_period, '%Y-%m'), count(*), max({date})::timestamp "
        f"from {qualified_name(table)} where _period >= ? and _period <= ? group by 1",
        [first.shift(-1).start, last.start]).fetchall()
    return {key: MonthStats(count, latest) for key, count, latest in rows}


def raw_column_types(con, table: SourceTable) -> dict[str, str]:
    """The raw table's column types as DuckDB names them."""
    return dict(con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'raw' and table_name = ?", [table.raw_name]).fetchall())


def _normal(sql_type: str) -> str:
    return sql_type.upper().replace(" ", "")


def held_as_declared(table: SourceTable, actual: dict[str, str]) -> set[str]:
    """The declared columns the raw table holds with their declared type (`actual`:
    raw_column_types)."""
    return {c.name for c in table.table.columns
            if _normal(actual.get(c.name, "")) == _normal(SQL_TYPES[c.type])}


def _column_types(table: SourceTable, actual: dict[str, str]) -> tuple[str, object, str | None]:
    held = held_as_declared(table, actual)
    wrong = {c.name: f"{actual.get(c.name) or 'missing'}, declared {c.type}"
             for c in table.table.columns if c.name not in held}
    observed = {c.name: actual.get(c.name) for c in table.table.columns}
    if not wrong:
        return PASSED, observed, None
    return FAILED, observed, "; ".join(f"{k}: {v}" for k, v in wrong.items())


def _row_count(kwargs: dict, period: Period, stats: dict) -> tuple[str, object, str | None]:
    rows = stats.get(period.key, MonthStats(0, None)).rows
    previous = stats.get(period.shift(-1).key, MonthStats(0, None)).rows
    observed = {"rows": rows, "previous_rows": previous}
    if previous == 0 or previous < kwargs.min_previous_rows:
        return PASSED, observed, None
    ratio = rows / previous
    observed["ratio"] = round(ratio, 4)
    if ratio >= kwargs.min_ratio:
        return PASSED, observed, None
    return FAILED, observed, (f"{rows} rows against {previous} the month before "
                              f"({ratio:.0%}; at least {kwargs.min_ratio:.0%} expected)")


def _freshness(kwargs, period: Period, latest: datetime | None) -> tuple[str, object, str | None]:
    if latest is None:
        return FAILED, {"latest": None}, "no rows (or no dates) this month"
    lag = (period.last_day - latest.date()).days
    observed = {"latest": latest.isoformat(), "lag_days": lag}
    if lag <= kwargs.max_lag_days:
        return PASSED, observed, None
    return FAILED, observed, (f"the latest date is {latest:%Y-%m-%d}, {lag} days before the "
                              f"month's end (at most {kwargs.max_lag_days} allowed): an export "
                              "taken before the month closed?")


def project_outcome(entry: ExpectationEntry, position: int, table: SourceTable, period: Period,
                    stats: dict, types: dict, latest: datetime | None) -> CheckOutcome:
    """The outcome of one project check for one month; one that raises is errored."""
    try:
        kwargs = PROJECT_CHECKS[entry.check].model_validate(entry.kwargs)
        if entry.check == "column_types":
            outcome, observed, message = _column_types(table, types)
        elif entry.check == "row_count_vs_previous":
            outcome, observed, message = _row_count(kwargs, period, stats)
        else:
            outcome, observed, message = _freshness(kwargs, period, latest)
    except Exception as exc:  # a check that raises is never a pass
        return CheckOutcome(period.key, position, entry, ERRORED,
                            message=f"the check raised {type(exc).__name__}: {exc}")
    return CheckOutcome(period.key, position, entry, outcome, observed, message=message)

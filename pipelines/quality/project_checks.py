"""The project checks: what a table's month is judged on that Great Expectations has no
expectation for. They read the warehouse, not the rows in pandas.

- column_types: the raw table has every declared column with the declared type (a catalog edit
  that a raw table created earlier does not follow is caught here).
- row_count_vs_previous: the month did not collapse against the month before (a truncated
  export), judged once the previous month had `min_previous_rows`.
- freshness: the month's latest date is at most `max_lag_days` before its last day (an export
  taken before the month ended).
- total_vs_previous: each named numeric column's total is within a ratio band of the median of
  its totals in the latest earlier months loaded (an export whose unit changed, kWh to MWh).
  Every month is judged against the warehouse's earlier months, so a backfill gives it the
  verdict it gets alone; the first month loaded has nothing to compare and passes.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime

from pipelines.catalog.catalog import SourceTable
from pipelines.catalog.expectations import (
    LOOKBACK_MONTHS,
    NUMERIC_TYPES,
    PROJECT_CHECKS,
    ExpectationEntry,
)
from pipelines.ingest.raw_tables import SQL_TYPES, qualified_name
from pipelines.periods import Period
from pipelines.quality.outcomes import ERRORED, FAILED, PASSED, CheckOutcome
from pipelines.warehouse.connection import quote_identifier


@dataclass(frozen=True)
class MonthStats:
    """Rows, the latest date and the totals (of the columns total_vs_previous names) of a
    table's month in the warehouse."""

    rows: int
    latest: datetime | None
    totals: dict[str, float | None] = field(default_factory=dict)


def _totalled(con, table: SourceTable) -> list[str]:
    """The columns total_vs_previous entries name that the raw table holds as declared numbers
    (another is left out: its check says so)."""
    named = {
        c
        for e in table.table.expectations
        if e.check == "total_vs_previous"
        for c in e.kwargs.get("columns", ())
    }
    if not named:
        return []
    held = held_as_declared(table, raw_column_types(con, table))
    return [
        c.name
        for c in table.table.columns
        if c.name in named and c.name in held and c.type in NUMERIC_TYPES
    ]


def month_stats(con, table: SourceTable, first: Period, last: Period) -> dict[str, MonthStats]:
    """Per month from the one before `first` (LOOKBACK_MONTHS before, when a total_vs_previous
    check needs them) to `last`: rows, latest date_column value and column totals."""
    date = quote_identifier(table.table.date_column)
    totalled = _totalled(con, table)
    sums = "".join(f", sum({quote_identifier(c)})::double" for c in totalled)
    back = LOOKBACK_MONTHS if totalled else 1
    rows = con.execute(
        f"select strftime(_period, '%Y-%m'), count(*), max({date})::timestamp{sums} "
        f"from {qualified_name(table)} where _period >= ? and _period <= ? group by 1",
        [first.shift(-back).start, last.start],
    ).fetchall()
    return {
        key: MonthStats(count, latest, dict(zip(totalled, totals, strict=True)))
        for key, count, latest, *totals in rows
    }


def raw_column_types(con, table: SourceTable) -> dict[str, str]:
    """The raw table's column types as DuckDB names them."""
    return dict(
        con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw' and table_name = ?",
            [table.raw_name],
        ).fetchall()
    )


def _normal(sql_type: str) -> str:
    return sql_type.upper().replace(" ", "")


def held_as_declared(table: SourceTable, actual: dict[str, str]) -> set[str]:
    """The declared columns the raw table holds with their declared type (`actual`:
    raw_column_types)."""
    return {
        c.name
        for c in table.table.columns
        if _normal(actual.get(c.name, "")) == _normal(SQL_TYPES[c.type])
    }


def _column_types(table: SourceTable, actual: dict[str, str]) -> tuple[str, object, str | None]:
    held = held_as_declared(table, actual)
    wrong = {
        c.name: f"{actual.get(c.name) or 'missing'}, declared {c.type}"
        for c in table.table.columns
        if c.name not in held
    }
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
    return (
        FAILED,
        observed,
        (
            f"{rows} rows against {previous} the month before "
            f"({ratio:.0%}; at least {kwargs.min_ratio:.0%} expected)"
        ),
    )


def _freshness(kwargs, period: Period, latest: datetime | None) -> tuple[str, object, str | None]:
    if latest is None:
        return FAILED, {"latest": None}, "no rows (or no dates) this month"
    lag = (period.last_day - latest.date()).days
    observed = {"latest": latest.isoformat(), "lag_days": lag}
    if lag <= kwargs.max_lag_days:
        return PASSED, observed, None
    return (
        FAILED,
        observed,
        (
            f"the latest date is {latest:%Y-%m-%d}, {lag} days before the "
            f"month's end (at most {kwargs.max_lag_days} allowed): an export "
            "taken before the month closed?"
        ),
    )


def _earlier_totals(column: str, period: Period, stats: dict, months: int) -> dict[str, float]:
    """The column's totals in the `months` latest months before `period` that hold a total,
    of the LOOKBACK_MONTHS before it."""
    earliest = period.shift(-LOOKBACK_MONTHS).key
    keys = sorted(
        (
            k
            for k, s in stats.items()
            if earliest <= k < period.key and s.totals.get(column) is not None
        ),
        reverse=True,
    )[:months]
    return {k: stats[k].totals[column] for k in sorted(keys)}


def _column_total(kwargs, column: str, period: Period, stats: dict) -> tuple[dict, str | None]:
    """One column's observed totals, and why it fails (None: it passes)."""
    month = stats.get(period.key)
    if month is not None and column not in month.totals:
        raise ValueError(f"column {column!r} is not held as a number in the raw table")
    total = month.totals[column] if month is not None else None
    earlier = _earlier_totals(column, period, stats, kwargs.months)
    observed = {"total": total, "previous": earlier}
    if total is None or not earlier:
        observed["note"] = (
            "no value this month"
            if total is None
            else "no earlier month loaded: nothing to compare"
        )
        return observed, None
    median = statistics.median(earlier.values())
    if median == 0:
        observed["note"] = "the earlier months total 0: nothing to compare"
        return observed, None
    ratio = total / median
    observed |= {"median": median, "ratio": round(ratio, 6)}
    if kwargs.min_ratio <= ratio <= kwargs.max_ratio:
        return observed, None
    return observed, (
        f"{column} totals {total:,.6g}, {ratio:.4g} times the median {median:,.6g} "
        f"of {', '.join(earlier)} (between {kwargs.min_ratio:g} and "
        f"{kwargs.max_ratio:g} expected): a change of unit?"
    )


def _total(kwargs, period: Period, stats: dict) -> tuple[str, object, str | None]:
    observed, problems = {}, []
    for column in kwargs.columns:
        observed[column], problem = _column_total(kwargs, column, period, stats)
        if problem:
            problems.append(problem)
    return (FAILED if problems else PASSED), observed, "; ".join(problems) or None


def project_outcome(
    entry: ExpectationEntry,
    position: int,
    table: SourceTable,
    period: Period,
    stats: dict,
    types: dict,
    latest: datetime | None,
) -> CheckOutcome:
    """The outcome of one project check for one month; one that raises is errored."""
    try:
        kwargs = PROJECT_CHECKS[entry.check].model_validate(entry.kwargs)
        if entry.check == "column_types":
            outcome, observed, message = _column_types(table, types)
        elif entry.check == "row_count_vs_previous":
            outcome, observed, message = _row_count(kwargs, period, stats)
        elif entry.check == "total_vs_previous":
            outcome, observed, message = _total(kwargs, period, stats)
        else:
            outcome, observed, message = _freshness(kwargs, period, latest)
    except Exception as exc:  # a check that raises is never a pass
        return CheckOutcome(
            period.key,
            position,
            entry,
            ERRORED,
            message=f"the check raised {type(exc).__name__}: {exc}",
        )
    return CheckOutcome(period.key, position, entry, outcome, observed, message=message)

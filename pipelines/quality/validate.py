"""Validate a source table's months: every expectation of the catalog, one outcome per month.

Great Expectations validates each month's rows as a DataFrame, and every month gets exactly the
verdict it would get alone, however many months one call covers. Over several months (a
backfill), the shortcuts (pipelines.quality.shortcuts) first show entries to pass in every month
on far fewer rows: uniqueness on value hashes, text columns on their distinct values, bounds and
nulls on each column's extremes, column comparisons on their closest rows, row counts in the
smallest and largest months. Only what is left needs the rows, fetched in runs of at most
ROWS_PER_PASS rows (none at all when nothing is left): the row-by-row expectations are validated
once over a run's months and again only in the months holding their unexpected rows; bounds by
a month's dates once over the run, as comparisons with each row's month dates; the rest (a
month's row count against bounds with parameters, say) month by month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from pipelines.catalog.catalog import SourceTable
from pipelines.catalog.expectations import ExpectationEntry, parameters, referenced_columns
from pipelines.periods import Period, months_between
from pipelines.quality.frames import (
    PERIOD,
    fetch_frame,
    month_key,
    month_runs,
    needed_columns,
    reads_rows,
    row_counts,
    split_periods,
)
from pipelines.quality.ge_runner import (
    BOOLEAN,
    COMPLETE,
    SAMPLE_SIZE,
    SUMMARY,
    GeResult,
    GeValidator,
)
from pipelines.quality.outcomes import (
    ERRORED,
    FAILED,
    PASSED,
    CheckOutcome,
    TableVerdict,
    json_safe,
)
from pipelines.quality.project_checks import month_stats, project_outcome, raw_column_types
from pipelines.quality.shortcuts import pass_with_month_dates, passing, row_counts_between

ROWS_PER_PASS = 1_500_000  # rows fetched together at most: bounds memory on long backfills


def _sample(table: SourceTable, entry: ExpectationEntry, part: pd.DataFrame,
            indexes: list) -> tuple[dict, ...]:
    shown = [*table.table.key, table.table.date_column, *referenced_columns(entry)]
    shown = [c for c in dict.fromkeys(shown) if c in part.columns]
    rows = part.loc[[i for i in indexes[:SAMPLE_SIZE] if i in part.index], shown]
    return tuple(json_safe(r) for r in rows.to_dict("records"))


def ge_outcome(table: SourceTable, position: int, entry: ExpectationEntry, period: str,
               answer: GeResult, part: pd.DataFrame) -> CheckOutcome:
    """A GE answer for one month as a CheckOutcome, with offending rows and a message."""
    if answer.error:
        return CheckOutcome(period, position, entry, ERRORED, message=answer.error)
    result = answer.result
    unexpected, elements = result.get("unexpected_count"), result.get("element_count")
    observed = result.get("observed_value")
    if observed is None and unexpected:
        observed = result.get("partial_unexpected_list", [])[:SAMPLE_SIZE]
    if answer.success:
        return CheckOutcome(period, position, entry, PASSED, json_safe(observed), unexpected,
                            elements)
    indexes = result.get("partial_unexpected_index_list") or []
    indexes = [i for i in indexes if isinstance(i, int | float)]
    message = (f"{unexpected:,} of {elements:,} rows unexpected" if unexpected is not None
               and elements is not None else f"observed {json_safe(observed)}")
    return CheckOutcome(period, position, entry, FAILED, json_safe(observed), unexpected,
                        elements, _sample(table, entry, part, indexes), message)


def _across_months(ge: GeValidator, frame: pd.DataFrame, rest: dict, parts: dict,
                   params: dict) -> dict[str, set[int]]:
    """Validate the row-by-row entries once over the months' rows; per month, the entries to
    validate again on its own rows: one that fails, in the months holding its unexpected rows;
    one that raised, in every month."""
    again: dict[str, set[int]] = {key: set() for key in parts}
    answers = ge.run(frame, rest, params, BOOLEAN)
    failing = {p: rest[p] for p, a in answers.items() if not a.success and not a.error}
    if failing:  # where are their unexpected rows?
        answers |= ge.run(frame, failing, params, COMPLETE)
    for position, answer in answers.items():
        if answer.success:
            continue
        indexes = answer.result.get("unexpected_index_list")
        months = ({month_key(c) for c in set(frame.loc[indexes, PERIOD])}
                  if indexes is not None and not answer.error else set(parts))
        for key in months & again.keys():
            again[key].add(position)
    return again


def _in_month(ge: GeValidator, table: SourceTable, todo: dict, period: Period,
              part: pd.DataFrame, as_of: datetime) -> dict[int, CheckOutcome]:
    """Validate entries on one month: a cheap pass/fail first, details for the failures."""
    if not todo:
        return {}
    answers = ge.run(part, todo, parameters(period, as_of), BOOLEAN)
    failing = {p: todo[p] for p, a in answers.items() if not a.success}
    if failing:
        answers |= ge.run(part, failing, parameters(period, as_of), SUMMARY)
    return {p: ge_outcome(table, p, todo[p], period.key, a, part) for p, a in answers.items()}


def validate_table(con, table: SourceTable, first: Period, last: Period, as_of: datetime,
                   ge: GeValidator, rejected: dict[str, int] | None = None) -> list[TableVerdict]:
    """Run every expectation of `table` on each month first..last; one verdict per month.

    The shortcuts and row counts are settled over the whole range at once. The rows, where
    still needed, are fetched and validated in passes of at most ROWS_PER_PASS rows: each
    month's verdict is the one it gets alone either way, and the rows held in memory stay
    bounded, whatever the range (a 36-month backfill of the scale-10 demo peaked near 2 GB in
    one pass)."""
    months = months_between(first, last)
    types = raw_column_types(con, table)
    stats = month_stats(con, table, first, last)
    counts = {p.key: stats[p.key].rows if p.key in stats else 0 for p in months}
    entries = dict(enumerate(table.table.expectations))
    by_ge = {i: e for i, e in entries.items() if e.expectation}
    whole = ({i: e for i, e in by_ge.items() if ge.decomposable(e)}
             if sum(counts.values()) else {})
    params = parameters(first, as_of)
    passed = passing(con, ge, table, whole, months, counts, params, types) if whole else set()
    counted = row_counts_between(ge, by_ge, row_counts(counts), params)
    monthly = {i: e for i, e in by_ge.items() if i not in whole and i not in counted}
    settled = Settled(whole, passed, counted, monthly)
    verdicts = []
    for run in month_runs(months, counts, ROWS_PER_PASS):
        rows = _rows(con, ge, table, run, counts, as_of, settled)
        for period in run:
            latest = stats[period.key].latest if period.key in stats else None
            outcomes = _month(ge, table, period, rows, as_of, settled, stats, types, latest)
            lag = (period.last_day - latest.date()).days if latest else None
            verdicts.append(TableVerdict(
                period.key, table.key, counts[period.key],
                tuple(outcomes[i] for i in sorted(outcomes)),
                (rejected or {}).get(period.key, 0), latest, lag))
    return verdicts


@dataclass(frozen=True)
class Settled:
    """What the whole range settles: `whole`, the entries validated over many months at once;
    `passed`, those of them a shortcut showed to pass; `counted`, the row counts shown to pass
    in every month (pipelines.quality.shortcuts); `monthly`, the GE entries left to validate
    month by month."""

    whole: dict[int, ExpectationEntry]
    passed: set[int]
    counted: set[int]
    monthly: dict[int, ExpectationEntry]


@dataclass(frozen=True)
class RunRows:
    """A run of months' rows (`parts`, frames of their row counts when no entry needs them),
    per month the entries of `whole` to validate again on its rows, and the month-by-month
    entries shown to pass in every month of the run."""

    parts: dict[str, pd.DataFrame]
    again: dict[str, set[int]]
    passed: set[int] = frozenset()


def _rows(con, ge: GeValidator, table: SourceTable, run: list[Period], counts: dict[str, int],
          as_of: datetime, settled: Settled) -> RunRows:
    """The run's rows, fetched only if an entry still needs them, and what they settle."""
    rest = {i: e for i, e in settled.whole.items() if i not in settled.passed}
    freshness = any(e.check == "freshness" and e.kwargs.get("column")
                    for e in table.table.expectations)
    if not (rest or any(reads_rows(e) for e in settled.monthly.values()) or freshness):
        return RunRows(row_counts({p.key: counts[p.key] for p in run}),
                       {p.key: set() for p in run})
    frame = fetch_frame(con, table,
                        needed_columns(table, leave_out=settled.passed | settled.counted),
                        run[0], run[-1])
    parts = split_periods(frame)
    parts = {p.key: parts.get(p.key, frame.iloc[0:0]) for p in run}
    dated = pass_with_month_dates(ge, frame, settled.monthly, as_of)
    if not rest or len(run) == 1:  # one month: validated on its own rows below
        return RunRows(parts, {p.key: set(rest) for p in run}, dated)
    return RunRows(parts, _across_months(ge, frame, rest, parts, parameters(run[0], as_of)),
                   dated)


def _month(ge: GeValidator, table: SourceTable, period: Period, rows: RunRows, as_of: datetime,
           settled: Settled, stats: dict, types: dict[str, str],
           latest: datetime | None) -> dict[int, CheckOutcome]:
    """Every outcome of one month: those settled over the range or the run, the month-by-month
    entries and those to validate again on its rows, and the project checks (`latest`: the
    month's latest date)."""
    entries = dict(enumerate(table.table.expectations))
    part, again = rows.parts[period.key], rows.again[period.key]
    outcomes = {p: CheckOutcome(period.key, p, entries[p], PASSED, None, 0, len(part))
                for p in settled.whole if p not in again}
    outcomes |= {p: CheckOutcome(period.key, p, entries[p], PASSED)
                 for p in settled.counted | rows.passed}
    todo = {i: e for i, e in settled.monthly.items() if i not in rows.passed}
    outcomes |= _in_month(ge, table, todo | {i: entries[i] for i in again}, period, part, as_of)
    for position, entry in entries.items():
        if entry.check:
            column = entry.kwargs.get("column")
            seen = (part[column].max() if len(part) else None) if column else latest
            outcomes[position] = project_outcome(
                entry, position, table, period, stats, types,
                None if pd.isna(seen) else pd.Timestamp(seen).to_pydatetime())
    return outcomes


def errored_verdicts(table: SourceTable, periods: list[Period], rows: dict[str, int],
                     message: str) -> list[TableVerdict]:
    """Every expectation of the table errored in each month (the validation could not run)."""
    return [TableVerdict(p.key, table.key, rows.get(p.key, 0), tuple(
        CheckOutcome(p.key, i, e, ERRORED, message=message)
        for i, e in enumerate(table.table.expectations))) for p in periods]

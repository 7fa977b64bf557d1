"""Validate a source table's months: every expectation of the catalog, one outcome per month.

Great Expectations validates each month's rows as a DataFrame. A run over many months (a
backfill) first validates the row-by-row expectations once over all the months' rows: an
expectation that passes there passes in every month, and one that fails is validated again only
in the months holding its unexpected rows, so every month gets exactly the verdict it would get
alone. Expectations about a month as a whole (row counts, a month's dates as parameters) are
validated month by month. Before that pass over many months, shortcuts
(pipelines.quality.shortcuts) show some entries to pass on far fewer rows: a column's uniqueness
on hashes of its values, a check of text columns on their distinct values, row-count bounds in
the smallest and largest months. The columns only such entries name are then not fetched.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from pipelines.catalog.catalog import SourceTable
from pipelines.catalog.expectations import ExpectationEntry, referenced_columns
from pipelines.periods import Period, months_between
from pipelines.quality.frames import (
    PERIOD,
    fetch_frame,
    month_key,
    needed_columns,
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
from pipelines.quality.shortcuts import (
    pass_on_distinct_values,
    row_counts_between,
    unique_on_hashes,
)

MONTHS_PER_PASS = 12  # months validated together: bounds memory on long backfills


def parameters(period: Period, as_of: datetime) -> dict:
    """The values of {$PARAMETER: ...} for a month (see pipelines.catalog.expectations)."""
    return {"period_start": datetime.combine(period.start, datetime.min.time()),
            "period_end": datetime.combine(period.last_day, datetime.min.time()),
            "next_period_start": datetime.combine(period.end, datetime.min.time()),
            "as_of": as_of}


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


def _across_months(ge: GeValidator, frame: pd.DataFrame, entries: dict, parts: dict,
                   as_of: datetime, first: Period, passed: set[int]) -> tuple[dict, dict]:
    """Validate the row-by-row entries once over all months: outcomes for the months where
    that settles them, and per month the entries to validate again there. `passed`: entries
    already shown to pass over all months (pipelines.quality.shortcuts)."""
    settled: dict[str, dict[int, CheckOutcome]] = {key: {} for key in parts}
    again: dict[str, set[int]] = {key: set() for key in parts}
    answers = {p: GeResult(True) for p in passed}
    rest = {p: e for p, e in entries.items() if p not in passed}
    if rest:
        answers |= ge.run(frame, rest, parameters(first, as_of), BOOLEAN)
    failing = {p: entries[p] for p, a in answers.items() if not a.success}
    if failing:  # where are their unexpected rows?
        answers |= ge.run(frame, failing, parameters(first, as_of), COMPLETE)
    for position, answer in answers.items():
        entry = entries[position]
        indexes = answer.result.get("unexpected_index_list")
        months = ({month_key(c) for c in set(frame.loc[indexes, PERIOD])}
                  if indexes is not None and not answer.success
                  else set(parts))
        for key, part in parts.items():
            if answer.error:
                settled[key][position] = CheckOutcome(key, position, entry, ERRORED,
                                                      message=answer.error)
            elif answer.success or key not in months:
                settled[key][position] = CheckOutcome(key, position, entry, PASSED, None, 0,
                                                      len(part))
            else:
                again[key].add(position)
    return settled, again


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

    A long range is validated a year at a time: each month's verdict is the one it gets alone
    either way, and the rows held in memory stay a year's, whatever the range (a 36-month
    backfill of the scale-10 demo peaked near 2 GB in one pass)."""
    months = months_between(first, last)
    types = raw_column_types(con, table)
    verdicts = []
    for start in range(0, len(months), MONTHS_PER_PASS):
        span = months[start:start + MONTHS_PER_PASS]
        verdicts += _validate_span(con, table, span[0], span[-1], as_of, ge, rejected, types)
    return verdicts


def _shortcuts(con, ge: GeValidator, table: SourceTable, whole: dict, first: Period,
               last: Period, as_of: datetime, rows: int, types: dict[str, str]) -> set[int]:
    """The row-by-row entries a shortcut shows to pass in every month of the span."""
    params = parameters(first, as_of)
    passed = unique_on_hashes(con, ge, table, whole, first, last, params)
    plain = {p: e for p, e in whole.items() if p not in passed and "row_condition" not in e.kwargs}
    return passed | pass_on_distinct_values(con, ge, table, plain, first, last, params, rows,
                                            types)


def _validate_span(con, table: SourceTable, first: Period, last: Period, as_of: datetime,
                   ge: GeValidator, rejected: dict[str, int] | None,
                   types: dict[str, str]) -> list[TableVerdict]:
    months = months_between(first, last)
    entries = dict(enumerate(table.table.expectations))
    by_ge = {i: e for i, e in entries.items() if e.expectation}
    stats = month_stats(con, table, first, last)
    rows = sum(stats[p.key].rows for p in months if p.key in stats)
    whole = ({i: e for i, e in by_ge.items() if ge.decomposable(e)}
             if len(months) > 1 and rows else {})
    passed = (_shortcuts(con, ge, table, whole, first, last, as_of, rows, types) if whole
              else set())
    frame = fetch_frame(con, table, needed_columns(table, leave_out=passed), first, last)
    parts = split_periods(frame)
    parts = {p.key: parts.get(p.key, frame.iloc[0:0]) for p in months}
    settled, again = (_across_months(ge, frame, whole, parts, as_of, first, passed) if whole
                      else ({p.key: {} for p in months}, {p.key: set() for p in months}))
    counted = row_counts_between(ge, by_ge, parts, parameters(first, as_of))
    for key, outcomes in settled.items():
        outcomes |= {p: CheckOutcome(key, p, by_ge[p], PASSED) for p in counted}
    verdicts = []
    for period in months:
        part, outcomes = parts[period.key], settled[period.key]
        todo = {i: e for i, e in by_ge.items()
                if i not in counted and (i not in whole or i in again[period.key])}
        outcomes |= _in_month(ge, table, todo, period, part, as_of)
        latest = stats.get(period.key).latest if period.key in stats else None
        for position, entry in entries.items():
            if entry.check:
                column = entry.kwargs.get("column")
                seen = (part[column].max() if len(part) else None) if column else latest
                outcomes[position] = project_outcome(
                    entry, position, table, period, stats, types,
                    None if pd.isna(seen) else pd.Timestamp(seen).to_pydatetime())
        lag = (period.last_day - latest.date()).days if latest else None
        verdicts.append(TableVerdict(
            period.key, table.key, len(part), tuple(outcomes[i] for i in sorted(outcomes)),
            (rejected or {}).get(period.key, 0), latest, lag))
    return verdicts


def errored_verdicts(table: SourceTable, periods: list[Period], rows: dict[str, int],
                     message: str) -> list[TableVerdict]:
    """Every expectation of the table errored in each month (the validation could not run)."""
    return [TableVerdict(p.key, table.key, rows.get(p.key, 0), tuple(
        CheckOutcome(p.key, i, e, ERRORED, message=message)
        for i, e in enumerate(table.table.expectations))) for p in periods]

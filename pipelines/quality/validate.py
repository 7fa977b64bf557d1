"""Validate a source table's months: every expectation of the catalog, one outcome per month.

Great Expectations validates each month's rows as a DataFrame. A run over many months (a
backfill) first validates the row-by-row expectations once over all the months' rows: an
expectation that passes there passes in every month, and one that fails is validated again only
in the months holding its unexpected rows, so every month gets exactly the verdict it would get
alone. Expectations about a month as a whole (row counts, a month's dates as parameters) are
validated month by month, except plain row-count bounds, which a pass in the span's smallest and
largest months settles (`_row_counts_between`). In that pass over many months, a column's
uniqueness is first checked on hashes of its values (`_unique_on_hashes`), several times faster,
and on the values only if two hashes are equal.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import pandas as pd

from pipelines.catalog.catalog import SourceTable
from pipelines.catalog.expectations import (
    ExpectationEntry,
    parameter_names,
    referenced_columns,
)
from pipelines.periods import Period, months_between
from pipelines.quality.frames import (
    PERIOD,
    fetch_frame,
    fetch_value_hashes,
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

MONTHS_PER_PASS = 12  # months validated together: bounds memory on long backfills
UNIQUE = "expect_column_values_to_be_unique"
ROW_COUNT = "expect_table_row_count_to_be_between"


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


def _unique_on_hashes(con, ge: GeValidator, table: SourceTable, entries: dict, first: Period,
                      last: Period, as_of: datetime) -> set[int]:
    """The plain uniqueness entries that pass on their column's value hashes over the months
    (frames.fetch_value_hashes): they pass on the values too. The others are validated on the
    values as usual (a hash shared by two values only sends the entry there)."""
    passed = set()
    for position, entry in entries.items():
        if entry.expectation == UNIQUE and set(entry.kwargs) == {"column"}:
            try:
                hashes = fetch_value_hashes(con, table, entry.kwargs["column"], first, last)
            except duckdb.Error:  # no such column, say: GE says so on the values
                continue
            answer = ge.run(hashes, {position: entry}, parameters(first, as_of), BOOLEAN)
            if answer[position].success:
                passed.add(position)
    return passed


def _row_counts_between(ge: GeValidator, entries: dict, parts: dict, as_of: datetime) -> set[int]:
    """The plain row-count bounds (numbers, no parameters) that pass in the months with the
    fewest and the most rows: they pass in every month. GE's verdict on a month is then a
    function of its row count alone, true on an interval of counts, so it holds for every count
    between two that pass. The others are validated month by month as usual."""
    plain = {p: e for p, e in entries.items() if e.expectation == ROW_COUNT
             and set(e.kwargs) <= {"min_value", "max_value"} and not parameter_names(e.kwargs)}
    if not plain or len(parts) < 3:
        return set()
    sizes = {key: len(part) for key, part in parts.items()}
    passed = set(plain)
    for key in {min(sizes, key=sizes.get), max(sizes, key=sizes.get)}:
        answers = ge.run(parts[key], plain, parameters(Period.parse(key), as_of), BOOLEAN)
        passed &= {p for p, answer in answers.items() if answer.success}
    return passed


def _across_months(ge: GeValidator, frame: pd.DataFrame, entries: dict, parts: dict,
                   as_of: datetime, first: Period, unique: set[int]) -> tuple[dict, dict]:
    """Validate the row-by-row entries once over all months: outcomes for the months where
    that settles them, and per month the entries to validate again there. `unique`: entries
    already shown to pass over all months (`_unique_on_hashes`)."""
    settled: dict[str, dict[int, CheckOutcome]] = {key: {} for key in parts}
    again: dict[str, set[int]] = {key: set() for key in parts}
    answers = {p: GeResult(True) for p in unique}
    rest = {p: e for p, e in entries.items() if p not in unique}
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
    verdicts = []
    for start in range(0, len(months), MONTHS_PER_PASS):
        span = months[start:start + MONTHS_PER_PASS]
        verdicts += _validate_span(con, table, span[0], span[-1], as_of, ge, rejected)
    return verdicts


def _validate_span(con, table: SourceTable, first: Period, last: Period, as_of: datetime,
                   ge: GeValidator, rejected: dict[str, int] | None) -> list[TableVerdict]:
    months = months_between(first, last)
    entries = dict(enumerate(table.table.expectations))
    by_ge = {i: e for i, e in entries.items() if e.expectation}
    frame = fetch_frame(con, table, needed_columns(table), first, last)
    parts = split_periods(frame)
    parts = {p.key: parts.get(p.key, frame.iloc[0:0]) for p in months}
    whole = ({i: e for i, e in by_ge.items() if ge.decomposable(e)}
             if len(months) > 1 and len(frame) else {})
    unique = _unique_on_hashes(con, ge, table, whole, first, last, as_of) if whole else set()
    settled, again = (_across_months(ge, frame, whole, parts, as_of, first, unique) if whole
                      else ({p.key: {} for p in months}, {p.key: set() for p in months}))
    counted = _row_counts_between(ge, by_ge, parts, as_of)
    for key, outcomes in settled.items():
        outcomes |= {p: CheckOutcome(key, p, by_ge[p], PASSED) for p in counted}
    stats, types = month_stats(con, table, first, last), raw_column_types(con, table)
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

"""Shortcuts of a validation over many months: expectations shown to pass in every month of the
span on far less than the span's rows, each still decided by Great Expectations.

Each function returns the positions of the entries it shows to pass. Every other entry (one
that fails here, or does not qualify) is validated the usual way (pipelines.quality.validate),
so a month's verdict is always the one it gets alone; a shortcut only ever settles a pass.

- `unique_on_hashes`: a column's uniqueness on 63-bit hashes of its values. Distinct hashes
  are distinct values; pandas finds duplicates among integers ten times faster than among text.
- `pass_on_distinct_values`: a row-by-row expectation on one text column (outside the table's
  key) on the distinct values of that column. A row's verdict is a function of its value in the
  column the expectation names, so every row passes when every distinct value passes; a few
  categories stand for millions of rows, and the text never has to reach pandas.
- `pass_on_extremes`: a column's bounds (`expect_column_values_to_be_between`) and nulls
  (`..._to_not_be_null`, `..._to_be_null`) on three rows: its smallest value, its largest, and
  a null if it holds one. A row passes bounds when its value lies in an interval, and the null
  checks on whether it is null, so every row passes when those three do.
- `pass_on_closest_pairs`: `expect_column_pair_values_a_to_be_greater_than_b` on the row where
  a - b is smallest, plus one row of each pattern of nulls: a row passes when a - b is at least
  (or above) zero, or on its nulls alone, so every row passes when those do.
- `pass_with_month_dates`: a column's bounds by the month's dates (`{$PARAMETER: period_end}`
  and the like) over many months at once, each such bound as a comparison of the column with
  a column of each row's own month date (`expect_column_pair_values_a_to_be_greater_than_b`,
  skipping nulls as bounds skip them). A row passes the one when it passes the other, so the
  bounds hold in every month when the comparisons hold on all the months' rows.
- `row_counts_between`: plain row-count bounds in the months with the fewest and the most rows.
  The verdict is then a function of the month's row count alone, true on an interval of
  counts, so it holds for every count between two that pass.

The shortcuts on values apply to spans of at least MIN_ROWS rows (on fewer, the extra query and
GE run cost more than they save), to entries with no arguments but those named (a `mostly`, a
`row_condition` and the like go the usual way), and to columns the raw table holds with their
declared type (project_checks.held_as_declared): a drifted column goes the usual way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.catalog.catalog import SourceTable
from pipelines.catalog.expectations import (
    MONTH_DATES,
    ExpectationEntry,
    parameter_names,
    parameters,
    referenced_columns,
)
from pipelines.periods import Period
from pipelines.quality.frames import (
    ORDERED_TYPES,
    PAIR_TYPES,
    PERIOD,
    fetch_closest_pairs,
    fetch_distinct_values,
    fetch_extremes,
    fetch_value_hashes,
    month_key,
    month_runs,
)
from pipelines.quality.ge_runner import BOOLEAN, GeValidator
from pipelines.quality.project_checks import held_as_declared

UNIQUE = "expect_column_values_to_be_unique"
ROW_COUNT = "expect_table_row_count_to_be_between"
# Expectations whose verdict on a row is a function of that row's values in the columns named.
BY_ROW_VALUES = frozenset({
    "expect_column_values_to_be_in_set", "expect_column_values_to_not_be_in_set",
    "expect_column_values_to_match_regex", "expect_column_values_to_not_match_regex",
    "expect_column_values_to_match_regex_list", "expect_column_values_to_not_match_regex_list",
    "expect_column_values_to_match_like_pattern",
    "expect_column_values_to_not_match_like_pattern",
    "expect_column_values_to_not_be_null", "expect_column_values_to_be_null",
    "expect_column_value_lengths_to_be_between", "expect_column_value_lengths_to_equal",
    "expect_column_values_to_be_between",
})
BETWEEN = "expect_column_values_to_be_between"
# The entries settled on a column's extremes, with the arguments they may have.
ON_EXTREMES = {BETWEEN: {"column", "min_value", "max_value", "strict_min", "strict_max"},
               "expect_column_values_to_not_be_null": {"column"},
               "expect_column_values_to_be_null": {"column"}}
PAIR = "expect_column_pair_values_a_to_be_greater_than_b"
PAIR_ARGUMENTS = {"column_A", "column_B", "or_equal", "ignore_row_if"}
MIN_ROWS = 100_000
# Rows whose hashes are checked in one GE run: pandas finds duplicates among 100,000 int64 in
# 28 ns a row and among 4 million in 138 (the hash table no longer fits the caches).
HASHES_PER_RUN = 300_000


def _passed(answers: dict) -> set[int]:
    return {position for position, answer in answers.items() if answer.success}


def plain_unique(entry: ExpectationEntry) -> bool:
    """A column's uniqueness with no other argument."""
    return entry.expectation == UNIQUE and set(entry.kwargs) == {"column"}


def unique_on_hashes(con, ge: GeValidator, table: SourceTable, entries: dict,
                     months: list[Period], counts: dict[str, int], params: dict,
                     held: set[str]) -> set[int]:
    """The plain uniqueness entries that pass on their column's value hashes
    (frames.fetch_value_hashes) in each run of months of at most HASHES_PER_RUN rows: they pass
    on the values of each month too."""
    passed = set()
    for position, entry in entries.items():
        if plain_unique(entry) and entry.kwargs["column"] in held:
            for run in month_runs(months, counts, HASHES_PER_RUN):
                hashes = fetch_value_hashes(con, table, entry.kwargs["column"], run[0], run[-1])
                if not ge.run(hashes, {position: entry}, params, BOOLEAN)[position].success:
                    break
            else:
                passed.add(position)
    return passed


def pass_on_distinct_values(con, ge: GeValidator, table: SourceTable, entries: dict,
                            first: Period, last: Period, params: dict,
                            held: set[str]) -> set[int]:
    """The row-by-row entries on one text column outside the key that pass on the distinct
    values of their columns over the months (frames.fetch_distinct_values), in one GE run:
    they pass on every row. `held`: the columns the raw table holds as declared."""
    text = ({c.name for c in table.table.columns if c.type == "varchar"} & held
            - set(table.table.key))
    single = {p: e for p, e in entries.items() if e.expectation in BY_ROW_VALUES
              and len(set(referenced_columns(e))) == 1 and referenced_columns(e)[0] in text}
    if not single:
        return set()
    columns = sorted({referenced_columns(e)[0] for e in single.values()})
    values = fetch_distinct_values(con, table, columns, first, last)
    return _passed(ge.run(values, single, params, BOOLEAN))


def pass_on_extremes(con, ge: GeValidator, table: SourceTable, entries: dict, first: Period,
                     last: Period, params: dict, held: set[str]) -> set[int]:
    """The bounds of ordered columns and the null checks of any column that pass on each
    column's smallest and largest value and a null if it holds one (frames.fetch_extremes),
    in one GE run: they pass on every row."""
    ordered = {c.name for c in table.table.columns if c.type in ORDERED_TYPES} & held
    chosen = {p: e for p, e in entries.items() if e.expectation in ON_EXTREMES
              and set(e.kwargs) <= ON_EXTREMES[e.expectation]
              and e.kwargs.get("column") in (ordered if e.expectation == BETWEEN else held)}
    if not chosen:
        return set()
    columns = sorted({e.kwargs["column"] for e in chosen.values()})
    return _passed(ge.run(fetch_extremes(con, table, columns, first, last), chosen, params,
                          BOOLEAN))


def pass_on_closest_pairs(con, ge: GeValidator, table: SourceTable, entries: dict,
                          first: Period, last: Period, params: dict, held: set[str]) -> set[int]:
    """The a > b (or >=) comparisons of two columns of one ordered type that pass on the row
    where a - b is smallest and a row of each pattern of nulls (frames.fetch_closest_pairs):
    they pass on every row."""
    types = {c.name: c.type for c in table.table.columns if c.name in held}
    passed = set()
    for position, entry in entries.items():
        a, b = entry.kwargs.get("column_A"), entry.kwargs.get("column_B")
        if (entry.expectation == PAIR and set(entry.kwargs) <= PAIR_ARGUMENTS
                and types.get(a) in PAIR_TYPES and types.get(b) == types.get(a)):
            rows = fetch_closest_pairs(con, table, a, b, first, last)
            passed |= _passed(ge.run(rows, {position: entry}, params, BOOLEAN))
    return passed


def passing(con, ge: GeValidator, table: SourceTable, entries: dict, months: list[Period],
            counts: dict[str, int], params: dict, types: dict[str, str]) -> set[int]:
    """The row-by-row `entries` a shortcut shows to pass in every one of `months`: `counts`,
    each month's rows; `types`, the raw table's column types (project_checks.raw_column_types).
    """
    if sum(counts.values()) < MIN_ROWS:
        return set()
    held = held_as_declared(table, types)
    first, last = months[0], months[-1]
    passed = unique_on_hashes(con, ge, table, entries, months, counts, params, held)
    for shortcut in (pass_on_distinct_values, pass_on_extremes, pass_on_closest_pairs):
        plain = {p: e for p, e in entries.items()
                 if p not in passed and "row_condition" not in e.kwargs}
        if plain:
            passed |= shortcut(con, ge, table, plain, first, last, params, held)
    return passed


def row_counts_between(ge: GeValidator, entries: dict, parts: dict[str, pd.DataFrame],
                       params: dict) -> set[int]:
    """The plain row-count bounds (numbers, no parameters) that pass in the months (`parts`)
    with the fewest and the most rows: they pass in every month."""
    plain = {p: e for p, e in entries.items() if e.expectation == ROW_COUNT
             and set(e.kwargs) <= {"min_value", "max_value"} and not parameter_names(e.kwargs)}
    if not plain or len(parts) < 3:
        return set()
    sizes = {key: len(part) for key, part in parts.items()}
    passed = set(plain)
    for key in {min(sizes, key=sizes.get), max(sizes, key=sizes.get)}:
        passed &= _passed(ge.run(parts[key], plain, params, BOOLEAN))
    return passed


def _month_date(bound) -> str | None:
    """The month's date a bound is (`{$PARAMETER: period_end}` is 'period_end'), if it is one."""
    if isinstance(bound, dict) and set(bound) == {"$PARAMETER"}:
        return bound["$PARAMETER"] if bound["$PARAMETER"] in MONTH_DATES else None
    return None


def _as_comparisons(entry: ExpectationEntry) -> list[ExpectationEntry]:
    """A bounds entry with the month's dates as comparisons with columns of those dates
    (`__period_end__`, say), and its other bounds as a bounds entry of their own."""
    column, kwargs = entry.kwargs["column"], entry.kwargs
    rewritten, kept = [], {}
    for bound, strict, lower in (("min_value", "strict_min", True),
                                 ("max_value", "strict_max", False)):
        name = _month_date(kwargs.get(bound))
        if name is None:
            kept |= {k: kwargs[k] for k in (bound, strict) if k in kwargs}
            continue
        dates = f"__{name}__"
        rewritten.append(ExpectationEntry(expectation=PAIR, severity=entry.severity, kwargs={
            "column_A": column if lower else dates, "column_B": dates if lower else column,
            "or_equal": not kwargs.get(strict, False),
            "ignore_row_if": "either_value_is_missing"}))
    if kept.keys() & {"min_value", "max_value"}:
        rewritten.append(ExpectationEntry(expectation=BETWEEN, severity=entry.severity,
                                          kwargs={"column": column, **kept}))
    return rewritten


def pass_with_month_dates(ge: GeValidator, frame: pd.DataFrame, entries: dict,
                          as_of) -> set[int]:
    """The bounds entries with a month's dates as bounds that hold in every month of the
    (fetch_frame) `frame`, validated in one GE run as comparisons with columns of each row's
    month dates."""
    chosen = {p: e for p, e in entries.items() if e.expectation == BETWEEN
              and set(e.kwargs) <= ON_EXTREMES[BETWEEN]
              and any(_month_date(e.kwargs.get(b)) for b in ("min_value", "max_value"))}
    codes = frame[PERIOD].to_numpy()
    if not chosen or len(codes) == 0 or codes[0] == codes[-1]:
        return set()
    present = np.unique(codes)
    months = [parameters(Period.parse(month_key(code)), as_of) for code in present.tolist()]
    rows = np.searchsorted(present, codes)
    dated = frame.copy(deep=False)
    for name in MONTH_DATES:
        dated[f"__{name}__"] = np.array([m[name] for m in months], "datetime64[ns]")[rows]
    rewritten = [(p, e) for p, entry in chosen.items() for e in _as_comparisons(entry)]
    answers = ge.run(dated, {k: e for k, (_, e) in enumerate(rewritten)}, months[0], BOOLEAN)
    return set(chosen) - {rewritten[k][0] for k, a in answers.items() if not a.success}

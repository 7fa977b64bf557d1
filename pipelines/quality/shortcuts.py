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
  categories stand for millions of rows, and the text never has to reach pandas. Only spans of
  at least MIN_ROWS_FOR_DISTINCT rows: on fewer, the extra query and GE run cost more than
  they save.
- `row_counts_between`: plain row-count bounds in the months with the fewest and the most rows.
  The verdict is then a function of the month's row count alone, true on an interval of
  counts, so it holds for every count between two that pass.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from pipelines.catalog.catalog import SourceTable
from pipelines.catalog.expectations import ExpectationEntry, parameter_names, referenced_columns
from pipelines.periods import Period
from pipelines.quality.frames import fetch_distinct_values, fetch_value_hashes
from pipelines.quality.ge_runner import BOOLEAN, GeValidator

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
MIN_ROWS_FOR_DISTINCT = 100_000


def _passed(answers: dict) -> set[int]:
    return {position for position, answer in answers.items() if answer.success}


def plain_unique(entry: ExpectationEntry) -> bool:
    """A column's uniqueness with no other argument."""
    return entry.expectation == UNIQUE and set(entry.kwargs) == {"column"}


def unique_on_hashes(con, ge: GeValidator, table: SourceTable, entries: dict, first: Period,
                     last: Period, params: dict) -> set[int]:
    """The plain uniqueness entries that pass on their column's value hashes over the months
    (frames.fetch_value_hashes): they pass on the values too."""
    passed = set()
    for position, entry in entries.items():
        if plain_unique(entry):
            try:
                hashes = fetch_value_hashes(con, table, entry.kwargs["column"], first, last)
            except duckdb.Error:  # no such column, say: GE says so on the values
                continue
            passed |= _passed(ge.run(hashes, {position: entry}, params, BOOLEAN))
    return passed


def pass_on_distinct_values(con, ge: GeValidator, table: SourceTable, entries: dict,
                            first: Period, last: Period, params: dict, rows: int,
                            types: dict[str, str]) -> set[int]:
    """The row-by-row entries on one text column outside the key that pass on the distinct
    values of their columns over the months (frames.fetch_distinct_values), in one GE run:
    they pass on every row. `rows`: the span's rows; `types`: the raw table's column types
    (project_checks.raw_column_types), so a column the raw table does not hold as text, against
    the catalog, goes the usual way."""
    if rows < MIN_ROWS_FOR_DISTINCT:
        return set()
    text = ({c.name for c in table.table.columns if c.type == "varchar"}
            & {name for name, kind in types.items() if kind == "VARCHAR"}) - set(table.table.key)
    single = {p: e for p, e in entries.items() if e.expectation in BY_ROW_VALUES
              and len(set(referenced_columns(e))) == 1 and referenced_columns(e)[0] in text}
    if not single:
        return set()
    columns = sorted({referenced_columns(e)[0] for e in single.values()})
    values = fetch_distinct_values(con, table, columns, first, last)
    return _passed(ge.run(values, single, params, BOOLEAN))


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

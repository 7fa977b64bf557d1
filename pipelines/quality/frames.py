"""The rows to validate: a table's months fetched from DuckDB through Arrow into pandas.

Only the columns the expectations name (plus the key and date column, to show offending rows)
are fetched, with dtypes Great Expectations' pandas engine compares vectorised: decimals as
float64, whole numbers as int64 (GE compares any other integer type row by row in Python),
dates and timestamps as datetime64[ns]. Each row's month is a small integer and DuckDB does not
sort the rows (an order by, and a month string per row, cost more than a second on 4 M rows):
a frame already in month order, as loads write it, is split into months without copying; any
other is sorted once in pandas.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from pipelines.catalog.catalog import SourceTable
from pipelines.catalog.expectations import referenced_columns
from pipelines.ingest.raw_tables import qualified_name
from pipelines.periods import Period
from pipelines.warehouse.connection import quote_identifier

PERIOD = "__period__"  # the month of each row: year * 12 + month - 1 (see month_key)
_INTEGERS = ("integer", "bigint")
_TABLE_LEVEL = ("expect_table_column", "expect_table_columns")


def needed_columns(table: SourceTable, leave_out: set[int] = frozenset()) -> list[str]:
    """The declared columns the table's expectations need, key and date column included;
    `leave_out`: positions of expectations already settled, whose columns are not needed."""
    declared = [c.name for c in table.table.columns]
    if any((e.expectation or "").startswith(_TABLE_LEVEL) for e in table.table.expectations):
        return declared
    wanted = {table.table.date_column, *table.table.key}
    for position, entry in enumerate(table.table.expectations):
        if position not in leave_out:
            wanted |= set(referenced_columns(entry))
        if entry.check == "freshness" and entry.kwargs.get("column"):
            wanted.add(entry.kwargs["column"])
    return [name for name in declared if name in wanted]


def month_key(code: int) -> str:
    """The 'YYYY-MM' of a PERIOD value."""
    return f"{int(code) // 12:04d}-{int(code) % 12 + 1:02d}"


def _select(table: SourceTable, columns: list[str]) -> str:
    types = {c.name: c.type for c in table.table.columns}
    parts = []
    for name in columns:
        quoted = quote_identifier(name)
        cast = {"decimal": "double", **dict.fromkeys(_INTEGERS, "bigint")}.get(types[name])
        parts.append(f"{quoted}::{cast} as {quoted}" if cast else quoted)
    return ", ".join(parts)


def fetch_frame(con, table: SourceTable, columns: list[str], first: Period,
                last: Period) -> pd.DataFrame:
    """The rows of months first..last in month order, with a PERIOD column; empty if none."""
    sql = (f"select {_select(table, columns)}, "
           f"(year(_period) * 12 + month(_period) - 1)::integer as {PERIOD} "
           f"from {qualified_name(table)} where _period >= ? and _period <= ?")
    frame = con.sql(sql, params=[first.start, last.start]).to_arrow_table().to_pandas(
        date_as_object=False)
    for name in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[name].dtype):
            frame[name] = frame[name].astype("datetime64[ns]")
    codes = frame[PERIOD].to_numpy()
    if len(codes) > 1 and (codes[1:] < codes[:-1]).any():
        frame = frame.take(np.argsort(codes, kind="stable")).reset_index(drop=True)
    return frame


def fetch_value_hashes(con, table: SourceTable, column: str, first: Period,
                       last: Period) -> pd.DataFrame:
    """A 63-bit hash of each non-null value of `column` in months first..last, as int64, in a
    column of the same name. Distinct hashes are distinct values, so a uniqueness check that
    passes on the hashes passes on the values; pandas finds duplicates among integers ten
    times faster than among strings."""
    quoted = quote_identifier(column)
    sql = (f"select (hash({quoted}) >> 1)::bigint as {quoted} from {qualified_name(table)} "
           f"where _period >= ? and _period <= ? and {quoted} is not null")
    return con.sql(sql, params=[first.start, last.start]).to_arrow_table().to_pandas()


def fetch_distinct_values(con, table: SourceTable, columns: list[str], first: Period,
                          last: Period) -> pd.DataFrame:
    """Each of the text `columns`' distinct values in months first..last, a null among them if
    the column has one, read in one scan. A frame needs columns of one length: the shorter are
    filled by repeating their own values, so each column holds exactly its distinct values."""
    quoted = [quote_identifier(c) for c in columns]
    parts = [f"list(distinct {q}), bool_or({q} is null)" for q in quoted]
    [found] = con.execute(f"select {', '.join(parts)} from {qualified_name(table)} "
                          "where _period >= ? and _period <= ?",
                          [first.start, last.start]).fetchall()
    values = {c: found[2 * i] + [None] * bool(found[2 * i + 1]) for i, c in enumerate(columns)}
    length = max(1, *(len(v) for v in values.values()))
    filled = {c: (v or [None]) * (length // max(1, len(v)) + 1) for c, v in values.items()}
    return pa.table({c: pa.array(v[:length], type=pa.string())
                     for c, v in filled.items()}).to_pandas()


def split_periods(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The (month-ordered) frame's rows per month, each re-indexed from 0, without copies."""
    codes = frame[PERIOD].to_numpy()
    present = np.unique(codes)
    bounds = np.searchsorted(codes, present, side="left").tolist() + [len(codes)]
    return {month_key(code): frame.iloc[bounds[i]:bounds[i + 1]].reset_index(drop=True)
            for i, code in enumerate(present.tolist())}

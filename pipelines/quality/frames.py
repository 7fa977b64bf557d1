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
from pipelines.catalog.expectations import ExpectationEntry, referenced_columns
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


def reads_rows(entry: ExpectationEntry) -> bool:
    """Whether GE needs the rows' values for the entry: not for one that names no column (a row
    count), which a frame of row_counts serves."""
    return bool(referenced_columns(entry)) or (entry.expectation or "").startswith(_TABLE_LEVEL)


def month_runs(months: list[Period], counts: dict[str, int], limit: int) -> list[list[Period]]:
    """The months in runs of consecutive months holding at most `limit` rows together (a month
    with more, alone); `counts`: each month's rows."""
    runs, rows = [[]], 0
    for period in months:
        if runs[-1] and rows + counts[period.key] > limit:
            runs.append([])
            rows = 0
        runs[-1].append(period)
        rows += counts[period.key]
    return runs


def month_key(code: int) -> str:
    """The 'YYYY-MM' of a PERIOD value."""
    return f"{int(code) // 12:04d}-{int(code) % 12 + 1:02d}"


def _cast(table: SourceTable, name: str) -> str:
    """The cast a column's values are fetched with: decimals as double, whole numbers as
    bigint ('::double', '::bigint', or '' for none)."""
    kind = next(c.type for c in table.table.columns if c.name == name)
    cast = {"decimal": "double", **dict.fromkeys(_INTEGERS, "bigint")}.get(kind)
    return f"::{cast}" if cast else ""


def _select(table: SourceTable, columns: list[str]) -> str:
    return ", ".join(f"{quote_identifier(name)}{_cast(table, name)} as {quote_identifier(name)}"
                     for name in columns)


def _to_pandas(relation) -> pd.DataFrame:
    """A DuckDB result as pandas, dates and timestamps as datetime64[ns]."""
    frame = relation.to_arrow_table().to_pandas(date_as_object=False)
    for name in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[name].dtype):
            frame[name] = frame[name].astype("datetime64[ns]")
    return frame


def _span(first: Period, last: Period) -> str:
    return f"_period >= '{first.start.isoformat()}' and _period <= '{last.start.isoformat()}'"


def fetch_frame(con, table: SourceTable, columns: list[str], first: Period,
                last: Period) -> pd.DataFrame:
    """The rows of months first..last in month order, with a PERIOD column; empty if none."""
    sql = (f"select {_select(table, columns)}, "
           f"(year(_period) * 12 + month(_period) - 1)::integer as {PERIOD} "
           f"from {qualified_name(table)} where _period >= ? and _period <= ?")
    frame = _to_pandas(con.sql(sql, params=[first.start, last.start]))
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


def row_counts(stats: dict[str, int]) -> dict[str, pd.DataFrame]:
    """Per month a frame of that month's number of rows and no columns: all a table-level
    row count needs, without fetching a row."""
    return {key: pd.DataFrame(index=pd.RangeIndex(rows)) for key, rows in stats.items()}


ORDERED_TYPES = frozenset({"integer", "bigint", "double", "decimal", "date", "timestamp"})


def fetch_extremes(con, table: SourceTable, columns: list[str], first: Period,
                   last: Period) -> pd.DataFrame:
    """Three rows standing for all the values of each of `columns` in months first..last: its
    smallest value, its largest, and a null if it holds one (else the smallest again), as
    fetch_frame would fetch them (the casts keep the order, so they are applied to the
    extremes). A NaN counts as the null it is to pandas. A column of a type outside
    ORDERED_TYPES stands for its nulls only: any one of its values in place of the extremes.
    Nulls are counted (count(*) against count(column)), which DuckDB can answer from its
    statistics without reading the values."""
    kinds = {c.name: c.type for c in table.table.columns}
    source, span = qualified_name(table), _span(first, last)
    aggregates, rows = [], ([], [], [])
    for i, name in enumerate(columns):
        quoted, cast = quote_identifier(name), _cast(table, name)
        missing = f"count(*) > count({quoted})"
        if kinds[name] == "double":
            missing += f" or bool_or(isnan({quoted}))"
            low, high = (f"{f}({quoted}) filter (where not isnan({quoted}))"
                         for f in ("min", "max"))
        elif kinds[name] in ORDERED_TYPES:
            low, high = f"min({quoted})", f"max({quoted})"
        else:
            low = high = (f"(select {quoted} from {source} where {span} and {quoted} is not null "
                          "limit 1)")
        aggregates += [f"{low} as low{i}", f"{high} as high{i}", f"({missing}) as null{i}"]
        rows[0].append(f"low{i}{cast} as {quoted}")
        rows[1].append(f"high{i}{cast} as {quoted}")
        rows[2].append(f"(case when null{i} then null else low{i} end){cast} as {quoted}")
    sql = (f"with span as (select {', '.join(aggregates)} from {source} where {span}) "
           + " union all ".join(f"select {', '.join(r)} from span" for r in rows))
    return _to_pandas(con.sql(sql))


_DIFFERENCES = {"date": "{a} - {b}", "timestamp": "epoch_us({a}) - epoch_us({b})",
                "decimal": "{a}::double - {b}::double", "integer": "{a}::hugeint - {b}::hugeint",
                "bigint": "{a}::hugeint - {b}::hugeint"}
PAIR_TYPES = frozenset(_DIFFERENCES)


def fetch_closest_pairs(con, table: SourceTable, column_a: str, column_b: str, first: Period,
                        last: Period) -> pd.DataFrame:
    """Rows standing for all the (a, b) pairs of months first..last, for a comparison of a
    with b: the row with the smallest a - b (as fetch_frame fetches them, so as pandas compares
    them), and one row of each pattern of nulls the months hold. Both columns of one type in
    PAIR_TYPES."""
    kind = next(c.type for c in table.table.columns if c.name == column_a)
    a, b = quote_identifier(column_a), quote_identifier(column_b)
    columns = _select(table, [column_a, column_b])
    span = (f"select {columns}, {_DIFFERENCES[kind].format(a=a, b=b)} as difference "
            f"from {qualified_name(table)} where {_span(first, last)}")
    nulls = [f"(select {a}, {b} from span where {a} is {x} null and {b} is {y} null limit 1)"
             for x, y in (("", "not"), ("not", ""), ("", ""))]
    sql = (f"with span as ({span}) select {a}, {b} from (select {a}, {b} from span "
           f"where difference is not null order by difference limit 1) union all "
           + " union all ".join(nulls))
    return _to_pandas(con.sql(sql))

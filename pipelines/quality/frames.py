"""The rows to validate: a table's months fetched from DuckDB through Arrow into pandas.

Only the columns the expectations name (plus the key and date column, to show offending rows)
are fetched, with dtypes Great Expectations' pandas engine compares vectorised: decimals as
float64, dates and timestamps as datetime64[ns].
"""

from __future__ import annotations

import pandas as pd

from pipelines.catalog.catalog import SourceTable
from pipelines.catalog.expectations import referenced_columns
from pipelines.periods import Period
from pipelines.warehouse.connection import quote_identifier

PERIOD = "__period__"  # the month of each row, 'YYYY-MM'
_TABLE_LEVEL = ("expect_table_column", "expect_table_columns")


def needed_columns(table: SourceTable) -> list[str]:
    """The declared columns the table's expectations need, key and date column included."""
    declared = [c.name for c in table.table.columns]
    if any((e.expectation or "").startswith(_TABLE_LEVEL) for e in table.table.expectations):
        return declared
    wanted = {table.table.date_column, *table.table.key}
    for entry in table.table.expectations:
        wanted |= set(referenced_columns(entry))
        if entry.check == "freshness" and entry.kwargs.get("column"):
            wanted.add(entry.kwargs["column"])
    return [name for name in declared if name in wanted]


def _select(table: SourceTable, columns: list[str]) -> str:
    types = {c.name: c.type for c in table.table.columns}
    parts = []
    for name in columns:
        quoted = quote_identifier(name)
        parts.append(f"{quoted}::double as {quoted}" if types[name] == "decimal" else quoted)
    return ", ".join(parts)


def fetch_frame(con, table: SourceTable, columns: list[str], first: Period,
                last: Period) -> pd.DataFrame:
    """The rows of months first..last, with a PERIOD column; an empty frame if none."""
    sql = (f"select {_select(table, columns)}, strftime(_period, '%Y-%m') as {PERIOD} "
           f'from raw."{table.raw_name}" where _period >= ? and _period <= ? '
           f"order by _period")
    frame = con.sql(sql, params=[first.start, last.start]).to_arrow_table().to_pandas(
        date_as_object=False)
    for name in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[name].dtype):
            frame[name] = frame[name].astype("datetime64[ns]")
    return frame


def split_periods(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The frame's rows per month, each re-indexed from 0."""
    return {key: part.reset_index(drop=True) for key, part in frame.groupby(PERIOD, sort=True)}

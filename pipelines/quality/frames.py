"""The rows to validate: one month of a table fetched from DuckDB through Arrow into pandas.

Only the columns the expectations name (plus the key and date column, to show offending rows)
are fetched, with dtypes Great Expectations' pandas engine compares vectorised: decimals as
float64, whole numbers as int64 (GE compares any other integer type row by row in Python),
dates and timestamps as datetime64[ns].
"""

from __future__ import annotations

import pandas as pd

from pipelines.catalog.catalog import SourceTable
from pipelines.catalog.expectations import referenced_columns
from pipelines.ingest.raw_tables import qualified_name
from pipelines.periods import Period
from pipelines.warehouse.connection import quote_identifier

_INTEGERS = ("integer", "bigint")
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


def _cast(table: SourceTable, name: str) -> str:
    """The cast a column's values are fetched with: decimals as double, whole numbers as
    bigint ('::double', '::bigint', or '' for none)."""
    kind = next(c.type for c in table.table.columns if c.name == name)
    cast = {"decimal": "double", **dict.fromkeys(_INTEGERS, "bigint")}.get(kind)
    return f"::{cast}" if cast else ""


def _select(table: SourceTable, columns: list[str]) -> str:
    return ", ".join(
        f"{quote_identifier(name)}{_cast(table, name)} as {quote_identifier(name)}"
        for name in columns
    )


def _to_pandas(relation) -> pd.DataFrame:
    """A DuckDB result as pandas, dates and timestamps as datetime64[ns]."""
    frame = relation.to_arrow_table().to_pandas(date_as_object=False)
    for name in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[name].dtype):
            frame[name] = frame[name].astype("datetime64[ns]")
    return frame


def fetch_month(con, table: SourceTable, columns: list[str], period: Period) -> pd.DataFrame:
    """The rows of one month, as loaded (an empty frame of those columns if none)."""
    sql = f"select {_select(table, columns)} from {qualified_name(table)} where _period = ?"
    return _to_pandas(con.sql(sql, params=[period.start]))

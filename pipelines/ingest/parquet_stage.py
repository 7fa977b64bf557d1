"""Stage Parquet files: DuckDB reads them natively, their typed columns checked for drift first.

Parquet carries its own types, so nothing is parsed: each file's schema is compared with the
catalog before any row is read (a missing declared column, or one whose type family changed, is a
SchemaDriftError naming the source, table, file and column), and the rows of the months being
loaded are then staged in one scan of all the files, the date filter pushed into the reader.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from pipelines.catalog.catalog import SourceTable
from pipelines.ingest.drift import changed_types, extra_columns, keepable
from pipelines.ingest.file_stage import (
    FileStage,
    as_of_value,
    in_load_sql,
    new_stage_name,
    scan_type,
    stage_problems,
)
from pipelines.ingest.raw_tables import SourceLoadError
from pipelines.ingest.staging import quote_any, where_of
from pipelines.periods import Period

_FAMILIES = {
    "TINYINT": "integer", "SMALLINT": "integer", "INTEGER": "integer", "BIGINT": "integer",
    "HUGEINT": "integer", "UTINYINT": "integer", "USMALLINT": "integer", "UINTEGER": "integer",
    "UBIGINT": "integer", "FLOAT": "float", "DOUBLE": "float", "VARCHAR": "text",
    "DATE": "date", "BOOLEAN": "boolean",
}


def family_of(duckdb_type: str) -> str:
    """The type family (as drift.py names them) of a DuckDB column type."""
    if duckdb_type.startswith("DECIMAL"):
        return "decimal"
    if duckdb_type.startswith("TIMESTAMP"):
        return "timestamp"
    return _FAMILIES.get(duckdb_type, duckdb_type.strip('"').lower())  # "NULL": all null


def file_schema(con, where: str, path: str) -> dict[str, str]:
    """{column: DuckDB type} of one Parquet file; a file DuckDB cannot read fails naming it."""
    try:
        rows = con.execute("describe select * from read_parquet($path)", {"path": path}).fetchall()
    except duckdb.Error as exc:
        raise SourceLoadError(f"{where}: {path} is not a readable Parquet file: "
                              f"{str(exc).splitlines()[0]}") from None
    return {row[0]: row[1] for row in rows}


def checked_extras(con, table: SourceTable, files: list[str]) -> list[tuple[str, str]]:
    """Every file's schema against the catalog; the added columns with their types."""
    where = where_of(table)
    extras: dict[str, str] = {}
    for path in files:
        schema = file_schema(con, where, path)
        for name in extra_columns(where, table.table.columns, list(schema), path):
            extras.setdefault(name, schema[name])
        changed_types(f"{where}: {path}", table.table.columns,
                      {name: {family_of(kind)} for name, kind in schema.items()})
    return list(extras.items())


def stage_parquet(con, table: SourceTable, files: list[str], label: str, first: Period,
                  last: Period, as_of: datetime) -> FileStage:
    """Stage the rows of months first..last (and those with an empty or future date)."""
    extras = checked_extras(con, table, files)
    kept, unkept = keepable(name for name, _ in extras)
    types = dict(extras)
    stage = FileStage(con, table, new_stage_name(), label, [(n, types[n]) for n in kept], unkept)
    columns = [f"cast({quote_any(c.name)} as {scan_type(c.type)}) as {quote_any(c.name)}"
               for c in table.table.columns]
    columns += [quote_any(n) for n in kept]
    con.execute(
        f"create temp table {stage.name} as select {', '.join(columns)} from "
        f"read_parquet($files, union_by_name = true) where {in_load_sql(table)}",
        {"files": files, "first_day": first.start, "end_day": last.end,
         "as_of": as_of_value(table, as_of)},
    )
    stage_problems(stage, first, last, as_of)
    return stage

"""Stage Parquet files: DuckDB reads them natively, their typed columns checked for drift first.

Parquet carries its own types, so nothing is parsed: each file's schema is compared with the
catalog before any of its rows is read (its columns matched by name, case and surrounding spaces
ignored; a missing declared column, or one whose type family changed, is a SchemaDriftError naming
the source, table, file and column), and its rows of the months being loaded are then staged, the
date filter pushed into the reader. Files with the same column names are read in one scan, and
file by file when that scan fails, so a broken file fails alone.
"""

from __future__ import annotations

import duckdb

from pipelines.catalog.catalog import SourceTable
from pipelines.ingest.drift import changed_types, extra_columns, keepable
from pipelines.ingest.file_stage import (
    ColumnMatch,
    FileStage,
    in_load_sql,
    match_columns,
    scan_type,
)
from pipelines.ingest.raw_tables import SourceLoadError
from pipelines.ingest.staging import quote_any, where_of
from pipelines.periods import Period
from pipelines.warehouse.connection import is_disk_full

_FAMILIES = {
    "TINYINT": "integer",
    "SMALLINT": "integer",
    "INTEGER": "integer",
    "BIGINT": "integer",
    "HUGEINT": "integer",
    "UTINYINT": "integer",
    "USMALLINT": "integer",
    "UINTEGER": "integer",
    "UBIGINT": "integer",
    "FLOAT": "float",
    "DOUBLE": "float",
    "VARCHAR": "text",
    "DATE": "date",
    "BOOLEAN": "boolean",
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
        raise SourceLoadError(
            f"{where}: {path} is not a readable Parquet file: {str(exc).splitlines()[0]}"
        ) from None
    return {row[0]: row[1] for row in rows}


def _checked(con, table: SourceTable, path: str) -> tuple[dict[str, str], ColumnMatch]:
    """A file's {column: DuckDB type} and its columns as the load names them, checked against the
    catalog (a declared column missing, or of another type family, is a SchemaDriftError)."""
    where = where_of(table)
    schema = file_schema(con, where, path)
    match = match_columns(path, table.table.columns, list(schema))
    extra_columns(where, table.table.columns, match.names, path)
    changed_types(
        f"{where}: {path}",
        table.table.columns,
        {name: {family_of(kind)} for name, kind in zip(match.names, schema.values(), strict=True)},
    )
    return schema, match


def _insert(
    stage: FileStage, paths: list[str], source: dict[str, str], first: Period, last: Period
) -> None:
    """Insert the rows of months first..last (and those with an empty date) of files whose
    columns have the same names, in one scan; `source`: the file's name of each column read."""
    table = stage.table
    kept = [n for n, _ in stage.extras if n in source]
    cast = {
        c.name: f"cast({quote_any(source[c.name])} as {scan_type(c.type)})"
        for c in table.table.columns
    }
    columns = [f"{sql} as {quote_any(name)}" for name, sql in cast.items()]
    columns += [f"{quote_any(source[n])} as {quote_any(n)}" for n in kept]
    stage.con.execute(
        f"insert into {stage.name} by name select _file, {', '.join(columns)} from "
        f"read_parquet($paths, union_by_name = true, filename = '_file') "
        f"where {in_load_sql(table, cast[table.table.date_column])}",
        {"paths": paths, "first_day": first.start, "end_day": last.end},
    )


def stage_parquet(
    stage: FileStage, files: list[str], first: Period, last: Period
) -> dict[str, SourceLoadError]:
    """Add the Parquet files' rows of months first..last (and those with an empty date) to the
    stage, each file's columns checked first; the files that cannot load, with their errors.
    Files whose columns have the same names are read in one scan (file by file when it fails)."""
    failures: dict[str, SourceLoadError] = {}
    groups: dict[tuple, list[str]] = {}
    declared = {c.name for c in stage.table.table.columns}
    for path in files:
        try:
            schema, match = _checked(stage.con, stage.table, path)
        except SourceLoadError as exc:
            failures[path] = exc
            continue
        types = dict(zip(match.names, schema.values(), strict=True))
        kept, unkept = keepable(n for n in match.names if n not in declared)
        stage.add_columns(path, [(n, types[n]) for n in kept], unkept, match.notes)
        source = tuple(zip(match.names, schema, strict=True))
        groups.setdefault(source, []).append(path)
    for source, paths in groups.items():
        try:
            _insert(stage, paths, dict(source), first, last)
            continue
        except duckdb.Error as exc:
            if is_disk_full(exc):
                raise
            if len(paths) == 1:
                failures[paths[0]] = _unreadable(stage, paths[0], exc)
                continue
        for path in paths:  # the failed scan wrote nothing: find the file to blame, one by one
            try:
                _insert(stage, [path], dict(source), first, last)
            except duckdb.Error as exc:
                if is_disk_full(exc):
                    raise
                failures[path] = _unreadable(stage, path, exc)
    return failures


def _unreadable(stage: FileStage, path: str, exc: duckdb.Error) -> SourceLoadError:
    return SourceLoadError(
        f"{where_of(stage.table)}: {path} could not be read: {str(exc).splitlines()[0]}"
    )


def parquet_months(con, table: SourceTable, path: str) -> set[str] | None:
    """The months a Parquet file's date column holds, when it can be read (for a file that
    failed); None when nothing tells."""
    date = table.table.date_column
    try:
        schema = con.execute(
            "describe select * from read_parquet($path)", {"path": path}
        ).fetchall()
        column = next(row[0] for row in schema if row[0].strip().casefold() == date.casefold())
        rows = con.execute(
            f"select distinct strftime(try_cast({quote_any(column)} as date), '%Y-%m') "
            "from read_parquet($path)",
            {"path": path},
        ).fetchall()
    except (duckdb.Error, StopIteration):
        return None
    return {row[0] for row in rows if row[0]} or None

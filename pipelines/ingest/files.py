"""The file connector: CSV exports read by DuckDB with the catalog's declared column types."""

from __future__ import annotations

import glob
from pathlib import Path

import duckdb

from pipelines.catalog.catalog import SourceTable
from pipelines.ingest.raw_tables import (
    SQL_TYPES,
    LoadResult,
    SourceLoadError,
    create_raw_table,
    replace_months,
)
from pipelines.periods import Period
from pipelines.warehouse.connection import quote_identifier


def resolve_path(table: SourceTable, home: Path) -> str:
    """The table's file path or glob, relative paths taken from the runtime folder."""
    path = Path(table.table.path)
    return str(path if path.is_absolute() else home / path)


def _header(con, path: str, delimiter: str) -> list[str]:
    rows = con.execute(
        "describe select * from read_csv($path, header = true, delim = $delim, all_varchar = true)",
        {"path": path, "delim": delimiter},
    ).fetchall()
    return [row[0] for row in rows]


def _read_sql(table: SourceTable) -> str:
    types = ", ".join(
        f"'{c.name}': '{SQL_TYPES[c.type]}'" for c in table.table.columns
    )
    names = ", ".join(quote_identifier(c.name) for c in table.table.columns)
    return (
        f"select {names} from read_csv($path, header = true, delim = $delim, "
        f"types = {{{types}}}, dateformat = '%Y-%m-%d', timestampformat = '%Y-%m-%d %H:%M:%S', "
        "auto_detect = true, sample_size = -1)"
    )


def load_file_table(con, table: SourceTable, first: Period, last: Period, home: Path,
                    run_id: str) -> LoadResult:
    """Load months first..last of a CSV-backed table into its raw table (replacing them)."""
    path = resolve_path(table, home)
    where = f"source {table.source.source}, table {table.table.name}"
    if not glob.glob(path):
        raise SourceLoadError(f"{where}: no file matches {path}")
    try:
        header = _header(con, path, table.table.delimiter)
    except duckdb.Error as exc:
        raise SourceLoadError(f"{where}: cannot read the header of {path}: {exc}") from None
    declared = [c.name for c in table.table.columns]
    missing = [name for name in declared if name not in header]
    if missing:
        raise SourceLoadError(
            f"{where}: {path} lacks the declared column(s) {', '.join(missing)}; "
            f"its header has {', '.join(header)}"
        )
    extra = tuple(name for name in header if name not in declared)
    create_raw_table(con, table)
    try:
        rows = replace_months(
            con, table, _read_sql(table), {"path": path, "delim": table.table.delimiter},
            first, last, run_id, path,
        )
    except duckdb.Error as exc:
        raise SourceLoadError(f"{where}: {path} could not be loaded: {exc}") from None
    return LoadResult(table.key, rows, path, extra)

"""The file connector: CSV exports read by DuckDB with the catalog's declared column types.

A broken export is refused with a message naming the source, table, file, line or row and
column (see csv_inspect, csv_stage and csv_rejects); the months being loaded then keep their rows.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

from pipelines.catalog.catalog import SourceTable
from pipelines.ingest.csv_inspect import common_header, matching_files
from pipelines.ingest.csv_rejects import by_period, judge
from pipelines.ingest.csv_stage import stage_csv
from pipelines.ingest.drift import extra_columns
from pipelines.ingest.raw_tables import (
    LoadResult,
    SourceLoadError,
    create_raw_table,
    replace_months,
)
from pipelines.periods import Period


def resolve_path(table: SourceTable, home: Path) -> str:
    """The table's file path or glob, relative paths taken from the runtime folder."""
    path = Path(table.table.path)
    return str(path if path.is_absolute() else home / path)


def load_file_table(con, table: SourceTable, first: Period, last: Period, home: Path,
                    run_id: str, as_of: datetime | None = None) -> LoadResult:
    """Load months first..last of a CSV-backed table into its raw table (replacing them).

    The files are checked (present, not empty, UTF-8, the declared delimiter, the declared
    columns), read into a stage with rejected rows counted, and only when the reject rate is
    within the table's `max_reject_rate` swapped into the months; otherwise the months keep
    their earlier rows. `as_of` (default: now) is when "the future" starts.
    """
    path = resolve_path(table, home)
    where = f"source {table.source.source}, table {table.table.name}"
    files = matching_files(where, path)
    header = common_header(where, files, table.table.delimiter)
    extra = extra_columns(where, table.table.columns, header, path)  # raises on a missing one
    create_raw_table(con, table)
    label = files[0] if len(files) == 1 else path
    try:
        stage = stage_csv(con, table, files, label, header, first, last, as_of or datetime.now())
    except duckdb.Error as exc:
        raise SourceLoadError(f"{where}: {label} could not be read: {exc}") from None
    try:
        judge(where, stage.rejected, stage.loadable_rows, table.table.max_reject_rate)
        rows = replace_months(con, table, stage.select_sql(), {}, first, last, run_id, path)
    except duckdb.Error as exc:
        raise SourceLoadError(f"{where}: {label} could not be loaded: {exc}") from None
    finally:
        stage.drop()
    return LoadResult(table.key, rows, path, extra,
                      rejected_by_period=by_period(stage.rejected, first, last))

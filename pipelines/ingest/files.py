"""The file connector: CSV, Parquet, JSON lines and Excel exports, one file or a glob per table.

Every format ends in a stage of the months being loaded, typed as the catalog declares, with the
rows that cannot load set aside (file_stage); only when the reject rate is within the table's
`max_reject_rate` are the months swapped in (raw_tables.replace_months), so a broken or drifted
export leaves the earlier good load. CSV, Parquet and JSON lines are read by DuckDB itself
(csv_stage, parquet_stage, text_stage); Excel through openpyxl (xlsx_read). Errors name the
source, table, file, line or row and column.
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
from pipelines.ingest.file_stage import FileStage
from pipelines.ingest.parquet_stage import stage_parquet
from pipelines.ingest.raw_tables import (
    LoadResult,
    SourceLoadError,
    create_raw_table,
    replace_months,
)
from pipelines.ingest.staging import where_of
from pipelines.ingest.text_stage import stage_arrow, stage_jsonl
from pipelines.ingest.xlsx_read import read_workbooks
from pipelines.periods import Period


def resolve_path(table: SourceTable, home: Path) -> str:
    """The table's file path or glob, relative paths taken from the runtime folder."""
    path = Path(table.table.path)
    return str(path if path.is_absolute() else home / path)


def _stage(con, table: SourceTable, files: list[str], label: str, first: Period, last: Period,
           as_of: datetime) -> FileStage:
    """The format's reader; its checks run before any row is read where the format allows."""
    where = where_of(table)
    settings = table.table
    if settings.format == "parquet":
        return stage_parquet(con, table, files, label, first, last, as_of)
    if settings.format == "jsonl":
        return stage_jsonl(con, table, files, label, first, last, as_of)
    if settings.format == "xlsx":
        rows = read_workbooks(where, files, settings.sheet)
        return stage_arrow(con, table, rows, label, first, last, as_of)
    header = common_header(where, files, settings.delimiter, settings.encoding)
    extra_columns(where, settings.columns, header, table.table.path)  # raises on a missing one
    return stage_csv(con, table, files, label, header, first, last, as_of)


def load_file_table(con, table: SourceTable, first: Period, last: Period, home: Path,
                    run_id: str, as_of: datetime | None = None) -> LoadResult:
    """Load months first..last of a file-backed table into its raw table (replacing them).

    The files are checked (present, readable in the declared format, the declared columns and
    types), read into a stage with rejected rows counted, and only when the reject rate is
    within the table's `max_reject_rate` swapped into the months; otherwise the months keep
    their earlier rows. Added columns are kept. `as_of` (default: now) is when "the future"
    starts.
    """
    path = resolve_path(table, home)
    where = where_of(table)
    files = matching_files(where, path)
    create_raw_table(con, table)
    label = files[0] if len(files) == 1 else path
    try:
        stage = _stage(con, table, files, label, first, last, as_of or datetime.now())
    except duckdb.Error as exc:
        raise SourceLoadError(f"{where}: {label} could not be read: {exc}") from None
    try:
        judge(where, stage.rejected, stage.loadable_rows, table.table.max_reject_rate)
        rows = replace_months(con, table, stage.select_sql(), {}, first, last, run_id, path,
                              extra_columns=tuple(stage.extras))
    except duckdb.Error as exc:
        raise SourceLoadError(f"{where}: {label} could not be loaded: {exc}") from None
    finally:
        stage.drop()
    return LoadResult(table.key, rows, path, tuple(n for n, _ in stage.extras), stage.unkept,
                      rejected_by_period=by_period(stage.rejected, first, last))

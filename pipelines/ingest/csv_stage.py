"""Stage a CSV export's rows of the months being loaded in a temp table, and find its bad rows.

DuckDB reads the files with the dialect fixed from the catalog (delimiter, encoding, decimal and
thousands separators, date and timestamp formats; no sniffing), every declared column typed, and
its reject tables on (`store_rejects`): a value that does not parse rejects its row instead of
failing the whole read or being guessed at. Columns the catalog does not declare are read as text
and kept. An encoding DuckDB cannot read itself is first transcoded to UTF-8 (csv_inspect).
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

from pipelines.catalog.catalog import SourceTable
from pipelines.catalog.file_formats import NATIVE_ENCODINGS
from pipelines.ingest.csv_inspect import transcode
from pipelines.ingest.csv_rejects import duckdb_rejects, in_scope
from pipelines.ingest.drift import keepable
from pipelines.ingest.file_stage import (
    FileStage,
    as_of_value,
    in_load_sql,
    new_stage_name,
    scan_type,
    stage_problems,
)
from pipelines.ingest.staging import quote_any, where_of
from pipelines.periods import Period

DATE_FORMAT, TIMESTAMP_FORMAT = "%Y-%m-%d", "%Y-%m-%d %H:%M:%S"


def _scan_types(table: SourceTable, header: list[str]) -> dict[str, str]:
    declared = {c.name: c.type for c in table.table.columns}
    return {name: scan_type(declared.get(name)) for name in header}


def _dialect(table: SourceTable) -> tuple[str, dict]:
    """The read_csv options of the table's dialect, and their bound values."""
    settings = table.table
    values = {"delim": settings.delimiter, "decimal_separator": settings.decimal_separator,
              "dateformat": settings.date_format or DATE_FORMAT,
              "timestampformat": settings.timestamp_format or TIMESTAMP_FORMAT,
              "encoding": NATIVE_ENCODINGS.get(settings.encoding, "utf-8")}
    if settings.thousands is not None:
        values["thousands"] = settings.thousands
    return ", ".join(f"{name} = ${name}" for name in values), values


def _read(stage: FileStage, files: list[str], header: list[str], first: Period, last: Period,
          as_of: datetime) -> None:
    options, values = _dialect(stage.table)
    columns = ", ".join(quote_any(n) for n in header)
    stage.con.execute(
        f"create temp table {stage.name} as select {columns} from read_csv($files, "
        f"header = true, quote = '\"', escape = '\"', columns = $columns, {options}, "
        f"auto_detect = false, store_rejects = true, rejects_table = '{stage.name}_errors', "
        f"rejects_scan = '{stage.name}_scans') where {in_load_sql(stage.table)}",
        {"files": files, "columns": _scan_types(stage.table, header), **values,
         "first_day": first.start, "end_day": last.end,
         "as_of": as_of_value(stage.table, as_of)},
    )


def stage_csv(con, table: SourceTable, files: list[str], label: str, header: list[str],
              first: Period, last: Period, as_of: datetime) -> FileStage:
    """Read the files into a temp table: the rows of months first..last, plus the rows whose
    date is empty or in the future (to be reported); rejected rows are collected."""
    declared = [c.name for c in table.table.columns]
    kept, unkept = keepable(n for n in header if n not in declared)
    stage = FileStage(con, table, new_stage_name(), label, [(n, "varchar") for n in kept], unkept)
    where = where_of(table)
    if table.table.encoding in NATIVE_ENCODINGS:
        _read(stage, files, header, first, last, as_of)
        shown = {}
    else:
        with tempfile.TemporaryDirectory(prefix="scorecard-csv-") as folder:
            shown = transcode(where, files, table.table.encoding, Path(folder))
            _read(stage, list(shown), header, first, last, as_of)
    found = duckdb_rejects(con, f"{stage.name}_errors", f"{stage.name}_scans", header,
                           table.table, shown)
    stage.rejected = [r for r in found if in_scope(r, first, last, as_of)]
    stage_problems(stage, first, last, as_of)
    return stage

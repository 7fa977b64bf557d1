"""Stage a CSV export's rows of the months being loaded, file by file, and find its bad rows.

DuckDB reads each file with the dialect fixed from the catalog (delimiter, encoding, decimal and
thousands separators, date and timestamp formats; no sniffing), its columns named as the catalog
matches the file's header (in any order; case and surrounding spaces ignored), every declared
column typed, and its reject tables on (`store_rejects`): a value that does not parse rejects its
row instead of failing the whole read or being guessed at. Columns the catalog does not declare
are read as text and kept. An encoding DuckDB cannot read itself is first transcoded to UTF-8
(csv_inspect). A file whose quotes lost records fails naming the line (csv_inspect).
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

from pipelines.catalog.catalog import SourceTable
from pipelines.catalog.file_formats import NATIVE_ENCODINGS
from pipelines.ingest.csv_inspect import line_count, read_header, records_problem, transcode
from pipelines.ingest.csv_rejects import Rejected, duckdb_rejects, in_scope
from pipelines.ingest.drift import extra_columns, keepable
from pipelines.ingest.file_stage import FileStage, in_load_sql, match_columns, scan_type
from pipelines.ingest.raw_tables import SourceLoadError
from pipelines.ingest.staging import quote_any, where_of
from pipelines.periods import Period

DATE_FORMAT, TIMESTAMP_FORMAT = "%Y-%m-%d", "%Y-%m-%d %H:%M:%S"
_QUOTES = "quote = '\"', escape = '\"'"


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


def _rejects(name: str) -> str:
    return f"store_rejects = true, rejects_table = '{name}_errors', rejects_scan = '{name}_scans'"


def _read(stage: FileStage, path: str, shown: str, header: list[str], first: Period,
          last: Period) -> list[Rejected]:
    """Insert a file's rows of months first..last (and those with an empty date); its rows
    DuckDB rejected, named by `shown` (the export a transcoded copy was made of)."""
    options, values = _dialect(stage.table)
    wanted = [c.name for c in stage.table.table.columns] + [n for n, _ in stage.extras]
    columns = ", ".join(quote_any(n) for n in header if n in wanted)
    stage.con.execute(
        f"insert into {stage.name} by name select $shown as _file, {columns} from read_csv("
        f"$path, header = true, {_QUOTES}, columns = $columns, {options}, auto_detect = false, "
        f"{_rejects(stage.name)}) where {in_load_sql(stage.table)}",
        {"path": path, "shown": shown, "columns": _scan_types(stage.table, header), **values,
         "first_day": first.start, "end_day": last.end},
    )
    try:
        return duckdb_rejects(stage.con, f"{stage.name}_errors", f"{stage.name}_scans", header,
                              stage.table.table, {path: shown})
    finally:
        stage.con.execute(f"drop table if exists {stage.name}_errors")
        stage.con.execute(f"drop table if exists {stage.name}_scans")


def _records(stage: FileStage, path: str, header: list[str]) -> int:
    """The records DuckDB reads from a file, rows and rejected rows, every column as text."""
    options, values = _dialect(stage.table)
    name = f"{stage.name}_count"
    try:
        rows = stage.con.execute(
            f"select count(*) from read_csv($path, header = true, {_QUOTES}, columns = "
            f"$columns, {options}, auto_detect = false, {_rejects(name)})",
            {"path": path, "columns": dict.fromkeys(header, "varchar"), **values}
        ).fetchall()[0][0]  # all of it: the scan fills its reject tables when it ends
        rejected = stage.con.execute(
            f"select count(distinct (scan_id, file_id, line)) from {name}_errors").fetchone()[0]
    finally:
        stage.con.execute(f"drop table if exists {name}_errors")
        stage.con.execute(f"drop table if exists {name}_scans")
    return rows + rejected


def _read_checked(stage: FileStage, path: str, shown: str, header: list[str], first: Period,
                  last: Period, encoding: str) -> None:
    where = where_of(stage.table)
    found = _read(stage, path, shown, header, first, last)
    fatal = [r for r in found if r.fatal]
    if fatal:
        raise SourceLoadError(f"{where}: {fatal[0].line()}")
    lines, quoted = line_count(path, encoding)
    if quoted:  # without a quote character every line is a record or a rejected row
        read = _records(stage, path, header)
        problem = read != lines and records_problem(path, shown, stage.table, header, read,
                                                    encoding)
        if problem:
            raise SourceLoadError(f"{where}: {problem}")
    stage.rejected += [r for r in found if in_scope(r, first, last)]


def stage_csv_file(stage: FileStage, path: str, first: Period, last: Period,
                   as_of: datetime) -> None:
    """Add one CSV file's rows of months first..last (and those with an empty date) to the
    stage, its rejected rows to `stage.rejected`. A file that cannot load (no usable header, a
    declared column missing, a byte not in its encoding, an unterminated or stray quote, records
    lost) raises SourceLoadError naming it."""
    settings = stage.table.table
    where = where_of(stage.table)
    match = match_columns(path, settings.columns,
                          read_header(where, path, settings.delimiter, settings.encoding))
    kept, unkept = keepable(extra_columns(where, settings.columns, match.names, path))
    stage.add_columns(path, [(n, "varchar") for n in kept], unkept, match.notes)
    if settings.encoding in NATIVE_ENCODINGS:
        _read_checked(stage, path, path, match.names, first, last, settings.encoding)
        return
    with tempfile.TemporaryDirectory(prefix="scorecard-csv-") as folder:
        copy = next(iter(transcode(where, [path], settings.encoding, Path(folder))))
        _read_checked(stage, copy, path, match.names, first, last, "utf-8")

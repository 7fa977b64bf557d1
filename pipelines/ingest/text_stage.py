"""Stage JSON lines and Excel files: their values arrive as text and are parsed as declared.

DuckDB reads JSON lines natively (`read_json`, every key as text); Excel sheets come through
openpyxl (xlsx_read). Either way each file's records land in one text table with the file and row
of each record (`read_jsonl_file`, `read_xlsx_file`, one file at a time, so a broken file fails
alone); `stage_text` then parses each declared column into its type (dates and timestamps with the
table's formats), and a value that does not parse rejects its row, named by file, row, column and
value, counted against `max_reject_rate` like a CSV's. Keys or columns are matched to the declared
ones by name (case and surrounding spaces ignored); those the catalog does not declare are kept as
text. A sheet must have every declared column; a JSON lines file may leave out a nullable one
(JSON writers leave out nulls), not a required one.
"""

from __future__ import annotations

import json
from datetime import datetime

import duckdb

from pipelines.catalog.catalog import SourceTable
from pipelines.catalog.models import Column
from pipelines.ingest.csv_rejects import Rejected, in_scope, month_of_value, type_words
from pipelines.ingest.drift import extra_columns, keepable
from pipelines.ingest.file_stage import (
    FileStage,
    in_load_sql,
    match_columns,
    scan_type,
)
from pipelines.ingest.raw_tables import SourceLoadError
from pipelines.ingest.staging import quote_any, where_of
from pipelines.ingest.xlsx_read import sheet_table
from pipelines.periods import Period

# a time of day followed by a UTC offset or Z: '2026-06-03T10:00:00+02:00', '... 10:00Z'
_OFFSET = r"[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|z|[+-]\d{2}(:?\d{2})?)$"


def _parsed(column: Column, table: SourceTable, iso_too: bool) -> str:
    """SQL reading text column `column` as its declared type; null when it does not read."""
    value = f"nullif(trim({quote_any(column.name)}), '')"
    formats = {"date": table.table.date_format, "timestamp": table.table.timestamp_format}
    if column.type == "varchar":
        return quote_any(column.name)
    if column.type in formats and formats[column.type]:
        fmt = formats[column.type].replace("'", "''")
        parsed = f"try_strptime({value}, '{fmt}')::{column.type}"
        # Excel keeps real dates as dates: those cells arrive as ISO text, whatever the format.
        return f"coalesce({parsed}, try_cast({value} as {column.type}))" if iso_too else parsed
    if column.type == "timestamp":  # an offset is converted to UTC, never dropped
        return (
            f"case when regexp_matches({value}, '{_OFFSET}') then timezone('UTC', "
            f"try_cast({value} as timestamptz)) else try_cast({value} as timestamp) end"
        )
    return f"try_cast({value} as {scan_type(column.type)})"


def _rejected(con, text: str, table: SourceTable, iso_too: bool) -> list[Rejected]:
    """The text rows whose value of some declared column does not read as its type."""
    date_column = next(c for c in table.table.columns if c.name == table.table.date_column)
    month = f"strftime({_parsed(date_column, table, iso_too)}, '%Y-%m')"
    found = []
    for column in (c for c in table.table.columns if c.type != "varchar"):
        name = quote_any(column.name)
        rows = con.execute(
            f"select _file, _row, {name}, {month} from {text} where nullif(trim({name}), '') "
            f"is not null and {_parsed(column, table, iso_too)} is null order by _file, _row"
        ).fetchall()
        words = type_words(column.type, table.table)
        found += [
            Rejected(
                f"{path} row {row}", column.name, f'"{value}" is not {words}', period, file=path
            )
            for path, row, value, period in rows
        ]
    return sorted(found, key=lambda r: r.where)


def text_stage(con, table: SourceTable, name: str) -> FileStage:
    """An empty stage whose files are read as text into `<name>_read` (_file, _row, the
    declared columns, then the kept keys or columns the files add)."""
    columns = ", ".join(f"{quote_any(c.name)} varchar" for c in table.table.columns)
    con.execute(f"create temp table {name}_read (_file varchar, _row bigint, {columns})")
    return FileStage(con, table, name, receiving=f"{name}_read")


def stage_text(
    stage: FileStage, first: Period, last: Period, as_of: datetime, iso_too: bool = False
) -> None:
    """Parse the text rows read into the typed stage of months first..last (and rows with an
    empty date), with the rows that did not parse rejected."""
    con, table, text = stage.con, stage.table, f"{stage.name}_text"
    con.execute(  # the scans kept each file's order, so rowid numbers a JSON file's records
        f"create temp table {text} as select * replace (coalesce(_row, row_number() over ("
        f"partition by _file order by rowid)) as _row) from {stage.receiving}"
    )
    declared = table.table.columns
    found = _rejected(con, text, table, iso_too)
    bad = [
        f"{_parsed(c, table, iso_too)} is null and nullif(trim({quote_any(c.name)}), '') "
        "is not null"
        for c in declared
        if c.type != "varchar"
    ]
    parsed = [f"{_parsed(c, table, iso_too)} as {quote_any(c.name)}" for c in declared]
    parsed += [quote_any(n) for n, _ in stage.extras] + ["_file"]
    date_column = next(c for c in declared if c.name == table.table.date_column)
    in_load = in_load_sql(table, f"({_parsed(date_column, table, iso_too)})")
    ok = " and ".join(f"not ({b})" for b in bad) or "true"
    con.execute(
        f"create temp table {stage.name} as select {', '.join(parsed)} from {text} "
        f"where {ok} and ({in_load})",
        {"first_day": first.start, "end_day": last.end},
    )
    stage.rejected = [r for r in found if in_scope(r, first, last)]


def json_keys(con, where: str, files: list[str]) -> list[str]:
    """The keys the JSON lines files use (every record looked at); malformed JSON fails here."""
    try:
        rows = con.execute(
            "describe select * from read_json($files, format = 'newline_delimited', "
            "union_by_name = true, sample_size = -1)",
            {"files": files},
        ).fetchall()
    except duckdb.Error as exc:
        raise SourceLoadError(f"{where}: {_json_problem(files, exc)}") from None
    return [row[0] for row in rows]


def _json_problem(files: list[str], exc: duckdb.Error) -> str:
    """DuckDB's reason (it names the file and line) without its error class."""
    reason = str(exc).splitlines()[0].split("Error: ", 1)[-1].strip()
    return f"{files[0] if len(files) == 1 else 'a file'} is not valid JSON lines: {reason}"


def _added(
    stage: FileStage, path: str, names: list[str], required: list[Column], notes: list[str]
) -> list[str]:
    """Check a file's columns (as the load names them); note what it adds; the names to read."""
    declared = {c.name for c in stage.table.table.columns}
    added = [
        n for n in extra_columns(where_of(stage.table), required, names, path) if n not in declared
    ]
    kept, unkept = keepable(added)
    stage.add_columns(path, [(n, "varchar") for n in kept], unkept, notes)
    return [n for n in names if n in declared or n in kept]


def read_jsonl_file(
    stage: FileStage, path: str, first: Period, last: Period, as_of: datetime
) -> None:
    """Read one JSON lines file's records as text into the stage's text rows."""
    where = where_of(stage.table)
    keys = json_keys(stage.con, where, [path])
    match = match_columns(path, stage.table.table.columns, keys)
    required = [c for c in stage.table.table.columns if not c.nullable]
    wanted = _added(stage, path, match.names, required, match.notes)
    source = dict(zip(match.names, keys, strict=True))
    columns = "".join(f", {quote_any(source[n])} as {quote_any(n)}" for n in wanted)
    try:
        stage.con.execute(
            f"insert into {stage.receiving} by name select $path as _file{columns} from "
            "read_json($path, format = 'newline_delimited', columns = $columns)",
            {"path": path, "columns": dict.fromkeys(keys, "varchar")},
        )
    except duckdb.Error as exc:
        raise SourceLoadError(f"{where}: {_json_problem([path], exc)}") from None


def read_xlsx_file(
    stage: FileStage, path: str, first: Period, last: Period, as_of: datetime
) -> None:
    """Read one workbook's sheet as text rows into the stage's text rows."""
    header, rows = sheet_table(where_of(stage.table), path, stage.table.table.sheet)
    match = match_columns(path, stage.table.table.columns, header)
    rows = rows.rename_columns(["_file", "_row", *match.names])
    wanted = _added(stage, path, match.names, stage.table.table.columns, match.notes)
    view = f"{stage.name}_arrow"
    stage.con.register(view, rows.select(["_file", "_row", *wanted]))
    try:
        stage.con.execute(f"insert into {stage.receiving} by name select * from {view}")
    finally:
        stage.con.unregister(view)


def _month(value, table: SourceTable) -> str | None:
    text = None if value is None else str(value)
    return month_of_value(text, table.table.date_format) or month_of_value(text)


def text_months(path: str, table: SourceTable) -> set[str] | None:
    """The months a JSON lines file's or a sheet's date column names, read as text, errors
    ignored (for a file that failed); None when nothing tells."""
    date = table.table.date_column.casefold()
    months = set()
    try:
        if table.table.format == "xlsx":
            header, rows = sheet_table(where_of(table), path, table.table.sheet)
            index = [n.strip().casefold() for n in header].index(date)
            months = {_month(v, table) for v in rows.column(index + 2).to_pylist()}
        else:
            with open(path, encoding="utf-8", errors="replace") as handle:
                for line in handle:
                    record = _record(line)
                    months.add(
                        _month(
                            next(
                                (v for k, v in record.items() if k.strip().casefold() == date), None
                            ),
                            table,
                        )
                    )
    except (OSError, ValueError, SourceLoadError):
        return None
    return {m for m in months if m} or None


def _record(line: str) -> dict:
    try:
        record = json.loads(line)
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}

"""Stage JSON lines and Excel files: their values arrive as text and are parsed as declared.

DuckDB reads JSON lines natively (`read_json`, every key as text); Excel sheets come through
openpyxl (xlsx_read). Either way the values land in a text table with the file and row of each
record; each declared column is then parsed into its type (dates and timestamps with the table's
formats), and a value that does not parse rejects its row, named by file, row, column and value,
counted against `max_reject_rate` like a CSV's. Keys or columns the catalog does not declare are
kept as text. A sheet must have every declared column; a JSON lines file may leave out a nullable
one (JSON writers leave out nulls), not a required one.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import pyarrow as pa

from pipelines.catalog.catalog import SourceTable
from pipelines.catalog.models import Column
from pipelines.ingest.csv_rejects import Rejected, in_scope, type_words
from pipelines.ingest.drift import extra_columns, keepable
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
        found += [Rejected(f"{path} row {row}", column.name, f'"{value}" is not {words}', period)
                  for path, row, value, period in rows]
    return sorted(found, key=lambda r: r.where)


def stage_text(con, table: SourceTable, text: str, label: str, keys: list[str], first: Period,
               last: Period, as_of: datetime, iso_too: bool = False) -> FileStage:
    """Parse text table `text` (_file, _row, then every declared column and the `keys` found)
    into a typed stage of months first..last, with the rows that did not parse rejected."""
    declared = table.table.columns
    required = [c for c in declared if not c.nullable]
    added = [n for n in extra_columns(where_of(table), required, keys, label)
             if n not in {c.name for c in declared}]
    kept, unkept = keepable(added)
    stage = FileStage(con, table, text.removesuffix("_text"), label,
                      [(n, "varchar") for n in kept], unkept)
    found = _rejected(con, text, table, iso_too)
    bad = [f"{_parsed(c, table, iso_too)} is null and nullif(trim({quote_any(c.name)}), '') "
           "is not null" for c in declared if c.type != "varchar"]
    parsed = [f"{_parsed(c, table, iso_too)} as {quote_any(c.name)}" for c in declared]
    parsed += [quote_any(n) for n in kept]
    date_column = next(c for c in declared if c.name == table.table.date_column)
    in_load = in_load_sql(table, f"({_parsed(date_column, table, iso_too)})")
    ok = " and ".join(f"not ({b})" for b in bad) or "true"
    con.execute(
        f"create temp table {stage.name} as select {', '.join(parsed)} from {text} "
        f"where {ok} and ({in_load})",
        {"first_day": first.start, "end_day": last.end, "as_of": as_of_value(table, as_of)})
    stage.rejected = [r for r in found if in_scope(r, first, last, as_of)]
    stage_problems(stage, first, last, as_of)
    return stage


def json_keys(con, where: str, files: list[str]) -> list[str]:
    """The keys the JSON lines files use (every record looked at); malformed JSON fails here."""
    try:
        rows = con.execute(
            "describe select * from read_json($files, format = 'newline_delimited', "
            "union_by_name = true, sample_size = -1)", {"files": files}).fetchall()
    except duckdb.Error as exc:
        raise SourceLoadError(f"{where}: {_json_problem(files, exc)}") from None
    return [row[0] for row in rows]


def _json_problem(files: list[str], exc: duckdb.Error) -> str:
    """DuckDB's reason (it names the file and line) without its error class."""
    reason = str(exc).splitlines()[0].split("Error: ", 1)[-1].strip()
    return f"{files[0] if len(files) == 1 else 'a file'} is not valid JSON lines: {reason}"


def stage_jsonl(con, table: SourceTable, files: list[str], label: str, first: Period,
                last: Period, as_of: datetime) -> FileStage:
    """Read JSON lines files as text (record numbers kept), then parse them as declared."""
    where = where_of(table)
    keys = json_keys(con, where, files)
    names = list(dict.fromkeys([*(c.name for c in table.table.columns), *keys]))
    name = new_stage_name()
    try:  # the scan keeps the files' order, so rowid numbers the records of each file
        con.execute(
            f"create temp table {name}_read as select * from read_json($files, "
            "format = 'newline_delimited', columns = $columns, filename = '_file')",
            {"files": files, "columns": dict.fromkeys(names, "varchar")})
        con.execute(
            f"create temp table {name}_text as select *, row_number() over (partition by _file "
            f"order by rowid) as _row from {name}_read")
    except duckdb.Error as exc:
        con.execute(f"drop table if exists {name}_read")
        raise SourceLoadError(f"{where}: {_json_problem(files, exc)}") from None
    return _staged(con, table, f"{name}_text", label, keys, first, last, as_of, False)


def stage_arrow(con, table: SourceTable, rows: pa.Table, label: str, first: Period,
                last: Period, as_of: datetime) -> FileStage:
    """Stage text rows read by Python (an Excel sheet): _file, _row and the header's columns."""
    keys = [n for n in rows.column_names if n not in ("_file", "_row")]
    extra_columns(where_of(table), table.table.columns, keys, label)  # a sheet lacks none
    name = new_stage_name()
    view = f"{name}_arrow"
    con.register(view, rows)
    try:
        con.execute(f"create temp table {name}_text as select * from {view}")
    finally:
        con.unregister(view)
    return _staged(con, table, f"{name}_text", label, keys, first, last, as_of, True)


def _staged(con, table, text, label, keys, first, last, as_of, iso_too) -> FileStage:
    try:
        return stage_text(con, table, text, label, keys, first, last, as_of, iso_too)
    except BaseException:
        FileStage(con, table, text.removesuffix("_text"), label).drop()
        raise

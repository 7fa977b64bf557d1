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
from pathlib import Path

import duckdb

from pipelines.catalog.catalog import SourceTable
from pipelines.catalog.file_formats import NATIVE_ENCODINGS
from pipelines.ingest.csv_inspect import (
    has_quote,
    mixed_newlines,
    read_header,
    records_problem,
    transcode,
)
from pipelines.ingest.csv_rejects import Rejected, duckdb_rejects, in_scope
from pipelines.ingest.drift import extra_columns, keepable
from pipelines.ingest.file_stage import FileStage, in_load_sql, match_columns, scan_type
from pipelines.ingest.raw_tables import SourceLoadError
from pipelines.ingest.staging import quote_any, where_of
from pipelines.periods import Period
from pipelines.warehouse.connection import is_disk_full

DATE_FORMAT, TIMESTAMP_FORMAT = "%Y-%m-%d", "%Y-%m-%d %H:%M:%S"
_QUOTES = "quote = '\"', escape = '\"'"


def _scan_types(table: SourceTable, header: list[str]) -> dict[str, str]:
    declared = {c.name: c.type for c in table.table.columns}
    return {name: scan_type(declared.get(name)) for name in header}


def _dialect(table: SourceTable) -> tuple[str, dict]:
    """The read_csv options of the table's dialect, and their bound values."""
    settings = table.table
    values = {
        "delim": settings.delimiter,
        "decimal_separator": settings.decimal_separator,
        "dateformat": settings.date_format or DATE_FORMAT,
        "timestampformat": settings.timestamp_format or TIMESTAMP_FORMAT,
        "encoding": NATIVE_ENCODINGS.get(settings.encoding, "utf-8"),
    }
    if settings.thousands is not None:
        values["thousands"] = settings.thousands
    return ", ".join(f"{name} = ${name}" for name in values), values


def _rejects(name: str) -> str:
    return f"store_rejects = true, rejects_table = '{name}_errors', rejects_scan = '{name}_scans'"


def _read(
    stage: FileStage,
    paths: list[str],
    header: list[str],
    first: Period,
    last: Period,
    shown: dict[str, str],
) -> list[Rejected]:
    """Insert the rows of months first..last (and those with an empty date) of files sharing the
    header `header`, in one scan; the rows DuckDB rejected. `shown` names the export a
    transcoded copy was made of."""
    options, values = _dialect(stage.table)
    wanted = [c.name for c in stage.table.table.columns] + [n for n, _ in stage.extras]
    columns = ", ".join(quote_any(n) for n in header if n in wanted)
    try:
        stage.con.execute(
            f"insert into {stage.name} by name select _file, {columns} from read_csv($paths, "
            f"header = true, {_QUOTES}, columns = $columns, {options}, auto_detect = false, "
            f"filename = '_file', {_rejects(stage.name)}) where {in_load_sql(stage.table)}",
            {
                "paths": paths,
                "columns": _scan_types(stage.table, header),
                **values,
                "first_day": first.start,
                "end_day": last.end,
            },
        )
        for copy, export in shown.items():
            stage.con.execute(f"update {stage.name} set _file = ? where _file = ?", [export, copy])
        return duckdb_rejects(
            stage.con,
            f"{stage.name}_errors",
            f"{stage.name}_scans",
            header,
            stage.table.table,
            shown,
        )
    finally:
        stage.con.execute(f"drop table if exists {stage.name}_errors")
        stage.con.execute(f"drop table if exists {stage.name}_scans")


def _count(stage: FileStage, paths: list[str], header: list[str] | None) -> dict[str, int]:
    """The records DuckDB reads from each file, rows and rejected rows, every column as text;
    with `header` None, its non-empty lines (no quoting, one column)."""
    options, values = _dialect(stage.table)
    name = f"{stage.name}_count"
    dialect = f"{_QUOTES}, {options}"
    if header is None:  # a line with the unit separator is a rejected row: still one line
        dialect = "quote = '', escape = '', delim = '\x1f', encoding = $encoding"
        values = {"encoding": values["encoding"]}
    try:
        rows = stage.con.execute(
            f"select _file, count(*) from read_csv($paths, header = true, {dialect}, columns = "
            f"$columns, auto_detect = false, filename = '_file', {_rejects(name)}) group by all",
            {"paths": paths, "columns": dict.fromkeys(header or ["line"], "varchar"), **values},
        ).fetchall()  # all of it: the scan fills its reject tables when it ends
        rejected = stage.con.execute(
            f"select s.file_path, count(distinct e.line) from {name}_errors e join {name}_scans s "
            "using (scan_id, file_id) group by all"
        ).fetchall()
    finally:
        stage.con.execute(f"drop table if exists {name}_errors")
        stage.con.execute(f"drop table if exists {name}_scans")
    counts = dict.fromkeys(paths, 0)
    for path, count in rows + rejected:
        counts[path] = counts.get(path, 0) + count
    return counts


def _lost_records(
    stage: FileStage, paths: list[str], header: list[str], encoding: str, shown: dict[str, str]
) -> dict[str, str]:
    """Why records of each file were lost to a quote ('<file> line N: ...'), for the files whose
    records DuckDB read are fewer than their lines; a file without any quote character cannot
    lose one (every line is a record or a rejected row)."""
    quoted = [path for path in paths if has_quote(path)]
    if not quoted:
        return {}
    read, lines = _count(stage, quoted, header), _count(stage, quoted, None)
    problems = {}
    for path, count in read.items():
        export = shown.get(path, path)
        problem = count != lines.get(path) and records_problem(
            path, export, stage.table, header, count, encoding
        )
        if problem:
            problems[export] = problem
    return problems


def _read_group(
    stage: FileStage,
    paths: list[str],
    header: list[str],
    first: Period,
    last: Period,
    encoding: str,
    shown: dict[str, str],
) -> dict[str, SourceLoadError]:
    """Read files sharing a header; the files that failed, with why."""
    where = where_of(stage.table)
    found = _read(stage, paths, header, first, last, shown)
    failed = {r.file: r.line() for r in reversed(found) if r.fatal}
    failed |= _lost_records(
        stage, [p for p in paths if shown.get(p, p) not in failed], header, encoding, shown
    )
    stage.rejected += [r for r in found if r.file not in failed and in_scope(r, first, last)]
    return {path: SourceLoadError(f"{where}: {problem}") for path, problem in failed.items()}


def _transcoded(
    stage: FileStage,
    path: str,
    header: list[str],
    first: Period,
    last: Period,
    newlines: bool = False,
) -> dict[str, SourceLoadError]:
    where = where_of(stage.table)
    with tempfile.TemporaryDirectory(prefix="scorecard-csv-") as folder:
        shown = transcode(where, [path], stage.table.table.encoding, Path(folder), newlines)
        return _read_group(stage, list(shown), header, first, last, "utf-8", shown)


def _prepare(stage: FileStage, path: str) -> list[str]:
    """A file's header as the load names its columns, checked against the catalog; what it
    adds noted in the stage."""
    settings = stage.table.table
    where = where_of(stage.table)
    match = match_columns(
        path, settings.columns, read_header(where, path, settings.delimiter, settings.encoding)
    )
    kept, unkept = keepable(extra_columns(where, settings.columns, match.names, path))
    stage.add_columns(path, [(n, "varchar") for n in kept], unkept, match.notes)
    return match.names


def stage_csv(
    stage: FileStage, files: list[str], first: Period, last: Period
) -> dict[str, SourceLoadError]:
    """Add the CSV files' rows of months first..last (and those with an empty date) to the
    stage, their rejected rows to `stage.rejected`; the files that cannot load (no usable header,
    a declared column missing, a byte not in the encoding, an unterminated or stray quote,
    records lost), each with its error. Files sharing a header are read in one scan
    (one scan per file when the encoding needs transcoding, or when the shared scan fails)."""
    failures: dict[str, SourceLoadError] = {}
    groups: dict[tuple[str, ...], list[str]] = {}
    for path in files:
        try:
            groups.setdefault(tuple(_prepare(stage, path)), []).append(path)
        except SourceLoadError as exc:
            failures[path] = exc
    encoding = stage.table.table.encoding
    for header, paths in groups.items():
        if encoding != "utf-16":  # a byte-wise line ending check; UTF-16 is read as it is
            for path in [p for p in paths if mixed_newlines(p)]:
                paths.remove(path)
                failures |= _one(stage, path, list(header), first, last, newlines=True)
        if not paths:
            continue
        if encoding not in NATIVE_ENCODINGS or len(paths) == 1:
            for path in paths:
                failures |= _one(stage, path, list(header), first, last)
            continue
        try:
            failures |= _read_group(stage, paths, list(header), first, last, encoding, {})
        except duckdb.Error as exc:
            if is_disk_full(exc):
                raise
            for path in paths:  # find the file to blame, one by one
                stage.forget(path, columns=False)
                failures |= _one(stage, path, list(header), first, last)
    return failures


def _one(
    stage: FileStage,
    path: str,
    header: list[str],
    first: Period,
    last: Period,
    newlines: bool = False,
) -> dict[str, SourceLoadError]:
    """Read one file (through a UTF-8 copy with LF line endings when `newlines`); {path: why}
    when it failed."""
    encoding = stage.table.table.encoding
    try:
        if encoding not in NATIVE_ENCODINGS or newlines:
            return _transcoded(stage, path, header, first, last, newlines)
        return _read_group(stage, [path], header, first, last, encoding, {})
    except SourceLoadError as exc:
        return {path: exc}
    except duckdb.Error as exc:
        if is_disk_full(exc):
            raise
        return {
            path: SourceLoadError(
                f"{where_of(stage.table)}: {path} could not be read: {str(exc).splitlines()[0]}"
            )
        }

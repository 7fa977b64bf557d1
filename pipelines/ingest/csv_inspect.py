"""Look at a CSV export before and after DuckDB reads it: present, not empty, in the declared
encoding (UTF-8 by default) and delimiter; transcode an encoding DuckDB cannot read to UTF-8; and
make sure no record was lost to a quote (`records_problem`).

Each problem is a SourceLoadError naming the source, table and file (and line), and what to change
in the export, so a broken file is refused before the month's rows are touched.

A record is lost when a quote swallows line breaks: an unterminated quote, or a stray one that a
later stray quote closes. A file without any quote character cannot lose one (each line is a
record or a rejected row). For a file with quotes, csv_stage counts its non-empty lines and the
records DuckDB reads and rejects; when they differ, `records_problem` reads the file again with
Python's csv module (RFC 4180, strict) and names the line where a quoted value goes wrong.
"""

from __future__ import annotations

import codecs
import csv
import glob
import io
from pathlib import Path

from pipelines.ingest.csv_rejects import month_of, month_of_value
from pipelines.ingest.raw_tables import EmptyExportError, SourceLoadError

_HEAD_BYTES = 1 << 16
_CHUNK = 1 << 22
_OTHER_DELIMITERS = (";", "\t", "|", ",")
_WIDE_BOMS = {
    codecs.BOM_UTF32_LE: "UTF-32",
    codecs.BOM_UTF32_BE: "UTF-32",
    codecs.BOM_UTF16_LE: "UTF-16",
    codecs.BOM_UTF16_BE: "UTF-16",
}


def matching_files(where: str, pattern: str) -> list[str]:
    """The files a path or glob names, sorted; an error when there are none."""
    files = sorted(glob.glob(pattern))
    if not files:
        raise SourceLoadError(f"{where}: no file matches {pattern} (is the export missing?)")
    return files


def _decode_other(where: str, path: str, head: bytes, encoding: str) -> str:
    decoder = codecs.getincrementaldecoder(encoding)()
    first = head.split(b"\n", 1)[0] if encoding != "utf-16" else head
    try:
        decoder.decode(first, final=False)
    except UnicodeDecodeError as exc:
        raise SourceLoadError(
            f"{where}: {path} line 1 (the header) is not valid {encoding} (byte "
            f"{first[exc.start : exc.start + 1]!r} at position {exc.start + 1}); check the "
            "table's encoding in the catalog"
        ) from None
    return codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=False)


def _decode_head(where: str, path: str, head: bytes, encoding: str = "utf-8") -> str:
    if encoding != "utf-8":
        return _decode_other(where, path, head, encoding)
    for bom, wide in _WIDE_BOMS.items():
        if head.startswith(bom):
            raise SourceLoadError(
                f"{where}: {path} is {wide}-encoded (it starts with a {wide} byte-order "
                "mark); export it as UTF-8, or declare encoding utf-16 in the catalog"
            )
    if b"\x00" in head[:4096]:
        raise SourceLoadError(
            f"{where}: {path} contains NUL bytes: it is not a UTF-8 text file (UTF-16 without a "
            "byte-order mark?); export it as UTF-8"
        )
    text = head.removeprefix(codecs.BOM_UTF8)
    first = text.split(b"\n", 1)[0]
    try:
        first.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceLoadError(
            f"{where}: {path} line 1 (the header) is not valid UTF-8 (byte "
            f"{first[exc.start : exc.start + 1]!r} at position {exc.start + 1}); the file is "
            "probably Latin-1 or Windows-1252: export it as UTF-8, or declare the table's "
            "encoding in the catalog"
        ) from None
    return text.decode("utf-8", errors="replace")


def _delimiter_hint(line: str, delimiter: str) -> str:
    counts = {d: line.count(d) for d in _OTHER_DELIMITERS if d != delimiter}
    best = max(counts, key=counts.get)
    if counts[best] and line.count(delimiter) == 0:
        shown = "tab" if best == "\t" else repr(best)
        return (
            f"; the header has no {delimiter!r} but {counts[best]} {shown}: the file looks "
            f"{shown}-delimited, while the catalog declares delimiter {delimiter!r}"
        )
    return ""


def read_header(where: str, path: str, delimiter: str, encoding: str = "utf-8") -> list[str]:
    """The column names on the first line of one CSV file, as written; raise on an unusable
    file (empty, not in its encoding, one column, a name twice, no data rows)."""
    with open(path, "rb") as handle:
        head = handle.read(_HEAD_BYTES)
    if not head.strip():
        raise EmptyExportError(
            f"{where}: {path} is empty (0 rows, no header); the export wrote nothing"
        )
    text = _decode_head(where, path, head, encoding).removeprefix("\ufeff")
    lines = text.splitlines()
    header_line = lines[0]
    header = next(csv.reader(io.StringIO(header_line), delimiter=delimiter, quotechar='"'))
    if len(header) < 2:
        raise SourceLoadError(
            f"{where}: {path} line 1 has a single column {header_line[:80]!r}"
            f"{_delimiter_hint(header_line, delimiter)}"
        )
    folded = [name.strip().casefold() for name in header]
    doubled = sorted(
        {n.strip() for n, f in zip(header, folded, strict=True) if folded.count(f) > 1}
    )
    if doubled:
        raise SourceLoadError(
            f"{where}: {path} line 1 names column(s) {', '.join(doubled)} more than once"
        )
    if len(head) < _HEAD_BYTES and not any(line.strip() for line in lines[1:]):
        raise EmptyExportError(f"{where}: {path} has a header but no data rows")
    return header


def transcode(
    where: str, files: list[str], encoding: str, folder: Path, newlines: bool = False
) -> dict[str, str]:
    """UTF-8 copies of files in an encoding DuckDB cannot read (cp1252, ...), in `folder`:
    {copy: original}; with `newlines`, every line ending made LF (a file mixing CRLF and LF,
    which DuckDB's reader cannot follow). A byte the encoding does not define fails with the
    file and line."""
    copies = {}
    decoding = _python_encoding(encoding)
    for index, path in enumerate(files):
        copy = folder / f"{index}.csv"
        with open(path, "rb") as source, open(copy, "w", encoding="utf-8", newline="") as out:
            for number, line in enumerate(source, start=1):
                if newlines and line.endswith(b"\r\n"):
                    line = line[:-2] + b"\n"
                try:
                    out.write(line.decode(decoding))
                except UnicodeDecodeError as exc:
                    raise SourceLoadError(
                        f"{where}: {path} line {number} is not valid {encoding} (byte "
                        f"{line[exc.start : exc.start + 1]!r} at position {exc.start + 1}); "
                        "check the table's encoding in the catalog"
                    ) from None
        copies[str(copy)] = path
    return copies


def _python_encoding(encoding: str) -> str:
    return "utf-8-sig" if encoding == "utf-8" else encoding


def mixed_newlines(path: str) -> bool:
    """Whether the file ends some lines with CRLF and others with a bare LF (an export appended
    to by another tool, or edited by hand). Stops at the first sight of both; a stretch without
    a carriage return is searched, not counted."""
    crlf = bare = False
    last = b""
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            if b"\r" in chunk or last == b"\r":
                pairs = chunk.count(b"\r\n") + (last == b"\r" and chunk[:1] == b"\n")
                crlf = crlf or pairs > 0
                bare = bare or chunk.count(b"\n") > pairs
            else:
                bare = bare or b"\n" in chunk
            if crlf and bare:
                return True
            last = chunk[-1:]
    return False


def has_quote(path: str) -> bool:
    """Whether the file holds a quote character (a byte search: in UTF-16 a false "yes" at
    worst, which only costs the count)."""
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            if b'"' in chunk:
                return True
    return False


def _row_like(
    line: str, delimiter: str, width: int, date_index: int, date_format: str | None
) -> bool:
    """Whether a line reads as a row of its own: as many fields as the header (split at the
    delimiter, quotes ignored) and a date in the date column."""
    fields = line.split(delimiter)
    return (
        len(fields) >= width
        and month_of_value(fields[date_index].strip().strip('"'), date_format) is not None
    )


def _swallowed(
    record: list[str],
    start: int,
    delimiter: str,
    width: int,
    date_index: int,
    date_format: str | None,
) -> str | None:
    """Where a record's quoted value spanning lines went wrong, or None: the record has not the
    header's number of fields, a line inside the value reads as a row of its own, or both the
    line where it opens and the line where it closes do (a legitimate multi-line value, a
    comment, leaves at most one of them looking like a row)."""
    line = start
    for index, value in enumerate(record):
        if "\n" not in value:
            continue
        parts = value.replace("\r\n", "\n").split("\n")
        rest = delimiter.join(record[index + 1 :])
        ends = [
            delimiter.join([*record[:index], f'"{parts[0]}']),
            f'{parts[-1]}"{delimiter if rest else ""}{rest}',
        ]
        rows = [p for p in parts[1:-1] if _row_like(p, delimiter, width, date_index, date_format)]
        if all(_row_like(end, delimiter, width, date_index, date_format) for end in ends):
            rows += ends
        opened = (
            f"line {line}: a quoted value opened on this line is closed only on line "
            f"{line + len(parts) - 1}"
        )
        if len(record) != width:
            return (
                f"{opened}, making one record of {len(record)} fields (the header has "
                f"{width}) of the lines between: an unterminated or stray quote"
            )
        if rows:
            return (
                f"{opened}, swallowing {len(parts) - 1} line break(s) between lines that "
                "read as rows of their own (an unterminated or stray quote); DuckDB would "
                "read them as one value"
            )
        line += len(parts) - 1
    return None


def _csv_error(exc: csv.Error) -> str:
    if "expected after" in str(exc):
        return (
            "a quoted value goes on after its closing quote (a stray quote); quote the "
            "whole value and double each quote inside it"
        )
    if "end of data" in str(exc):
        return "a quoted value opened here is never closed (an unterminated quote)"
    return f"the line does not read as CSV ({exc})"


def records_problem(
    path: str, shown: str, table, header: list[str], read: int, encoding: str
) -> str | None:
    """Why DuckDB's `read` records (rows and rejected rows) of a CSV file are fewer than the file
    holds, read again by Python's csv module (RFC 4180, strict): '<file> line N: ...'; None when
    they agree. `header`: its column names as the load names them; `encoding`: of `path` (a
    transcoded copy is UTF-8), `shown` the export's name."""
    settings = table.table
    width, date_index = len(header), header.index(settings.date_column)
    count, start, diverged = 0, 2, None
    with open(path, encoding=_python_encoding(encoding), errors="replace", newline="") as handle:
        reader = csv.reader(handle, delimiter=settings.delimiter, quotechar='"', strict=True)
        try:
            next(reader, None)
            start = reader.line_num + 1
            for record in reader:
                if record:
                    count += 1
                    diverged = diverged or (start if count > read else None)
                    problem = _swallowed(
                        record, start, settings.delimiter, width, date_index, settings.date_format
                    )
                    if problem:
                        return f"{shown} {problem}"
                start = reader.line_num + 1
        except csv.Error as exc:
            return f"{shown} line {start}: {_csv_error(exc)}"
    if diverged:
        return (
            f"{shown} line {diverged}: DuckDB read {read} records, Python's csv module "
            f"{count}: the records from this line on would be lost"
        )
    return None


def csv_months(path: str, table) -> set[str] | None:
    """The months a CSV file's date column names, read line by line as text, errors ignored
    (for a file that failed); None when nothing tells."""
    settings = table.table
    wanted = settings.date_column.casefold()
    months = set()
    try:
        with open(
            path, encoding=_python_encoding(settings.encoding), errors="replace", newline=""
        ) as handle:
            header = next(csv.reader([handle.readline()], delimiter=settings.delimiter))
            names = [name.strip().casefold() for name in header]
            if wanted not in names:
                return None
            index = names.index(wanted)
            for line in handle:
                month = month_of(line, settings.delimiter, index, settings.date_format)
                if month:
                    months.add(month)
    except (OSError, csv.Error, StopIteration, UnicodeError):
        return None
    return months or None

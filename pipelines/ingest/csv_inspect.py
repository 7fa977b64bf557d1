"""Look at a CSV export before DuckDB reads it: present, not empty, in the declared encoding
(UTF-8 by default) and delimiter; and transcode an encoding DuckDB cannot read to UTF-8.

Each problem is a SourceLoadError naming the source, table and file, and what to change in the
export, so a broken file is refused before the month's rows are touched.
"""

from __future__ import annotations

import codecs
import csv
import glob
import io
from pathlib import Path

from pipelines.ingest.raw_tables import SourceLoadError

_HEAD_BYTES = 1 << 16
_OTHER_DELIMITERS = (";", "\t", "|", ",")
_WIDE_BOMS = {
    codecs.BOM_UTF32_LE: "UTF-32", codecs.BOM_UTF32_BE: "UTF-32",
    codecs.BOM_UTF16_LE: "UTF-16", codecs.BOM_UTF16_BE: "UTF-16",
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
            f"{first[exc.start:exc.start + 1]!r} at position {exc.start + 1}); check the "
            "table's encoding in the catalog") from None
    return codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=False)


def _decode_head(where: str, path: str, head: bytes, encoding: str = "utf-8") -> str:
    if encoding != "utf-8":
        return _decode_other(where, path, head, encoding)
    for bom, wide in _WIDE_BOMS.items():
        if head.startswith(bom):
            raise SourceLoadError(
                f"{where}: {path} is {wide}-encoded (it starts with a {wide} byte-order "
                "mark); export it as UTF-8, or declare encoding utf-16 in the catalog")
    if b"\x00" in head[:4096]:
        raise SourceLoadError(
            f"{where}: {path} contains NUL bytes: it is not a UTF-8 text file (UTF-16 without a "
            "byte-order mark?); export it as UTF-8")
    text = head.removeprefix(codecs.BOM_UTF8)
    first = text.split(b"\n", 1)[0]
    try:
        first.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceLoadError(
            f"{where}: {path} line 1 (the header) is not valid UTF-8 (byte "
            f"{first[exc.start:exc.start + 1]!r} at position {exc.start + 1}); the file is "
            "probably Latin-1 or Windows-1252: export it as UTF-8, or declare the table's "
            "encoding in the catalog") from None
    return text.decode("utf-8", errors="replace")


def _delimiter_hint(line: str, delimiter: str) -> str:
    counts = {d: line.count(d) for d in _OTHER_DELIMITERS if d != delimiter}
    best = max(counts, key=counts.get)
    if counts[best] and line.count(delimiter) == 0:
        shown = "tab" if best == "\t" else repr(best)
        return (f"; the header has no {delimiter!r} but {counts[best]} {shown}: the file looks "
                f"{shown}-delimited, while the catalog declares delimiter {delimiter!r}")
    return ""


def read_header(where: str, path: str, delimiter: str, encoding: str = "utf-8") -> list[str]:
    """The column names on the first line of one CSV file; raise on an unusable file."""
    with open(path, "rb") as handle:
        head = handle.read(_HEAD_BYTES)
    if not head.strip():
        raise SourceLoadError(f"{where}: {path} is empty (0 rows, no header); the export "
                              "wrote nothing")
    text = _decode_head(where, path, head, encoding).removeprefix("\ufeff")
    lines = text.splitlines()
    header_line = lines[0]
    header = next(csv.reader(io.StringIO(header_line), delimiter=delimiter, quotechar='"'))
    header = [name.strip() for name in header]
    if len(header) < 2:
        raise SourceLoadError(
            f"{where}: {path} line 1 has a single column {header_line[:80]!r}"
            f"{_delimiter_hint(header_line, delimiter)}")
    doubled = sorted({n for n in header if header.count(n) > 1})
    if doubled:
        raise SourceLoadError(f"{where}: {path} line 1 names column(s) {', '.join(doubled)} "
                              "more than once")
    if len(head) < _HEAD_BYTES and not any(line.strip() for line in lines[1:]):
        raise SourceLoadError(f"{where}: {path} has a header but no data rows")
    return header


def common_header(where: str, files: list[str], delimiter: str,
                  encoding: str = "utf-8") -> list[str]:
    """The header all files of a glob share; raise when one differs from the first."""
    header = read_header(where, files[0], delimiter, encoding)
    for path in files[1:]:
        other = read_header(where, path, delimiter, encoding)
        if other != header:
            raise SourceLoadError(
                f"{where}: {path} has the columns {', '.join(other)}, but {files[0]} has "
                f"{', '.join(header)}; every file of the table must have the same header")
    return header


def transcode(where: str, files: list[str], encoding: str, folder: Path) -> dict[str, str]:
    """UTF-8 copies of files in an encoding DuckDB cannot read (cp1252, ...), in `folder`:
    {copy: original}. A byte the encoding does not define fails with the file and line."""
    copies = {}
    for index, path in enumerate(files):
        copy = folder / f"{index}.csv"
        with open(path, "rb") as source, open(copy, "w", encoding="utf-8", newline="") as out:
            for number, line in enumerate(source, start=1):
                try:
                    out.write(line.decode(encoding))
                except UnicodeDecodeError as exc:
                    raise SourceLoadError(
                        f"{where}: {path} line {number} is not valid {encoding} (byte "
                        f"{line[exc.start:exc.start + 1]!r} at position {exc.start + 1}); "
                        "check the table's encoding in the catalog") from None
        copies[str(copy)] = path
    return copies

"""Read Excel workbooks (xlsx) with openpyxl into Arrow text columns.

DuckDB's excel extension is installed over the network, which a deployment may not allow, so
sheets are read in Python: the first row is the header, every later non-empty row a record with
its spreadsheet row number, the header's names as written (text_stage matches them to the
catalog's). Cells become text (numbers as written, dates and times in ISO form,
booleans as true/false) and are parsed into the declared types by text_stage like JSON values.
A file that is not a workbook, or lacks the sheet, fails naming the file.
"""

from __future__ import annotations

import zipfile
from datetime import date, datetime, time

import pyarrow as pa
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from pipelines.ingest.raw_tables import EmptyExportError, SourceLoadError


def cell_text(value) -> str | None:
    """One cell's value as the text a CSV export would hold."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _header(where: str, path: str, row: tuple) -> list[str]:
    names = [cell_text(v) for v in row]
    while names and names[-1] is None:
        names.pop()
    if not names:
        raise SourceLoadError(f"{where}: {path} has an empty first row; it must hold the header")
    blank = [i + 1 for i, n in enumerate(names) if n is None or not n.strip()]
    if blank:
        raise SourceLoadError(f"{where}: {path} row 1 has no column name in column {blank[0]}")
    folded = [n.strip().casefold() for n in names]
    doubled = sorted({n.strip() for n, f in zip(names, folded, strict=True) if folded.count(f) > 1})
    if doubled:
        raise SourceLoadError(
            f"{where}: {path} row 1 names column(s) {', '.join(doubled)} more than once"
        )
    return names


def _sheet(where: str, path: str, sheet: str | None):
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise SourceLoadError(f"{where}: {path} is not a readable xlsx workbook ({exc})") from None
    if sheet is None:
        return book, book.worksheets[0]
    if sheet not in book.sheetnames:
        book.close()
        raise SourceLoadError(
            f"{where}: {path} has no sheet {sheet!r}; it has {', '.join(book.sheetnames)}"
        )
    return book, book[sheet]


def read_xlsx(where: str, path: str, sheet: str | None) -> tuple[list[str], dict[str, list]]:
    """(header, {column: texts, _row: spreadsheet row numbers}) of one workbook's sheet."""
    book, worksheet = _sheet(where, path, sheet)
    try:
        rows = worksheet.iter_rows(values_only=True)
        header = _header(where, path, next(rows, ()))
        columns: dict[str, list] = {name: [] for name in [*header, "_row"]}
        for number, row in enumerate(rows, start=2):
            texts = [cell_text(v) for v in row[: len(header)]]
            if all(t is None or not t.strip() for t in texts):
                continue
            texts += [None] * (len(header) - len(texts))
            for name, text in zip(header, texts, strict=True):
                columns[name].append(text)
            columns["_row"].append(number)
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise SourceLoadError(f"{where}: {path} could not be read: {exc}") from None
    finally:
        book.close()
    if not columns["_row"]:
        raise EmptyExportError(f"{where}: {path} has a header but no data rows")
    return header, columns


def sheet_table(where: str, path: str, sheet: str | None) -> tuple[list[str], pa.Table]:
    """(header, one workbook's sheet as an Arrow table of text: _file, _row, then the header's
    columns)."""
    header, columns = read_xlsx(where, path, sheet)
    rows = columns.pop("_row")
    arrays = {
        "_file": pa.array([path] * len(rows), pa.string()),
        "_row": pa.array(rows, pa.int64()),
    }
    arrays |= {name: pa.array(values, pa.string()) for name, values in columns.items()}
    return header, pa.table(arrays)

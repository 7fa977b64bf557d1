"""Rejected rows of a CSV load: what DuckDB's reject tables and the staged rows say, per month.

A value that does not parse is never coerced: its row is rejected, counted, and attributed to the
month its date says (rows of other months are those months' business). When the share of rejected
rows of the months being loaded is above the table's `max_reject_rate` (default 0), the load fails
with a message naming the file, line or row, column and value; an unterminated quote or a file
that is not UTF-8 fails it whatever the rate.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from pipelines.catalog.models import Table
from pipelines.ingest.raw_tables import SourceLoadError
from pipelines.periods import Period

_MONTH = re.compile(r"^\s*\"?(\d{4})-(\d{2})")
_CAST = re.compile(r'Could not convert string "(.*)" to', re.S)
_FOUND = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")
_FATAL = {
    "UNQUOTED VALUE": "a quoted value is never closed (an unterminated quote); DuckDB would read "
                      "the rest of the file as that one value",
    "INVALID ENCODING": "the file is not valid {encoding} here: export it as {encoding}, or "
                        "declare the table's encoding in the catalog (latin-1, cp1252, ...)",
}
_TYPE_WORDS = {"integer": "a whole number", "bigint": "a whole number", "double": "a number",
               "boolean": "true or false", "varchar": "text"}
MAX_EXAMPLES = 5


@dataclass(frozen=True)
class Rejected:
    """One rejected row: where it is, why, and the month it belongs to (None: unknown)."""

    where: str  # 'file line N' or 'file, row entry_id=GL-5'
    column: str | None
    reason: str
    period: str | None
    fatal: bool = False

    def line(self) -> str:
        """The row as one line of an error message."""
        column = f", column {self.column}" if self.column else ""
        return f"{self.where}{column}: {self.reason}"


def type_words(declared: str | None, table: Table) -> str:
    """What a value of a declared type must look like in the table's files."""
    if declared == "date":
        return f"a date ({table.date_format or 'YYYY-MM-DD'})"
    if declared == "timestamp":
        return f"a timestamp ({table.timestamp_format or 'YYYY-MM-DD HH:MM:SS'})"
    if declared == "decimal":
        thousands = (f"{table.thousands!r} between thousands" if table.thousands
                     else "no thousands separators")
        return f"a number (digits and {table.decimal_separator!r}, {thousands})"
    return _TYPE_WORDS.get(declared or "", declared or "readable")


def reason_of(error_type: str, message: str, declared: str | None, table: Table) -> str:
    """A plain reason for one DuckDB reject record."""
    if error_type in _FATAL:
        return _FATAL[error_type].format(encoding=table.encoding.upper())
    if error_type == "CAST":
        value = _CAST.search(message)
        shown = f'"{value.group(1)}"' if value else "the value"
        return f"{shown} is not {type_words(declared, table)}"
    found = _FOUND.search(message)
    if found:
        return f"the row has {found.group(2)} fields, the header has {found.group(1)}"
    return message.strip()


def month_of(csv_line: str, delimiter: str, date_index: int,
             date_format: str | None = None) -> str | None:
    """'YYYY-MM' of a raw CSV line's date field, when it starts like a date (or, with a
    `date_format`, reads as one)."""
    try:
        fields = next(csv.reader(io.StringIO(csv_line), delimiter=delimiter, quotechar='"'))
    except (csv.Error, StopIteration):
        return None
    if date_index >= len(fields):
        return None
    if date_format:
        try:  # DuckDB's format codes are Python's for dates
            return datetime.strptime(fields[date_index].strip(), date_format).strftime("%Y-%m")
        except ValueError:
            return None
    match = _MONTH.match(fields[date_index])
    if not match or not 1 <= int(match.group(2)) <= 12:
        return None
    return f"{match.group(1)}-{match.group(2)}"


def duckdb_rejects(con, errors: str, scans: str, header: list[str], table: Table,
                   shown: dict[str, str] | None = None) -> list[Rejected]:
    """The rows DuckDB rejected in the scan whose reject tables are `errors` and `scans`;
    `shown` names the export a transcoded copy was read for."""
    declared = {c.name: c.type for c in table.columns}
    shown = shown or {}
    rows = con.execute(
        f"select s.file_path, e.line, e.column_name, e.error_type::varchar, e.csv_line, "
        f"e.error_message from {errors} e join {scans} s using (scan_id, file_id) "
        "order by s.file_path, e.line"
    ).fetchall()
    seen, result = set(), []
    for path, line, column, kind, raw, message in rows:
        if (path, line) in seen:  # a ragged row gives a record per missing column
            continue
        seen.add((path, line))
        result.append(Rejected(
            f"{shown.get(path, path)} line {line}", column,
            reason_of(kind, message or "", declared.get(column), table),
            month_of(raw or "", table.delimiter, header.index(table.date_column),
                     table.date_format), kind in _FATAL))
    return result


def in_scope(rejected: Rejected, first: Period, last: Period, as_of: datetime) -> bool:
    """Whether a rejected row counts against this load: its month is loaded now, in the
    future, or unknown; rows of other past months do not."""
    if rejected.fatal or rejected.period is None:
        return True
    period = Period.parse(rejected.period)
    return first <= period <= last or period > Period.of(as_of.date())


def judge(where: str, rejected: list[Rejected], loadable_rows: int, max_rate: float) -> None:
    """Raise when a fatal problem was found or the reject rate is above `max_rate`."""
    fatal = [r for r in rejected if r.fatal]
    if fatal:
        raise SourceLoadError(f"{where}: {fatal[0].line()}")
    if not rejected:
        return
    total = loadable_rows + len(rejected)
    rate = len(rejected) / total
    if rate <= max_rate:
        return
    examples = "; ".join(r.line() for r in rejected[:MAX_EXAMPLES])
    more = f" (and {len(rejected) - MAX_EXAMPLES} more)" if len(rejected) > MAX_EXAMPLES else ""
    raise SourceLoadError(
        f"{where}: {len(rejected)} of {total} rows rejected ({rate:.2%}, the table allows "
        f"{max_rate:.2%}; max_reject_rate in the catalog): {examples}{more}. "
        "Nothing was loaded; the months keep their earlier rows.")


def by_period(rejected: list[Rejected], first: Period, last: Period) -> dict[str, int]:
    """Rejected rows per loaded month ('unknown' for rows whose month is not known)."""
    counts: Counter = Counter()
    for row in rejected:
        inside = row.period is not None and first <= Period.parse(row.period) <= last
        counts[row.period if inside else "unknown"] += 1
    return dict(counts)

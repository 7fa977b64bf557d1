"""Rejected rows of a file load: what DuckDB's reject tables and the staged rows say, and the
months they block.

A value that does not parse is never coerced: its row is rejected, counted, and attributed to the
month its date says (rows of other months are those months' business). Each file is judged on its
own, month by month: when the share of a file's rejected rows in a month being loaded is above the
table's `max_reject_rate` (default 0), that month is blocked with a message naming the file, line
or row, column and value (`blocked_months`). A row whose month cannot be told counts against every
month of the load its file holds. An unterminated or stray quote, or a file that is not in its
encoding, fails its whole file whatever the rate (`fatal`).
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from pipelines.catalog.models import Table
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
STRAY_QUOTE = (
    "a quoted value goes on after its closing quote (a stray quote); quote the whole "
    "value and double each quote inside it"
)
_TYPE_WORDS = {
    "integer": "a whole number",
    "bigint": "a whole number",
    "double": "a number",
    "boolean": "true or false",
    "varchar": "text",
}
MAX_EXAMPLES = 5


@dataclass(frozen=True)
class Rejected:
    """One rejected row: where it is, why, and the month it belongs to (None: unknown)."""

    where: str  # 'file line N' or 'file, row entry_id=GL-5'
    column: str | None
    reason: str
    period: str | None
    fatal: bool = False
    file: str | None = None  # the file it is in

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
        thousands = (
            f"{table.thousands!r} between thousands"
            if table.thousands
            else "no thousands separators"
        )
        return f"a number (digits and {table.decimal_separator!r}, {thousands})"
    return _TYPE_WORDS.get(declared or "", declared or "readable")


def _quote_reason(csv_line: str, delimiter: str) -> str:
    """Why DuckDB found an unquoted value: a quote never closed, or text after a closing one."""
    try:
        list(csv.reader(io.StringIO(csv_line), delimiter=delimiter, quotechar='"', strict=True))
    except csv.Error as exc:
        if "expected after" in str(exc):
            return STRAY_QUOTE
    return _FATAL["UNQUOTED VALUE"]


def reason_of(
    error_type: str, message: str, declared: str | None, table: Table, csv_line: str = ""
) -> str:
    """A plain reason for one DuckDB reject record."""
    if error_type == "UNQUOTED VALUE":
        return _quote_reason(csv_line, table.delimiter)
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


def month_of_value(text: str | None, date_format: str | None = None) -> str | None:
    """'YYYY-MM' of a date written as text, when it starts like a date (or, with a
    `date_format`, reads as one)."""
    if text is None:
        return None
    if date_format:
        try:  # DuckDB's format codes are Python's for dates
            return datetime.strptime(text.strip(), date_format).strftime("%Y-%m")
        except ValueError:
            return None
    match = _MONTH.match(text)
    if not match or not 1 <= int(match.group(2)) <= 12:
        return None
    return f"{match.group(1)}-{match.group(2)}"


def month_of(
    csv_line: str, delimiter: str, date_index: int, date_format: str | None = None
) -> str | None:
    """'YYYY-MM' of a raw CSV line's date field (see `month_of_value`)."""
    try:
        fields = next(csv.reader(io.StringIO(csv_line), delimiter=delimiter, quotechar='"'))
    except (csv.Error, StopIteration):
        return None
    if date_index >= len(fields):
        return None
    return month_of_value(fields[date_index], date_format)


def duckdb_rejects(
    con,
    errors: str,
    scans: str,
    header: list[str],
    table: Table,
    shown: dict[str, str] | None = None,
) -> list[Rejected]:
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
        result.append(
            Rejected(
                f"{shown.get(path, path)} line {line}",
                column,
                reason_of(kind, message or "", declared.get(column), table, raw or ""),
                month_of(
                    raw or "", table.delimiter, header.index(table.date_column), table.date_format
                ),
                kind in _FATAL,
                shown.get(path, path),
            )
        )
    return result


def in_scope(rejected: Rejected, first: Period, last: Period) -> bool:
    """Whether a rejected row counts against this load: its month is loaded now or unknown;
    rows of other months (earlier or later, future or not) do not."""
    if rejected.fatal or rejected.period is None:
        return True
    return first.key <= rejected.period <= last.key


def _rate_problem(
    path: str, month: str, bad: list[Rejected], good: int, max_rate: float
) -> str | None:
    """Why a file's rows of a month are refused, or None when its reject rate is allowed."""
    total = good + len(bad)
    rate = len(bad) / total
    if rate <= max_rate:
        return None
    examples = "; ".join(r.line() for r in bad[:MAX_EXAMPLES])
    more = f" (and {len(bad) - MAX_EXAMPLES} more)" if len(bad) > MAX_EXAMPLES else ""
    return (
        f"{path} ({month}): {len(bad)} of {total} rows rejected ({rate:.2%}, the table "
        f"allows {max_rate:.2%}; max_reject_rate in the catalog): {examples}{more}"
    )


def blocked_months(
    rejected: list[Rejected],
    loadable: dict[tuple[str, str], int],
    months: list[str],
    max_rate: float,
    months_of: Callable[[str], set[str] | None],
) -> dict[str, list[str]]:
    """The months of the load whose rows of some file are rejected above `max_rate`, each with
    why (naming the file). A row of unknown month counts against each month of the load its file
    holds rows of; when it holds none, against the months `months_of(file)` finds in the file
    (every month of the load when it finds none)."""
    blocked: dict[str, list[str]] = defaultdict(list)
    for path in sorted({r.file for r in rejected if r.file is not None}):
        mine = [r for r in rejected if r.file == path]
        unknown = [r for r in mine if r.period is None]
        held = {m for f, m in loadable if f == path} | {r.period for r in mine if r.period}
        if not held:
            found = months_of(path)
            held = set(found) if found else set(months)
        for month in sorted(held & set(months)):
            bad = [r for r in mine if r.period == month] + unknown
            problem = _rate_problem(path, month, bad, loadable.get((path, month), 0), max_rate)
            if problem:
                blocked[month].append(problem)
    return dict(blocked)


def by_period(rejected: list[Rejected], first: Period, last: Period) -> dict[str, int]:
    """Rejected rows per loaded month ('unknown' for rows whose month is not known)."""
    counts: Counter = Counter()
    for row in rejected:
        inside = row.period is not None and first.key <= row.period <= last.key
        counts[row.period if inside else "unknown"] += 1
    return dict(counts)

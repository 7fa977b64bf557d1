"""The staged rows of a file load, whatever the format, and the rows that cannot be loaded.

Each format's reader (csv_stage, parquet_stage, text_stage) adds each file's rows of the months
being loaded to one temp table, typed as declared (whole numbers as exact decimals, so that "3.7"
is rejected rather than rounded), each row with the file it came from (`_file`), and the rows whose
values did not parse already set aside as `Rejected`. `stage_problems` then finds the rows that
cannot be loaded either (an empty date, a date in the future, a fractional whole number, an exact
duplicate, also across files) and counts the loadable rows per file and month, so that each file
is judged on its own. Rows dated outside the months being loaded are never staged: they are
not this load's business, future or not. `match_columns` matches a file's column names to the
declared ones by name, in any order, ignoring case and surrounding spaces.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pipelines.catalog.catalog import SourceTable
from pipelines.catalog.models import Column
from pipelines.ingest.csv_rejects import Rejected
from pipelines.ingest.raw_tables import SQL_TYPES, raw_typed_columns
from pipelines.ingest.staging import quote_any
from pipelines.periods import Period
from pipelines.warehouse.connection import quote_identifier

WHOLE = ("integer", "bigint")
EXACT = "decimal(38, 10)"
_SUFFIXES = ("", "_errors", "_scans", "_count_errors", "_count_scans", "_text", "_read")


def new_stage_name() -> str:
    """A fresh temp table name; its helper tables add the suffixes `drop` removes."""
    return f"_stage_{uuid.uuid4().hex[:12]}"


def scan_type(declared: str | None) -> str:
    """The staging type of a declared column type (exact decimals for whole numbers)."""
    if declared in WHOLE:
        return EXACT
    return SQL_TYPES.get(declared, "varchar")


@dataclass(frozen=True)
class ColumnMatch:
    """A file's columns as the load names them (declared spelling where matched), and a note
    for each declared column found only after ignoring case or surrounding spaces."""

    names: list[str]
    notes: list[str]


def match_columns(path: str, declared: Sequence[Column], found: Sequence[str]) -> ColumnMatch:
    """Match a file's column names to the declared ones: exactly, else ignoring case and
    surrounding spaces (when exactly one name matches so); other names are stripped of
    surrounding spaces (unless that makes them another column's name)."""
    wanted = {c.name for c in declared}
    loose = {}
    for column in declared:
        if column.name in found:
            continue
        hits = [
            f for f in found if f not in wanted and f.strip().casefold() == column.name.casefold()
        ]
        if len(hits) == 1:
            loose[hits[0]] = column.name
    taken = set(found) | wanted  # a stripped name that would clash stays as written
    names = [
        loose.get(name, name if name.strip() in taken - {name} else name.strip()) for name in found
    ]
    notes = [f"{path}: column {name!r} read as {loose[name]}" for name in found if name in loose]
    return ColumnMatch(names, notes)


@dataclass
class FileStage:
    """The staged rows of one load and what was wrong with the others."""

    con: object
    table: SourceTable
    name: str
    rejected: list[Rejected] = field(default_factory=list)
    duplicates: int = 0
    loadable: dict[tuple[str, str], int] = field(default_factory=dict)  # (file, month): rows
    # per file read: its kept added columns (name, SQL type), the added columns that cannot be
    # warehouse columns, and the columns it matched ignoring case or spaces
    added: dict[str, tuple[list, list, list]] = field(default_factory=dict)
    _columns: set[str] = field(default_factory=set)  # added columns the table has
    receiving: str | None = None  # the table files are read into (default: the stage)

    @property
    def extras(self) -> list[tuple[str, str]]:
        """The kept added columns of the files staged (name, SQL type), first seen first."""
        return self._first_seen(0)

    def _first_seen(self, part: int) -> list:
        seen: dict = {}
        for entry in self.added.values():
            for item in entry[part]:
                seen.setdefault(item[0] if part == 0 else item, item)
        return list(seen.values())

    @property
    def unkept(self) -> tuple[str, ...]:
        """Added columns of the files staged that cannot be warehouse columns."""
        return tuple(self._first_seen(1))

    @property
    def notes(self) -> tuple[str, ...]:
        """Declared columns the files staged name only with another case or spaces."""
        return tuple(self._first_seen(2))

    @property
    def loadable_rows(self) -> int:
        """Rows that load, over every file and month."""
        return sum(self.loadable.values())

    def create(self) -> None:
        """Create the (empty) table: the declared columns as staged, then `_file`."""
        columns = [f"{quote_any(c.name)} {scan_type(c.type)}" for c in self.table.table.columns]
        self.con.execute(f"create temp table {self.name} ({', '.join(columns)}, _file varchar)")

    def add_columns(
        self,
        path: str,
        kept: list[tuple[str, str]],
        unkept: Sequence[str],
        notes: Sequence[str] = (),
    ) -> None:
        """Note what a file adds; give the table the kept added columns (name, SQL type) it
        lacks."""
        for name, sql_type in kept:
            if name not in self._columns:
                self.con.execute(
                    f"alter table {self.receiving or self.name} add column "
                    f"{quote_any(name)} {sql_type}"
                )
                self._columns.add(name)
        self.added[path] = (list(kept), list(unkept), list(notes))

    def forget(self, path: str, columns: bool = True) -> None:
        """Take a file's rows, rejected rows and (unless not `columns`) added columns out (a
        file that failed, or is to be read again)."""
        self.con.execute(f"delete from {self.receiving or self.name} where _file = ?", [path])
        self.rejected = [r for r in self.rejected if r.file != path]
        if columns:
            self.added.pop(path, None)

    def _fraction_filter(self) -> str:
        whole = [quote_identifier(c.name) for c in self.table.table.columns if c.type in WHOLE]
        return " and ".join(f"({c} is null or {c} = trunc({c}))" for c in whole) or "true"

    def _names(self) -> list[str]:
        return [c.name for c in self.table.table.columns] + [n for n, _ in self.extras]

    def select_sql(self) -> str:
        """The staged rows that load: declared columns cast to their types, then the kept added
        columns; duplicates once."""
        distinct = "distinct " if self.duplicates else ""
        return (
            f"select {distinct}{raw_typed_columns(self.table, self.extras)} "
            f"from {self.name} where {self._fraction_filter()}"
        )

    def drop(self) -> None:
        """Drop the temp tables."""
        for suffix in _SUFFIXES:
            self.con.execute(f"drop table if exists {self.name}{suffix}")


def _identity(table: SourceTable) -> list[str]:
    keys = table.table.key or [table.table.date_column, table.table.columns[0].name]
    return list(dict.fromkeys(keys))


def _row_where(stage: FileStage, path: str, key: Sequence) -> str:
    shown = ", ".join(f"{c}={v}" for c, v in zip(_identity(stage.table), key, strict=True))
    return f"{path}, row {shown}"


def _offending(
    stage: FileStage, condition: str, column: str, reason: str, params: dict
) -> list[Rejected]:
    """One Rejected per staged row matching `condition`, named by its file and key (or date)."""
    shown = ", ".join(quote_identifier(c) for c in _identity(stage.table))
    date = quote_identifier(stage.table.table.date_column)
    rows = stage.con.execute(
        f"select _file, {shown}, {quote_identifier(column)}::varchar, strftime({date}, '%Y-%m') "
        f"from {stage.name} where {condition} order by all",
        params,
    ).fetchall()
    return [
        Rejected(
            _row_where(stage, row[0], row[1:-2]),
            column,
            reason.format(value=row[-2]),
            row[-1],
            file=row[0],
        )
        for row in rows
    ]


def as_of_value(table: SourceTable, as_of: datetime):
    """`as_of` as the date column's type: a timestamp or a date."""
    kind = next(c.type for c in table.table.columns if c.name == table.table.date_column)
    return as_of if kind == "timestamp" else as_of.date()


def in_load_sql(table: SourceTable, date: str | None = None) -> str:
    """The rows a stage keeps: of the months loaded ($first_day, $end_day), or with an empty
    date (to be reported). `date`: SQL of the date (default: its column)."""
    date = date or quote_identifier(table.table.date_column)
    return f"{date} is null or ({date} >= $first_day and {date} < $end_day)"


def _duplicates(stage: FileStage, rows: str, bounds: dict) -> list[tuple]:
    """(key..., month, extra copies, file of the last copy) of each row staged more than once."""
    names = ", ".join(quote_identifier(n) for n in stage._names())
    ident = ", ".join(quote_identifier(c) for c in _identity(stage.table))
    date = quote_identifier(stage.table.table.date_column)
    if stage.table.table.key:  # only rows sharing a key can be copies: compare whole rows then
        rows += f" and ({ident}) in (select ({ident}) {rows} group by all having count(*) > 1)"
    return stage.con.execute(
        f"select {ident}, strftime({date}, '%Y-%m'), n - 1, last_file from (select {names}, "
        f"count(*) as n, max(_file) as last_file {rows} group by all having count(*) > 1) "
        "order by all",
        bounds,
    ).fetchall()


def stage_problems(stage: FileStage, first: Period, last: Period, as_of: datetime) -> None:
    """Add the staged rows that cannot load to `rejected`; count duplicates and the loadable
    rows per file and month."""
    table = stage.table.table
    date = quote_identifier(table.date_column)
    in_range = f"{date} >= $first_day and {date} < $end_day"
    bounds = {"first_day": first.start, "end_day": last.end}
    stage.rejected += _offending(
        stage, f"{date} is null", table.date_column, "is empty: the row belongs to no month", {}
    )
    future = {"as_of": as_of_value(stage.table, as_of)}
    stage.rejected += _offending(
        stage,
        f"{date} > $as_of",
        table.date_column,
        f"{{value}} is in the future (after {as_of:%Y-%m-%d %H:%M})",
        future,
    )
    stage.con.execute(f"delete from {stage.name} where {date} > $as_of", future)
    for column in (c.name for c in table.columns if c.type in WHOLE):
        name = quote_identifier(column)
        stage.rejected += _offending(
            stage,
            f"{in_range} and {name} <> trunc({name})",
            column,
            "{value} is not a whole number",
            bounds,
        )
    rows = f"from {stage.name} where {in_range} and {stage._fraction_filter()}"
    copies: Counter = Counter()
    for *key, period, extra, path in _duplicates(stage, rows, bounds):
        stage.rejected += [
            Rejected(
                _row_where(stage, path, key),
                None,
                f"the row appears {extra + 1} times (a duplicated row)",
                period,
                file=path,
            )
        ] * extra
        copies[(path, period)] += extra
    stage.duplicates = sum(copies.values())
    counts = stage.con.execute(
        f"select _file, strftime({date}, '%Y-%m'), count(*) {rows} group by all", bounds
    ).fetchall()
    stage.loadable = {(path, month): n - copies[(path, month)] for path, month, n in counts}

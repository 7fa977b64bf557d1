"""The staged rows of a file load, whatever the format, and the rows that cannot be loaded.

Each format's reader (csv_stage, parquet_stage, text_stage) puts the rows of the months being
loaded in a temp table, typed as declared (whole numbers as exact decimals, so that "3.7" is
rejected rather than rounded), with the rows whose values did not parse already set aside as
`Rejected`. `stage_problems` then finds the rows that cannot be loaded either: an empty date, a
date in the future, a fractional whole number, an exact duplicate.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from pipelines.catalog.catalog import SourceTable
from pipelines.ingest.csv_rejects import Rejected
from pipelines.ingest.raw_tables import SQL_TYPES, raw_typed_columns
from pipelines.periods import Period
from pipelines.warehouse.connection import quote_identifier

WHOLE = ("integer", "bigint")
EXACT = "decimal(38, 10)"
_SUFFIXES = ("", "_errors", "_scans", "_text", "_read")


def new_stage_name() -> str:
    """A fresh temp table name; its helper tables add the suffixes `drop` removes."""
    return f"_stage_{uuid.uuid4().hex[:12]}"


def scan_type(declared: str | None) -> str:
    """The staging type of a declared column type (exact decimals for whole numbers)."""
    if declared in WHOLE:
        return EXACT
    return SQL_TYPES.get(declared, "varchar")


@dataclass
class FileStage:
    """The staged rows of one load and what was wrong with the others."""

    con: object
    table: SourceTable
    name: str
    label: str  # the file (or glob) the rows came from, for messages
    extras: list[tuple[str, str]] = field(default_factory=list)  # kept added columns, SQL type
    unkept: tuple[str, ...] = ()  # added columns whose names cannot be warehouse columns
    rejected: list[Rejected] = field(default_factory=list)
    duplicates: int = 0
    loadable_rows: int = 0

    def _fraction_filter(self) -> str:
        whole = [quote_identifier(c.name) for c in self.table.table.columns if c.type in WHOLE]
        return " and ".join(f"({c} is null or {c} = trunc({c}))" for c in whole) or "true"

    def _names(self) -> list[str]:
        return [c.name for c in self.table.table.columns] + [n for n, _ in self.extras]

    def select_sql(self) -> str:
        """The staged rows that load: declared columns cast to their types, then the kept added
        columns; duplicates once."""
        distinct = "distinct " if self.duplicates else ""
        return (f"select {distinct}{raw_typed_columns(self.table, self.extras)} "
                f"from {self.name} where {self._fraction_filter()}")

    def drop(self) -> None:
        """Drop the temp tables."""
        for suffix in _SUFFIXES:
            self.con.execute(f"drop table if exists {self.name}{suffix}")


def _identity(table: SourceTable) -> list[str]:
    keys = table.table.key or [table.table.date_column, table.table.columns[0].name]
    return list(dict.fromkeys(keys))


def _offending(stage: FileStage, condition: str, column: str, reason: str,
               params: dict) -> list[Rejected]:
    """One Rejected per staged row matching `condition`, named by its key (or date)."""
    ident = _identity(stage.table)
    shown = ", ".join(quote_identifier(c) for c in ident)
    date = quote_identifier(stage.table.table.date_column)
    rows = stage.con.execute(
        f"select {shown}, {quote_identifier(column)}::varchar, strftime({date}, '%Y-%m') "
        f"from {stage.name} where {condition} order by all", params).fetchall()
    return [Rejected(f"{stage.label}, row " + ", ".join(f"{c}={v}" for c, v in zip(ident, row[:-2],
                                                                                  strict=True)),
                     column, reason.format(value=row[-2]), row[-1]) for row in rows]


def as_of_value(table: SourceTable, as_of: datetime):
    """`as_of` as the date column's type: a timestamp or a date."""
    kind = next(c.type for c in table.table.columns if c.name == table.table.date_column)
    return as_of if kind == "timestamp" else as_of.date()


def in_load_sql(table: SourceTable, date: str | None = None) -> str:
    """The rows a stage keeps: of the months loaded ($first_day, $end_day), or to be reported
    (an empty date, a date after $as_of). `date`: SQL of the date (default: its column)."""
    date = date or quote_identifier(table.table.date_column)
    return (f"{date} is null or ({date} >= $first_day and {date} < $end_day) "
            f"or {date} > $as_of")


def stage_problems(stage: FileStage, first: Period, last: Period, as_of: datetime) -> None:
    """Add the staged rows that cannot load to `rejected`; count duplicates and loadable rows."""
    table = stage.table.table
    date = quote_identifier(table.date_column)
    in_range = f"{date} >= $first_day and {date} < $end_day"
    bounds = {"first_day": first.start, "end_day": last.end}
    stage.rejected += _offending(stage, f"{date} is null", table.date_column,
                                 "is empty: the row belongs to no month", {})
    stage.rejected += _offending(stage, f"{date} > $as_of", table.date_column,
                                 f"{{value}} is in the future (after {as_of:%Y-%m-%d %H:%M})",
                                 {"as_of": as_of_value(stage.table, as_of)})
    for column in (c.name for c in table.columns if c.type in WHOLE):
        name = quote_identifier(column)
        stage.rejected += _offending(stage, f"{in_range} and {name} <> trunc({name})", column,
                                     "{value} is not a whole number", bounds)
    names = ", ".join(quote_identifier(n) for n in stage._names())
    ident = ", ".join(quote_identifier(c) for c in _identity(stage.table))
    rows = f"from {stage.name} where {in_range} and {stage._fraction_filter()}"
    if table.key:  # only rows sharing a key can be copies: compare whole rows just for those
        rows += (f" and ({ident}) in (select ({ident}) {rows} group by all "
                 "having count(*) > 1)")
    copies = stage.con.execute(
        f"select {ident}, strftime({date}, '%Y-%m'), n - 1 from (select {names}, count(*) as n "
        f"{rows} group by all having count(*) > 1) order by all", bounds).fetchall()
    for *key, period, extra in copies:
        where = f"{stage.label}, row " + ", ".join(
            f"{c}={v}" for c, v in zip(_identity(stage.table), key, strict=True))
        stage.rejected += [Rejected(where, None, f"the row appears {extra + 1} times (a "
                                    "duplicated row)", period)] * extra
    stage.duplicates = sum(row[-1] for row in copies)
    stage.loadable_rows = stage.con.execute(
        f"select count(*) from {stage.name} where {in_range} and {stage._fraction_filter()}",
        bounds).fetchone()[0] - stage.duplicates

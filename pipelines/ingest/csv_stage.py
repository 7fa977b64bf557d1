"""Stage a CSV export's rows of the months being loaded in a temp table, and find its bad rows.

DuckDB reads the files with the dialect fixed (no sniffing), every declared column typed, and its
reject tables on (`store_rejects`): a value that does not parse rejects its row instead of
failing the whole read or being guessed at. Whole-number columns are read as exact decimals so
that "3.7" is rejected rather than rounded. The staged rows are then searched for rows that
cannot be loaded either: an empty date, a date in the future, an exact duplicate.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from pipelines.catalog.catalog import SourceTable
from pipelines.ingest.csv_rejects import Rejected, duckdb_rejects, in_scope
from pipelines.ingest.raw_tables import SQL_TYPES
from pipelines.periods import Period
from pipelines.warehouse.connection import quote_identifier

_WHOLE = ("integer", "bigint")
_EXACT = "decimal(38, 10)"


def quote_any(name: str) -> str:
    """Quote a column name as the file spells it."""
    return '"' + name.replace('"', '""') + '"'


@dataclass
class CsvStage:
    """The staged rows of one load and what was wrong with the others."""

    con: object
    table: SourceTable
    name: str
    label: str  # the file (or glob) the rows came from, for messages
    rejected: list[Rejected] = field(default_factory=list)
    duplicates: int = 0
    loadable_rows: int = 0

    def _fraction_filter(self) -> str:
        whole = [quote_identifier(c.name) for c in self.table.table.columns if c.type in _WHOLE]
        return " and ".join(f"({c} is null or {c} = trunc({c}))" for c in whole) or "true"

    def select_sql(self) -> str:
        """The staged rows that load: declared columns cast to their types, duplicates once."""
        casts = ", ".join(f"cast({quote_identifier(c.name)} as {SQL_TYPES[c.type]}) as "
                          f"{quote_identifier(c.name)}" for c in self.table.table.columns)
        distinct = "distinct " if self.duplicates else ""
        return f"select {distinct}{casts} from {self.name} where {self._fraction_filter()}"

    def drop(self) -> None:
        """Drop the temp tables."""
        for suffix in ("", "_errors", "_scans"):
            self.con.execute(f"drop table if exists {self.name}{suffix}")


def _scan_types(table: SourceTable, header: list[str]) -> dict[str, str]:
    declared = {c.name: c.type for c in table.table.columns}
    return {name: (_EXACT if declared.get(name) in _WHOLE else SQL_TYPES.get(declared.get(name),
                                                                            "varchar"))
            for name in header}


def _identity(table: SourceTable) -> list[str]:
    keys = table.table.key or [table.table.date_column, table.table.columns[0].name]
    return list(dict.fromkeys(keys))


def _offending(stage: CsvStage, condition: str, column: str, reason: str,
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


def _stage_problems(stage: CsvStage, first: Period, last: Period, as_of: datetime) -> None:
    table = stage.table.table
    date = quote_identifier(table.date_column)
    in_range = f"{date} >= $first_day and {date} < $end_day"
    bounds = {"first_day": first.start, "end_day": last.end}
    stage.rejected += _offending(stage, f"{date} is null", table.date_column,
                                 "is empty: the row belongs to no month", {})
    stage.rejected += _offending(stage, f"{date} > $as_of", table.date_column,
                                 f"{{value}} is in the future (after {as_of:%Y-%m-%d %H:%M})",
                                 {"as_of": _as_of(stage, as_of)})
    for column in (c.name for c in table.columns if c.type in _WHOLE):
        name = quote_identifier(column)
        stage.rejected += _offending(stage, f"{in_range} and {name} <> trunc({name})", column,
                                     "{value} is not a whole number", bounds)
    names = ", ".join(quote_identifier(c.name) for c in table.columns)
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


def _as_of(stage: CsvStage, as_of: datetime):
    table = stage.table.table
    kind = next(c.type for c in table.columns if c.name == table.date_column)
    return as_of if kind == "timestamp" else as_of.date()


def stage_csv(con, table: SourceTable, files: list[str], label: str, header: list[str],
              first: Period, last: Period, as_of: datetime) -> CsvStage:
    """Read the files into a temp table: the rows of months first..last, plus the rows whose
    date is empty or in the future (to be reported); rejected rows are collected."""
    stage = CsvStage(con, table, f"_stage_{uuid.uuid4().hex[:12]}", label)
    date = quote_identifier(table.table.date_column)
    columns = ", ".join(quote_any(n) for n in header)
    con.execute(
        f"create temp table {stage.name} as select {columns} from read_csv($files, "
        "header = true, delim = $delim, quote = '\"', escape = '\"', columns = $columns, "
        "dateformat = '%Y-%m-%d', timestampformat = '%Y-%m-%d %H:%M:%S', auto_detect = false, "
        f"store_rejects = true, rejects_table = '{stage.name}_errors', "
        f"rejects_scan = '{stage.name}_scans') "
        f"where {date} is null or ({date} >= $first_day and {date} < $end_day) "
        f"or {date} > $as_of",
        {"files": files, "delim": table.table.delimiter, "columns": _scan_types(table, header),
         "first_day": first.start, "end_day": last.end, "as_of": _as_of(stage, as_of)},
    )
    declared = {c.name: c.type for c in table.table.columns}
    found = duckdb_rejects(con, f"{stage.name}_errors", f"{stage.name}_scans", header,
                           table.table.delimiter, table.table.date_column, declared)
    stage.rejected = [r for r in found if in_scope(r, first, last, as_of)]
    _stage_problems(stage, first, last, as_of)
    return stage

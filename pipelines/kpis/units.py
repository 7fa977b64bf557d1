"""A business unit's KPI values: the same KPI SQL over the unit's rows, never a filter written
by hand.

Each unit gets an in-memory database attached to the warehouse connection (`unit_<id>`) whose
`raw` schema holds one view per loaded source table: the table's rows whose unit column holds
one of the unit's codes or its sub-units' (catalog.unit_codes). A cursor that `USE`s it runs the
KPI's SQL unchanged, so `raw.finance_gl_entries` there is the unit's ledger; a ratio stays the
ratio of the unit's sums. Everything else a KPI's month asks (failed loads and checks, whether a
table was ever loaded) is the company's: a failed source withholds what reads it, in every unit.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime

from pipelines.catalog.catalog import Catalog
from pipelines.kpis.evaluate import KpiValue, period_values
from pipelines.periods import Period, month_runs
from pipelines.warehouse.connection import (
    cursor_of,
    quote_identifier,
    quote_literal,
    transactions,
)

UNIT_VALUE_COLUMNS = (
    "period",
    "unit_id",
    "kpi_id",
    "state",
    "value",
    "ytd_value",
    "ttm_value",
    "withheld_reason",
    "measured_in",
    "catalog_version",
    "run_id",
    "computed_at",
)


def _loaded(con) -> set[str]:
    """The raw tables of the warehouse (not of the units' databases)."""
    return {
        table
        for (table,) in con.execute(
            "select table_name from information_schema.tables "
            "where table_catalog = current_database() and table_schema = 'raw'"
        ).fetchall()
    }


def attach_units(con, catalog: Catalog) -> None:
    """Attach every unit's database to `con`, its `raw` views over the unit's rows (of the
    tables loaded so far). Run once per step, before the units are evaluated."""
    database = con.execute("select current_database()").fetchone()[0]
    attached = {
        r for (r,) in con.execute("select database_name from duckdb_databases()").fetchall()
    }
    loaded = _loaded(con)
    for unit in catalog.units:
        name = quote_identifier(f"unit_{unit.id}")
        if f"unit_{unit.id}" not in attached:
            con.execute(f"attach ':memory:' as {name}")
        con.execute(f"create schema if not exists {name}.raw")
        codes = ", ".join(quote_literal(code) for code in catalog.unit_codes(unit.id))
        for table in (t for t in catalog.tables if t.raw_name in loaded):
            column = table.table.unit_column
            rows = f"{quote_identifier(column)} in ({codes})" if column else "false"
            source = f"{quote_identifier(database)}.raw.{quote_identifier(table.raw_name)}"
            con.execute(
                f"create or replace view {name}.raw.{quote_identifier(table.raw_name)} as "
                f"select * from {source} where {rows}"
            )


@contextmanager
def unit_cursor(con, unit_id: str) -> Iterator:
    """A cursor of `con` on which `raw.<table>` holds only the unit's rows (attach_units)."""
    cursor = con.cursor()
    try:
        cursor.execute(f"use {quote_identifier(f'unit_{unit_id}')}")
        yield cursor
    finally:
        cursor.close()


def unit_values(con, catalog: Catalog, unit_id: str, period: Period) -> list[KpiValue]:
    """The unit's value of every KPI computed per unit (catalog.unit_kpis) for a month; its
    database must be attached (attach_units)."""
    own = cursor_of(con)  # the month's other inputs, read on a cursor of this thread's own
    try:
        with unit_cursor(con, unit_id) as cursor:
            return period_values(own, catalog, catalog.unit_kpis(), period, sql_con=cursor)
    finally:
        own.close()


# Units evaluated at once, each on cursors of its own: DuckDB runs a query outside the GIL.
UNITS_AT_ONCE = min(8, 2 * (os.cpu_count() or 1))


def units_values(con, catalog: Catalog, period: Period) -> dict[str, list[KpiValue]]:
    """Every unit's values for a month (reads only: the caller writes), UNITS_AT_ONCE at a
    time; the units' databases must be attached (attach_units, once per step)."""
    with ThreadPoolExecutor(UNITS_AT_ONCE, thread_name_prefix="kpi-unit") as pool:
        found = pool.map(lambda unit: unit_values(con, catalog, unit.id, period), catalog.units)
        return dict(zip([u.id for u in catalog.units], found, strict=True))


def write_unit_values(
    con, catalog: Catalog, unit_id: str, period: Period, values: list[KpiValue], run_id: str
) -> None:
    """Replace the unit's rows of the month in unit.kpi_values, in one transaction."""
    now = datetime.now()
    rows = [
        [
            period.start,
            unit_id,
            v.kpi_id,
            v.state,
            v.value,
            v.ytd_value,
            v.ttm_value,
            v.withheld_reason,
            Period.parse(v.measured_in).start if v.measured_in else None,
            catalog.version,
            run_id,
            now,
        ]
        for v in values
    ]
    for attempt in transactions(con, f"the KPI values of unit {unit_id} for {period}"):
        with attempt:
            con.execute(
                "delete from unit.kpi_values where period = ? and unit_id = ?",
                [period.start, unit_id],
            )
            if rows:
                row = f"({', '.join('?' * len(UNIT_VALUE_COLUMNS))})"
                con.execute(
                    f"insert into unit.kpi_values ({', '.join(UNIT_VALUE_COLUMNS)}) "
                    f"values {', '.join([row] * len(rows))}",
                    [value for r in rows for value in r],
                )


def unmapped_rows(con, catalog: Catalog, period: Period) -> dict[str, int]:
    """Per source table with a unit column: the month's rows whose unit code is no unit's
    (counted, never dropped: the company's figures still include them)."""
    codes = [c for u in catalog.units for c in u.own_codes]
    found = {}
    loaded = _loaded(con)
    for table in catalog.tables:
        column = table.table.unit_column
        if not column or table.raw_name not in loaded:
            continue
        (count,) = con.execute(
            f"select count(*) from raw.{quote_identifier(table.raw_name)} "
            f"where _period = ? and ({quote_identifier(column)} is null "
            f"or not list_contains(?, {quote_identifier(column)}::varchar))",
            [period.start, codes],
        ).fetchone()
        if count:
            found[table.key] = count
    return found


def unmapped_codes(con, catalog: Catalog) -> list[str]:
    """Per source table with a unit column, over every month loaded: the rows whose unit code is
    no unit's, as one line each with their months and (up to five of) their codes."""
    codes = [c for u in catalog.units for c in u.own_codes]
    lines, loaded = [], _loaded(con)
    for table in catalog.tables:
        column = table.table.unit_column
        if not column or table.raw_name not in loaded:
            continue
        found = quote_identifier(column)
        rows, months, seen = con.execute(
            f"select count(*), list_sort(list(distinct strftime(_period, '%Y-%m'))), "
            f"list_sort(list(distinct coalesce({found}::varchar, '(empty)'))) "
            f"from raw.{quote_identifier(table.raw_name)} "
            f"where {found} is null or not list_contains(?, {found}::varchar)",
            [codes],
        ).fetchone()
        if rows:
            shown = ", ".join(seen[:5]) + (f" and {len(seen) - 5} more" if len(seen) > 5 else "")
            spans = ", ".join(
                a.key if a == b else f"{a.key}..{b.key}" for a, b in month_runs(months)
            )
            lines.append(
                f"{table.key}.{column}: {rows:,} row(s) of {spans} carry a code of no "
                f"unit ({shown}): they count for the company only; add the code to a unit in "
                "units.yaml"
            )
    return lines

"""Evaluate a KPI's SQL over a date window and write the month's values to kpi.kpi_values.

A multi-month window runs the same SQL over the whole window, so a ratio stays a ratio of sums;
KPIs whose aggregation is `last` or `average` are evaluated per month instead. The months of a
run are evaluated side by side (`values_by_month`), each on its own cursor: a KPI's queries are
small, and DuckDB spends much of each in work that runs on one core (parsing, planning).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime

import duckdb

from pipelines.catalog import formula
from pipelines.catalog.catalog import Catalog
from pipelines.catalog.kpi_sql import single_select
from pipelines.catalog.models import Kpi
from pipelines.ingest.load_failures import failed_loads
from pipelines.periods import Period, Window, windows_for
from pipelines.quality.gate import describe
from pipelines.quality.store import failures
from pipelines.warehouse.connection import cursor_of, quote_identifier, transactions

NO_DATA = "no_data"
VALUE = "value"
WITHHELD = "withheld"


KPI_VALUE_COLUMNS = (
    "period",
    "kpi_id",
    "state",
    "value",
    "ytd_value",
    "ttm_value",
    "withheld_reason",
    "tables_read",
    "catalog_version",
    "run_id",
    "computed_at",
    "definition_revision",
    "definition_since",
    "measured_in",
)


class KpiQueryError(RuntimeError):
    """A KPI's SQL failed or did not return one row with one `value` column."""


@dataclass(frozen=True)
class KpiValue:
    """One KPI's values for one period."""

    kpi_id: str
    state: str  # value, no_data, withheld
    value: float | None
    ytd_value: float | None
    ttm_value: float | None
    withheld_reason: str | None = None
    # a quarterly or annual KPI: the month of the measurement the value is ('YYYY-MM')
    measured_in: str | None = None


def window_params(sql: str, window: Window) -> dict:
    """The window parameters the SQL uses ($window_start, $window_end), bound to the window."""
    values = {"window_start": window.start, "window_end": window.end}
    return {name: value for name, value in values.items() if f"${name}" in sql}


def run_sql(con, kpi: Kpi, sql: str, window: Window, file: str | None = None) -> float | None:
    """Run the KPI's SQL (from `file`, its `sql` by default; checked by `single_select` first)
    over one window; None when it yields no value."""
    where = f"KPI {kpi.id} (sql/{file or kpi.sql})"
    try:
        cursor = con.execute(sql, window_params(sql, window))
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    except duckdb.Error as exc:
        raise KpiQueryError(f"{where} failed: {exc}") from None
    if columns != ["value"] or len(rows) > 1:
        raise KpiQueryError(
            f"{where} must return at most one row with one column named "
            f"value; it returned {len(rows)} row(s) with columns {columns}"
        )
    if not rows or rows[0][0] is None:
        return None
    value = float(rows[0][0])
    return value if math.isfinite(value) else None


def evaluate(con, kpi: Kpi, sql: str, window: Window, file: str | None = None) -> float | None:
    """The KPI over a window, honouring its aggregation rule."""
    if kpi.aggregation == "window" or window.first == window.last:
        return run_sql(con, kpi, sql, window, file)
    if kpi.aggregation == "last":
        return run_sql(con, kpi, sql, Window(window.name, window.last, window.last), file)
    monthly = [run_sql(con, kpi, sql, Window("month", p, p), file) for p in window.periods]
    present = [v for v in monthly if v is not None]
    return sum(present) / len(present) if present else None


@dataclass(frozen=True)
class MonthInputs:
    """What every KPI of a month asks before it runs, read once for all of them: the rows each
    source table holds for the month, and the error-level checks each failed that month."""

    rows: dict[str, int]  # table key -> rows of the month (tables never loaded: absent)
    failed: dict[str, tuple]  # table key -> its failed checks (pipelines.quality.store.Failure)
    load_failed: dict[str, str] = field(default_factory=dict)  # table key -> why its load failed

    @classmethod
    def read(cls, con, catalog: Catalog, period: Period, rows_con=None) -> MonthInputs:
        """One query for the rows of every loaded source table, one for the failed checks.
        `rows_con`: where the rows are counted (a unit's: its rows only); `con` by default."""
        loaded = {
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'raw'"
            ).fetchall()
        }
        tables = [t for t in catalog.tables if t.raw_name in loaded]
        rows: dict[str, int] = {}
        if tables:
            union = " union all ".join(
                f"select ? as table_key, count(*) from raw.{quote_identifier(t.raw_name)} "
                "where _period = ?"
                for t in tables
            )
            params = [value for t in tables for value in (t.key, period.start)]
            rows = dict((rows_con or con).execute(union, params).fetchall())
        failed: dict[str, list] = {}
        for failure in failures(con, period):
            failed.setdefault(failure.table_key, []).append(failure)
        load_failed = {f.table_key: f.message for f in failed_loads(con, period, period)}
        return cls(rows, {key: tuple(found) for key, found in failed.items()}, load_failed)

    def never_loaded(self, catalog: Catalog, kpi: Kpi) -> bool:
        """Some table the KPI reads has never been loaded (its raw table does not exist)."""
        return any(key not in self.rows for key in catalog.kpi_tables[kpi.id])

    def empty_tables(self, catalog: Catalog, kpi: Kpi) -> list[str]:
        """Tables the KPI reads that hold no rows for the month, except those whose empty
        month means zero (the KPI's `empty_means_zero`): any such table makes the month no
        data, since a ratio or a per-unit figure over a missing table would be a false 0."""
        return [
            key
            for key in catalog.kpi_tables[kpi.id]
            if not self.rows.get(key) and key not in kpi.empty_means_zero
        ]

    def withheld_reason(self, catalog: Catalog, kpi: Kpi) -> str | None:
        """Why the KPI is withheld this month: a table it reads failed to load (the month's
        earlier rows are not this run's data), or failed an error-level check
        (pipelines.quality.gate); None when neither."""
        tables = catalog.kpi_tables.get(kpi.id, ())
        loads = [
            f"source load failed: {self.load_failed[key]}"
            for key in tables
            if key in self.load_failed
        ]
        if loads:
            return "; ".join(loads)
        found = [f for key in tables for f in self.failed.get(key, ())]
        return describe(found) if found else None


def checked_sql(con, catalog: Catalog, kpi: Kpi, period: Period) -> tuple[str, str | None]:
    """The SQL in force for the month (and its file), checked to be one select."""
    sql, file = catalog.sql_text(kpi, period), kpi.sql_at(period)
    problem = single_select(con, sql)
    if problem:
        raise KpiQueryError(f"KPI {kpi.id} (sql/{file or kpi.sql}) {problem}")
    return sql, file


def _longer(
    con, catalog: Catalog, kpi: Kpi, period: Period, sql: str, file: str | None
) -> tuple[float | None, float | None]:
    """The year to date and trailing twelve months ending with the month."""
    _, ytd, twelve = windows_for(period, catalog.organization.fiscal_year_start_month)
    return evaluate(con, kpi, sql, ytd, file), evaluate(con, kpi, sql, twelve, file)


def kpi_value(
    con,
    catalog: Catalog,
    kpi: Kpi,
    period: Period,
    inputs: MonthInputs | None = None,
    sql_con=None,
) -> KpiValue:
    """The month, year-to-date and trailing-twelve-month values of a KPI; withheld when a
    table it reads failed to load or failed an error-level quality check this month
    (pipelines.quality.gate); no data when a table it reads has no rows for the month.
    `inputs`: the month's table rows and failed checks, when already read for other KPIs.

    A quarterly or annual KPI is measured over the quarter or year ending with each of its
    measurement months. A month between measurements carries the latest measurement (its
    value, or why it has none, as its own month judged it; `measured_in` names it), with the
    year to date and trailing twelve months of the month itself.

    `sql_con`: where the KPI's SQL runs and its tables' rows are counted, when not `con` (a
    business unit's cursor, on which `raw` holds only the unit's rows). A unit's trailing twelve
    months are not computed: nothing shows them, and each window is a query per unit and KPI."""
    query = sql_con or con
    measured = kpi.measurement_at(period, catalog.organization.fiscal_year_start_month)
    if measured != period:
        carried = kpi_value(con, catalog, kpi, measured, sql_con=sql_con)
        if carried.state == WITHHELD:
            return carried
        inputs = inputs or MonthInputs.read(con, catalog, period, sql_con)
        if inputs.never_loaded(catalog, kpi):
            return carried
        checked = checked_sql(con, catalog, kpi, period)
        ytd, ttm = _longer(query, catalog, kpi, period, *checked)
        return replace(carried, ytd_value=ytd, ttm_value=ttm)
    inputs = inputs or MonthInputs.read(con, catalog, period, sql_con)
    measured_in = None if kpi.frequency == "monthly" else period.key
    reason = inputs.withheld_reason(catalog, kpi)
    if reason:
        return KpiValue(kpi.id, WITHHELD, None, None, None, reason, measured_in)
    if inputs.never_loaded(catalog, kpi):
        return KpiValue(kpi.id, NO_DATA, None, None, None, None, measured_in)
    # the definition in force for the month runs over all its windows (a YTD across a
    # revision is computed under the month's definition; the report marks it)
    sql, file = checked_sql(con, catalog, kpi, period)
    measurement = Window("month", *kpi.measurement_window(period))
    # a month without data still has its YTD and TTM over the months that have rows (the
    # report marks them partial); a quarter's or year's measurement is judged by its query
    # alone (its rows may lie in any of its months)
    empty = kpi.frequency == "monthly" and inputs.empty_tables(catalog, kpi)
    month = None if empty else evaluate(query, kpi, sql, measurement, file)
    ytd, ttm = _longer(query, catalog, kpi, period, sql, file)
    state = VALUE if month is not None else NO_DATA
    return KpiValue(kpi.id, state, month, ytd, ttm, None, measured_in)


def calculated_value(kpi: Kpi, inputs: dict[str, KpiValue]) -> KpiValue:
    """A calculated KPI from its inputs' values; withheld or no data when an input is."""
    names = formula.inputs(kpi.formula)
    withheld = [n for n in names if inputs.get(n) and inputs[n].state == WITHHELD]
    if withheld:
        return KpiValue(
            kpi.id, WITHHELD, None, None, None, f"input KPI(s) withheld: {', '.join(withheld)}"
        )
    values = [
        formula.evaluate(kpi.formula, {n: getattr(inputs.get(n), field, None) for n in names})
        for field in ("value", "ytd_value", "ttm_value")
    ]
    return KpiValue(kpi.id, VALUE if values[0] is not None else NO_DATA, *values)


def period_values(
    con, catalog: Catalog, kpis: list[Kpi], period: Period, sql_con=None
) -> list[KpiValue]:
    """Values of `kpis` for a period: SQL KPIs first, then calculated ones from their inputs.

    Inputs of a calculated KPI that are not among `kpis` are read from kpi.kpi_values. KPIs
    retired by the period are left out.
    """
    kpis = [k for k in kpis if k.in_force(period)]
    inputs = MonthInputs.read(con, catalog, period, sql_con)
    computed = {
        k.id: kpi_value(con, catalog, k, period, inputs, sql_con) for k in kpis if not k.calculated
    }
    for kpi in (k for k in kpis if k.calculated):
        # a unit's (sql_con) inputs are all among its KPIs: never the company's stored ones
        stored = {} if sql_con else stored_values(con, period, formula.inputs(kpi.formula))
        known = {**stored, **computed}
        computed[kpi.id] = calculated_value(kpi, known)
    return [computed[k.id] for k in kpis]


# Months evaluated at once: on 2 cores, 36 months of the scale-10 demo took 6.2 s one at a
# time, 3.8 s two at a time and 3.4 s four at a time (docs/benchmarks.md).
MONTHS_AT_ONCE = min(8, 2 * (os.cpu_count() or 1))


def values_by_month(
    con, catalog: Catalog, kpis: list[Kpi], periods: list[Period]
) -> Iterator[tuple[Period, list[KpiValue]]]:
    """`period_values` of each period, in order, evaluated MONTHS_AT_ONCE at a time on cursors
    of `con` (reads only: the caller writes). The first error is raised in its month's place,
    after the months before it were yielded; later months are then abandoned."""

    def one(period: Period) -> list[KpiValue]:
        cursor = cursor_of(con)
        try:
            return period_values(cursor, catalog, kpis, period)
        finally:
            cursor.close()

    if len(periods) == 1:
        yield periods[0], period_values(con, catalog, kpis, periods[0])
        return
    pool = ThreadPoolExecutor(MONTHS_AT_ONCE, thread_name_prefix="kpi-month")
    try:
        yield from zip(periods, pool.map(one, periods), strict=True)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def stored_values(con, period: Period, kpi_ids: list[str]) -> dict[str, KpiValue]:
    """The values already in the warehouse for a period."""
    rows = con.execute(
        "select kpi_id, state, value, ytd_value, ttm_value, withheld_reason from kpi.kpi_values "
        "where period = ? and list_contains(?, kpi_id)",
        [period.start, kpi_ids],
    ).fetchall()
    return {r[0]: KpiValue(*r) for r in rows}


def write_kpi_values(
    con, catalog: Catalog, period: Period, values: list[KpiValue], run_id: str
) -> None:
    """Replace the period's rows of these KPIs in kpi.kpi_values, in one transaction.

    Each row records the definition that computed it: the number of the KPI's revision in force
    (0: the original) and the month that revision took effect. Rows of KPIs retired by the
    period are removed.
    """
    now = datetime.now()
    retired = [k.id for k in catalog.kpis if not k.in_force(period)]
    for attempt in transactions(con, f"the KPI values of {period}"):
        with attempt:
            con.execute(
                "delete from kpi.kpi_values where period = ? and list_contains(?, kpi_id)",
                [period.start, [v.kpi_id for v in values] + retired],
            )
            rows = [
                [
                    period.start,
                    v.kpi_id,
                    v.state,
                    v.value,
                    v.ytd_value,
                    v.ttm_value,
                    v.withheld_reason,
                    ",".join(catalog.kpi_tables[v.kpi_id]),
                    catalog.version,
                    run_id,
                    now,
                    *_definition(
                        catalog.kpi(v.kpi_id),
                        Period.parse(v.measured_in) if v.measured_in else period,
                    ),
                    Period.parse(v.measured_in).start if v.measured_in else None,
                ]
                for v in values
            ]
            if rows:  # one statement: executemany runs one insert per row
                row = f"({', '.join('?' * len(KPI_VALUE_COLUMNS))})"
                con.execute(
                    f"insert into kpi.kpi_values ({', '.join(KPI_VALUE_COLUMNS)}) "
                    f"values {', '.join([row] * len(rows))}",
                    [value for r in rows for value in r],
                )


def _definition(kpi: Kpi, period: Period) -> tuple[int, object]:
    """(definition_revision, definition_since) of the KPI's definition in force in a period."""
    number, revision = kpi.revision_at(period)
    return number, revision.period.start if revision else None

"""The deeper checks `scorecard check` and every run perform on a loaded catalog.

They need no data: KPI SQL is bound against empty tables built from the declared columns, in a
sandboxed in-memory DuckDB, so a wrong column name or a query not returning one `value` column is
caught before a monthly run. They build the raw tables (`pipelines.ingest`) and bind KPI SQL as
a run does (`pipelines.kpis`), so they sit above the stages, beside the CLI, and the catalog
itself imports neither.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date

import duckdb

from pipelines.catalog.boundaries import boundary_problems
from pipelines.catalog.catalog import Catalog
from pipelines.catalog.connectors import connector_problems
from pipelines.catalog.expectations import total_problems
from pipelines.catalog.kpi_sql import single_select
from pipelines.catalog.locations import kpi_location, location
from pipelines.catalog.models import Kpi, TargetVersion
from pipelines.catalog.references import one_line
from pipelines.ingest.raw_tables import create_raw_table
from pipelines.kpis.evaluate import window_params
from pipelines.periods import Period, Window
from pipelines.settings import runtime_paths
from pipelines.warehouse.connection import SANDBOX

WEIGHT_TOLERANCE = 1e-6


@dataclass
class CheckReport:
    """Errors stop a run; warnings are printed."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _bind_sql(catalog: Catalog, report: CheckReport) -> None:
    con = duckdb.connect(config=dict(SANDBOX))
    con.execute("create schema raw")
    for table in catalog.tables:
        create_raw_table(con, table)
    window = Period(2000, 1)
    for kpi in (k for k in catalog.kpis if not k.calculated):
        for file in kpi.sql_files:  # the original SQL and every revision's
            _bind_file(con, catalog, file, f"sql/{file} (KPI {kpi.id})", window, report)
    con.close()


def _bind_file(
    con, catalog: Catalog, file: str, where: str, window: Period, report: CheckReport
) -> None:
    sql = (catalog.sql_root / file).read_text(encoding="utf-8")
    if problem := single_select(con, sql):
        report.errors.append(f"{where}: {one_line(problem)}")
        return
    try:
        cursor = con.execute(sql, window_params(sql, Window("month", window, window)))
    except duckdb.Error as exc:  # unknown columns or functions: one line, no traceback
        report.errors.append(
            f"{where}: does not bind against the declared tables: {one_line(str(exc))}"
        )
        return
    columns = [d[0] for d in cursor.description]
    if columns != ["value"]:
        report.errors.append(
            f"{where}: must return one column named value; it returns {', '.join(columns)}"
        )


def _threshold_problem(direction: str, v: TargetVersion) -> str | None:
    if direction == "within_range":
        if v.red_flag_lower is not None and v.red_flag_lower > v.lower:
            return f"red_flag_lower {v.red_flag_lower} is above the band's lower {v.lower}"
        if v.red_flag_upper is not None and v.red_flag_upper < v.upper:
            return f"red_flag_upper {v.red_flag_upper} is below the band's upper {v.upper}"
        return None
    goal = v.value if v.value is not None else v.annual
    if v.red_flag is None or goal is None:
        return None
    if direction == "higher_is_better" and v.red_flag > goal:
        return f"red_flag {v.red_flag} is above the goal {goal}, but higher is better"
    if direction == "lower_is_better" and v.red_flag < goal:
        return f"red_flag {v.red_flag} is below the goal {goal}, but lower is better"
    return None


def _ratio_problem(kpi: Kpi, versions: tuple[TargetVersion, ...]) -> str | None:
    """Why a KPI's red_flag_ratio puts the red flag on the wrong side of the goal, or None.

    The red flag is goal x ratio: above a positive goal when the ratio is above 1, below a
    negative one. Judged on the goals that use the ratio (no red_flag of their own); a KPI
    without such targets yet is judged for a positive goal.
    """
    ratio, higher = kpi.red_flag_ratio, kpi.direction == "higher_is_better"
    if ratio is None or ratio == 1 or kpi.direction == "within_range":
        return None
    goals = [v.value if v.value is not None else v.annual for v in versions if v.red_flag is None]
    goals = [g for g in goals if g]  # a goal of 0 has its red flag at 0 whatever the ratio
    for goal in sorted(goals, key=lambda g: g > 0) or [1.0]:
        above = (ratio > 1) == (goal > 0)
        if above != higher:
            continue
        negative = f" of the negative goal {goal:g}" if goal < 0 else " of the goal"
        example = ("below 1 (e.g. 0.9", "above 1 (e.g. 1.1")[higher != (goal > 0)]
        return (
            f"{ratio:g} puts the red flag {'above' if above else 'below'} "
            f"the goal ({ratio:.0%}{negative}), but {kpi.id} is {kpi.direction}: it would "
            f"score 10 while off track. Use a ratio {example}: the red flag 10 % "
            f"{'short of' if higher else 'past'} the goal), or give each target a red_flag "
            "in targets.yaml instead"
        )
    return None


def _targets(catalog: Catalog, coming: Period, report: CheckReport) -> None:
    for kpi in catalog.kpis:
        if problem := _ratio_problem(kpi, catalog.targets.get(kpi.id, ())):
            report.errors.append(
                f"{kpi_location(catalog.root, kpi.id, 'red_flag_ratio')}: {problem}"
            )
        if kpi.direction == "within_range" and kpi.red_flag_ratio is not None:
            report.warnings.append(
                f"{kpi_location(catalog.root, kpi.id, 'red_flag_ratio')}: has no effect "
                "on a within_range KPI (its red flags are the targets' red_flag_lower and "
                "red_flag_upper, or half the band's width outside it); remove it"
            )
        for version in catalog.targets.get(kpi.id, ()):
            if problem := _threshold_problem(kpi.direction, version):
                report.errors.append(
                    f"targets.yaml: targets.{kpi.id} (from {version.from_}): {problem}"
                )
        for unit in catalog.units:
            for version in unit.targets.get(kpi.id, ()):
                if problem := _threshold_problem(kpi.direction, version):
                    report.errors.append(
                        f"units.yaml: {unit.id}.targets.{kpi.id} (from {version.from_}): {problem}"
                    )
        if kpi.in_force(coming) and catalog.target_for(kpi.id, coming) is None:
            report.warnings.append(
                f"targets.yaml: targets.{kpi.id}: no target for the coming period {coming}; "
                "it will show as no target"
            )


def _fractions(where: str, weights: list) -> str | None:
    numbers = [w for w in weights if isinstance(w, int | float)]
    if len(numbers) != len(weights) or not numbers or max(numbers) > 1:
        return None  # relative weights (or versions over time): they need not add up
    total = sum(numbers)
    if abs(total - 1) > WEIGHT_TOLERANCE and min(numbers) < 1:
        return f"{where}: the fractional weights add up to {total:g}; they must add up to 1"
    return None


def _weights(catalog: Catalog, coming: Period, report: CheckReport) -> None:
    def where(*loc) -> str:
        return location(catalog.root, "scorecard.yaml", loc)

    problems = [_fractions(where("perspectives"), [p.weight for p in catalog.perspectives])]
    problems += [
        _fractions(
            f"{where('perspectives', i, 'objectives')} (perspective {p.id})",
            [o.weight for o in p.objectives],
        )
        for i, p in enumerate(catalog.perspectives)
    ]
    for unit in (u for u in catalog.units if u.weights):  # its weights with those it inherits
        at = f"units.yaml: {unit.id}.weights, with the weights it inherits"
        problems.append(
            _fractions(
                f"{at} (perspectives)",
                [catalog.weight_of(p, coming, unit.id) for p in catalog.perspectives],
            )
        )
        problems += [
            _fractions(
                f"{at} (objectives of {p.id})",
                [catalog.weight_of(o, coming, unit.id) for o in p.objectives],
            )
            for p in catalog.perspectives
        ]
    report.errors.extend(p for p in problems if p)


def _expectations(catalog: Catalog, report: CheckReport) -> None:
    """A table without expectations is a warning (nothing guards its KPIs); a monthly total of
    a column that is not a number, an error."""
    for table in catalog.tables:
        where = f"sources/{table.source.source}.yaml: tables ({table.table.name})"
        types = {c.name: c.type for c in table.table.columns}
        report.errors.extend(
            f"{where}: {problem}" for problem in total_problems(table.table.expectations, types)
        )
        if not table.table.expectations:
            report.warnings.append(
                f"{where}: no expectations, so no month of it is checked before its KPIs read "
                "it; add at least the key not null and unique, row_count_vs_previous, freshness, "
                "numbers non-negative and total_vs_previous (the defaults `scorecard new source` "
                "writes; docs/data-quality.md)"
            )


def _units(catalog: Catalog, report: CheckReport) -> None:
    """With business units: a KPI that cannot cascade (a table it reads names no unit) and is
    not marked company_only is said, so a unit's scorecard never lacks it by surprise."""
    if not catalog.units:
        return
    cascaded = {k.id for k in catalog.unit_kpis()}
    with_units = {t.key for t in catalog.tables if t.table.unit_column}
    for kpi in catalog.kpis:
        if kpi.company_only or kpi.id in cascaded:
            continue
        missing = [t for t in catalog.kpi_tables.get(kpi.id, ()) if t not in with_units]
        why = (
            f"it reads {', '.join(missing)}, which names no unit (unit_column)"
            if missing
            else "an input KPI is computed for the company only"
        )
        report.warnings.append(
            f"{kpi_location(catalog.root, kpi.id, 'id')}: {kpi.id} is computed for the company "
            f"only: {why}; say company_only: true to make that the intent"
        )


def check_catalog(catalog: Catalog, today: date) -> CheckReport:
    """Every deeper problem of a loaded catalog; the coming period is the month of `today`."""
    report = CheckReport()
    _bind_sql(catalog, report)
    _targets(catalog, Period.of(today), report)
    _weights(catalog, Period.of(today), report)
    _expectations(catalog, report)
    _units(catalog, report)
    errors, warnings = connector_problems(catalog.sources, catalog.sql_root, os.environ)
    report.errors.extend(errors)
    report.errors.extend(boundary_problems(catalog.sources, runtime_paths().home, catalog.sql_root))
    report.warnings.extend(warnings)
    return report

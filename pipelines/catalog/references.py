"""Cross-file checks of the catalog: unique ids, references that resolve, SQL that names known
tables."""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING

import duckdb

from pipelines.catalog import formula
from pipelines.catalog.boundaries import sql_file_outside
from pipelines.catalog.kpi_sql import single_select
from pipelines.catalog.locations import kpi_location
from pipelines.catalog.sql_sandbox import refused_table_functions, sandbox

if TYPE_CHECKING:
    from pipelines.catalog.catalog import Catalog

_PARAMETER = re.compile(r"\$[A-Za-z_][A-Za-z0-9_]*")
RAW_SCHEMA = "raw"


def _duplicates(kind: str, where: str, ids: list[str]) -> list[str]:
    return [
        f"{where}: {kind} id {ident!r} is used {count} times; ids must be unique"
        for ident, count in Counter(ids).items()
        if count > 1
    ]


def one_line(message: str) -> str:
    """A DuckDB error on one line: its lines joined, the caret line under the SQL dropped."""
    lines = (line.strip() for line in message.splitlines())
    return " ".join(line for line in lines if line and set(line) != {"^"})


def tables_in_sql(sql: str, con=None) -> set[str]:
    """The qualified table names a query reads (CTE names excluded), e.g.
    {'raw.finance_gl_entries'}; bound on `con`, a sandboxed connection (a new one by default),
    so a table function in it opens nothing."""
    names = (con or sandbox()).get_table_names(_PARAMETER.sub("NULL", sql), qualified=True)
    return {name.split(" AS ")[0].strip().strip('"').lower() for name in names}


def kpi_tables(catalog: Catalog) -> dict[str, tuple[str, ...]]:
    """For each KPI, the 'source.table' keys its SQL reads, in catalog order."""
    by_raw = {f"{RAW_SCHEMA}.{t.raw_name}": t.key for t in catalog.tables}
    result, con = {}, sandbox()
    for kpi in (k for k in catalog.kpis if not k.calculated):
        # every revision's SQL: the asset's lineage and the quality gate cover them all
        read = {
            name
            for path in kpi.sql_files
            for name in tables_in_sql((catalog.sql_root / path).read_text(encoding="utf-8"), con)
        }
        result[kpi.id] = tuple(key for raw, key in by_raw.items() if raw in read)
    for kpi in (k for k in catalog.kpis if k.calculated):
        read = [t for name in formula.inputs(kpi.formula) for t in result[name]]
        result[kpi.id] = tuple(dict.fromkeys(read))
    return result


def _formula_problems(catalog: Catalog) -> list[str]:
    problems = []
    by_id = {k.id: k for k in catalog.kpis}
    for kpi in (k for k in catalog.kpis if k.calculated):
        where = f"kpis: {kpi.id}.formula"
        try:
            names = formula.inputs(kpi.formula)
        except formula.FormulaError as exc:
            problems.append(f"{where}: {exc}")
            continue
        for name in names:
            if name not in by_id:
                problems.append(f"{where}: unknown KPI {name!r}")
            elif by_id[name].calculated:
                problems.append(
                    f"{where}: {name!r} is itself calculated; formulas read SQL KPIs only"
                )
        if not names:
            problems.append(f"{where}: reads no KPI")
    return problems


def _sql_problems(catalog: Catalog) -> list[str]:
    problems = []
    by_raw = {f"{RAW_SCHEMA}.{t.raw_name}" for t in catalog.tables}
    parser = sandbox()
    for kpi in (k for k in catalog.kpis if not k.calculated):
        for index, file in enumerate(kpi.sql_files):
            where = f"kpis ({kpi.id}).{'sql' if index == 0 else 'revisions'}"
            problems += _sql_file_problems(parser, catalog.sql_root, file, where, by_raw)
    return problems


def _sql_file_problems(parser, sql_root, file: str, where: str, by_raw: set[str]) -> list[str]:
    path = sql_root / file
    if not path.is_file():
        return [f"{where}: the SQL file sql/{file} does not exist"]
    if sql_file_outside(sql_root, file):
        return [f"sql/{file}: is a link leading outside sql/; KPI SQL files live under sql/"]
    text = path.read_text(encoding="utf-8")
    problem = single_select(parser, text)
    if problem:
        return [f"sql/{file}: the SQL {one_line(problem)}"]
    if called := refused_table_functions(parser, text):
        return [
            f"sql/{file}: calls the table function {', '.join(called)}; KPI SQL reads only "
            "raw.<source>_<table> tables from definitions/sources/ (no files, no queries "
            "in strings)"
        ]
    problems = []
    try:
        read = tables_in_sql(text, parser)
    except duckdb.Error as exc:  # an unknown function, say: the KPI and file, on one line
        return [f"sql/{file}: {where}: the SQL does not bind: {one_line(str(exc))}"]
    unknown = sorted(read - by_raw)
    if unknown:
        problems.append(
            f"sql/{file}: reads {', '.join(unknown)}, which no source declares; "
            f"KPI SQL reads only raw.<source>_<table> tables from definitions/sources/"
        )
    if not read:
        problems.append(f"sql/{file}: reads no source table")
    return problems


def check_references(
    catalog: Catalog,
    *,
    kpis_complete: bool = True,
    sources_complete: bool = True,
    units_complete: bool = True,
) -> list[str]:
    """Every problem between the catalog's files, as 'file: where: what' lines.

    On a catalog missing files that did not parse (`kpis_complete`, `sources_complete` False),
    only the checks those files cannot change: no unknown-KPI, no KPI-less objective and no
    formula problems without every KPI file, no SQL problems without every source file, no
    unknown-unit problems when units.yaml did not parse (`units_complete` False)."""
    problems: list[str] = []
    objectives = {o.id for o in catalog.objectives}
    problems += _duplicates("perspective", "scorecard.yaml", [p.id for p in catalog.perspectives])
    problems += _duplicates("objective", "scorecard.yaml", [o.id for o in catalog.objectives])
    problems += _duplicates("source", "sources/", [s.source for s in catalog.sources])
    problems += _duplicates("table", "sources/", [t.raw_name for t in catalog.tables])
    problems += _duplicates("initiative", "initiatives.yaml", [i.id for i in catalog.initiatives])
    problems += _duplicates("action", "actions.yaml", [a.id for a in catalog.actions])
    problems += _unit_problems(catalog, kpis_complete, units_complete)
    for i, link in enumerate(catalog.links):
        for end in (link.from_, link.to):
            if end not in objectives:
                problems.append(f"scorecard.yaml: links[{i}]: unknown objective {end!r}")
    kpi_ids = {k.id for k in catalog.kpis}
    for kpi in catalog.kpis:
        if kpi.objective not in objectives:
            problems.append(
                f"{kpi_location(catalog.root, kpi.id, 'objective')}: "
                f"unknown objective {kpi.objective!r}; "
                f"known: {', '.join(sorted(objectives))}"
            )
        versions = catalog.targets.get(kpi.id, ())
        for version in versions:
            band = version.lower is not None
            if band != (kpi.direction == "within_range"):
                want = "lower and upper" if kpi.direction == "within_range" else "value"
                problems.append(
                    f"targets.yaml: targets.{kpi.id} (from {version.from_}): "
                    f"a {kpi.direction} KPI needs {want}"
                )
    for kpi_id in sorted(set(catalog.targets) - kpi_ids) if kpis_complete else ():
        problems.append(f"targets.yaml: targets.{kpi_id}: unknown KPI {kpi_id!r}")
    for initiative in catalog.initiatives:
        for objective in initiative.objectives:
            if objective not in objectives:
                problems.append(
                    f"initiatives.yaml: {initiative.id}.objectives: unknown objective {objective!r}"
                )
    for action in catalog.actions if kpis_complete else ():
        for kpi_id in action.kpis:
            if kpi_id not in kpi_ids:
                problems.append(f"actions.yaml: {action.id}.kpis: unknown KPI {kpi_id!r}")
    for file in catalog.commentary:
        where = f"commentary ({file.period})"
        for i, comment in enumerate(file.comments):
            if kpis_complete and comment.kpi not in kpi_ids:
                problems.append(f"{where}: comments[{i}].kpi: unknown KPI {comment.kpi!r}")
        problems += _duplicates(
            "commented KPI",
            where,
            [c.kpi if c.unit is None else f"{c.kpi} (unit {c.unit})" for c in file.comments],
        )
    problems += _duplicates(
        "commentary period", "commentary/", [f.period for f in catalog.commentary]
    )
    for objective in catalog.objectives if kpis_complete else ():
        if not catalog.kpis_of(objective.id):
            problems.append(f"scorecard.yaml: objective {objective.id!r} has no KPI measuring it")
    problems += _recipient_problems(catalog)
    if sources_complete:
        problems += _sql_problems(catalog)
    return problems + (_formula_problems(catalog) if kpis_complete else [])


def empty_means_zero_problems(catalog: Catalog, tables: dict[str, tuple[str, ...]]) -> list[str]:
    """Each table named in a KPI's empty_means_zero must be one its SQL reads (`tables`:
    kpi_tables of the catalog, once its SQL is known to bind)."""
    problems = []
    for kpi in (k for k in catalog.kpis if k.empty_means_zero):
        read = set(tables.get(kpi.id, ()))
        problems += [
            f"kpis ({kpi.id}).empty_means_zero: {key!r} is not a table the KPI's SQL "
            f"reads ({', '.join(sorted(read)) or 'none'}); name one of those"
            for key in kpi.empty_means_zero
            if key not in read
        ]
    return problems


def _recipient_problems(catalog: Catalog) -> list[str]:
    """Recipient lists: unique ids, known perspectives."""
    lists = catalog.recipient_lists
    problems = _duplicates("recipient list", "recipients.yaml", [r.id for r in lists])
    known = {p.id for p in catalog.perspectives}
    for recipient_list in lists:
        for perspective in recipient_list.perspectives:
            if perspective not in known:
                problems.append(
                    f"recipients.yaml: {recipient_list.id}.perspectives: unknown perspective "
                    f"{perspective!r}; known: {', '.join(sorted(known))}"
                )
    return problems


def _unit_problems(catalog: Catalog, kpis_complete: bool, units_complete: bool) -> list[str]:
    """The unit tree: unique ids, known parents, no cycle, each code one unit's; unit targets
    of known KPIs in the KPI's shape."""
    problems = _duplicates("unit", "units.yaml", [u.id for u in catalog.units])
    ids = {u.id for u in catalog.units}
    owners: dict[str, str] = {}
    for unit in {u.id: u for u in catalog.units}.values():  # a duplicate id is said above
        if unit.parent is not None and unit.parent not in ids:
            problems.append(f"units.yaml: {unit.id}.parent: unknown unit {unit.parent!r}")
        chain, current = [unit.id], unit
        while current.parent in ids:
            current = next(u for u in catalog.units if u.id == current.parent)
            if current.id in chain:  # said once, by the cycle's members (not those under it)
                cycle = sorted(chain[chain.index(current.id) :])
                if cycle[0] == unit.id:
                    problems.append(
                        f"units.yaml: {', '.join(cycle)}: their parents run in a circle"
                    )
                break
            chain.append(current.id)
        for code in unit.own_codes:
            if code in owners:
                problems.append(
                    f"units.yaml: {unit.id}.codes: {code!r} is already {owners[code]}'s code"
                )
            owners.setdefault(code, unit.id)
    kpis = {k.id: k for k in catalog.kpis}
    for unit in catalog.units:
        for kpi_id, versions in unit.targets.items():
            kpi = kpis.get(kpi_id)
            if kpi is None:
                if kpis_complete:
                    problems.append(f"units.yaml: {unit.id}.targets.{kpi_id}: unknown KPI")
                continue
            for version in versions:
                if (version.lower is not None) != (kpi.direction == "within_range"):
                    want = "lower and upper" if kpi.direction == "within_range" else "value"
                    problems.append(
                        f"units.yaml: {unit.id}.targets.{kpi_id} (from {version.from_}): "
                        f"a {kpi.direction} KPI needs {want}"
                    )
    if not units_complete:  # the tree did not parse: every name of a unit would look unknown
        return problems
    return problems + _unit_reference_problems(catalog, ids, kpis_complete)


def _unit_reference_problems(catalog: Catalog, ids: set[str], kpis_complete: bool) -> list[str]:
    """What names a unit names a known one; a unit's weights and owners name known nodes."""
    named = [
        *((f"initiatives.yaml: {i.id}.unit", i.unit) for i in catalog.initiatives),
        *(
            (f"commentary ({f.period}): comments[{n}].unit", c.unit)
            for f in catalog.commentary
            for n, c in enumerate(f.comments)
        ),
        *((f"recipients.yaml: {r.id}.unit", r.unit) for r in catalog.recipient_lists),
    ]
    problems = [
        f"{where}: unknown unit {unit!r}" + (f"; known: {', '.join(sorted(ids))}" if ids else "")
        for where, unit in named
        if unit is not None and unit not in ids
    ]
    if not kpis_complete:
        return problems
    kpis = {k.id for k in catalog.kpis}
    objectives = {o.id for o in catalog.objectives}
    perspectives = {p.id for p in catalog.perspectives}
    for unit in catalog.units:
        problems += [
            f"units.yaml: {unit.id}.weights.{node}: no perspective, objective or KPI of that id"
            for node in unit.weights
            if node not in kpis | objectives | perspectives
        ]
        problems += [
            f"units.yaml: {unit.id}.owners.{node}: no objective or KPI of that id"
            for node in unit.owners
            if node not in kpis | objectives
        ]
    return problems

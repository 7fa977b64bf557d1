"""The company report's "units at a glance": each business unit's overall and perspective
scores and its off-track KPIs for the month, from unit.* (pipelines/scoring/units.py)."""

from __future__ import annotations

from pipelines.catalog.catalog import Catalog
from pipelines.periods import Period
from pipelines.report.model import UnitCell, UnitHeader, UnitLine
from pipelines.scoring.statuses import NO_DATA, OFF_TRACK


def unit_lines(
    con, catalog: Catalog, period: Period, under: str | None = None
) -> tuple[UnitLine, ...]:
    """Every unit scored for the month (`under`: the units below that unit), lowest overall
    score first (no score last), then by name: the units needing attention come first."""
    units = catalog.units if under is None else catalog.units_under(under)
    if not units:
        return ()
    nodes = {
        (unit_id, level, node_id): (score, status, scored, total)
        for unit_id, level, node_id, score, status, scored, total in con.execute(
            "select unit_id, level, node_id, score, status, scored_count, total_count "
            "from unit.rollup_scores where period = ?",
            [period.start],
        ).fetchall()
    }
    names = {k.id: k.name for k in catalog.kpis}
    off: dict[str, list[str]] = {}
    for unit_id, kpi_id in con.execute(
        "select unit_id, kpi_id from unit.kpi_scores where period = ? and status = ?",
        [period.start, OFF_TRACK],
    ).fetchall():
        off.setdefault(unit_id, []).append(kpi_id)
    kpis = {  # (scored, in the scorecard): the overall node counts perspectives, not KPIs
        unit_id: (scored, total)
        for unit_id, scored, total in con.execute(
            "select unit_id, count(score), count(*) from unit.kpi_scores where period = ? "
            "group by unit_id",
            [period.start],
        ).fetchall()
    }
    order = {k.id: i for i, k in enumerate(catalog.kpis)}
    lines = []
    for unit in units:
        overall = nodes.get((unit.id, "overall", "overall"))
        if overall is None:
            continue  # not scored for this month

        def cell(found) -> UnitCell:
            return UnitCell(found[0], found[1]) if found else UnitCell(None, NO_DATA)

        lines.append(
            UnitLine(
                id=unit.id,
                name=unit.name,
                leader=unit.leader,
                path=tuple(u.name for u in reversed(catalog.unit_chain(unit.id)[1:])),
                overall=cell(overall),
                perspectives={
                    p.id: cell(nodes.get((unit.id, "perspective", p.id)))
                    for p in catalog.perspectives
                },
                off_track=tuple(
                    names[k] for k in sorted(off.get(unit.id, []), key=lambda k: order.get(k, 0))
                ),
                scored_count=kpis.get(unit.id, (0, 0))[0],
                total_count=kpis.get(unit.id, (0, 0))[1],
            )
        )
    return tuple(
        sorted(lines, key=lambda u: (u.overall.score is None, u.overall.score or 0, u.name))
    )


def unit_header(con, catalog: Catalog, period: Period, unit_id: str) -> UnitHeader:
    """Whose report a unit's is: its name, leader and place in the tree, the company's overall
    and perspective scores of the month beside its own, and the KPIs it does not compute."""
    unit = catalog.unit(unit_id)
    company = {
        (level, node_id): UnitCell(score, status)
        for level, node_id, score, status in con.execute(
            "select level, node_id, score, status from score.rollup_scores where period = ? "
            "and level in ('overall', 'perspective')",
            [period.start],
        ).fetchall()
    }
    cascading = {k.id for k in catalog.unit_kpis()}
    return UnitHeader(
        id=unit.id,
        name=unit.name,
        leader=unit.leader,
        path=tuple(u.name for u in reversed(catalog.unit_chain(unit.id)[1:])),
        company=company.get(("overall", "overall"), UnitCell(None, NO_DATA)),
        company_perspectives={
            p.id: company.get(("perspective", p.id), UnitCell(None, NO_DATA))
            for p in catalog.perspectives
        },
        company_only=tuple(
            k.name for k in catalog.kpis if k.id not in cascading and k.in_force(period)
        ),
    )

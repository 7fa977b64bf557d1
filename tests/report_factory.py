"""Deterministic ScorecardReports for render tests and the benchmark, without a warehouse.

`report_from_catalog` fills the shipped catalog (the demo's size) with plausible numbers scored by
the real scoring functions; `generated_report` makes a catalog of any size, for the layout and
the pathological tests.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from pipelines.periods import Period
from pipelines.report.highlights import highlights
from pipelines.report.initiatives import action_lines
from pipelines.report.model import (
    InitiativeLine,
    KpiLine,
    ObjectiveLine,
    PerspectiveLine,
    ScorecardReport,
    SourceLine,
    StrategyLink,
    TrendPoint,
)
from pipelines.scoring import score as scoring
from pipelines.scoring.rollup import rollup
from pipelines.scoring.signals import ABOVE, RUN, SIGNAL, month_signal
from pipelines.scoring.statuses import OFF_TRACK, Coverage

PERIOD = Period(2026, 10)
UNITS = {
    "usd": 2_400_000.0,
    "pct": 42.0,
    "days": 38.0,
    "hours": 6.5,
    "count": 180.0,
    "score": 7.4,
    "ratio": 1.6,
}
INITIATIVE_STATUSES = ("on_schedule", "behind", "not_started", "completed", "on_schedule")


def _goal(direction: str, target: float) -> scoring.Goal:
    if direction == "within_range":
        return scoring.Goal(
            direction,
            lower=target * 0.9,
            upper=target * 1.1,
            red_flag_lower=target * 0.8,
            red_flag_upper=target * 1.2,
        )
    return scoring.Goal(
        direction, goal=target, red_flag=scoring.default_red_flag(target, direction, None)
    )


def make_kpi(
    rng: random.Random,
    kpi_id: str,
    name: str,
    unit: str,
    direction: str,
    period: Period = PERIOD,
    **extra,
) -> KpiLine:
    """A KPI with twelve months of history, scored like the pipeline scores it."""
    # a unit of the KPI's own ({label, decimals}) gets a size of its own
    target = UNITS.get(unit, 357.0) * rng.uniform(0.8, 1.2)
    goal = _goal(direction, target)
    values = [target * rng.uniform(0.82, 1.12) for _ in range(13)]
    actual = values[-1]
    within = direction == "within_range"
    trend = tuple(
        TrendPoint(
            period.shift(i - 11).key,
            values[i + 1],
            None if within else target,
            goal.red_flag,
            goal.lower,
            goal.upper,
        )
        for i in range(12)
    )
    status, previous = scoring.status(actual, goal), values[-2]
    # limits from the twelve months shown; every third KPI (by its id, so the random draws
    # stay as they were) is a signal: a run of eight on the side its value is
    signal = month_signal(
        [(p.period, p.actual) for p in trend], period, baseline=(period.shift(-11), period)
    )
    if zlib.crc32(kpi_id.encode()) % 3 == 0 and signal.state != SIGNAL:
        side = signal.limits.side(actual) or ABOVE
        signal = replace(signal, state=SIGNAL, rules=(RUN,), side=side)
    if signal.state == SIGNAL:
        trend = (*trend[:-1], replace(trend[-1], signal=True))
    fields = dict(
        id=kpi_id,
        name=name,
        description=f"How {name.lower()} develops, measured monthly.",
        owner=extra.pop("owner", "Dana Whitfield, CFO"),
        unit=unit,
        direction=direction,
        actual=actual,
        target=None if within else target,
        target_lower=goal.lower,
        target_upper=goal.upper,
        red_flag=goal.red_flag,
        variance=None if within else actual - target,
        variance_pct=None if within else (actual - target) / abs(target) * 100,
        status=status,
        score=scoring.score(actual, goal),
        previous=previous,
        last_year=values[0],
        ytd_actual=sum(values[3:]) if unit == "usd" else actual * 0.98,
        ytd_target=target * 10 if unit == "usd" else target,
        sql_file=f"sql/kpis/{kpi_id}.sql",
        definition=f"sql/kpis/{kpi_id}.sql",
        tables=("finance.gl_entries", "crm.accounts"),
        trend=trend,
        signal=signal,
        previous_status=scoring.status(previous, goal),
        previous_score=scoring.score(previous, goal),
    )
    if unit == "usd":
        fields.update(
            forecast=actual * 12.1,
            forecast_target=target * 12,
            forecast_method="run rate",
            forecast_meets=actual * 12.1 >= target * 12,
        )
    if status == OFF_TRACK and rng.random() < 0.5:
        fields["commentary_missing"] = True
    elif rng.random() < 0.6:
        carried = rng.random() < 0.3
        fields.update(
            commentary=f"{name} moved with the season; actions are in place.",
            commentary_author=fields["owner"],
            commentary_carried_over=carried,
            commentary_period=period.shift(-1 if carried else 0).key,
        )
    fields.update(extra)
    return KpiLine(**fields)


def _cov(scores: list[float | None]) -> tuple[float | None, Coverage]:
    return rollup([(s, 1.0) for s in scores])


def _objective(oid: str, name: str, owner: str, kpis: tuple[KpiLine, ...]) -> ObjectiveLine:
    value, coverage = _cov([k.score for k in kpis])
    status = scoring.status_of_score(value) if value is not None else "no_data"
    return ObjectiveLine(oid, name, owner, value, status, coverage, kpis)


def _perspective(
    pid: str, name: str, objectives: tuple[ObjectiveLine, ...], rng: random.Random
) -> PerspectiveLine:
    value, coverage = _cov([o.score for o in objectives])
    status = scoring.status_of_score(value) if value is not None else "no_data"
    previous = None if value is None else max(0.0, min(10.0, value + rng.uniform(-1, 1)))
    return PerspectiveLine(pid, name, value, status, previous, coverage, objectives)


def _initiatives(rng: random.Random, objectives: list[ObjectiveLine], count: int):
    as_of = PERIOD.last_day
    lines = []
    for i in range(count):
        status = INITIATIVE_STATUSES[i % len(INITIATIVE_STATUSES)]
        deadline = as_of + timedelta(days=rng.randint(-60, 240))
        overdue = deadline < as_of and status not in ("completed", "cancelled")
        linked = tuple(o.name for o in rng.sample(objectives, min(2, len(objectives))))
        lines.append(
            InitiativeLine(
                f"init_{i}",
                f"Initiative {i + 1}: improve the way we work",
                "Lena Sørensen, COO",
                linked,
                "2026-01",
                deadline,
                status,
                100 if status == "completed" else rng.randint(0, 95),
                overdue,
                not overdue and status == "behind",
                (as_of - deadline).days if overdue else 0,
            )
        )
    return tuple(sorted(lines, key=lambda i: (not i.overdue, not i.at_risk, i.deadline)))


def assemble(
    perspectives: tuple[PerspectiveLine, ...],
    links,
    rng: random.Random,
    initiatives: int = 6,
    sources: int = 11,
    **fields,
) -> ScorecardReport:
    """A whole report around the given perspectives."""
    value, coverage = _cov([p.score for p in perspectives])
    objectives = [o for p in perspectives for o in p.objectives]
    report = ScorecardReport(
        organization="Northwind Instruments",
        vision="Every laboratory runs on instruments it never has to think about.",
        mission="We design, deliver and service precision laboratory instruments.",
        currency="USD",
        period=PERIOD.key,
        period_label=PERIOD.label,
        period_end=PERIOD.last_day,
        overall_score=value,
        overall_status=scoring.status_of_score(value) if value is not None else "no_data",
        previous_overall_score=value - 0.3 if value is not None else None,
        coverage=coverage,
        perspectives=perspectives,
        run_id="3f2c9a7e-0d1b-4c55-9e07-5a1d2b8c6f10",
        generated_at=datetime(2026, 11, 4, 6, 0, 12, tzinfo=UTC),
        catalog_version="a1b2c3d4e5f6",
        sources=tuple(
            SourceLine(
                f"system_{i % 4}.table_{i}", 1000 + 37 * i, datetime(2026, 11, 4, 5, 58, tzinfo=UTC)
            )
            for i in range(sources)
        ),
        initiatives=_initiatives(rng, objectives, initiatives),
        links=tuple(StrategyLink(a, b) for a, b in links),
        previous_period_label=PERIOD.shift(-1).label,
    )
    kpis = report.kpis()
    report = replace(
        report,
        highlights=highlights(kpis),
        withheld=tuple(k for k in kpis if k.status == "withheld"),
    )
    return replace(report, **fields)


def report_from_catalog(catalog, seed: int = 7, **fields) -> ScorecardReport:
    """The shipped catalog's scorecard with deterministic numbers (the demo's size)."""
    rng = random.Random(seed)
    perspectives = []
    for p in catalog.perspectives:
        objectives = tuple(
            _objective(
                o.id,
                o.name,
                o.owner,
                tuple(
                    make_kpi(
                        rng,
                        k.id,
                        k.name,
                        k.unit,
                        k.direction,
                        owner=k.owner,
                        description=k.description,
                        definition=f"= {k.formula}" if k.calculated else f"sql/{k.sql}",
                        sql_file=f"sql/{k.sql}" if k.sql else "",
                        tables=catalog.kpi_tables.get(k.id, ()),
                    )
                    for k in catalog.kpis_of(o.id)
                ),
            )
            for o in p.objectives
        )
        perspectives.append(_perspective(p.id, p.name, objectives, rng))
    links = [(link.from_, link.to) for link in catalog.links]
    return assemble(
        tuple(perspectives),
        links,
        rng,
        initiatives=len(catalog.initiatives) or 6,
        sources=len(catalog.tables),
        **{"actions": action_lines(catalog, PERIOD), **fields},
    )


def generated_report(
    objectives: int = 40, kpis: int = 100, links: int = 60, seed: int = 3, **fields
) -> ScorecardReport:
    """A synthetic catalog's report: objectives spread over four perspectives, random links."""
    rng = random.Random(seed)
    names = ("Financial", "Customer", "Internal Process", "Learning & Growth")
    units = list(UNITS)
    directions = ("higher_is_better", "lower_is_better", "within_range")
    ids = [f"objective_{i}" for i in range(objectives)]
    perspectives = []
    for band, name in enumerate(names):
        members = ids[band::4]
        built = []
        for oid in members:
            index = ids.index(oid)
            count = kpis // objectives + (1 if index < kpis % objectives else 0)
            built.append(
                _objective(
                    oid,
                    f"Objective {index + 1}: make {name.lower()} better",
                    "Grace Okafor, CHRO",
                    tuple(
                        make_kpi(
                            rng,
                            f"kpi_{index}_{j}",
                            f"KPI {index + 1}.{j + 1}",
                            rng.choice(units),
                            rng.choice(directions),
                        )
                        for j in range(count)
                    ),
                )
            )
        perspectives.append(_perspective(f"p{band}", name, tuple(built), rng))
    pairs: set[tuple[str, str]] = set()
    while len(pairs) < links:
        a, b = rng.sample(ids, 2)
        pairs.add((a, b))
    return assemble(tuple(perspectives), sorted(pairs), rng, **fields)

"""The assembled catalog: every definitions/ file parsed, cross-checked, and indexed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipelines.catalog.formula import inputs as formula_inputs
from pipelines.catalog.models import (
    Action,
    Comment,
    CommentaryFile,
    Initiative,
    Kpi,
    Link,
    Objective,
    Organization,
    Perspective,
    RecipientList,
    ReportSettings,
    ScheduleSettings,
    SourceFile,
    Table,
    TargetVersion,
    Unit,
    weight_at,
)
from pipelines.periods import Period


@dataclass(frozen=True)
class SourceTable:
    """A source table with the source it belongs to."""

    source: SourceFile
    table: Table

    @property
    def key(self) -> str:
        """'source.table', as the catalog and the report name it."""
        return f"{self.source.source}.{self.table.name}"

    @property
    def raw_name(self) -> str:
        """Its table name in the warehouse's raw schema."""
        return f"{self.source.source}_{self.table.name}"


@dataclass(frozen=True)
class Catalog:
    """Everything under definitions/, validated."""

    root: Path
    sql_root: Path
    version: str
    organization: Organization
    perspectives: tuple[Perspective, ...]
    links: tuple[Link, ...]
    sources: tuple[SourceFile, ...]
    kpis: tuple[Kpi, ...]
    targets: dict[str, tuple[TargetVersion, ...]]
    initiatives: tuple[Initiative, ...]
    recipient_lists: tuple[RecipientList, ...]
    commentary: tuple[CommentaryFile, ...] = ()
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    report: ReportSettings = field(default_factory=ReportSettings)
    kpi_tables: dict[str, tuple[str, ...]] = field(default_factory=dict)
    actions: tuple[Action, ...] = ()  # definitions/actions.yaml, when there is one
    units: tuple[Unit, ...] = ()  # definitions/units.yaml, when there is one: parents first

    @property
    def tables(self) -> list[SourceTable]:
        """Every source table, in catalog order."""
        return [SourceTable(s, t) for s in self.sources for t in s.tables]

    def table(self, key: str) -> SourceTable:
        """A source table by 'source.table'."""
        return next(t for t in self.tables if t.key == key)

    @property
    def objectives(self) -> list[Objective]:
        """Every objective, in catalog order."""
        return [o for p in self.perspectives for o in p.objectives]

    def perspective_of(self, objective_id: str) -> Perspective:
        """The perspective an objective belongs to."""
        return next(p for p in self.perspectives if any(o.id == objective_id for o in p.objectives))

    def kpis_of(self, objective_id: str, period: Period | None = None) -> list[Kpi]:
        """The KPIs measuring an objective (given a period: those not retired by then)."""
        return [
            k
            for k in self.kpis
            if k.objective == objective_id and (period is None or k.in_force(period))
        ]

    def kpi(self, kpi_id: str) -> Kpi:
        """A KPI by id."""
        return next(k for k in self.kpis if k.id == kpi_id)

    def comment_for(
        self, kpi_id: str, period: Period, unit: str | None = None
    ) -> tuple[Comment, Period] | None:
        """The latest comment on a KPI written for `period` or before, with its period: the
        company's, or a unit's (its own, else its parent unit's, up to the company's)."""
        for owner in [*(u.id for u in self.unit_chain(unit)), None] if unit else [None]:
            latest = None
            for file in sorted(self.commentary, key=lambda f: f.period):
                written = Period.parse(file.period)
                if written > period:
                    break
                for comment in file.comments:
                    if comment.kpi == kpi_id and comment.unit == owner:
                        latest = (comment, written)
            if latest is not None:
                return latest
        return None

    def weight_of(self, node, period: Period, unit: str | None = None) -> float:
        """The weight in force of a perspective, objective or KPI: a unit's (its own, else its
        parent unit's) where units.yaml gives one, else the catalog's."""
        for owner in self.unit_chain(unit) if unit else ():
            if node.id in owner.weights:
                return owner.weights[node.id]
        return weight_at(node.weight, period)

    def owner_of(self, node, unit: str | None = None) -> str:
        """Who owns a KPI or an objective: in a unit, its own owner (else its parent unit's)
        where units.yaml names one, else the catalog's."""
        for owner in self.unit_chain(unit) if unit else ():
            if node.id in owner.owners:
                return owner.owners[node.id]
        return node.owner

    def sql_text(self, kpi: Kpi, period: Period | None = None) -> str:
        """The KPI's SQL in force in `period` (its revisions'), or its original SQL."""
        path = kpi.sql_at(period) if period is not None else kpi.sql
        return (self.sql_root / path).read_text(encoding="utf-8")

    def target_for(
        self, kpi_id: str, period: Period, unit: str | None = None
    ) -> TargetVersion | None:
        """The target version in force for a period (the latest that started on or before it):
        the company's, or a unit's (its own, else its parent's, up to the company's; a KPI with
        `unit_targets: own`, the unit's own only)."""
        chain: list = [*(self.unit_chain(unit) if unit else ()), None]
        if unit and self.kpi(kpi_id).unit_targets == "own":
            chain = chain[:1]  # an amount that scales with the unit: its own target or none
        for owner in chain:
            versions = self.targets.get(kpi_id, ()) if owner is None else owner.targets.get(kpi_id)
            if versions is None:
                continue
            current = None
            for version in sorted(versions, key=lambda v: v.period):
                if version.period <= period:
                    current = version
            return current
        return None

    def unit(self, unit_id: str) -> Unit:
        """A business unit by id."""
        return next(u for u in self.units if u.id == unit_id)

    def unit_chain(self, unit_id: str) -> list[Unit]:
        """The unit, then its parent, up to a unit directly under the company."""
        chain, current = [], self.unit(unit_id)
        while True:
            chain.append(current)
            if current.parent is None:
                return chain
            current = self.unit(current.parent)

    def units_under(self, unit_id: str) -> list[Unit]:
        """The units below a unit, at any depth."""
        found = []
        for unit in self.units:
            if unit.id != unit_id and any(u.id == unit_id for u in self.unit_chain(unit.id)):
                found.append(unit)
        return found

    def unit_codes(self, unit_id: str) -> list[str]:
        """The unit-column values of a unit's rows: its own codes and its units'."""
        units = [self.unit(unit_id), *self.units_under(unit_id)]
        return [code for u in units for code in u.own_codes]

    def unit_kpis(self) -> list[Kpi]:
        """The KPIs computed per unit: not company-only, every table they read names each row's
        unit, and (a calculated KPI) every input is computed per unit."""
        with_units = {t.key for t in self.tables if t.table.unit_column}
        found: dict[str, Kpi] = {}
        for kpi in sorted(self.kpis, key=lambda k: k.calculated):  # inputs first
            if kpi.company_only:
                continue
            if kpi.calculated:
                if all(name in found for name in formula_inputs(kpi.formula)):
                    found[kpi.id] = kpi
            elif all(t in with_units for t in self.kpi_tables.get(kpi.id, ())):
                found[kpi.id] = kpi
        return [k for k in self.kpis if k.id in found]

"""The assembled catalog: every definitions/ file parsed, cross-checked, and indexed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

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

    def comment_for(self, kpi_id: str, period: Period) -> tuple[Comment, Period] | None:
        """The latest comment on a KPI written for `period` or before, with its period."""
        latest = None
        for file in sorted(self.commentary, key=lambda f: f.period):
            written = Period.parse(file.period)
            if written > period:
                break
            for comment in file.comments:
                if comment.kpi == kpi_id:
                    latest = (comment, written)
        return latest

    def sql_text(self, kpi: Kpi, period: Period | None = None) -> str:
        """The KPI's SQL in force in `period` (its revisions'), or its original SQL."""
        path = kpi.sql_at(period) if period is not None else kpi.sql
        return (self.sql_root / path).read_text(encoding="utf-8")

    def target_for(self, kpi_id: str, period: Period) -> TargetVersion | None:
        """The target version in force for a period (the latest that started on or before it)."""
        current = None
        for version in self.targets.get(kpi_id, ()):
            if version.period <= period:
                current = version
        return current

"""The report's data model: everything a template may show, read from the warehouse.

Templates do no arithmetic and no SQL: every number they print is a field here, filled by
pipelines.report.context from the warehouse tables of one period.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from pipelines.catalog.models import CustomUnit
from pipelines.scoring.signals import MonthSignal
from pipelines.scoring.statuses import WITHHELD, Coverage


@dataclass(frozen=True)
class TrendPoint:
    """One month of a KPI's history: its value and target (None where missing)."""

    period: str  # 'YYYY-MM'
    actual: float | None
    target: float | None
    red_flag: float | None = None  # the month's red flag (one-sided KPIs)
    target_lower: float | None = None  # the month's band (within_range KPIs)
    target_upper: float | None = None
    definition_revision: int | None = None  # the KPI revision that computed the value
    signal: bool = False  # the month's value is a signal (pipelines.scoring.signals)


@dataclass(frozen=True)
class RevisionLine:
    """A change of a KPI's definition (catalog text: the templates escape it)."""

    number: int  # 1 for the first revision
    effective: str  # 'YYYY-MM', the first month computed under it
    note: str
    sql_file: str | None = None  # 'sql/kpis/….sql' when the SQL itself changed


@dataclass(frozen=True)
class KpiLine:
    """One KPI in one period, as the report shows it."""

    id: str
    name: str
    description: str
    owner: str
    unit: str | CustomUnit  # usd, pct, days, hours, count, score, ratio, or the KPI's own
    direction: str  # higher_is_better, lower_is_better, within_range
    actual: float | None
    target: float | None  # for within_range: None, see target_lower/target_upper
    target_lower: float | None
    target_upper: float | None
    red_flag: float | None
    variance: float | None  # actual - target (None when either is missing)
    variance_pct: float | None  # variance / |target| * 100 (None when target is 0 or missing)
    status: str
    score: float | None  # 0..10
    previous: float | None  # previous month's actual
    last_year: float | None  # same month last year
    ytd_actual: float | None
    ytd_target: float | None
    sql_file: str
    tables: tuple[str, ...]
    withheld_reason: str | None = None
    commentary: str | None = None
    trend: tuple[TrendPoint, ...] = ()
    previous_status: str | None = None
    previous_score: float | None = None
    commentary_author: str | None = None
    commentary_period: str | None = None  # the month the comment was written for
    commentary_carried_over: bool = False  # written for an earlier month
    commentary_missing: bool = False  # off track and no comment for this month
    commentary_from: str | None = None  # a unit's report: whose comment it inherits, if not its own
    forecast: float | None = None  # year-end projection (KPIs with an annual target)
    forecast_target: float | None = None
    forecast_method: str | None = None
    forecast_meets: bool | None = None
    definition: str = ""  # the SQL file in force, or the formula of a calculated KPI
    revisions: tuple[RevisionLine, ...] = ()  # definition changes in force by the period
    # Definition changes between a comparison and this month: not like for like, marked †.
    previous_breaks: tuple[RevisionLine, ...] = ()
    last_year_breaks: tuple[RevisionLine, ...] = ()
    ytd_breaks: tuple[RevisionLine, ...] = ()  # changes inside the fiscal year to date
    trend_breaks: tuple[RevisionLine, ...] = ()  # changes within the 12 months of the trend
    # signal or routine variation this month, and the limits (None: no value this month)
    signal: MonthSignal | None = None
    # the latest change of the process the catalog records by the month: ('YYYY-MM', note)
    process_change: tuple[str, str] | None = None
    frequency: str = "monthly"  # monthly, quarterly, annual
    # a quarterly or annual KPI: the month of the measurement shown ('YYYY-MM'); it differs
    # from the report's month between measurements
    measured_in: str | None = None
    ytd_months: int = 0  # months of the fiscal year to date (0: not known, e.g. calculated)
    ytd_months_loaded: int = 0  # of which every table the KPI reads was loaded
    # a board pack's KPI: the review's months, and those the KPI had a value in (0: a month)
    review_months: int = 0
    review_months_with_data: int = 0

    @property
    def carried(self) -> bool:
        """The value is an earlier measurement's: the KPI is not measured this month."""
        return self.measured_in is not None and self.measured_in != (
            self.trend[-1].period if self.trend else None
        )

    @property
    def review_partial(self) -> bool:
        """A board pack's value over fewer months than its quarter or year has."""
        return self.actual is not None and self.review_months_with_data < self.review_months

    @property
    def ytd_partial(self) -> bool:
        """The year to date covers fewer months than the fiscal year so far (a source added
        later, or months never loaded): not comparable with its target as is."""
        return self.ytd_actual is not None and self.ytd_months_loaded < self.ytd_months

    @property
    def definition_breaks(self) -> tuple[RevisionLine, ...]:
        """Every change a marked comparison spans, oldest first (the footnote's lines)."""
        found = {
            r.number: r for r in self.last_year_breaks + self.previous_breaks + self.ytd_breaks
        }
        return tuple(found[n] for n in sorted(found))


@dataclass(frozen=True)
class ObjectiveLine:
    """One strategic objective with its KPIs and rolled-up score."""

    id: str
    name: str
    owner: str
    score: float | None
    status: str
    coverage: Coverage
    kpis: tuple[KpiLine, ...]
    weight: float = 1.0  # its weight in its perspective this period (catalog)

    @property
    def withheld_count(self) -> int:
        """How many of its KPIs are withheld this month."""
        return sum(k.status == WITHHELD for k in self.kpis)

    @property
    def map_status(self) -> str:
        """The status the strategy map shows: withheld when every KPI is withheld (the roll-up
        stores that as no data), else the rolled-up status."""
        if self.kpis and self.withheld_count == len(self.kpis):
            return WITHHELD
        return self.status


@dataclass(frozen=True)
class PerspectiveLine:
    """One of the four perspectives with its objectives and rolled-up score."""

    id: str
    name: str
    score: float | None
    status: str
    previous_score: float | None
    coverage: Coverage
    objectives: tuple[ObjectiveLine, ...]
    weight: float = 1.0  # its weight in the overall score this period (catalog)


@dataclass(frozen=True)
class SourceLine:
    """One loaded source table in the data appendix."""

    table: str  # 'source.table'
    rows: int
    loaded_at: datetime | None
    quality: str | None = None  # '14 checks: 13 passed, 1 warned' (None: not checked)


@dataclass(frozen=True)
class QualityLine:
    """One source table's data-quality checks for the period (the data-quality appendix)."""

    table: str  # 'source.table'
    rows: int  # rows loaded (and checked) for the period
    rows_rejected: int  # rows the load left out, within the table's max_reject_rate
    checks_run: int
    passed: int
    warned: int  # warning-level checks that failed
    failed: int  # error-level checks that failed or errored: the table's KPIs are withheld
    errored: int  # checks that raised instead of answering (counted in failed or warned)
    status: str  # passed, warned, failed; unchecked (not checked), none (no checks declared)
    latest_record: datetime | None  # the period's latest date in the table
    lag_days: int | None  # days from it to the period's last day (freshness)
    loaded_at: datetime | None
    failing: tuple[str, ...] = ()  # 'expect_…(column) failed: 3 of 1,204 rows unexpected'


@dataclass(frozen=True)
class InitiativeLine:
    """An action plan with its derived flags."""

    id: str
    name: str
    owner: str
    objectives: tuple[str, ...]  # objective names
    start: str | None
    deadline: date
    status: str  # not_started, on_schedule, behind, completed, cancelled
    percent_complete: int
    overdue: bool  # past its deadline and not completed or cancelled
    at_risk: bool  # behind, or progress well short of the time elapsed
    days_overdue: int


@dataclass(frozen=True)
class ActionLine:
    """A decision of a review and its action, as of the report's month (catalog text)."""

    id: str
    decision: str
    action: str
    owner: str
    decided: str  # 'YYYY-MM'
    due: date
    status: str  # open, in_progress, done, cancelled: as of the month's last day
    closed: date | None
    kpis: tuple[str, ...]  # KPI names
    overdue: bool  # past due and neither done nor cancelled by the month's end
    days_overdue: int


@dataclass(frozen=True)
class Highlight:
    """A KPI worth leadership's attention this month, and why."""

    kind: str  # signal, success, improvement_area, status_change
    kpi: KpiLine
    reason: str


@dataclass(frozen=True)
class StrategyLink:
    """A cause-and-effect arrow of the strategy map between two objectives (ids)."""

    source: str  # the objective that drives
    target: str  # the objective it drives


@dataclass(frozen=True)
class RestatedValue:
    """A KPI value that changed since the report that was sent."""

    kpi_id: str
    name: str
    unit: str | CustomUnit
    sent: float | None
    restated: float | None


@dataclass(frozen=True)
class Restatement:
    """This period's report restates one already sent: when that was, and what changed."""

    sent_rendered_at: datetime
    changes: tuple[RestatedValue, ...]
    catalog_changed: bool = False  # the catalog (definitions, targets, SQL) changed since


@dataclass(frozen=True)
class UnitCell:
    """A unit's score and status in one perspective (or overall)."""

    score: float | None
    status: str


@dataclass(frozen=True)
class UnitLine:
    """A business unit in the company's "units at a glance" (catalog text: escaped)."""

    id: str
    name: str
    leader: str
    path: tuple[str, ...]  # the names of the units above it, top first
    overall: UnitCell
    perspectives: dict[str, UnitCell]  # by perspective id
    off_track: tuple[str, ...]  # names of its KPIs off track this month
    scored_count: int = 0
    total_count: int = 0


@dataclass(frozen=True)
class UnitHeader:
    """Whose scorecard a unit's report is, and the company's month beside it (catalog text:
    escaped)."""

    id: str
    name: str
    leader: str
    path: tuple[str, ...]  # the names of the units above it, top first
    company: UnitCell  # the company's overall score and status
    company_perspectives: dict[str, UnitCell]  # by perspective id
    company_only: tuple[str, ...] = ()  # names of the KPIs computed for the company only


@dataclass(frozen=True)
class ScorecardReport:
    """The whole scorecard of one period."""

    organization: str
    vision: str
    mission: str
    currency: str
    period: str  # 'YYYY-MM'
    period_label: str  # 'October 2026'
    period_end: date
    overall_score: float | None
    overall_status: str
    previous_overall_score: float | None
    coverage: Coverage
    perspectives: tuple[PerspectiveLine, ...]
    run_id: str
    generated_at: datetime
    catalog_version: str
    sources: tuple[SourceLine, ...] = ()
    withheld: tuple[KpiLine, ...] = field(default=())
    initiatives: tuple[InitiativeLine, ...] = ()
    actions: tuple[ActionLine, ...] = ()  # decided by the month, open then or closed in it
    highlights: tuple[Highlight, ...] = ()
    restatement: Restatement | None = None
    links: tuple[StrategyLink, ...] = ()  # the strategy map's arrows, from the catalog
    previous_period_label: str = ""  # 'September 2026'
    page_size: str = "A4"  # A4 or Letter (catalog: report.page_size)
    locale: str = "en_US"  # how numbers are written (catalog: report.locale)
    kpi_detail_pages: str = "all"  # all or off_track (catalog: report.kpi_detail_pages)
    render_timeout_seconds: int = 60  # wall-clock cap on the PDF render
    quality: tuple[QualityLine, ...] = ()  # per source table: rows, checks, freshness
    quality_warnings: tuple[str, ...] = ()  # warning-level check failures ('table: check ...')
    data_complete: bool = True  # False: the month's data is incomplete; do not send as final
    incomplete_reasons: tuple[str, ...] = ()  # why it is incomplete, one sentence each
    load_failures: tuple[str, ...] = ()  # source tables whose load failed for the month
    units: tuple[UnitLine, ...] = ()  # business units, those needing attention first
    rows_of_no_unit: tuple[tuple[str, int], ...] = ()  # (table, rows) in no unit's figures
    unit: UnitHeader | None = None  # a business unit's report: which unit, and the company's

    def kpis(self) -> list[KpiLine]:
        """All KPIs in catalog order."""
        return [k for p in self.perspectives for o in p.objectives for k in o.kpis]


@dataclass(frozen=True)
class ReviewScore:
    """One quarter's (or year's) overall score, for the board pack's trend."""

    key: str  # '2026-Q3'
    label: str  # 'Q3 2026'
    score: float | None
    status: str


@dataclass(frozen=True)
class InitiativeChange:
    """What happened to an initiative during the review: started, completed, slipped, or its
    status changed (catalog text: the templates escape it)."""

    change: str  # started, completed, slipped, status_changed
    initiative: InitiativeLine  # as of the review's last month
    before: str | None  # its status at the end of the previous review (None: not started yet)
    note: str = ""  # the latest update's note within the review


@dataclass(frozen=True)
class MonthComment:
    """An owner's comment written for one month of the review."""

    month: str  # 'YYYY-MM'
    kpi_id: str
    kpi_name: str
    author: str
    text: str
    status: str  # the KPI's status that month


@dataclass(frozen=True)
class BoardPack:
    """A fiscal quarter's or year's board pack: the review scored like a month (`report`: its
    period is the review's key, its KPI lines compare with the previous review and the same one
    a year before), with the score trend, the initiatives review and the months' commentary."""

    report: ScorecardReport
    kind: str  # quarter, year
    span: str  # 'July to September 2026'
    first_month: str  # 'YYYY-MM'
    last_month: str
    year_ago_label: str  # 'Q3 2025'
    score_trend: tuple[ReviewScore, ...] = ()  # oldest first, this review last
    initiative_changes: tuple[InitiativeChange, ...] = ()
    comments: tuple[MonthComment, ...] = ()

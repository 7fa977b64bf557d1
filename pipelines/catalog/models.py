"""The catalog's schema: pydantic models with unknown fields forbidden.

One YAML file maps onto one of the *File models; the loader assembles them into a Catalog and
checks the references between them.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from pipelines.catalog.connectors import (
    HttpApiConnector,
    PostgresConnector,
    table_settings_problem,
)
from pipelines.catalog.expectations import ExpectationEntry, expectation_problems
from pipelines.catalog.file_formats import canonical_encoding
from pipelines.catalog.limits import Description, Name
from pipelines.catalog.locales import locale_style
from pipelines.periods import Period

Identifier = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$"),
]
PeriodKey = Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
ColumnType = Literal[
    "varchar", "integer", "bigint", "double", "decimal", "date", "timestamp", "boolean"
]
Direction = Literal["higher_is_better", "lower_is_better", "within_range"]
Unit = Literal["usd", "pct", "days", "hours", "count", "score", "ratio"]
Status = Literal["not_started", "on_schedule", "behind", "completed", "cancelled"]


class Strict(BaseModel):
    """Base: unknown fields are errors, values are not coerced across types."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


UNIT_NAMES: tuple[str, ...] = get_args(Unit)
MAX_UNIT_DECIMALS = 4


class CustomUnit(Strict):
    """A unit of the KPI's own (MWh, tCO2e, points): the label after its numbers, their decimals."""

    label: Annotated[
        str, StringConstraints(min_length=1, max_length=12, pattern=r"^[^\x00-\x1f<>&]+$")
    ] = Field(description="Shown after every number of the KPI: '357.2 MWh'.")
    decimals: int = Field(default=0, ge=0, le=MAX_UNIT_DECIMALS)


def unit_form(value: object) -> object:
    """A KPI's `unit` as the catalog may give it: one of UNIT_NAMES, or {label, decimals}; a
    ValueError naming both forms otherwise."""
    forms = (
        f"one of {', '.join(UNIT_NAMES)}, or a unit of your own as "
        f"{{label: MWh, decimals: 1}} (label: up to 12 characters; decimals: 0 to "
        f"{MAX_UNIT_DECIMALS})"
    )
    if isinstance(value, str):
        if value not in UNIT_NAMES:
            raise ValueError(f"unknown unit {value[:40]!r}; a unit is {forms}")
        return value
    if isinstance(value, dict):
        try:
            return CustomUnit.model_validate(value)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise ValueError(f"{where}: {first['msg']}; a unit is {forms}") from None
    if isinstance(value, CustomUnit):
        return value
    raise ValueError(f"a unit is {forms}")


class WeightVersion(Strict):
    """A roll-up weight in force from a period on (0 takes a member out of the roll-up)."""

    from_: PeriodKey = Field(alias="from")
    weight: float = Field(ge=0)


Weight = Annotated[
    float | list[WeightVersion],
    Field(description="A weight, or a list of {from, weight} versions over time."),
]


def weight_at(weight: float | list[WeightVersion], period: Period) -> float:
    """The weight in force in a period (a version list before its first entry gives 0)."""
    if not isinstance(weight, list):
        return float(weight)
    current = 0.0
    for version in sorted(weight, key=lambda v: v.from_):
        if Period.parse(version.from_) <= period:
            current = version.weight
    return current


class Organization(Strict):
    """Who the scorecard is for."""

    name: Name
    vision: Description
    mission: Description
    currency: Name = "USD"
    locale: Name = "en_US"
    fiscal_year_start_month: int = Field(default=1, ge=1, le=12)
    first_period: PeriodKey = Field(description="The first month the pipeline has partitions for.")


class Objective(Strict):
    """A strategic objective inside a perspective."""

    id: Identifier
    name: Name
    owner: Name
    weight: Weight = 1.0
    description: Description = ""


class Perspective(Strict):
    """One of the Balanced Scorecard's perspectives, bottom (learning) to top (financial)."""

    id: Identifier
    name: Name
    weight: Weight = 1.0
    objectives: list[Objective] = Field(min_length=1)


class Link(Strict):
    """A cause-and-effect arrow of the strategy map: `from` drives `to`."""

    from_: Identifier = Field(alias="from")
    to: Identifier


class ScheduleSettings(Strict):
    """When the monthly run fires: some days after the month closes, at a local time."""

    days_after_month_end: int = Field(default=4, ge=1, le=28)
    time: str = Field(default="06:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    timezone: Name = "UTC"

    @field_validator("timezone")
    def _known_timezone(cls, value: str) -> str:  # noqa: N805
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name such as Europe/Berlin)"
            ) from None
        return value


class ReportSettings(Strict):
    """How the leadership report is laid out: paper size, number locale, KPI detail pages."""

    page_size: Literal["A4", "Letter"] = "A4"
    locale: Name | None = Field(
        default=None,
        description="How numbers and dates are written (en_US, en_GB, de_DE, fr_FR); "
        "the organization's locale when left out.",
    )
    kpi_detail_pages: Literal["all", "off_track"] = Field(
        default="all",
        description="A detail page for every KPI, or only for the KPIs off track.",
    )
    unit_kpi_detail_pages: Literal["all", "off_track"] = Field(
        default="off_track",
        description="The same for a business unit's report (units.yaml): by default only its "
        "off-track KPIs get a detail page, so a unit's PDF stays short and many render fast.",
    )
    render_timeout_seconds: int = Field(
        default=60,
        ge=5,
        le=600,
        description="Wall-clock cap on rendering the PDF; past it the run fails, no PDF is kept.",
    )

    @field_validator("locale")
    def _known_locale(cls, value: str | None) -> str | None:  # noqa: N805
        if value is not None:
            locale_style(value)
        return value


class ScorecardFile(Strict):
    """definitions/scorecard.yaml."""

    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    report: ReportSettings = Field(default_factory=ReportSettings)
    organization: Organization
    perspectives: list[Perspective] = Field(min_length=1)
    links: list[Link] = Field(default_factory=list)


class Column(Strict):
    """A declared column of a source table."""

    name: Identifier
    type: ColumnType
    nullable: bool = True


class Table(Strict):
    """A source table: events (rows with a date, loaded per month) or a month-end snapshot."""

    name: Identifier
    kind: Literal["events", "snapshot"] = "events"
    description: Description = ""
    path: str | None = Field(
        default=None,
        description="File sources: file path or glob, relative to $SCORECARD_HOME unless absolute.",
    )
    format: Literal["csv", "parquet", "jsonl", "xlsx"] = Field(
        default="csv", description="File sources: csv, parquet, jsonl (JSON lines) or xlsx."
    )
    sheet: Name | None = Field(
        default=None, description="xlsx: the worksheet to read; the first one when left out."
    )
    delimiter: str = Field(default=",", description="csv: the field separator.")
    encoding: Name = Field(
        default="utf-8", description="csv: the files' text encoding (utf-8, latin-1, cp1252, ...)."
    )
    decimal_separator: Literal[".", ","] = Field(
        default=".", description="csv: the decimal mark of numbers ('1,5' with ',')."
    )
    thousands: Literal[",", ".", " ", "'"] | None = Field(
        default=None, description="csv: the thousands separator numbers may carry ('1.234,5')."
    )
    date_format: str | None = Field(
        default=None,
        description="csv, jsonl, xlsx text cells: how dates are written, as a DuckDB format "
        "(%d.%m.%Y); YYYY-MM-DD when left out.",
    )
    timestamp_format: str | None = Field(
        default=None,
        description="csv, jsonl, xlsx text cells: how timestamps are written (%d.%m.%Y %H:%M); "
        "YYYY-MM-DD HH:MM:SS when left out.",
    )
    relation: str | None = Field(
        default=None,
        alias="table",
        pattern=r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$",
        description="Database sources: the table or view to read, optionally schema-qualified.",
    )
    query: str | None = Field(
        default=None,
        description="Database sources: path of a SELECT under sql/ to read instead of a table.",
    )
    endpoint: str | None = Field(
        default=None,
        pattern=r"^/?[^\s?#]*$",
        description="HTTP API sources: the path under the connector's base_url.",
    )
    records_path: str | None = Field(
        default=None, description="HTTP API sources: overrides the connector's records_path."
    )
    params: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="HTTP API sources: fixed query parameters."
    )
    date_column: Identifier
    key: list[Identifier] = Field(default_factory=list)
    columns: list[Column] = Field(min_length=1)
    expectations: list[ExpectationEntry] = Field(
        default_factory=list,
        description="Quality checks of each month's rows: Great Expectations expectations (or "
        "project checks), each with a severity; see docs/data-quality.md.",
    )
    max_reject_rate: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="File sources: the share of a load's rows that may be rejected (values that "
        "do not parse, duplicated rows) before the load fails; 0: any rejected row fails it.",
    )
    unit_column: Identifier | None = Field(
        default=None,
        description="The column naming each row's business unit: a value of a unit's codes in "
        "definitions/units.yaml (docs/units.md). Left out: the table's rows belong to no unit.",
    )

    @field_validator("encoding")
    def _known_encoding(cls, value: str) -> str:  # noqa: N805
        return canonical_encoding(value)

    @model_validator(mode="after")
    def _expectations_valid(self) -> Table:
        problem = expectation_problems(self.name, self.expectations, [c.name for c in self.columns])
        if problem:
            raise ValueError(problem)
        return self

    @model_validator(mode="after")
    def _columns_known(self) -> Table:
        names = [c.name for c in self.columns]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"columns declared twice: {', '.join(duplicates)}")
        for column in [self.date_column, *self.key, *filter(None, [self.unit_column])]:
            if column not in names:
                raise ValueError(f"column {column!r} is used but not declared under columns")
        date_type = next(c.type for c in self.columns if c.name == self.date_column)
        if date_type not in ("date", "timestamp"):
            raise ValueError(
                f"date_column {self.date_column!r} has type {date_type}; "
                "it must be date or timestamp"
            )
        return self


class FileConnector(Strict):
    """Files on disk: CSV, Parquet, JSON lines or Excel (the table's `format`)."""

    kind: Literal["file"] = "file"


Connector = Annotated[
    FileConnector | PostgresConnector | HttpApiConnector, Field(discriminator="kind")
]


class SourceFile(Strict):
    """definitions/sources/<source>.yaml: one source system and its tables."""

    source: Identifier
    description: Description = ""
    system: Literal["finance", "crm", "hr", "operations", "other"] = "other"
    connector: Connector = Field(default_factory=FileConnector)
    tables: list[Table] = Field(min_length=1)

    @model_validator(mode="after")
    def _tables_fit_connector(self) -> SourceFile:
        for index, table in enumerate(self.tables):
            if problem := table_settings_problem(self.connector.kind, table):
                raise ValueError(f"tables[{index}] ({table.name}): {problem}")
        return self


def _relative_sql(value: str | None) -> str | None:
    if value is None:
        return value
    if value.startswith("/") or ".." in value.split("/") or not value.endswith(".sql"):
        raise ValueError("sql must be a relative path under sql/ ending in .sql")
    return value


class KpiRevision(Strict):
    """A change of a KPI's definition, in force from a period on (its id stays the same)."""

    effective: PeriodKey = Field(description="The first month computed under this definition.")
    note: Description = Field(
        min_length=1, description="What changed, in a sentence the report can show."
    )
    sql: str | None = Field(
        default=None,
        description="The SQL file in force from `effective` on, relative to sql/; left out: "
        "the SQL stays as it was (a change the note records, e.g. in the source system).",
    )

    _sql_relative = field_validator("sql")(_relative_sql)

    @property
    def period(self) -> Period:
        """The first period this revision applies to."""
        return Period.parse(self.effective)


def _in_effective_order(entries: list) -> list:
    """Entries with an `effective` month (revisions, process changes), checked to be in
    increasing order, each month once."""
    for before, after in zip(entries, entries[1:], strict=False):
        if after.effective <= before.effective:
            raise ValueError(
                f"effective months must be in increasing order, each once; {after.effective} "
                f"follows {before.effective}"
            )
    return entries


# Values a baseline needs before its natural process limits are used (pipelines.scoring.signals).
MIN_BASELINE = 12


class ProcessChange(Strict):
    """A change of the process a KPI measures (a new policy, a new system), from a month on:
    its natural process limits start again from a baseline after it."""

    effective: PeriodKey = Field(description="The first month of the changed process.")
    note: Description = Field(min_length=1, description="What changed, in a sentence.")

    @property
    def period(self) -> Period:
        """The first period of the changed process."""
        return Period.parse(self.effective)


class BaselineMonths(Strict):
    """The months a KPI's natural process limits are computed from."""

    from_: PeriodKey = Field(alias="from", description="The baseline's first month.")
    to: PeriodKey = Field(description="The baseline's last month.")

    @property
    def months(self) -> tuple[Period, Period]:
        """(first, last)."""
        return Period.parse(self.from_), Period.parse(self.to)

    @model_validator(mode="after")
    def _long_enough(self) -> BaselineMonths:
        first, last = Period.parse(self.from_), Period.parse(self.to)
        span = (last.year - first.year) * 12 + last.month - first.month + 1
        if span < MIN_BASELINE:
            raise ValueError(
                f"from {self.from_} to {self.to} is {max(span, 0)} month(s); natural process "
                f"limits need a baseline of {MIN_BASELINE} months at least"
            )
        return self


class KpiSignals(Strict):
    """How a KPI's signals are told apart from routine variation (docs/semantics.md)."""

    baseline: BaselineMonths | None = Field(
        default=None,
        description="The months the limits come from; left out: the first 12 to 24 months of "
        "the current process.",
    )
    process_changes: list[ProcessChange] = Field(
        default_factory=list,
        description="Changes of the process, oldest first; the limits start again after each "
        "(so they do after each definition revision).",
    )

    @field_validator("process_changes")
    def _changes_in_order(cls, value: list[ProcessChange]) -> list[ProcessChange]:  # noqa: N805
        return _in_effective_order(value)


class Kpi(Strict):
    """A KPI: one SQL file evaluated over a date window, scored against its targets."""

    id: Identifier
    name: Name
    description: Description
    objective: Identifier
    owner: Name
    unit: Unit | CustomUnit = Field(
        description="One of usd, pct, days, hours, count, score, ratio, or a unit of the "
        "KPI's own: {label: MWh, decimals: 1}."
    )
    direction: Direction
    sql: str | None = Field(
        default=None, description="Path of the KPI's SQL file, relative to sql/."
    )
    formula: str | None = Field(
        default=None,
        description="A calculated KPI: arithmetic (+ - * / and parentheses) over other KPIs' ids.",
    )
    weight: Weight = 1.0
    aggregation: Literal["window", "last", "average"] = Field(
        default="window",
        description="How a multi-month window is evaluated: the SQL over the whole window, "
        "the last month's value, or the average of the monthly values.",
    )
    additive: bool = Field(
        default=False, description="Values add up across months (so do year-to-date targets)."
    )
    unit_targets: Literal["inherit", "own"] = Field(
        default="inherit",
        description="A business unit without its own target for this KPI takes its parent's "
        "(inherit), or has none (own: an amount that scales with the unit, like revenue).",
    )
    company_only: bool = Field(
        default=False,
        description="Computed for the company only, never per business unit (its rows carry no "
        "unit, or a unit figure would mislead).",
    )
    red_flag_ratio: float | None = Field(
        default=None,
        gt=0,
        description="Red flag as a ratio of the target when a target gives no red flag.",
    )
    empty_means_zero: list[str] = Field(
        default_factory=list,
        description="Tables the KPI reads ('source.table') whose month without rows means "
        "zero (no defects reported), not missing data. Otherwise a month in which any table "
        "the KPI reads has no rows is no data.",
    )

    revisions: list[KpiRevision] = Field(
        default_factory=list,
        description="Changes of the definition, oldest first: effective month, note, and "
        "optionally the SQL file in force from then on.",
    )
    retired: PeriodKey | None = Field(
        default=None,
        description="The first month the KPI is no longer computed or shown; its history stays.",
    )
    frequency: Literal["monthly", "quarterly", "annual"] = Field(
        default="monthly",
        description="How often the KPI is measured (a survey, an audit). Between measurements "
        "it carries its latest measurement, scored against the month's target.",
    )
    measured_in: list[int] = Field(
        default_factory=list,
        description="The months of the year (1-12) a quarterly (4 months) or annual (1 month) KPI "
        "is measured in; left out: the last month of each fiscal quarter, or of the fiscal year.",
    )
    signals: KpiSignals = Field(
        default_factory=KpiSignals,
        description="Natural process limits: the baseline months and changes of the process.",
    )

    _sql_relative = field_validator("sql")(_relative_sql)
    _unit_form = field_validator("unit", mode="before")(unit_form)

    @property
    def unit_name(self) -> str:
        """The unit as one word for metadata and messages: 'pct', 'usd', or a custom label."""
        return self.unit if isinstance(self.unit, str) else self.unit.label

    @field_validator("measured_in")
    def _measurement_months(cls, value: list[int], info: ValidationInfo) -> list[int]:  # noqa: N805
        if not value:
            return value
        frequency = info.data.get("frequency")
        needed = {"quarterly": 4, "annual": 1}.get(frequency)
        if needed is None:
            raise ValueError("measured_in is for a KPI with frequency quarterly or annual")
        if len(set(value)) != needed or not all(1 <= m <= 12 for m in value):
            raise ValueError(
                f"a {frequency} KPI is measured in {needed} different month(s) of the year "
                f"(1-12), not {value}"
            )
        if needed == 4 and len({m % 3 for m in value}) != 1:
            raise ValueError(
                f"{value}: a quarterly KPI is measured every third month, once in each quarter"
            )
        return value

    @field_validator("revisions")
    def _revisions_in_order(cls, value: list[KpiRevision]) -> list[KpiRevision]:  # noqa: N805
        return _in_effective_order(value)

    @model_validator(mode="after")
    def _sql_or_formula(self) -> Kpi:
        if (self.sql is None) == (self.formula is None):
            raise ValueError("a KPI needs either sql (a query file) or formula (a calculated KPI)")
        if self.calculated and any(r.sql for r in self.revisions):
            raise ValueError("a calculated KPI has no SQL: its revisions take a note only")
        if self.calculated and self.frequency != "monthly":
            raise ValueError(
                "a calculated KPI follows its inputs' measurements; give the frequency to them"
            )
        if self.retired and self.revisions and self.revisions[-1].effective >= self.retired:
            raise ValueError(
                f"revision effective {self.revisions[-1].effective} is not before retired "
                f"{self.retired}"
            )
        baseline = self.signals.baseline
        if baseline is not None:
            first, last = baseline.months
            inside = [p.key for p in self.process_starts if first < p <= last]
            if inside:
                raise ValueError(
                    f"signals.baseline from {baseline.from_} to {baseline.to} spans the process "
                    f"change of {inside[0]} (a revision or a process change): a baseline lies "
                    "within one process"
                )
        return self

    def measurement_months(self, fiscal_start_month: int = 1) -> frozenset[int]:
        """The months of the year (1-12) the KPI is measured in: all twelve for a monthly KPI;
        `measured_in`, or the last month of each fiscal quarter (quarterly) or of the fiscal
        year (annual)."""
        if self.frequency == "monthly":
            return frozenset(range(1, 13))
        if self.measured_in:
            return frozenset(self.measured_in)
        last = (fiscal_start_month - 2) % 12 + 1  # the fiscal year's last month
        if self.frequency == "annual":
            return frozenset({last})
        return frozenset((last - 1 + 3 * i) % 12 + 1 for i in range(4))

    def measurement_at(self, period: Period, fiscal_start_month: int = 1) -> Period:
        """The latest month at or before `period` the KPI is measured in (the period itself
        for a monthly KPI): the measurement a month between measurements carries."""
        months = self.measurement_months(fiscal_start_month)
        return next(period.shift(-i) for i in range(12) if period.shift(-i).month in months)

    def measurement_window(self, period: Period) -> tuple[Period, Period]:
        """The months a measurement taken in `period` covers: the month, or the quarter or
        year ending with it."""
        span = {"monthly": 1, "quarterly": 3, "annual": 12}[self.frequency]
        return period.shift(1 - span), period

    @property
    def process_starts(self) -> tuple[Period, ...]:
        """The months the KPI's process starts again, in order: each definition revision and
        each change of the process the catalog records (signals.process_changes)."""
        starts = {r.period for r in self.revisions} | {
            c.period for c in self.signals.process_changes
        }
        return tuple(sorted(starts))

    def revision_at(self, period: Period) -> tuple[int, KpiRevision | None]:
        """The definition in force in a period: its number (0: the original) and revision."""
        number, current = 0, None
        for index, revision in enumerate(self.revisions, start=1):
            if revision.period <= period:
                number, current = index, revision
        return number, current

    def sql_at(self, period: Period) -> str | None:
        """The SQL file in force in a period: the latest revision's that names one, else `sql`."""
        path = self.sql
        for revision in self.revisions:
            if revision.period <= period and revision.sql:
                path = revision.sql
        return path

    @property
    def sql_files(self) -> list[str]:
        """Every SQL file of the KPI, the original first (none for a calculated KPI)."""
        files = [self.sql] if self.sql else []
        return list(dict.fromkeys(files + [r.sql for r in self.revisions if r.sql]))

    def in_force(self, period: Period) -> bool:
        """Whether the KPI is computed and shown for a period (not retired by then)."""
        return self.retired is None or period < Period.parse(self.retired)

    @property
    def calculated(self) -> bool:
        """Whether the KPI is computed from other KPIs rather than by SQL."""
        return self.formula is not None


class KpiFile(Strict):
    """definitions/kpis/<perspective>.yaml."""

    kpis: list[Kpi] = Field(min_length=1)


class TargetVersion(Strict):
    """A KPI's target from a period on, until the next version starts."""

    from_: PeriodKey = Field(alias="from")
    value: float | None = None
    annual: float | None = Field(
        default=None, description="An annual target, phased to months by `phasing`."
    )
    phasing: Literal["even"] | list[float] = Field(
        default="even",
        description="How an annual target of an additive KPI splits into months: even, or 12 "
        "relative weights starting with the fiscal year's first month.",
    )
    red_flag: float | None = None
    lower: float | None = None
    upper: float | None = None
    red_flag_lower: float | None = None
    red_flag_upper: float | None = None

    @model_validator(mode="after")
    def _one_shape(self) -> TargetVersion:
        band = self.lower is not None or self.upper is not None
        shapes = [self.value is not None, self.annual is not None, band]
        if sum(shapes) != 1:
            raise ValueError(
                "a target needs exactly one of: value (a monthly goal), annual (a yearly goal), "
                "or lower and upper (a band)"
            )
        if band and (self.lower is None or self.upper is None):
            raise ValueError("a band needs both lower and upper")
        if band and self.lower > self.upper:
            raise ValueError(f"lower {self.lower} is above upper {self.upper}")
        if isinstance(self.phasing, list) and (
            len(self.phasing) != 12 or any(w < 0 for w in self.phasing) or sum(self.phasing) <= 0
        ):
            raise ValueError("phasing needs 12 non-negative monthly weights (or 'even')")
        return self

    @property
    def period(self) -> Period:
        """The first period this version applies to."""
        return Period.parse(self.from_)


class TargetsFile(Strict):
    """definitions/targets.yaml: target versions per KPI id."""

    targets: dict[Identifier, list[TargetVersion]]


class Unit(Strict):
    """A business unit under the organisation (a region, a country, a division): its own
    scorecard from the same KPI SQL over its rows (docs/units.md)."""

    id: Identifier
    name: Name
    leader: Name
    parent: Identifier | None = Field(
        default=None, description="The unit it belongs to; left out: directly under the company."
    )
    codes: list[Annotated[str, StringConstraints(min_length=1, max_length=64)]] = Field(
        default_factory=list,
        description="The values of the sources' unit columns that mean this unit (its rows; a "
        "unit's scorecard also reads the rows of the units under it). Default: its id.",
    )
    vision: Description = ""
    targets: dict[Identifier, list[TargetVersion]] = Field(
        default_factory=dict,
        description="Targets of this unit by KPI id, as in targets.yaml; a KPI without one "
        "here takes its parent unit's, and at the top the company's.",
    )
    weights: dict[Identifier, Annotated[float, Field(ge=0)]] = Field(
        default_factory=dict,
        description="Weights in this unit's roll-up by perspective, objective or KPI id; one "
        "not given here is its parent unit's, and at the top the catalog's.",
    )
    owners: dict[Identifier, Name] = Field(
        default_factory=dict,
        description="Who owns a KPI or an objective in this unit, by id; one not given here is "
        "its parent unit's, and at the top the catalog's.",
    )

    @property
    def own_codes(self) -> list[str]:
        """The unit-column values of its own rows."""
        return self.codes or [self.id]


class UnitsFile(Strict):
    """definitions/units.yaml: the organisation's business units (optional)."""

    units: list[Unit] = Field(default_factory=list)


class InitiativeUpdate(Strict):
    """An initiative's status and progress as its owner reported them at a month's end."""

    month: PeriodKey
    status: Status
    percent_complete: int = Field(ge=0, le=100)
    note: Description = ""


class Initiative(Strict):
    """An action plan of the strategy."""

    id: Identifier
    name: Name
    owner: Name
    objectives: list[Identifier] = Field(min_length=1)
    start: PeriodKey | None = None
    deadline: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    status: Status = Field(description="Its status now (the latest update's, when it has updates).")
    percent_complete: int = Field(ge=0, le=100)
    unit: Identifier | None = Field(
        default=None,
        description="The business unit running it (units.yaml): it shows in that unit's report "
        "and its parents'; left out: the company's, in every report.",
    )
    updates: list[InitiativeUpdate] = Field(
        default_factory=list,
        description="Its progress month by month, oldest first: what the quarter's review reads "
        "to say what was started, completed, slipped or changed status. The latest must agree "
        "with status and percent_complete.",
    )

    @model_validator(mode="after")
    def _history(self) -> Initiative:
        months = [u.month for u in self.updates]
        if months != sorted(set(months)):
            raise ValueError("updates must be in month order, one per month")
        if self.start and months and months[0] < self.start:
            raise ValueError(f"update {months[0]} is before the initiative's start {self.start}")
        if self.updates:
            latest = self.updates[-1]
            if (latest.status, latest.percent_complete) != (self.status, self.percent_complete):
                raise ValueError(
                    f"the latest update ({latest.month}: {latest.status}, "
                    f"{latest.percent_complete} %) differs from status {self.status}, "
                    f"percent_complete {self.percent_complete}; make them agree"
                )
        return self

    def as_of(self, period: Period) -> tuple[str, int]:
        """(status, percent_complete) at the end of `period`: the latest update by then; before
        the first update, not started; without updates, the status now."""
        if not self.updates:
            return self.status, self.percent_complete
        found = ("not_started", 0)
        for update in self.updates:
            if Period.parse(update.month) <= period:
                found = (update.status, update.percent_complete)
        return found


ActionStatus = Literal["open", "in_progress", "done", "cancelled"]
DateText = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]


class Action(Strict):
    """A decision taken in a review and the action it assigns: who does what by when."""

    id: Identifier
    decision: Description = Field(min_length=1, description="What the review decided.")
    action: Description = Field(min_length=1, description="What is to be done, by the owner.")
    owner: Name
    decided: PeriodKey = Field(description="The month of the review that decided it.")
    due: DateText = Field(description="When it is due, YYYY-MM-DD.")
    status: ActionStatus
    closed: DateText | None = Field(
        default=None, description="When it was done or cancelled, YYYY-MM-DD."
    )
    kpis: list[Identifier] = Field(default_factory=list, description="The KPIs it is about.")

    @model_validator(mode="after")
    def _dates(self) -> Action:
        closing = self.status in ("done", "cancelled")
        if closing and self.closed is None:
            raise ValueError(
                f"status {self.status} needs closed: the date it was {self.status}, YYYY-MM-DD"
            )
        if not closing and self.closed is not None:
            raise ValueError(
                f"closed is the date an action was done or cancelled; its status is {self.status}"
            )
        for name in ("due", "closed"):
            text = getattr(self, name)
            try:
                day = date.fromisoformat(text) if text else None
            except ValueError:
                raise ValueError(f"{name} {text!r} is not a calendar date") from None
            if day is not None and day < Period.parse(self.decided).start:
                raise ValueError(f"{name} {text} is before the month it was decided in")
        return self


class ActionsFile(Strict):
    """definitions/actions.yaml: the decisions and actions of the reviews (optional)."""

    actions: list[Action] = Field(default_factory=list)


class InitiativesFile(Strict):
    """definitions/initiatives.yaml."""

    initiatives: list[Initiative] = Field(default_factory=list)


class Recipient(Strict):
    """A reader of the monthly email."""

    name: Name
    email: str = Field(pattern=r"^[^@\s<>,;\r\n]+@[^@\s<>,;\r\n]+\.[^@\s<>,;\r\n]+$")


class RecipientList(Strict):
    """A named list of recipients."""

    id: Identifier
    description: Description = ""
    recipients: list[Recipient] = Field(min_length=1)
    receives: Literal["scorecard", "notices"] = Field(
        default="scorecard",
        description="scorecard: the monthly email and PDF; notices: run-failure and "
        "incomplete-data notices for the data team.",
    )
    perspectives: list[Identifier] = Field(
        default_factory=list,
        description="Perspective ids this list gets (its email and PDF show only those); "
        "empty: all perspectives.",
    )
    incomplete: Literal["send_marked", "hold"] = Field(
        default="send_marked",
        description="When KPIs are withheld or the month's data is incomplete: send with the "
        "gaps plainly marked, or hold this list's email and notify the data team.",
    )
    packs: list[Literal["quarterly", "annual"]] = Field(
        default_factory=list,
        description="The board packs this list gets by email after a fiscal quarter's or "
        "year's last month closes: quarterly, annual (default: none).",
    )
    monthly: bool = Field(
        default=True,
        description="Whether a scorecard list gets the monthly email (false: a board list that "
        "gets only its packs).",
    )
    unit: Identifier | None = Field(
        default=None,
        description="A business unit (units.yaml): the list gets that unit's scorecard and PDF "
        "instead of the company's.",
    )

    @model_validator(mode="after")
    def _packs(self) -> RecipientList:
        if self.receives == "notices" and (self.packs or not self.monthly or self.unit):
            raise ValueError("a notices list takes no packs, unit or monthly: false")
        if self.packs and self.perspectives:
            raise ValueError(
                "a board pack covers the whole scorecard: a list limited to perspectives "
                "cannot take packs"
            )
        if not self.monthly and not self.packs:
            raise ValueError("monthly: false and no packs: the list would get nothing")
        if self.unit and self.packs:
            raise ValueError("a board pack is the company's: a list for a unit cannot take packs")
        return self


class RecipientsFile(Strict):
    """definitions/recipients.yaml."""

    lists: list[RecipientList] = Field(default_factory=list)


class Comment(Strict):
    """A KPI owner's commentary on a KPI for a period."""

    kpi: Identifier
    author: Name
    text: Description = Field(min_length=1)
    unit: Identifier | None = Field(
        default=None,
        description="The business unit the comment is on (units.yaml); left out: the company's "
        "figure. A unit without a comment of its own shows its parent unit's, then the company's.",
    )


class CommentaryFile(Strict):
    """definitions/commentary/<period>.yaml: the owners' comments of one month."""

    period: PeriodKey
    comments: list[Comment] = Field(default_factory=list)

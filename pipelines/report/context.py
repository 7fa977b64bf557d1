"""Read one period's scorecard from the warehouse into the report model.

Every number the report shows comes from here, and here only from the warehouse tables of the
period (and its history, for comparisons and trends).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pipelines.catalog import formula
from pipelines.catalog.catalog import Catalog
from pipelines.catalog.models import Kpi
from pipelines.kpis.units import unmapped_rows
from pipelines.periods import Period, fiscal_year_start, months_between
from pipelines.report.highlights import highlights
from pipelines.report.initiatives import action_lines, initiative_lines
from pipelines.report.model import (
    KpiLine,
    ObjectiveLine,
    PerspectiveLine,
    ScorecardReport,
    SourceLine,
    StrategyLink,
    TrendPoint,
)
from pipelines.report.quality_appendix import with_quality
from pipelines.report.revisions import revision_fields
from pipelines.report.units import unit_header, unit_lines
from pipelines.scoring.signals import SIGNAL, month_signal, signal_months
from pipelines.scoring.statuses import NO_DATA, OFF_TRACK, WITHHELD, Coverage
from pipelines.warehouse.connection import quote_literal


@dataclass(frozen=True)
class ScoreTables:
    """Where a scorecard's values, KPI scores and roll-ups are read from: the company's tables,
    or one business unit's rows of unit.* (scores_of)."""

    values: str = "kpi.kpi_values"
    scores: str = "score.kpi_scores"
    rollups: str = "score.rollup_scores"


def scores_of(unit: str | None) -> ScoreTables:
    """The company's tables, or a unit's rows as the company's tables look (its KPI values with
    the company's definition revision of the month: a revision is the KPI's, in every unit)."""
    if unit is None:
        return ScoreTables()
    unit_id = quote_literal(unit)
    return ScoreTables(
        values="(select u.* exclude (unit_id), k.definition_revision, k.definition_since "
        "from unit.kpi_values u left join kpi.kpi_values k using (period, kpi_id) "
        f"where u.unit_id = {unit_id})",
        scores=f"(select * exclude (unit_id) from unit.kpi_scores where unit_id = {unit_id})",
        rollups=f"(select * exclude (unit_id) from unit.rollup_scores where unit_id = {unit_id})",
    )


def dict_rows(cursor) -> list[dict]:
    """A query's rows as dicts by column name."""
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _history(con, period: Period, tables: ScoreTables) -> dict[tuple[str, str], dict]:
    rows = dict_rows(
        con.execute(
            "select strftime(v.period, '%Y-%m') as period, v.kpi_id, v.value, "
            "v.definition_revision, s.target, "
            "s.red_flag, s.target_lower, s.target_upper "
            f"from {tables.values} v left join {tables.scores} s using (period, kpi_id) "
            "where v.period >= ? and v.period <= ?",
            [period.shift(-12).start, period.start],
        )
    )
    return {(r["kpi_id"], r["period"]): r for r in rows}


def _month_values(con, period: Period, tables: ScoreTables) -> dict[str, list[tuple[str, float]]]:
    """Every month's value of every KPI up to the period, for its process limits (a quarterly
    or annual KPI: its measurements only, not the months carrying them)."""
    found: dict[str, list[tuple[str, float]]] = {}
    for kpi_id, month, value in con.execute(
        f"select kpi_id, strftime(period, '%Y-%m'), value from {tables.values} v "
        "where period <= ? and value is not null "
        "and (measured_in is null or measured_in = period) "  # measurements, not carried
        "order by kpi_id, period",
        [period.start],
    ).fetchall():
        found.setdefault(kpi_id, []).append((month, value))
    return found


def repeats_measurements(catalog: Catalog, kpi: Kpi) -> bool:
    """A calculated KPI over a quarterly or annual KPI: its months repeat the input's
    measurement, so its monthly values are no process to set limits on."""
    return kpi.calculated and any(
        catalog.kpi(name).frequency != "monthly"
        for name in formula.inputs(kpi.formula)
        if name in {k.id for k in catalog.kpis}
    )


def _signal(catalog: Catalog, kpi: Kpi, period: Period, value: dict, signals: dict, history: list):
    """The month's verdict; a month carrying an earlier measurement, that measurement's."""
    if value.get("value") is None or repeats_measurements(catalog, kpi):
        return None
    measured = value.get("measured_in")
    if measured is None or measured.strftime("%Y-%m") == period.key:
        return signals.get(period.key)
    baseline = kpi.signals.baseline
    return month_signal(
        history,
        Period(measured.year, measured.month),
        kpi.process_starts,
        baseline.months if baseline else None,
    )


def _trend_point(row: dict, key: str, signal: bool = False) -> TrendPoint:
    return TrendPoint(
        key,
        row.get("value"),
        row.get("target"),
        row.get("red_flag"),
        row.get("target_lower"),
        row.get("target_upper"),
        row.get("definition_revision"),
        signal,
    )


def _commentary(
    catalog: Catalog, kpi: Kpi, period: Period, status: str, unit: str | None = None
) -> dict:
    found = catalog.comment_for(kpi.id, period, unit)
    if found is None:
        return {"commentary_missing": status == OFF_TRACK}
    comment, written = found
    inherited = None
    if unit is not None and comment.unit != unit:  # said, so no one takes it for the unit's own
        owner = "the company" if comment.unit is None else catalog.unit(comment.unit).name
        inherited = f"{owner}'s comment"
    return {
        "commentary_from": inherited,
        "commentary": comment.text,
        "commentary_author": comment.author,
        "commentary_period": written.key,
        "commentary_carried_over": written != period,
        "commentary_missing": status == OFF_TRACK and written != period,
    }


def _loaded_months(con, first: Period, last: Period) -> dict[tuple[str, str], int]:
    """The rows of every (table key, 'YYYY-MM') of first..last that a load has written and
    whose latest load did not fail (meta.load_failures)."""
    return {
        (table, month): rows
        for table, month, rows in con.execute(
            "select l.table_key, strftime(l.period, '%Y-%m'), l.rows_loaded from meta.loads l "
            "anti join meta.load_failures f using (period, table_key) "
            "where l.period >= ? and l.period <= ?",
            [first.start, last.start],
        ).fetchall()
    }


def _ytd_coverage(
    catalog: Catalog, kpi: Kpi, months: list[Period], loaded: dict[tuple[str, str], int]
) -> dict:
    """How many months of the year to date hold rows of every table the KPI reads (a table
    in its empty_means_zero: loaded at all): a KPI whose source came later, or a month without
    data or with a failed load, gives a year to date of fewer months, and the report says so."""
    tables = catalog.kpi_tables.get(kpi.id, ())
    if not tables or kpi.frequency != "monthly":  # a survey's table is empty between surveys
        return {}
    covered = sum(
        all(
            loaded.get((t, m.key), 0) > 0 or ((t, m.key) in loaded and t in kpi.empty_means_zero)
            for t in tables
        )
        for m in months
    )
    return {"ytd_months": len(months), "ytd_months_loaded": covered}


def _kpi_line(
    catalog: Catalog,
    kpi: Kpi,
    period: Period,
    values: dict,
    scores: dict,
    history: dict,
    previous: dict,
    loaded: dict[tuple[str, str], int],
    month_values: dict[str, list[tuple[str, float]]],
    unit: str | None = None,
) -> KpiLine:
    v, s, before = values.get(kpi.id, {}), scores.get(kpi.id, {}), previous.get(kpi.id, {})
    year_start = fiscal_year_start(period, catalog.organization.fiscal_year_start_month)

    def past(months: int) -> float | None:
        return history.get((kpi.id, period.shift(-months).key), {}).get("value")

    months = [period.shift(-i) for i in range(11, -1, -1)]
    baseline = kpi.signals.baseline
    signals = signal_months(
        month_values.get(kpi.id, []),
        months,
        kpi.process_starts,
        baseline.months if baseline else None,
    )
    trend = tuple(
        _trend_point(
            history.get((kpi.id, p.key), {}),
            p.key,
            p.key in signals and signals[p.key].state == SIGNAL,
        )
        for p in months
    )
    return KpiLine(
        id=kpi.id,
        name=kpi.name,
        description=kpi.description,
        owner=catalog.owner_of(kpi, unit),
        unit=kpi.unit,
        direction=kpi.direction,
        actual=v.get("value"),
        target=s.get("target"),
        target_lower=s.get("target_lower"),
        target_upper=s.get("target_upper"),
        red_flag=s.get("red_flag"),
        variance=s.get("variance"),
        variance_pct=s.get("variance_pct"),
        status=s.get("status", NO_DATA),
        score=s.get("score"),
        previous=past(1),
        last_year=past(12),
        ytd_actual=v.get("ytd_value"),
        ytd_target=s.get("ytd_target"),
        sql_file=f"sql/{kpi.sql_at(period)}" if kpi.sql else "",
        definition=f"= {kpi.formula}" if kpi.calculated else f"sql/{kpi.sql_at(period)}",
        tables=catalog.kpi_tables[kpi.id],
        withheld_reason=v.get("withheld_reason"),
        trend=trend,
        signal=_signal(catalog, kpi, period, v, signals, month_values.get(kpi.id, [])),
        process_change=next(
            (
                (c.effective, c.note)
                for c in reversed(kpi.signals.process_changes)
                if c.period <= period
            ),
            None,
        ),
        frequency=kpi.frequency,
        measured_in=v["measured_in"].strftime("%Y-%m") if v.get("measured_in") else None,
        previous_status=before.get("status"),
        previous_score=before.get("score"),
        forecast=s.get("forecast"),
        forecast_target=s.get("forecast_target"),
        forecast_method=s.get("forecast_method"),
        forecast_meets=s.get("forecast_meets"),
        **_commentary(catalog, kpi, period, s.get("status", NO_DATA), unit),
        **revision_fields(
            kpi,
            period,
            year_start,
            v.get("definition_revision"),
            history,
            v.get("ytd_value") is not None,
        ),
        **_ytd_coverage(catalog, kpi, months_between(year_start, period), loaded),
    )


def coverage_of(row: dict) -> Coverage:
    """The coverage of a stored roll-up row."""
    return Coverage(
        row["scored_count"], row["total_count"], row["scored_weight"], row["total_weight"]
    )


def build_report(
    con, catalog: Catalog, period: Period, run_id: str, unit: str | None = None
) -> ScorecardReport:
    """The scorecard of `period` as stored in the warehouse: the company's, or with `unit` a
    business unit's (its KPIs, targets, weights, owners, commentary and initiatives, and the
    company's month beside it)."""
    tables = scores_of(unit)
    key = [period.start]
    values = {
        r["kpi_id"]: r
        for r in dict_rows(con.execute(f"select * from {tables.values} v where period = ?", key))
    }
    scores = {
        r["kpi_id"]: r
        for r in dict_rows(con.execute(f"select * from {tables.scores} s where period = ?", key))
    }
    if not scores:
        whose = f"unit {unit}" if unit else "the warehouse"
        raise LookupError(f"no scores for {whose} for {period}; run the month first")
    nodes = {
        (r["level"], r["node_id"]): r
        for r in dict_rows(con.execute(f"select * from {tables.rollups} r where period = ?", key))
    }
    previous = {
        (r["level"], r["node_id"]): r["score"]
        for r in dict_rows(
            con.execute(
                f"select level, node_id, score from {tables.rollups} r where period = ?",
                [period.shift(-1).start],
            )
        )
    }
    history = _history(con, period, tables)
    month_values = _month_values(con, period, tables)
    loaded = _loaded_months(
        con, fiscal_year_start(period, catalog.organization.fiscal_year_start_month), period
    )
    previous_kpis = {
        r["kpi_id"]: r
        for r in dict_rows(
            con.execute(
                f"select kpi_id, status, score from {tables.scores} s where period = ?",
                [period.shift(-1).start],
            )
        )
    }
    shown = {k.id for k in catalog.unit_kpis()} if unit else {k.id for k in catalog.kpis}
    perspectives = []
    for p in catalog.perspectives:
        objectives = tuple(
            ObjectiveLine(
                id=o.id,
                name=o.name,
                owner=catalog.owner_of(o, unit),
                score=nodes[("objective", o.id)]["score"],
                status=nodes[("objective", o.id)]["status"],
                coverage=coverage_of(nodes[("objective", o.id)]),
                kpis=tuple(
                    _kpi_line(
                        catalog,
                        k,
                        period,
                        values,
                        scores,
                        history,
                        previous_kpis,
                        loaded,
                        month_values,
                        unit,
                    )
                    for k in catalog.kpis_of(o.id, period)
                    if k.id in shown
                ),
                weight=catalog.weight_of(o, period, unit),
            )
            for o in p.objectives
        )
        node = nodes[("perspective", p.id)]
        perspectives.append(
            PerspectiveLine(
                id=p.id,
                name=p.name,
                score=node["score"],
                status=node["status"],
                previous_score=previous.get(("perspective", p.id)),
                coverage=coverage_of(node),
                objectives=objectives,
                weight=catalog.weight_of(p, period, unit),
            )
        )
    overall = nodes[("overall", "overall")]
    sources = tuple(
        SourceLine(r["table_key"], r["rows_loaded"], r["loaded_at"])
        for r in dict_rows(
            con.execute(
                "select table_key, rows_loaded, loaded_at from meta.loads where period = ? "
                "order by table_key",
                key,
            )
        )
    )
    org = catalog.organization
    report = ScorecardReport(
        organization=org.name,
        vision=(catalog.unit(unit).vision or org.vision) if unit else org.vision,
        mission=org.mission,
        currency=org.currency,
        period=period.key,
        period_label=period.label,
        period_end=period.last_day,
        overall_score=overall["score"],
        overall_status=overall["status"],
        previous_overall_score=previous.get(("overall", "overall")),
        coverage=coverage_of(overall),
        perspectives=tuple(perspectives),
        run_id=run_id,
        generated_at=datetime.now(),
        catalog_version=catalog.version,
        sources=sources,
    )
    kpis = report.kpis()
    return with_quality(
        con,
        catalog,
        period,
        ScorecardReport(
            **{
                **report.__dict__,
                "withheld": tuple(k for k in kpis if k.status == WITHHELD),
                "initiatives": initiative_lines(catalog, period, unit),
                "actions": () if unit else action_lines(catalog, period),
                "units": unit_lines(con, catalog, period, unit),
                "rows_of_no_unit": ()
                if unit or not catalog.units
                else tuple(unmapped_rows(con, catalog, period).items()),
                "unit": unit_header(con, catalog, period, unit) if unit else None,
                "highlights": highlights(kpis),
                **report_settings(catalog, period),
                **({"kpi_detail_pages": catalog.report.unit_kpi_detail_pages} if unit else {}),
            }
        ),
    )


def report_settings(catalog: Catalog, period: Period) -> dict:
    """The strategy map's links, the previous period's label and the catalog's report settings."""
    settings = catalog.report
    return {
        "links": tuple(StrategyLink(link.from_, link.to) for link in catalog.links),
        "previous_period_label": period.shift(-1).label,
        "page_size": settings.page_size,
        "locale": settings.locale or catalog.organization.locale,
        "kpi_detail_pages": settings.kpi_detail_pages,
        "render_timeout_seconds": settings.render_timeout_seconds,
    }

"""Read a fiscal quarter's or year's board pack from the warehouse (review.* tables and the
months of the review), into the report model.

The review is shown as a scorecard of its own: its KPI lines compare with the previous quarter
(or year) and the same quarter a year before, their trend runs over the last reviews of the
kind, and the quarter's year to date is the one of its last month. Around it: the overall score
over the last reviews, the initiatives' changes during the review, the owners' commentary of its
months and the decisions and actions open in it.
"""

from __future__ import annotations

from datetime import datetime

from pipelines.catalog.catalog import Catalog
from pipelines.catalog.models import Kpi, weight_at
from pipelines.periods import QUARTER, ReviewPeriod
from pipelines.report.context import coverage_of, dict_rows, report_settings
from pipelines.report.initiatives import action_lines, initiative_changes, initiative_lines
from pipelines.report.model import (
    BoardPack,
    KpiLine,
    MonthComment,
    ObjectiveLine,
    PerspectiveLine,
    ReviewScore,
    ScorecardReport,
    TrendPoint,
)
from pipelines.scoring.statuses import NO_DATA, WITHHELD

TREND_REVIEWS = 8  # quarters (or years) in a KPI's trend and the cover's score trend


def _results(con, keys: list[str]) -> dict[tuple[str, str], dict]:
    """(review key, kpi id) -> its review.kpi_results row, for the reviews `keys`."""
    rows = dict_rows(
        con.execute("select * from review.kpi_results where list_contains(?, review_key)", [keys])
    )
    return {(r["review_key"], r["kpi_id"]): r for r in rows}


def _nodes(con, keys: list[str]) -> dict[tuple[str, str, str], dict]:
    """(review key, level, node id) -> its review.rollup_scores row."""
    rows = dict_rows(
        con.execute("select * from review.rollup_scores where list_contains(?, review_key)", [keys])
    )
    return {(r["review_key"], r["level"], r["node_id"]): r for r in rows}


def _month_ytd(con, review: ReviewPeriod) -> dict[str, tuple]:
    """kpi id -> (year to date, its target) at the review's last month (a quarter only: a
    year's value is its own year to date)."""
    if review.kind != QUARTER:
        return {}
    rows = con.execute(
        "select v.kpi_id, v.ytd_value, s.ytd_target from kpi.kpi_values v "
        "left join score.kpi_scores s using (period, kpi_id) where v.period = ?",
        [review.last.start],
    ).fetchall()
    return {kpi_id: (ytd, target) for kpi_id, ytd, target in rows}


def _kpi_line(
    catalog: Catalog,
    kpi: Kpi,
    review: ReviewPeriod,
    results: dict,
    trend_keys: list[ReviewPeriod],
    ytd: dict[str, tuple],
) -> KpiLine:
    r = results[(review.key, kpi.id)]
    before = results.get((review.previous.key, kpi.id), {})
    year_ago = results.get((review.year_ago.key, kpi.id), {})
    trend = tuple(
        TrendPoint(
            p.last.key,
            row.get("value"),
            row.get("target"),
            row.get("red_flag"),
            row.get("target_lower"),
            row.get("target_upper"),
        )
        for p in trend_keys
        for row in [results.get((p.key, kpi.id), {})]
    )
    ytd_actual, ytd_target = ytd.get(kpi.id, (None, None))
    sql = kpi.sql_at(review.last)
    return KpiLine(
        id=kpi.id,
        name=kpi.name,
        description=kpi.description,
        owner=kpi.owner,
        unit=kpi.unit,
        direction=kpi.direction,
        actual=r["value"],
        target=r["target"],
        target_lower=r["target_lower"],
        target_upper=r["target_upper"],
        red_flag=r["red_flag"],
        variance=r["variance"],
        variance_pct=r["variance_pct"],
        status=r["status"],
        score=r["score"],
        previous=before.get("value"),
        last_year=year_ago.get("value"),
        ytd_actual=ytd_actual,
        ytd_target=ytd_target,
        sql_file=f"sql/{sql}" if sql else "",
        definition=f"= {kpi.formula}" if kpi.calculated else f"sql/{sql}",
        tables=catalog.kpi_tables[kpi.id],
        withheld_reason=r["withheld_reason"],
        trend=trend,
        previous_status=before.get("status"),
        previous_score=before.get("score"),
        frequency=kpi.frequency,
        measured_in=r["measured_in"].strftime("%Y-%m") if r["measured_in"] else None,
        review_months=r["months"],
        review_months_with_data=r["months_with_data"],
    )


def _perspectives(catalog, review, results, nodes, trend_keys, ytd) -> tuple[PerspectiveLine, ...]:
    key, previous = review.key, review.previous.key
    lines = []
    for p in catalog.perspectives:
        objectives = []
        for o in p.objectives:
            node = nodes.get((key, "objective", o.id))
            if node is None:  # added to the catalog after the review was scored
                continue
            kpis = tuple(
                _kpi_line(catalog, k, review, results, trend_keys, ytd)
                for k in catalog.kpis_of(o.id, review.last)
                if (key, k.id) in results
            )
            objectives.append(
                ObjectiveLine(
                    id=o.id,
                    name=o.name,
                    owner=o.owner,
                    score=node["score"],
                    status=node["status"],
                    coverage=coverage_of(node),
                    kpis=kpis,
                    weight=weight_at(o.weight, review.last),
                )
            )
        node = nodes.get((key, "perspective", p.id))
        if node is None:
            continue
        lines.append(
            PerspectiveLine(
                id=p.id,
                name=p.name,
                score=node["score"],
                status=node["status"],
                previous_score=nodes.get((previous, "perspective", p.id), {}).get("score"),
                coverage=coverage_of(node),
                objectives=tuple(objectives),
                weight=weight_at(p.weight, review.last),
            )
        )
    return tuple(lines)


def _comments(con, catalog: Catalog, review: ReviewPeriod) -> tuple[MonthComment, ...]:
    """The comments written for the review's months, month by month in catalog KPI order."""
    statuses = {
        (month, kpi_id): status
        for month, kpi_id, status in con.execute(
            "select strftime(period, '%Y-%m'), kpi_id, status from score.kpi_scores "
            "where period >= ? and period <= ?",
            [review.first.start, review.last.start],
        ).fetchall()
    }
    order = {k.id: i for i, k in enumerate(catalog.kpis)}
    names = {k.id: k.name for k in catalog.kpis}
    months = {p.key for p in review.months}
    found = [
        MonthComment(
            file.period,
            c.kpi,
            names.get(c.kpi, c.kpi),
            c.author,
            c.text,
            statuses.get((file.period, c.kpi), NO_DATA),
        )
        for file in catalog.commentary
        if file.period in months
        for c in file.comments
    ]
    return tuple(sorted(found, key=lambda c: (c.month, order.get(c.kpi_id, len(order)))))


def build_pack(con, catalog: Catalog, review: ReviewPeriod, run_id: str) -> BoardPack:
    """The board pack of `review` as stored in the warehouse."""
    trend_keys = [review.shift(-i) for i in range(TREND_REVIEWS - 1, -1, -1)]
    keys = [p.key for p in trend_keys] + [review.year_ago.key]
    results = _results(con, keys)
    nodes = _nodes(con, keys)
    if (review.key, "overall", "overall") not in nodes:
        raise LookupError(
            f"no scores for {review.label} in the warehouse; run its last month first "
            f"(scorecard run --period {review.last})"
        )
    perspectives = _perspectives(
        catalog, review, results, nodes, trend_keys, _month_ytd(con, review)
    )
    overall = nodes[(review.key, "overall", "overall")]
    org = catalog.organization
    settings = report_settings(catalog, review.last)
    report = ScorecardReport(
        organization=org.name,
        vision=org.vision,
        mission=org.mission,
        currency=org.currency,
        period=review.key,
        period_label=review.label,
        period_end=review.last.last_day,
        overall_score=overall["score"],
        overall_status=overall["status"],
        previous_overall_score=nodes.get((review.previous.key, "overall", "overall"), {}).get(
            "score"
        ),
        coverage=coverage_of(overall),
        perspectives=perspectives,
        run_id=run_id,
        generated_at=datetime.now(),
        catalog_version=catalog.version,
        initiatives=initiative_lines(catalog, review.last),
        actions=action_lines(catalog, review.last, review.first),
        **{**settings, "previous_period_label": review.previous.label},
    )
    report = ScorecardReport(
        **{**report.__dict__, "withheld": tuple(k for k in report.kpis() if k.status == WITHHELD)}
    )
    scores = tuple(
        ReviewScore(p.key, p.label, node.get("score"), node.get("status", NO_DATA))
        for p in trend_keys
        for node in [nodes.get((p.key, "overall", "overall"))]
        if node is not None
    )
    return BoardPack(
        report=report,
        kind=review.kind,
        span=review.span,
        first_month=review.first.key,
        last_month=review.last.key,
        year_ago_label=review.year_ago.label,
        score_trend=scores,
        initiative_changes=initiative_changes(catalog, review.first, review.last),
        comments=_comments(con, catalog, review),
    )

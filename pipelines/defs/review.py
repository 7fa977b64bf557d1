"""The review assets: fiscal quarters and years scored from their months, their board packs
rendered, and the packs emailed to the lists that take them.

They share the monthly partitions: a review belongs to the month that closes it (the third
quarter of a calendar fiscal year to 2026-09, the year to 2026-12), so the month's run scores
and renders it once that month is scored, on the same schedule, and a backfill fills the reviews
of its range. A month that closes no review materializes saying so. The run tag
`scorecard/review` (`scorecard run --period 2026-Q3`) limits a run to one review.
"""

import hashlib
from datetime import datetime

from dagster import (
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    Failure,
    MaterializeResult,
    MetadataValue,
    PartitionsDefinition,
    asset,
)

from pipelines.catalog import Catalog
from pipelines.defs.delivery import (
    RESEND_TAG,
    TO_TAG,
    UNCONFIRMED_TAG,
    DeliveryConfig,
    context_for,
    failure_text,
    outcome_metadata,
    send_decision,
    tag_set,
)
from pipelines.defs.partitions import periods_of
from pipelines.defs.resources import ScorecardResource, SmtpResource, WarehouseResource
from pipelines.defs.scorecard import SCORES_KEY
from pipelines.delivery.packs import deliver_pack
from pipelines.kpis.review import ReviewNotReadyError
from pipelines.periods import Period, ReviewPeriod
from pipelines.report.pack import build_pack
from pipelines.report.render import write_pack
from pipelines.scoring.review import score_review
from pipelines.warehouse.connection import transactions

REVIEW_SCORES_KEY = AssetKey("review_scores")
BOARD_PACK_KEY = AssetKey("board_pack")
PACK_DELIVERY_KEY = AssetKey("board_pack_email")
REVIEW_TAG = "scorecard/review"  # only this review ('2026-Q3', '2026')


def reviews_of(context: AssetExecutionContext, catalog: Catalog) -> list[ReviewPeriod]:
    """The reviews the run's months close (with the run tag: only that one), oldest first;
    those starting before the catalog's first month are left out (their months have no data)."""
    start = catalog.organization.fiscal_year_start_month
    first = Period.parse(catalog.organization.first_period)
    wanted = context.run.tags.get(REVIEW_TAG)
    found = [
        review
        for period in periods_of(context)
        for review in ReviewPeriod.closed_by(period, start)
        if review.first >= first and (wanted is None or review.key == wanted)
    ]
    if wanted is not None and not found:
        raise Failure(description=f"this run's months close no review {wanted}")
    return found


def _stored(con, keys: list[str]) -> set[str]:
    """Which of the reviews `keys` have scores in the warehouse."""
    return {
        key
        for (key,) in con.execute(
            "select distinct review_key from review.rollup_scores "
            "where list_contains(?, review_key)",
            [keys],
        ).fetchall()
    }


def _explicit(context: AssetExecutionContext) -> bool:
    return REVIEW_TAG in context.run.tags


def build_review_assets(catalog: Catalog, partitions: PartitionsDefinition) -> list:
    """The review_scores, board_pack and board_pack_email assets."""

    @asset(
        key=REVIEW_SCORES_KEY,
        group_name="review",
        deps=[SCORES_KEY],
        partitions_def=partitions,
        backfill_policy=BackfillPolicy.single_run(),
        kinds={"duckdb"},
        pool="warehouse",
    )
    def review_scores(
        context: AssetExecutionContext, warehouse: WarehouseResource, scorecard: ScorecardResource
    ) -> MaterializeResult:
        """The fiscal quarters and years the months close: each KPI over the review from its
        SQL, scored against the review's target, rolled up like a month."""
        current = scorecard.catalog()
        scored, waiting = {}, {}
        with warehouse.connection(sandboxed=True) as con:
            for review in reviews_of(context, current):
                try:
                    overall = score_review(con, current, review, context.run.run_id)
                except ReviewNotReadyError as exc:
                    if _explicit(context):
                        raise Failure(description=str(exc)) from None
                    context.log.warning(f"{review.label} not scored: {exc}")
                    waiting[review.key] = str(exc)
                    continue
                scored[review.key] = (
                    round(overall["score"], 2) if overall["score"] is not None else None
                )
        metadata = {"reviews": MetadataValue.json(scored)}
        if waiting:
            metadata["not_scored"] = MetadataValue.json(waiting)
        if not scored and not waiting:
            metadata["note"] = MetadataValue.text("these months close no fiscal quarter or year")
        return MaterializeResult(metadata=metadata)

    @asset(
        key=BOARD_PACK_KEY,
        group_name="review",
        deps=[REVIEW_SCORES_KEY],
        partitions_def=partitions,
        backfill_policy=BackfillPolicy.single_run(),
        kinds={"html", "pdf"},
        pool="warehouse",
    )
    def board_pack(
        context: AssetExecutionContext, warehouse: WarehouseResource, scorecard: ScorecardResource
    ) -> MaterializeResult:
        """The board pack of each quarter and year the months close, as HTML and PDF."""
        current = scorecard.catalog()
        paths = scorecard.paths()
        rendered = {}
        with warehouse.connection() as con:
            reviews = reviews_of(context, current)
            stored = _stored(con, [r.key for r in reviews])
            for review in (r for r in reviews if r.key in stored):
                pack = build_pack(con, current, review, context.run.run_id)
                html, pdf = write_pack(
                    pack, paths.report_assets, paths.report_dir(review.key), sweep=paths.reports
                )
                digest = hashlib.sha256(pdf.read_bytes()).hexdigest()
                for attempt in transactions(con, f"the record of the {review.label} board pack"):
                    with attempt:
                        con.execute("delete from review.packs where review_key = ?", [review.key])
                        con.execute(
                            "insert into review.packs values (?, ?, ?, ?, ?, ?, ?)",
                            [
                                review.key,
                                str(html),
                                str(pdf),
                                digest,
                                current.version,
                                context.run.run_id,
                                datetime.now(),
                            ],
                        )
                rendered[review.key] = {
                    "pdf": str(pdf),
                    "overall_score": pack.report.overall_score,
                    "off_track": sum(k.status == "off_track" for k in pack.report.kpis()),
                }
        if not rendered:
            return MaterializeResult(
                metadata={"packs": MetadataValue.text("no fiscal quarter or year closes here")}
            )
        last = rendered[max(rendered, key=lambda k: (k.count("-"), k))]
        return MaterializeResult(
            metadata={
                "packs": MetadataValue.json(sorted(rendered)),
                "pdf_path": MetadataValue.path(last["pdf"]),
                "overall_scores": MetadataValue.json(
                    {k: v["overall_score"] for k, v in rendered.items()}
                ),
                "off_track_kpis": MetadataValue.json(
                    {k: v["off_track"] for k, v in rendered.items()}
                ),
            }
        )

    @asset(
        key=PACK_DELIVERY_KEY,
        group_name="review",
        deps=[BOARD_PACK_KEY],
        partitions_def=partitions,
        backfill_policy=BackfillPolicy.single_run(),
        kinds={"email"},
        pool="warehouse",
    )
    def board_pack_email(
        context: AssetExecutionContext,
        config: DeliveryConfig,
        warehouse: WarehouseResource,
        scorecard: ScorecardResource,
        smtp: SmtpResource,
    ) -> MaterializeResult:
        """Each rendered board pack emailed to the lists that take it, once per recipient."""
        tags = context.run.tags
        skip = send_decision(len(periods_of(context)), tags, config.send_email)
        if skip:
            context.log.info(f"No board pack sent: {skip}.")
            return MaterializeResult(metadata={"sent": False, "skipped": MetadataValue.text(skip)})
        current = scorecard.catalog()
        with warehouse.connection() as con:
            reviews = reviews_of(context, current)
            packed = {
                key for (key,) in con.execute("select review_key from review.packs").fetchall()
            }
        reviews = [r for r in reviews if r.key in packed]
        if not reviews:
            return MaterializeResult(
                metadata={"sent": False, "skipped": MetadataValue.text("no board pack here")}
            )
        ctx = context_for(scorecard, warehouse, smtp, context.run.run_id)
        outcomes = [
            deliver_pack(
                ctx,
                review,
                resend=config.resend or tag_set(tags, RESEND_TAG),
                to=(config.to or tags.get(TO_TAG, "")).strip() or None,
                unconfirmed=config.unconfirmed or tag_set(tags, UNCONFIRMED_TAG),
            )
            for review in reviews
        ]
        where = (ctx.transport.name, ctx.transport.where)
        # per pack: a December closing the fourth quarter and the year sends both to one list
        by_pack = {
            o.period: {k: v.value for k, v in outcome_metadata([o], *where).items()}
            for o in outcomes
        }
        metadata = {
            "transport": MetadataValue.text(where[0]),
            "destination": MetadataValue.text(where[1]),
            "packs": MetadataValue.json(by_pack),
        }
        if failure := failure_text(outcomes):
            raise Failure(description=failure, metadata=metadata)
        return MaterializeResult(metadata={"sent": True, **metadata})

    return [review_scores, board_pack, board_pack_email]

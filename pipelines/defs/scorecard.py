"""The scorecard assets: scores rolled up per period, and the rendered HTML/PDF report."""

from dagster import (
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    PartitionsDefinition,
    asset,
)

from pipelines.catalog import Catalog
from pipelines.defs.kpis import kpi_asset_key
from pipelines.defs.partitions import periods_of
from pipelines.defs.resources import ScorecardResource, WarehouseResource
from pipelines.report.publish import publish_report
from pipelines.scoring.scorecard import score_period

SCORES_KEY = AssetKey("scorecard_scores")
REPORT_KEY = AssetKey("report_scorecard")
UNIT_SCORES_KEY = AssetKey("unit_scores")  # pipelines/defs/units.py: the report shows them


def _kpi_table(con, period_start) -> str:
    frame = con.execute(
        "select s.kpi_id as kpi, round(v.value, 2) as actual, round(s.target, 2) as target, "
        "s.status, round(s.score, 2) as score from score.kpi_scores s "
        "join kpi.kpi_values v using (period, kpi_id) where s.period = ? order by s.kpi_id",
        [period_start],
    ).df()
    return frame.to_markdown(index=False)


def build_scorecard_assets(catalog: Catalog, partitions: PartitionsDefinition) -> list:
    """The scores asset and the report asset."""

    @asset(
        key=SCORES_KEY,
        group_name="scorecard",
        deps=[kpi_asset_key(k) for k in catalog.kpis],
        partitions_def=partitions,
        backfill_policy=BackfillPolicy.single_run(),
        kinds={"duckdb"},
        pool="warehouse",
    )
    def scorecard_scores(
        context: AssetExecutionContext, warehouse: WarehouseResource, scorecard: ScorecardResource
    ) -> MaterializeResult:
        """Scores and statuses per KPI, objective, perspective and overall for the month."""
        current = scorecard.catalog()
        overall = {}
        with warehouse.connection() as con:
            for period in periods_of(context):
                overall[period.key] = score_period(con, current, period, context.run.run_id)
            last = periods_of(context)[-1]
            table = _kpi_table(con, last.start)
        final = overall[last.key]
        return MaterializeResult(
            metadata={
                "overall_score": MetadataValue.float(final["score"])
                if final["score"] is not None
                else MetadataValue.text("no score"),
                "overall_status": MetadataValue.text(final["status"]),
                "kpi_table": MetadataValue.md(table),
                "overall_by_month": MetadataValue.json(
                    {
                        k: (round(v["score"], 2) if v["score"] is not None else None)
                        for k, v in overall.items()
                    }
                ),
            }
        )

    @asset(
        key=REPORT_KEY,
        group_name="scorecard",
        deps=[SCORES_KEY, UNIT_SCORES_KEY],
        partitions_def=partitions,
        backfill_policy=BackfillPolicy.single_run(),
        kinds={"html", "pdf"},
        pool="warehouse",
    )
    def report_scorecard(
        context: AssetExecutionContext, warehouse: WarehouseResource, scorecard: ScorecardResource
    ) -> MaterializeResult:
        """The month's Balanced Scorecard rendered as HTML and PDF."""
        current = scorecard.catalog()
        published = {}
        with warehouse.connection() as con:
            for period in periods_of(context):
                published[period.key] = publish_report(
                    con, current, period, context.run.run_id, scorecard.paths()
                )
        last = published[max(published)]
        return MaterializeResult(
            metadata={
                "html_path": MetadataValue.path(str(last.html)),
                "pdf_path": MetadataValue.path(str(last.pdf)),
                "pdf_sha256": MetadataValue.text(last.sha256),
                "pdf_bytes": MetadataValue.int(last.pdf.stat().st_size),
                "withheld_kpis": MetadataValue.int(last.withheld_kpis),
                "restated_kpis": MetadataValue.int(last.restated_kpis),
                "signals": MetadataValue.json(list(last.signals)),
                "overdue_actions": MetadataValue.int(last.overdue_actions),
                "periods_rendered": MetadataValue.json(sorted(published)),
            }
        )

    return [scorecard_scores, report_scorecard]

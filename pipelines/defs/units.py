"""The business units' scorecards (definitions/units.yaml): every unit's month from the same KPI
SQL over its rows, scored against its targets, and its own report, on the monthly partitions.
Without units the assets materialize saying so; the company's figures never depend on them."""

import os
from concurrent.futures import ThreadPoolExecutor

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
from pipelines.defs.partitions import periods_of
from pipelines.defs.resources import ScorecardResource, WarehouseResource
from pipelines.defs.scorecard import SCORES_KEY, UNIT_SCORES_KEY
from pipelines.kpis.units import attach_units, units_values, unmapped_rows, write_unit_values
from pipelines.report.publish import publish_unit_report, remove_former_unit_reports
from pipelines.scoring.units import drop_former_units, score_unit_period
from pipelines.warehouse.connection import cursor_of

UNIT_REPORTS_KEY = AssetKey("unit_reports")
# Unit reports rendered at once: each PDF renders in a child process of its own.
RENDERS_AT_ONCE = max(1, min(4, os.cpu_count() or 1))


def build_unit_assets(catalog: Catalog, partitions: PartitionsDefinition) -> list:
    """The unit_scores and unit_reports assets."""

    @asset(
        key=UNIT_SCORES_KEY,
        group_name="units",
        deps=[SCORES_KEY],
        partitions_def=partitions,
        backfill_policy=BackfillPolicy.single_run(),
        kinds={"duckdb", "sql"},
        pool="warehouse",
    )
    def unit_scores(
        context: AssetExecutionContext, warehouse: WarehouseResource, scorecard: ScorecardResource
    ) -> MaterializeResult:
        """Each business unit's KPI values, scores and roll-ups for the months; the rows of units
        the tree no longer holds are deleted from those months."""
        current = scorecard.catalog()
        former, overall, unmapped = {}, {}, {}
        with warehouse.connection(sandboxed=True) as con:
            for period in periods_of(context):
                if gone := drop_former_units(con, current, period):
                    former[period.key] = gone
            if current.units:
                attach_units(con, current)  # once: the step's loads are done
            for period in periods_of(context) if current.units else ():
                for unit_id, values in units_values(con, current, period).items():
                    write_unit_values(con, current, unit_id, period, values, context.run.run_id)
                for unit in current.units:
                    row = score_unit_period(con, current, unit.id, period, context.run.run_id)
                    overall[unit.id] = row["score"]
                if found := unmapped_rows(con, current, period):
                    unmapped[period.key] = found
                    context.log.warning(
                        f"{period}: rows of no unit (in the company's figures, in no unit's): "
                        + ", ".join(f"{t} {n:,}" for t, n in found.items())
                    )
        if former:
            context.log.info(f"rows of units no longer in units.yaml deleted: {former}")
        if not current.units:
            return MaterializeResult(
                metadata={
                    "units": MetadataValue.text("no units (definitions/units.yaml)"),
                    "former_units_dropped": MetadataValue.json(former),
                }
            )
        last = periods_of(context)[-1]
        return MaterializeResult(
            metadata={
                "units": MetadataValue.int(len(current.units)),
                "kpis_per_unit": MetadataValue.int(len(current.unit_kpis())),
                f"overall_{last.key}": MetadataValue.json(
                    {k: round(v, 2) if v is not None else None for k, v in overall.items()}
                ),
                "rows_of_no_unit": MetadataValue.json(unmapped),
                "former_units_dropped": MetadataValue.json(former),
            }
        )

    @asset(
        key=UNIT_REPORTS_KEY,
        group_name="units",
        deps=[UNIT_SCORES_KEY, SCORES_KEY],
        partitions_def=partitions,
        backfill_policy=BackfillPolicy.single_run(),
        kinds={"html", "pdf"},
        pool="warehouse",
    )
    def unit_reports(
        context: AssetExecutionContext, warehouse: WarehouseResource, scorecard: ScorecardResource
    ) -> MaterializeResult:
        """Each business unit's own scorecard report (HTML and PDF) for the months, beside the
        company's: reports/<month>/units/<unit>/."""
        current = scorecard.catalog()
        paths, run_id = scorecard.paths(), context.run.run_id
        for period in periods_of(context):  # the reports of units the tree no longer holds
            remove_former_unit_reports(paths, period.key, [u.id for u in current.units])
        if not current.units:
            return MaterializeResult(
                metadata={"units": MetadataValue.text("no units (definitions/units.yaml)")}
            )
        published = {}
        with warehouse.connection() as con:

            def render(unit_id: str, period):
                cursor = cursor_of(con)  # each thread reads on a cursor of its own
                try:
                    return publish_unit_report(cursor, current, period, unit_id, run_id, paths)
                finally:
                    cursor.close()

            with ThreadPoolExecutor(RENDERS_AT_ONCE, thread_name_prefix="unit-report") as pool:
                for period in periods_of(context):
                    units = [u.id for u in current.units]
                    found = pool.map(lambda unit_id, p=period: render(unit_id, p), units)
                    published[period.key] = list(found)
        last = published[max(published)]
        return MaterializeResult(
            metadata={
                "units": MetadataValue.int(len(last)),
                "reports": MetadataValue.md(
                    "| unit | overall | status | PDF |\n|---|---:|---|---|\n"
                    + "\n".join(
                        f"| {u.unit} | "
                        f"{'' if u.overall_score is None else round(u.overall_score, 2)} | "
                        f"{u.overall_status} | {u.pdf} |"
                        for u in last
                    )
                ),
                "periods_rendered": MetadataValue.json(sorted(published)),
            }
        )

    return [unit_scores, unit_reports]

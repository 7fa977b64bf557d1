"""The Dagster code location: the catalog, loaded once, turned into Definitions."""

from __future__ import annotations

from dagster import Definitions, definitions, in_process_executor

from pipelines import pool_wait
from pipelines.catalog import CatalogError, load_catalog
from pipelines.defs.connectors import connector_resources
from pipelines.defs.delivery import build_delivery_assets, build_failure_sensor
from pipelines.defs.ingest import build_ingest_assets
from pipelines.defs.jobs import build_jobs, build_schedules
from pipelines.defs.kpis import build_kpi_assets
from pipelines.defs.partitions import monthly_partitions
from pipelines.defs.quality import build_quality_gate
from pipelines.defs.resources import resources_for
from pipelines.defs.review import build_review_assets
from pipelines.defs.scorecard import SCORES_KEY, build_scorecard_assets
from pipelines.defs.units import build_unit_assets
from pipelines.settings import RuntimePaths, runtime_paths


def build_definitions(paths: RuntimePaths) -> Definitions:
    """Definitions for the catalog and runtime folders in `paths`."""
    pool_wait.apply()  # every process that executes these runs builds them first
    catalog = load_catalog(paths.definitions, paths.sql)
    partitions = monthly_partitions(catalog)
    jobs = build_jobs()
    return Definitions(
        assets=[
            *build_ingest_assets(catalog, partitions),
            build_kpi_assets(catalog, partitions),
            *build_scorecard_assets(catalog, partitions),
            *build_delivery_assets(partitions),
            *build_review_assets(catalog, partitions),
            *build_unit_assets(catalog, partitions),
        ],
        asset_checks=[build_quality_gate(SCORES_KEY)],
        jobs=jobs,
        schedules=build_schedules(jobs[0], catalog.schedule),
        sensors=[build_failure_sensor(jobs[0])],
        resources={**resources_for(paths), **connector_resources(catalog)},
        # Every step but the quality gate writes the one DuckDB file and waits for the
        # "warehouse" pool, so a process per step would buy no parallelism, only its start-up
        # (docs/decisions/deployment.md).
        executor=in_process_executor,
    )


@definitions
def defs() -> Definitions:
    """Loaded by `dagster dev` and `dagster definitions validate` through workspace.yaml.

    A catalog with problems ends in their list: raised anew here, without the loader's frames,
    so the stack Dagster prints under it is this one line."""
    try:
        return build_definitions(runtime_paths())
    except CatalogError as exc:
        raise CatalogError(exc.problems) from None

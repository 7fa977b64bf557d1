"""KPI assets: one per KPI, grouped by perspective, each depending on the raw tables it reads."""

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    PartitionsDefinition,
    multi_asset,
)

from pipelines.catalog import Catalog
from pipelines.catalog.formula import inputs
from pipelines.catalog.models import Kpi
from pipelines.defs.ingest import raw_asset_key
from pipelines.defs.partitions import periods_of
from pipelines.defs.resources import ScorecardResource, WarehouseResource
from pipelines.kpis.evaluate import values_by_month, write_kpi_values


def kpi_asset_key(kpi: Kpi) -> AssetKey:
    """kpi_<id>."""
    return AssetKey(f"kpi_{kpi.id}")


def _spec(catalog: Catalog, kpi: Kpi) -> AssetSpec:
    perspective = catalog.perspective_of(kpi.objective)
    return AssetSpec(
        key=kpi_asset_key(kpi),
        group_name=perspective.id,
        description=f"{kpi.name}: {kpi.description}",
        deps=[kpi_asset_key(catalog.kpi(name)) for name in inputs(kpi.formula)]
        if kpi.calculated
        else [raw_asset_key(catalog.table(t)) for t in catalog.kpi_tables[kpi.id]],
        kinds={"duckdb", "sql"},
        owners=[],
        metadata=_metadata(kpi),
    )


def _metadata(kpi: Kpi) -> dict:
    """The asset's static metadata: the catalog entry, the current definition, its revisions."""
    metadata = {
        "objective": kpi.objective,
        "owner": kpi.owner,
        "unit": kpi.unit_name,
        "direction": kpi.direction,
        "definition": kpi.formula if kpi.calculated else f"sql/{kpi.sql_files[-1]}",
    }
    if kpi.revisions:
        metadata["revisions"] = [f"{r.effective}: {r.note}" for r in kpi.revisions]
    if kpi.retired:
        metadata["retired"] = kpi.retired
    return metadata


def build_kpi_assets(catalog: Catalog, partitions: PartitionsDefinition):
    """The multi-asset computing every selected KPI for the run's months."""

    @multi_asset(
        name="kpi_values",
        specs=[_spec(catalog, k) for k in catalog.kpis],
        partitions_def=partitions,
        backfill_policy=BackfillPolicy.single_run(),
        can_subset=True,
        pool="warehouse",
    )
    def kpi_values(
        context: AssetExecutionContext, warehouse: WarehouseResource, scorecard: ScorecardResource
    ):
        current = scorecard.catalog()
        # calculated KPIs come after the KPIs they read (Dagster wants outputs in dependency order)
        selected = sorted(
            (k for k in current.kpis if kpi_asset_key(k) in context.selected_asset_keys),
            key=lambda k: k.calculated,
        )
        history = {k.id: {} for k in selected}
        with warehouse.connection(sandboxed=True) as con:
            for period, values in values_by_month(con, current, selected, periods_of(context)):
                write_kpi_values(con, current, period, values, context.run.run_id)
                for v in values:
                    history[v.kpi_id][period.key] = v.value if v.state == "value" else v.state
        for kpi in selected:
            months = history[kpi.id]
            last = months[max(months)] if months else "retired"
            yield MaterializeResult(
                asset_key=kpi_asset_key(kpi),
                metadata={
                    "value": MetadataValue.float(last)
                    if isinstance(last, float)
                    else MetadataValue.text(str(last)),
                    "values_by_month": MetadataValue.json(months),
                    "tables_read": MetadataValue.json(list(current.kpi_tables[kpi.id])),
                },
            )

    return kpi_values

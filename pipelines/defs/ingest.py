"""Raw assets: one per source table, loading a month (or a range of months) into DuckDB."""

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
from pipelines.catalog.catalog import SourceTable
from pipelines.catalog.models import SourceFile
from pipelines.defs.connectors import load_source_table, required_resources
from pipelines.defs.partitions import periods_of
from pipelines.defs.quality import QualityChecks, quality_check_specs
from pipelines.ingest.raw_tables import SourceLoadError, qualified_name


def raw_asset_key(table: SourceTable) -> AssetKey:
    """raw_<source>_<table>."""
    return AssetKey(f"raw_{table.raw_name}")


def _spec(table: SourceTable) -> AssetSpec:
    return AssetSpec(
        key=raw_asset_key(table),
        group_name="raw",
        description=table.table.description or f"Raw rows of {table.key}.",
        kinds={"duckdb", table.table.format if table.source.connector.kind == "file"
               else table.source.connector.kind},
        metadata={"source": table.source.source, "table": table.key,
                  "kind": table.table.kind, "date_column": table.table.date_column,
                  "warehouse_table": f"raw.{table.raw_name}"},
    )


def _preview(con, table: SourceTable, period_start) -> str:
    frame = con.execute(
        f"select * exclude (_run_id, _loaded_at) from {qualified_name(table)} "
        "where _period = ? limit 5", [period_start]
    ).df()
    return frame.to_markdown(index=False) if not frame.empty else "(no rows)"


def build_source_assets(catalog: Catalog, partitions: PartitionsDefinition, source: SourceFile):
    """One multi-asset for a source, with an asset per table; each table loads on its own."""
    tables = [SourceTable(source, t) for t in source.tables]

    @multi_asset(
        name=f"raw_{source.source}",
        specs=[_spec(t) for t in tables],
        partitions_def=partitions,
        backfill_policy=BackfillPolicy.single_run(),
        can_subset=True,
        pool="warehouse",
        required_resource_keys=required_resources(source),
        check_specs=quality_check_specs([(raw_asset_key(t), t) for t in tables]),
    )
    def load_source(context: AssetExecutionContext):
        warehouse, scorecard = context.resources.warehouse, context.resources.scorecard
        periods = periods_of(context)
        selected = [t for t in tables if raw_asset_key(t) in context.selected_asset_keys]
        failures = []
        with warehouse.connection() as con, QualityChecks(context) as checks:
            for table in selected:
                try:
                    result = load_source_table(context, con, table, periods[0], periods[-1],
                                               scorecard.paths())
                except SourceLoadError as exc:
                    context.log.error(str(exc))
                    failures.append(str(exc))
                    yield from checks.load_failed(raw_asset_key(table), str(exc))
                    continue
                yield MaterializeResult(
                    asset_key=raw_asset_key(table),
                    metadata={
                        "rows_loaded": MetadataValue.int(result.total_rows),
                        "rows_by_month": MetadataValue.json(result.rows_by_period),
                        "source_path": MetadataValue.path(result.source_path),
                        "extra_columns": MetadataValue.json(list(result.extra_columns)),
                        **({"extra_columns_not_kept": MetadataValue.json(
                            list(result.unkept_columns))} if result.unkept_columns else {}),
                        "preview": MetadataValue.md(_preview(con, table, periods[-1].start)),
                    },
                )
                checks.after_load(con, raw_asset_key(table), table, periods, result)
            yield from checks.results()
        if failures:
            raise SourceLoadError("; ".join(failures))

    return load_source


def build_ingest_assets(catalog: Catalog, partitions: PartitionsDefinition) -> list:
    """The raw assets of every source in the catalog."""
    return [build_source_assets(catalog, partitions, s) for s in catalog.sources]

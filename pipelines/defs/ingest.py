"""Raw assets: one per source table, loading a month (or a range of months) into DuckDB."""

from dataclasses import dataclass

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    PartitionsDefinition,
    TableColumn,
    TableColumnConstraints,
    TableSchema,
    multi_asset,
)

from pipelines.catalog import Catalog
from pipelines.catalog.catalog import SourceTable
from pipelines.catalog.models import SourceFile
from pipelines.defs.connectors import load_source_table, required_resources
from pipelines.defs.partitions import periods_of
from pipelines.defs.quality import QualityChecks, quality_check_specs
from pipelines.ingest.load_failures import record_failures
from pipelines.ingest.raw_tables import SourceLoadError, qualified_name
from pipelines.periods import Period
from pipelines.warehouse.connection import (
    WarehouseDamagedError,
    WarehouseFullError,
    WarehouseLockedError,
    is_conflict,
)


def raw_asset_key(table: SourceTable) -> AssetKey:
    """raw_<source>_<table>."""
    return AssetKey(f"raw_{table.raw_name}")


def _spec(table: SourceTable) -> AssetSpec:
    return AssetSpec(
        key=raw_asset_key(table),
        group_name="raw",
        description=table.table.description or f"Raw rows of {table.key}.",
        kinds={
            "duckdb",
            table.table.format
            if table.source.connector.kind == "file"
            else table.source.connector.kind,
        },
        metadata={
            "source": table.source.source,
            "table": table.key,
            "kind": table.table.kind,
            "date_column": table.table.date_column,
            "warehouse_table": f"raw.{table.raw_name}",
            # Dagster's standard keys: the Columns tab and the table's name
            "dagster/column_schema": MetadataValue.table_schema(_column_schema(table)),
            "dagster/table_name": MetadataValue.text(f"raw.{table.raw_name}"),
        },
    )


def _column_schema(table: SourceTable) -> TableSchema:
    """The declared columns as Dagster's column schema (the asset's Columns tab)."""
    key = set(table.table.key)
    return TableSchema(
        columns=[
            TableColumn(
                name=c.name,
                type=c.type,
                description="the date column"
                if c.name == table.table.date_column
                else ("part of the key" if c.name in key else None),
                constraints=TableColumnConstraints(nullable=c.nullable, unique=False),
            )
            for c in table.table.columns
        ]
    )


def _preview(con, table: SourceTable, period_start) -> str:
    """Up to five of the month's rows, each value as DuckDB stores it (as text: no rounding, no
    timestamps for dates), without the load's own columns."""
    own = ", ".join(f"'{c}'" for c in ("_run_id", "_loaded_at", "_period"))
    frame = con.execute(
        f"select coalesce(columns(lambda c: c not in ({own}))::varchar, 'NULL') "
        f"from {qualified_name(table)} where _period = ? limit 5",
        [period_start],
    ).df()
    if frame.empty:
        return "(no rows)"
    return frame.to_markdown(index=False, disable_numparse=True)


@dataclass(frozen=True)
class _TableFailure:
    """A table's load that failed: the months it blocks and why, in one line."""

    months: list[Period]
    message: str

    def materialization(self, key: AssetKey) -> MaterializeResult:
        """The asset's event for the run: the months failed and kept their earlier rows.

        Yielded (not left out) so that every KPI not reading the table still computes: Dagster
        skips all of a step's downstream steps when one output is missing (docs/decisions/
        partial-months.md). The failing `quality` check and the run's failure carry the error.
        """
        return MaterializeResult(
            asset_key=key,
            metadata={
                "load_status": MetadataValue.text("failed"),
                "load_error": MetadataValue.text(self.message),
                "months_failed": MetadataValue.json([p.key for p in self.months]),
                "rows_loaded": MetadataValue.int(0),
            },
        )


def _as_declared(message: str, home) -> str:
    """One line, files under the runtime folder named as the catalog declares them (relative to
    it): the message reaches the report and leadership's email, which need no server paths."""
    return " ".join(message.split()).replace(f"{home}/", "")


def _failure(
    context, table: SourceTable, periods: list[Period], exc: Exception, home
) -> _TableFailure:
    """What a table's failed load blocks, logged once (a traceback only for the unexpected)."""
    if isinstance(exc, SourceLoadError):
        message = _as_declared(str(exc), home)
        context.log.error(message)
    else:
        message = _as_declared(
            f"{table.key}: the load failed unexpectedly: {type(exc).__name__}: {exc}", home
        )
        context.log.exception(message)
    blocked = getattr(exc, "periods", None)
    months = [p for p in periods if blocked is None or p.key in blocked] or periods
    return _TableFailure(months, message)


def _loaded_metadata(con, table: SourceTable, periods: list[Period], result) -> dict:
    metadata = {
        "load_status": MetadataValue.text("partial" if result.failed_periods else "loaded"),
        "rows_loaded": MetadataValue.int(result.total_rows),
        "dagster/row_count": MetadataValue.int(result.total_rows),
        "rows_by_month": MetadataValue.json(result.rows_by_period),
        "source_path": MetadataValue.path(result.source_path),
        "extra_columns": MetadataValue.json(list(result.extra_columns)),
        "preview": MetadataValue.md(_preview(con, table, periods[-1].start)),
    }
    if result.unkept_columns:
        metadata["extra_columns_not_kept"] = MetadataValue.json(list(result.unkept_columns))
    if result.failed_periods:
        metadata["months_failed"] = MetadataValue.json(result.failed_periods)
    if result.notes:
        metadata["file_notes"] = MetadataValue.json(list(result.notes))
    return metadata


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
        check_specs=quality_check_specs([(raw_asset_key(t), t) for t in tables], partitions),
    )
    def load_source(context: AssetExecutionContext):
        warehouse, scorecard = context.resources.warehouse, context.resources.scorecard
        periods = periods_of(context)
        selected = [t for t in tables if raw_asset_key(t) in context.selected_asset_keys]
        checks = QualityChecks(context)
        with warehouse.connection() as con:
            for table in selected:
                key = raw_asset_key(table)
                try:
                    result = load_source_table(
                        context, con, table, periods[0], periods[-1], scorecard.paths()
                    )
                except (WarehouseFullError, WarehouseLockedError, WarehouseDamagedError):
                    raise  # the warehouse's problem, not the source's: the run stops
                except Exception as exc:  # noqa: BLE001 - any cause is this table's failure
                    if is_conflict(exc):  # other runs' writes won every try: not the source's
                        raise
                    failure = _failure(context, table, periods, exc, scorecard.paths().home)
                    record_failures(
                        con, table.key, failure.months, failure.message, context.run.run_id
                    )
                    yield failure.materialization(key)
                    yield from checks.load_failed(key, failure.message, failure.months)
                    continue
                failed = [p for p in periods if p.key in result.failed_periods]
                for period in failed:
                    message = _as_declared(
                        result.failed_periods[period.key], scorecard.paths().home
                    )
                    context.log.error(message)
                    record_failures(con, table.key, [period], message, context.run.run_id)
                yield MaterializeResult(
                    asset_key=key, metadata=_loaded_metadata(con, table, periods, result)
                )
                checks.after_load(con, key, table, periods, result)
            yield from checks.results()

    return load_source


def build_ingest_assets(catalog: Catalog, partitions: PartitionsDefinition) -> list:
    """The raw assets of every source in the catalog."""
    return [build_source_assets(catalog, partitions, s) for s in catalog.sources]

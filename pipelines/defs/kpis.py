"""KPI assets: one per KPI, grouped by perspective, each depending on the raw tables it reads.

Each KPI's materialization carries the run's last month as Dagster metadata: value, year to date,
target, red flag and score as numbers (Dagster plots them over partitions), status and state as
text. Its `on_target` check says whether that month is on track: a warning when at risk, off
track, without data or without a target; an error when the KPI is withheld (data quality), so a
withheld KPI never shows as a green value. Status and score come from scoring's own
`kpi_score_row`, the function the scores step writes `score.kpi_scores` with.
"""

from dagster import (
    AssetCheckKey,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
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
from pipelines.kpis.evaluate import KpiValue, values_by_month, write_kpi_values
from pipelines.periods import Period
from pipelines.scoring.scorecard import kpi_score_row
from pipelines.scoring.statuses import ON_TRACK, WITHHELD

ON_TARGET = "on_target"


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
        owners=[_owner(kpi.owner)],
        metadata=_metadata(kpi),
    )


def _owner(owner: str) -> str:
    """The catalog's owner as a Dagster owner: an email address as it is, a name as a team."""
    return owner if "@" in owner and " " not in owner.strip() else f"team:{owner}"


def _check_spec(kpi: Kpi, partitions: PartitionsDefinition) -> AssetCheckSpec:
    return AssetCheckSpec(
        ON_TARGET,
        asset=kpi_asset_key(kpi),
        partitions_def=partitions,
        description="The run's last month is on track against its target (a warning when at "
        "risk, off track, without data or target; an error when the KPI is withheld).",
    )


def _results(
    catalog: Catalog, kpi: Kpi, months: dict[str, KpiValue]
) -> tuple[MaterializeResult, AssetCheckResult]:
    """The KPI's materialization and its on_target check, for the last month of the run."""
    key = kpi_asset_key(kpi)
    by_month = {m: (v.value if v.state == "value" else v.state) for m, v in months.items()}
    metadata: dict = {
        "values_by_month": MetadataValue.json(by_month),
        "tables_read": MetadataValue.json(list(catalog.kpi_tables[kpi.id])),
    }
    if not months:  # retired before the run's months
        metadata["state"] = MetadataValue.text("retired")
        return MaterializeResult(asset_key=key, metadata=metadata), AssetCheckResult(
            asset_key=key, check_name=ON_TARGET, passed=True, description="retired"
        )
    month = max(months)
    last = months[month]
    row = kpi_score_row(catalog, kpi, Period.parse(month), last.state, last.value, last.ytd_value)
    numbers = {
        "value": last.value,
        "ytd": last.ytd_value,
        "target": row["target"],
        "target_lower": row["target_lower"],
        "target_upper": row["target_upper"],
        "red_flag": row["red_flag"],
        "score": row["score"],
    }
    numeric = {k: MetadataValue.float(float(v)) for k, v in numbers.items() if v is not None}
    texts = {"month": month, "state": last.state, "status": row["status"]}
    if last.withheld_reason:
        texts["withheld_reason"] = last.withheld_reason
    shown = numeric | {k: MetadataValue.text(v) for k, v in texts.items()}
    metadata |= shown
    status = row["status"]
    check = AssetCheckResult(
        asset_key=key,
        check_name=ON_TARGET,
        passed=status == ON_TRACK,
        severity=AssetCheckSeverity.ERROR if status == WITHHELD else AssetCheckSeverity.WARN,
        description=f"{month}: {status.replace('_', ' ')}"
        + (f" ({last.withheld_reason})" if last.withheld_reason else ""),
        metadata=shown,
    )
    return MaterializeResult(asset_key=key, metadata=metadata), check


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
        check_specs=[_check_spec(k, partitions) for k in catalog.kpis],
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
        history: dict[str, dict[str, KpiValue]] = {k.id: {} for k in selected}
        with warehouse.connection(sandboxed=True) as con:
            for period, values in values_by_month(con, current, selected, periods_of(context)):
                write_kpi_values(con, current, period, values, context.run.run_id)
                for v in values:
                    history[v.kpi_id][period.key] = v
        checks = context.selected_asset_check_keys
        for kpi in selected:
            materialization, check = _results(current, kpi, history[kpi.id])
            yield materialization
            if AssetCheckKey(kpi_asset_key(kpi), ON_TARGET) in checks:
                yield check

    return kpi_values

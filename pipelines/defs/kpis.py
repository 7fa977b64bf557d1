"""KPI assets: one per KPI, grouped by perspective, each depending on the raw tables it reads.

Each month of a KPI carries its figures as Dagster metadata on that month's partition: value,
year to date, target, red flag and score as numbers (Dagster plots them over partitions), status
and state as text; on the materialization of a month's run; in a backfill, whose one
materialization stands for all its months, on a materialization of each month that follows
it. Its `on_target` check says whether a month is on track, on that month's partition: a warning
when at risk, off track, without data or without a target; an error when the KPI is withheld
(data quality), so a withheld KPI never shows as a green value. Status and score come from
scoring's own `kpi_score_row`, the function the scores step writes `score.kpi_scores` with.
"""

from collections.abc import Iterator

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
from pipelines.defs.partitions import checks_by_month, materialize_months, one_month, periods_of
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
        description="The month is on track against its target (a warning when at "
        "risk, off track, without data or target; an error when the KPI is withheld).",
    )


def _month(
    catalog: Catalog, kpi: Kpi, month: str, value: KpiValue
) -> tuple[dict, AssetCheckResult]:
    """A month's figures as shown metadata (numbers and texts) and its on_target check."""
    row = kpi_score_row(
        catalog, kpi, Period.parse(month), value.state, value.value, value.ytd_value
    )
    numbers = {
        "value": value.value,
        "ytd": value.ytd_value,
        "target": row["target"],
        "target_lower": row["target_lower"],
        "target_upper": row["target_upper"],
        "red_flag": row["red_flag"],
        "score": row["score"],
    }
    numeric = {k: MetadataValue.float(float(v)) for k, v in numbers.items() if v is not None}
    texts = {"month": month, "state": value.state, "status": row["status"]}
    if value.withheld_reason:
        texts["withheld_reason"] = value.withheld_reason
    shown = numeric | {k: MetadataValue.text(v) for k, v in texts.items()}
    status = row["status"]
    check = AssetCheckResult(
        asset_key=kpi_asset_key(kpi),
        check_name=ON_TARGET,
        passed=status == ON_TRACK,
        severity=AssetCheckSeverity.ERROR if status == WITHHELD else AssetCheckSeverity.WARN,
        description=f"{month}: {status.replace('_', ' ')}"
        + (f" ({value.withheld_reason})" if value.withheld_reason else ""),
        metadata=shown,
    )
    return shown, check


def _results(
    context: AssetExecutionContext,
    catalog: Catalog,
    kpi: Kpi,
    months: dict[str, KpiValue],
    periods: list[Period],
    checked: bool,
) -> Iterator:
    """The KPI's materialization, each month's figures on its partition, and each month's
    on_target check (when selected)."""
    key = kpi_asset_key(kpi)
    by_month = {m: (v.value if v.state == "value" else v.state) for m, v in months.items()}
    metadata: dict = {
        "values_by_month": MetadataValue.json(by_month),
        "tables_read": MetadataValue.json(list(catalog.kpi_tables[kpi.id])),
    }
    if not months:  # retired before the run's months
        metadata["state"] = MetadataValue.text("retired")
        yield MaterializeResult(asset_key=key, metadata=metadata)
        retired = AssetCheckResult(
            asset_key=key, check_name=ON_TARGET, passed=True, description="retired"
        )
        if checked:
            yield from checks_by_month(context, [(p, retired) for p in periods])
        return
    figures = {m: _month(catalog, kpi, m, v) for m, v in sorted(months.items())}
    if one_month(context):
        ((shown, _),) = figures.values()
        yield MaterializeResult(asset_key=key, metadata=metadata | shown)
    else:  # the range's one materialization, then each month's own, with its figures
        metadata["months"] = MetadataValue.text(f"{min(months)} to {max(months)}")
        yield MaterializeResult(asset_key=key, metadata=metadata)
        yield from materialize_months(
            key, {Period.parse(m): shown for m, (shown, _) in figures.items()}
        )
    if checked:
        yield from checks_by_month(
            context, [(Period.parse(m), check) for m, (_, check) in figures.items()]
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
        periods = periods_of(context)
        with warehouse.connection(sandboxed=True) as con:
            for period, values in values_by_month(con, current, selected, periods):
                write_kpi_values(con, current, period, values, context.run.run_id)
                for v in values:
                    history[v.kpi_id][period.key] = v
        checks = context.selected_asset_check_keys
        for kpi in selected:
            checked = AssetCheckKey(kpi_asset_key(kpi), ON_TARGET) in checks
            yield from _results(context, current, kpi, history[kpi.id], periods, checked)

    return kpi_values

"""Calendar-month partitions, keyed 'YYYY-MM', from the catalog's first period; and how a step
puts what it found about each month on that month's partition."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from dagster import (
    AssetCheckEvaluation,
    AssetCheckResult,
    AssetExecutionContext,
    AssetKey,
    AssetMaterialization,
    AssetRecordsFilter,
    MonthlyPartitionsDefinition,
)

from pipelines.catalog import Catalog
from pipelines.periods import Period, months_between
from pipelines.stock_fallback import fall_back

try:  # private: docs/decisions/patched-internals.md
    from dagster._core.definitions.asset_checks.asset_check_evaluation import (
        AssetCheckEvaluationTargetMaterializationData as _Target,
    )
except ImportError:  # moved or gone in this Dagster
    _Target = None
    fall_back(
        "Dagster's check evaluations have changed: a backfill's checks are kept in each "
        "check's history but not shown on its months' partitions"
    )


def monthly_partitions(catalog: Catalog) -> MonthlyPartitionsDefinition:
    """Months from the catalog's first_period up to the last complete month."""
    return MonthlyPartitionsDefinition(
        start_date=catalog.organization.first_period, fmt="%Y-%m", end_offset=0
    )


def periods_of(context: AssetExecutionContext) -> list[Period]:
    """The months a run covers: one partition, or a range in a single-run backfill."""
    keys = context.partition_key_range
    return months_between(Period.parse(keys.start), Period.parse(keys.end))


def one_month(context: AssetExecutionContext) -> bool:
    """Whether the step runs one partition (a month's run) rather than a range (a backfill)."""
    return context.has_partition_key


def checks_by_month(
    context: AssetExecutionContext, results: Iterable[tuple[Period, AssetCheckResult]]
) -> Iterator[AssetCheckResult]:
    """Each month's check result, on that month's partition.

    In a one-month step the results are yielded (Dagster puts them on the step's partition).
    In a range step (a single-run backfill) Dagster would put a yielded result on no partition
    and leave the months' planned checks "skipped", so each is logged as an evaluation of its
    month instead (`AssetCheckEvaluation` with its partition)."""
    if one_month(context):
        for _, result in results:
            yield result
        return
    results = list(results)
    targets = _materializations(context, results)
    for period, result in results:
        context.log_event(
            AssetCheckEvaluation(
                asset_key=result.asset_key,
                check_name=result.check_name,
                passed=result.passed,
                metadata=result.metadata,
                severity=result.severity,
                description=result.description,
                partition=period.key,
                # the month's materialization it judged: Dagster shows only a check of the
                # partition's latest materialization on the partition
                target_materialization_data=targets.get((result.asset_key, period.key)),
            )
        )


def _materializations(
    context: AssetExecutionContext, results: list[tuple[Period, AssetCheckResult]]
) -> dict:
    """(asset key, month) -> the month's latest materialization, as a check's target."""
    if _Target is None:
        return {}
    months: dict[AssetKey, set[str]] = {}
    for period, result in results:
        months.setdefault(result.asset_key, set()).add(period.key)
    found = {}
    for key, keys in months.items():
        records = context.instance.fetch_materializations(
            AssetRecordsFilter(asset_key=key, asset_partitions=sorted(keys)), limit=len(keys)
        ).records
        for record in records:  # newest first
            partition = record.partition_key
            if (key, partition) not in found:
                found[key, partition] = _Target(
                    run_id=record.run_id, storage_id=record.storage_id, timestamp=record.timestamp
                )
    return found


def materialize_months(
    key: AssetKey, metadata_by_month: Mapping[Period, Mapping]
) -> Iterator[AssetMaterialization]:
    """Each month's own materialization with its own figures, to follow a range step's one
    materialization (whose metadata would otherwise stand for every month): Dagster shows and
    plots a partition's latest materialization, and a check's verdict on a partition only when
    it judged that materialization (`checks_by_month` names it)."""
    for period, metadata in metadata_by_month.items():
        yield AssetMaterialization(asset_key=key, partition=period.key, metadata=metadata)

"""Calendar-month partitions, keyed 'YYYY-MM', from the catalog's first period."""

from __future__ import annotations

from dagster import AssetExecutionContext, MonthlyPartitionsDefinition

from pipelines.catalog import Catalog
from pipelines.periods import Period, months_between


def monthly_partitions(catalog: Catalog) -> MonthlyPartitionsDefinition:
    """Months from the catalog's first_period up to the last complete month."""
    return MonthlyPartitionsDefinition(
        start_date=catalog.organization.first_period, fmt="%Y-%m", end_offset=0
    )


def periods_of(context: AssetExecutionContext) -> list[Period]:
    """The months a run covers: one partition, or a range in a single-run backfill."""
    keys = context.partition_key_range
    return months_between(Period.parse(keys.start), Period.parse(keys.end))

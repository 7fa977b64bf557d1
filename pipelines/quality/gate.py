"""The quality gate: a KPI is withheld for a month when a table it reads failed an error-level
check in that month's latest check. Warnings never withhold; unchecked data is not held back.
"""

from __future__ import annotations

from pipelines.catalog.catalog import Catalog
from pipelines.catalog.models import Kpi
from pipelines.periods import Period
from pipelines.quality.store import Failure, failures

MAX_NAMED = 3


def describe(found: list[Failure]) -> str:
    """The failed checks in one sentence, the first few named."""
    named = "; ".join(f.line() for f in found[:MAX_NAMED])
    more = f"; and {len(found) - MAX_NAMED} more" if len(found) > MAX_NAMED else ""
    return f"failed data-quality check(s): {named}{more}"


def withheld_reason(con, catalog: Catalog, kpi: Kpi, period: Period) -> str | None:
    """Why the KPI is withheld this month, or None when its tables passed (or were unchecked)."""
    tables = list(catalog.kpi_tables.get(kpi.id, ()))
    if not tables:
        return None
    found = failures(con, period, tables)
    return describe(found) if found else None

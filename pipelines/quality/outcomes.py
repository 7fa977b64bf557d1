"""What a table's checks found for one month: an outcome per expectation, and the table's verdict.

Every expectation ends passed, failed or errored. An errored one (it raised instead of answering)
counts as a failure of its severity: never as passed, and never mistaken for bad data in the
message, which carries the exception.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from pipelines.catalog.expectations import ExpectationEntry

PASSED, FAILED, ERRORED = "passed", "failed", "errored"
ERROR, WARNING = "error", "warning"


def json_safe(value):
    """A value as JSON can hold it: dates as ISO text, NaN as null, numpy scalars as numbers."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # numpy and pandas scalars
        try:
            value = value.item()
        except (ValueError, TypeError):
            pass
    if isinstance(value, datetime | date) or type(value).__name__ == "Timestamp":
        return None if str(value) == "NaT" else value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


@dataclass(frozen=True)
class CheckOutcome:
    """One expectation of one table for one month."""

    period: str  # 'YYYY-MM'
    position: int  # its place in the table's expectations
    entry: ExpectationEntry
    outcome: str  # passed, failed, errored
    observed: object = None
    unexpected_count: int | None = None
    element_count: int | None = None
    sample: tuple[dict, ...] = ()
    message: str | None = None

    @property
    def failing(self) -> bool:
        """Failed or errored."""
        return self.outcome != PASSED

    @property
    def blocking(self) -> bool:
        """An error-level failure: it withholds the KPIs reading the table."""
        return self.failing and self.entry.severity == ERROR

    def summary(self) -> str:
        """'expect_column_values_to_be_unique(entry_id) failed: 2 of 1,204 rows unexpected'."""
        detail = f": {self.message}" if self.message else ""
        return f"{self.entry.label()} {self.outcome}{detail}"


@dataclass(frozen=True)
class TableVerdict:
    """All checks of one table for one month."""

    period: str
    table_key: str
    rows: int
    outcomes: tuple[CheckOutcome, ...]
    rows_rejected: int = 0
    latest_record: datetime | None = None
    lag_days: int | None = None

    @property
    def passed(self) -> int:
        """Checks that passed."""
        return sum(not o.failing for o in self.outcomes)

    @property
    def warned(self) -> int:
        """Warning-level checks that failed or errored."""
        return sum(o.failing and not o.blocking for o in self.outcomes)

    @property
    def failed(self) -> int:
        """Error-level checks that failed or errored."""
        return sum(o.blocking for o in self.outcomes)

    @property
    def errored(self) -> int:
        """Checks that raised instead of answering."""
        return sum(o.outcome == ERRORED for o in self.outcomes)

    @property
    def status(self) -> str:
        """failed (an error-level failure), warned (warnings only) or passed."""
        return "failed" if self.failed else "warned" if self.warned else "passed"

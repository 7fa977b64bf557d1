"""What every table generator shares: the row random stream, the scale and the export's end."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MIN_ROWS = 3  # even at tiny scales every event table gets a few rows a month


@dataclass
class RowContext:
    """The transactions' random stream, the volume scale, the export end and the id counters."""

    rng: np.random.Generator
    scale: float
    export_end: np.datetime64  # the last day of the last month
    counters: dict[str, int] = field(default_factory=dict)

    @property
    def export_end_ts(self) -> np.datetime64:
        """The last second of the export."""
        return (self.export_end + 1).astype("datetime64[s]") - 1

    def count(self, base: float, factor: float = 1.0) -> int:
        """A month's row count: Poisson around base * scale * factor, at least MIN_ROWS."""
        return max(MIN_ROWS, int(self.rng.poisson(base * self.scale * factor)))

    def numbers(self, table: str, n: int) -> np.ndarray:
        """The next n sequence numbers of a table's ids (1, 2, ... over the whole history)."""
        first = self.counters.get(table, 0) + 1
        self.counters[table] = first + n - 1
        return np.arange(first, first + n, dtype=np.int64)

    def weights(self, n: int, sigma: float) -> np.ndarray:
        """n positive log-normal weights (to split a month's total over its rows)."""
        return self.rng.lognormal(0.0, sigma, n)

    def censor(self, dates: np.ndarray) -> np.ndarray:
        """The dates with those after the export end blanked (NaT): not happened yet."""
        end = self.export_end_ts if dates.dtype == np.dtype("datetime64[s]") else self.export_end
        return np.where(dates <= end, dates, np.array("NaT", dtype=dates.dtype))


def apportion(units: int, weights: np.ndarray, floor: int = 1) -> np.ndarray:
    """Split whole units over rows by weight, at least `floor` each, the sum kept exact."""
    n = len(weights)
    extra = max(0, units - floor * n)
    share = extra * weights / weights.sum()
    whole = np.floor(share).astype(np.int64)
    remainder = extra - int(whole.sum())
    if remainder > 0:
        whole[np.argsort(whole - share, kind="stable")[:remainder]] += 1
    return whole + floor

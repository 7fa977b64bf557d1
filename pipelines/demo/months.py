"""Calendar months of the demo: their days and their place on the company's timeline."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

EPOCH = np.datetime64("2024-01", "M")  # t = 0: January 2024, first year of the shipped targets


@dataclass(frozen=True)
class Month:
    """One calendar month of the export history."""

    start: np.datetime64  # datetime64[M]

    @property
    def key(self) -> str:
        """'YYYY-MM'."""
        return str(self.start)

    @property
    def first(self) -> np.datetime64:
        """The first day."""
        return self.start.astype("datetime64[D]")

    @property
    def last(self) -> np.datetime64:
        """The last day."""
        return (self.start + 1).astype("datetime64[D]") - 1

    @property
    def t(self) -> int:
        """Months since January 2024 (negative before)."""
        return int((self.start - EPOCH).astype(int))

    @property
    def moy(self) -> int:
        """Month of the year, 1..12."""
        return int(self.start.astype(int) % 12) + 1

    @property
    def serial(self) -> int:
        """Months since January 1970 (a non-negative seed component)."""
        return int(self.start.astype(int))

    def days(self) -> np.ndarray:
        """Every day of the month."""
        return np.arange(self.first, self.last + 1, dtype="datetime64[D]")

    def weekdays(self) -> np.ndarray:
        """The Monday-to-Friday days of the month."""
        days = self.days()
        return days[np.is_busday(days)]


def parse_month(key: str) -> np.datetime64:
    """'YYYY-MM' as a datetime64 month; ValueError otherwise."""
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", key or ""):
        raise ValueError(f"not a month (YYYY-MM): {key!r}")
    return np.datetime64(key, "M")


def month_range(start: str, end: str) -> list[Month]:
    """Months start..end inclusive; ValueError when end is before start."""
    first, last = parse_month(start), parse_month(end)
    if last < first:
        raise ValueError(f"end {end} is before start {start}")
    return [Month(first + i) for i in range(int((last - first).astype(int)) + 1)]


def random_days(
    rng: np.random.Generator,
    month: Month,
    n: int,
    *,
    weekdays: bool = True,
    weekend_weight: float = 0.0,
) -> np.ndarray:
    """n random days of the month: weekdays only, or all days with weekends down-weighted."""
    if weekdays:
        pool = month.weekdays()
        return pool[rng.integers(0, len(pool), n)]
    pool = month.days()
    weights = np.where(np.is_busday(pool), 1.0, weekend_weight)
    return pool[rng.choice(len(pool), n, p=weights / weights.sum())]

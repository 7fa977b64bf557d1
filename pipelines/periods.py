"""Calendar months as reporting periods, and the date windows a KPI is evaluated over."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")


class PeriodError(ValueError):
    """A period string that is not a valid calendar month."""


@dataclass(frozen=True, order=True)
class Period:
    """One calendar month."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Period:
        """Parse 'YYYY-MM' (a Dagster partition key of the monthly partitions)."""
        match = _PERIOD.match(str(text).strip())
        if not match:
            raise PeriodError(f"period {text!r} is not a month written as YYYY-MM (e.g. 2026-10)")
        year, month = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12:
            raise PeriodError(f"period {text!r} has month {month:02d}; months run 01 to 12")
        if year < 1900:
            raise PeriodError(f"period {text!r} has an implausible year")
        return cls(year, month)

    @classmethod
    def of(cls, day: date) -> Period:
        """The month a date falls in."""
        return cls(day.year, day.month)

    @property
    def key(self) -> str:
        """'YYYY-MM', the partition key."""
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> date:
        """First day of the month."""
        return date(self.year, self.month, 1)

    @property
    def end(self) -> date:
        """First day of the next month (windows are half-open)."""
        return self.shift(1).start

    @property
    def last_day(self) -> date:
        """Last day of the month."""
        return date.fromordinal(self.end.toordinal() - 1)

    @property
    def label(self) -> str:
        """'October 2026'."""
        return self.start.strftime("%B %Y")

    def shift(self, months: int) -> Period:
        """The month `months` later (negative: earlier)."""
        index = self.year * 12 + (self.month - 1) + months
        return Period(index // 12, index % 12 + 1)

    def __str__(self) -> str:
        return self.key


def months_between(first: Period, last: Period) -> list[Period]:
    """Every month from first to last, inclusive."""
    count = (last.year - first.year) * 12 + last.month - first.month
    return [first.shift(i) for i in range(count + 1)]


def last_complete_period(today: date) -> Period:
    """The month before the current one."""
    return Period.of(today).shift(-1)


def fiscal_year_start(period: Period, first_month: int = 1) -> Period:
    """The first month of the fiscal year that holds `period` (first_month 4 = April)."""
    year = period.year if period.month >= first_month else period.year - 1
    return Period(year, first_month)


@dataclass(frozen=True)
class Window:
    """A half-open date range [start, end) that a KPI query is evaluated over."""

    name: str  # month, ytd, ttm
    first: Period
    last: Period

    @property
    def start(self) -> date:
        """First day of the window."""
        return self.first.start

    @property
    def end(self) -> date:
        """The day after the window."""
        return self.last.end

    @property
    def periods(self) -> list[Period]:
        """The months of the window."""
        return months_between(self.first, self.last)


def windows_for(period: Period, fiscal_start_month: int = 1) -> list[Window]:
    """The month, fiscal year-to-date and trailing-twelve-month windows ending with `period`."""
    return [
        Window("month", period, period),
        Window("ytd", fiscal_year_start(period, fiscal_start_month), period),
        Window("ttm", period.shift(-11), period),
    ]

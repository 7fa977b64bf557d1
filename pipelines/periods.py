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


def month_runs(months: list[str]) -> list[tuple[Period, Period]]:
    """Months ('YYYY-MM', in order) as runs of consecutive months: (first, last) each."""
    runs: list[list[Period]] = []
    for period in map(Period.parse, months):
        if runs and runs[-1][-1].shift(1) == period:
            runs[-1][-1] = period
        else:
            runs.append([period, period])
    return [(a, b) for a, b in runs]


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


_REVIEW = re.compile(r"^(\d{4})(?:-Q([1-4]))?$")
QUARTER, YEAR = "quarter", "year"


@dataclass(frozen=True)
class ReviewPeriod:
    """A fiscal quarter or fiscal year: the period of a leadership or board review.

    Fiscal year N starts in calendar year N, in the catalog's fiscal_year_start_month; its
    quarters are the three-month blocks from that month. Keys: '2026-Q3' (the third quarter of
    fiscal year 2026), '2026' (fiscal year 2026)."""

    kind: str  # quarter, year
    fiscal_year: int
    quarter: int | None  # 1..4 for a quarter
    fiscal_start_month: int = 1

    @classmethod
    def parse(cls, text: str, fiscal_start_month: int = 1) -> ReviewPeriod:
        """'2026-Q3' or '2026'."""
        match = _REVIEW.match(str(text).strip())
        if not match or int(match.group(1)) < 1900:
            raise PeriodError(
                f"period {text!r} is neither a month (2026-10), a fiscal quarter (2026-Q3) nor "
                "a fiscal year (2026)"
            )
        year, quarter = int(match.group(1)), match.group(2)
        if quarter is None:
            return cls(YEAR, year, None, fiscal_start_month)
        return cls(QUARTER, year, int(quarter), fiscal_start_month)

    @classmethod
    def closed_by(cls, period: Period, fiscal_start_month: int = 1) -> list[ReviewPeriod]:
        """The reviews whose last month is `period`: its fiscal quarter when the month ends one,
        and its fiscal year too when it ends the year."""
        start = fiscal_year_start(period, fiscal_start_month)
        index = (period.month - fiscal_start_month) % 12  # 0..11 within the fiscal year
        if index % 3 != 2:
            return []
        found = [cls(QUARTER, start.year, index // 3 + 1, fiscal_start_month)]
        if index == 11:
            found.append(cls(YEAR, start.year, None, fiscal_start_month))
        return found

    @property
    def first(self) -> Period:
        """The first month."""
        year_start = Period(self.fiscal_year, self.fiscal_start_month)
        return year_start if self.quarter is None else year_start.shift(3 * (self.quarter - 1))

    @property
    def last(self) -> Period:
        """The last month."""
        return self.first.shift(2 if self.kind == QUARTER else 11)

    @property
    def months(self) -> list[Period]:
        """Its months, in order."""
        return months_between(self.first, self.last)

    @property
    def key(self) -> str:
        """'2026-Q3' or '2026'."""
        return f"{self.fiscal_year}" + (f"-Q{self.quarter}" if self.quarter else "")

    @property
    def year_label(self) -> str:
        """'2026', or 'FY 2026/27' when the fiscal year does not start in January."""
        if self.fiscal_start_month == 1:
            return str(self.fiscal_year)
        return f"FY {self.fiscal_year}/{(self.fiscal_year + 1) % 100:02d}"

    @property
    def label(self) -> str:
        """'Q3 2026', 'Q3 FY 2026/27', '2026' or 'FY 2026/27'."""
        return f"Q{self.quarter} {self.year_label}" if self.quarter else self.year_label

    @property
    def span(self) -> str:
        """'July to September 2026', 'April 2026 to March 2027'."""
        first, last = self.first, self.last
        if first.year == last.year:
            return f"{first.start:%B} to {last.label}"
        return f"{first.label} to {last.label}"

    def shift(self, count: int) -> ReviewPeriod:
        """The review `count` quarters (or years) later; negative: earlier."""
        if self.quarter is None:
            return ReviewPeriod(YEAR, self.fiscal_year + count, None, self.fiscal_start_month)
        index = self.fiscal_year * 4 + self.quarter - 1 + count
        return ReviewPeriod(QUARTER, index // 4, index % 4 + 1, self.fiscal_start_month)

    @property
    def previous(self) -> ReviewPeriod:
        """The quarter (or year) before."""
        return self.shift(-1)

    @property
    def year_ago(self) -> ReviewPeriod:
        """The same quarter of the previous fiscal year (for a year: the year before)."""
        return self.shift(-4 if self.quarter else -1)

    def __str__(self) -> str:
        return self.key

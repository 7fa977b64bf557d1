"""When a quarterly or annual KPI is measured, and which measurement a month carries."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pipelines.catalog.models import Kpi
from pipelines.periods import Period

BASE = {
    "id": "engagement",
    "name": "Engagement",
    "description": "Favourable answers of the engagement survey.",
    "objective": "people",
    "owner": "CHRO",
    "unit": "pct",
    "direction": "higher_is_better",
    "sql": "kpis/engagement.sql",
}


def kpi(**fields) -> Kpi:
    return Kpi.model_validate({**BASE, **fields})


@pytest.mark.parametrize(
    ("frequency", "fiscal_start", "months"),
    [
        ("monthly", 1, set(range(1, 13))),
        ("quarterly", 1, {3, 6, 9, 12}),
        ("quarterly", 4, {3, 6, 9, 12}),  # April-June, ..., January-March
        ("quarterly", 2, {1, 4, 7, 10}),  # February-April, ..., November-January
        ("annual", 1, {12}),
        ("annual", 4, {3}),
        ("annual", 7, {6}),
    ],
)
def test_default_measurement_months_follow_the_fiscal_year(frequency, fiscal_start, months):
    assert kpi(frequency=frequency).measurement_months(fiscal_start) == months


def test_a_month_carries_the_latest_measurement_at_or_before_it():
    quarterly = kpi(frequency="quarterly")
    assert quarterly.measurement_at(Period(2026, 9)) == Period(2026, 9)
    assert quarterly.measurement_at(Period(2026, 11)) == Period(2026, 9)
    assert quarterly.measurement_at(Period(2026, 2)) == Period(2025, 12)
    annual = kpi(frequency="annual", measured_in=[10])
    assert annual.measurement_at(Period(2026, 9)) == Period(2025, 10)
    assert annual.measurement_window(Period(2025, 10)) == (Period(2024, 11), Period(2025, 10))
    monthly = kpi()
    assert monthly.measurement_at(Period(2026, 2)) == Period(2026, 2)
    assert monthly.measurement_window(Period(2026, 2)) == (Period(2026, 2), Period(2026, 2))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"measured_in": [3]}, "measured_in is for a KPI with frequency quarterly or annual"),
        ({"frequency": "annual", "measured_in": [3, 9]}, r"measured in 1 different month\(s\)"),
        ({"frequency": "quarterly", "measured_in": [3, 6, 9]}, "measured in 4 different month"),
        ({"frequency": "quarterly", "measured_in": [1, 6, 9, 12]}, "every third month"),
        ({"frequency": "annual", "measured_in": [13]}, r"of the year \(1-12\)"),
        ({"frequency": "weekly"}, "frequency"),
        (
            {"frequency": "quarterly", "sql": None, "formula": "a / b"},
            "a calculated KPI follows its inputs",
        ),
    ],
)
def test_the_catalog_rejects_a_schedule_that_is_not_one(fields, message):
    with pytest.raises(ValidationError, match=message):
        kpi(**fields)

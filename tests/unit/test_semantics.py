"""Scorecard semantics: windows, fiscal years, target versions and phasing, weights over time,
forecasts, calculated KPIs, initiatives and highlights, each against hand-computed values."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from pipelines.catalog import formula
from pipelines.catalog.models import Initiative, Kpi, TargetVersion, WeightVersion, weight_at
from pipelines.kpis.evaluate import NO_DATA, VALUE, WITHHELD, KpiValue, calculated_value
from pipelines.periods import Period, windows_for
from pipelines.report.highlights import highlights
from pipelines.report.initiatives import initiative_line
from pipelines.scoring.scorecard import forecast, goal_for, kpi_score_row, rollup_rows, ytd_target
from pipelines.scoring.signals import OUTSIDE, ROUTINE, SIGNAL, MonthSignal, limits_of
from pipelines.scoring.statuses import AT_RISK, OFF_TRACK, ON_TRACK


def test_windows_for_a_fiscal_year_starting_in_april():
    month, ytd, ttm = windows_for(Period(2026, 2), fiscal_start_month=4)
    assert (month.start, month.end) == (date(2026, 2, 1), date(2026, 3, 1))
    assert (ytd.start, ytd.end) == (date(2025, 4, 1), date(2026, 3, 1))
    assert (ttm.start, ttm.end) == (date(2025, 3, 1), date(2026, 3, 1))
    _, ytd_may, _ = windows_for(Period(2026, 5), fiscal_start_month=4)
    assert ytd_may.start == date(2026, 4, 1)


def _with_targets(catalog, kpi_id, versions):
    targets = {**catalog.targets, kpi_id: tuple(sorted(versions, key=lambda v: v.period))}
    return replace(catalog, targets=targets)


def test_earlier_period_uses_the_target_version_in_force_then(catalog):
    kpi = catalog.kpi("revenue_usd")
    cat = _with_targets(
        catalog,
        kpi.id,
        [
            TargetVersion(**{"from": "2024-01", "value": 100.0}),
            TargetVersion(**{"from": "2026-01", "value": 200.0}),
        ],
    )
    assert goal_for(cat, kpi, Period(2024, 6)).goal == 100
    assert goal_for(cat, kpi, Period(2026, 6)).goal == 200
    assert goal_for(cat, kpi, Period(2023, 12)) is None
    assert kpi_score_row(cat, kpi, Period(2023, 12), VALUE, 5.0)["status"] == "no_target"


def test_annual_target_phased_by_profile_and_ytd_target_sums(catalog):
    kpi = catalog.kpi("revenue_usd")  # additive
    profile = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 3]  # sums to 15
    cat = _with_targets(
        catalog,
        kpi.id,
        [
            TargetVersion(**{"from": "2026-01", "annual": 1500.0, "phasing": profile}),
        ],
    )
    assert goal_for(cat, kpi, Period(2026, 1)).goal == pytest.approx(100)
    assert goal_for(cat, kpi, Period(2026, 12)).goal == pytest.approx(300)
    assert goal_for(cat, kpi, Period(2026, 1)).red_flag == pytest.approx(90)  # ratio 0.9
    assert ytd_target(cat, kpi, Period(2026, 11)) == pytest.approx(1200)


def test_ytd_target_of_a_rate_is_the_mean_of_monthly_goals(catalog):
    kpi = catalog.kpi("gross_margin_pct")
    cat = _with_targets(
        catalog,
        kpi.id,
        [
            TargetVersion(**{"from": "2026-01", "value": 40.0, "red_flag": 35.0}),
            TargetVersion(**{"from": "2026-03", "value": 46.0, "red_flag": 40.0}),
        ],
    )
    assert ytd_target(cat, kpi, Period(2026, 3)) == pytest.approx((40 + 40 + 46) / 3)


def test_forecast_by_run_rate_with_phasing(catalog):
    kpi = catalog.kpi("revenue_usd")
    cat = _with_targets(
        catalog,
        kpi.id,
        [
            TargetVersion(**{"from": "2026-01", "annual": 1200.0}),
        ],
    )
    # 3 months elapsed of an even year, 330 so far -> 1320 projected, meets 1200
    result = forecast(cat, kpi, Period(2026, 3), 330.0)
    assert result["forecast"] == pytest.approx(1320)
    assert result["forecast_meets"] is True
    assert "run rate" in result["forecast_method"]
    assert forecast(cat, kpi, Period(2026, 3), 270.0)["forecast_meets"] is False
    assert forecast(catalog, catalog.kpi("nps"), Period(2026, 3), 50.0)["forecast"] is None


def test_weights_change_over_time():
    versions = [
        WeightVersion(**{"from": "2025-01", "weight": 1}),
        WeightVersion(**{"from": "2026-01", "weight": 3}),
    ]
    assert weight_at(versions, Period(2024, 12)) == 0
    assert weight_at(versions, Period(2025, 6)) == 1
    assert weight_at(versions, Period(2026, 1)) == 3
    assert weight_at(2.5, Period(2026, 1)) == 2.5


def test_rollup_uses_the_weights_in_force_and_keeps_coverage(catalog):
    period = Period(2026, 1)
    rows = [kpi_score_row(catalog, k, period, NO_DATA, None) for k in catalog.kpis]
    by_id = {r["kpi_id"]: r for r in rows}
    by_id["gross_margin_pct"].update(score=8.0)  # weight 2
    by_id["opex_ratio_pct"].update(score=2.0)  # weight 1
    nodes = {(n["level"], n["node_id"]): n for n in rollup_rows(catalog, rows, period)}
    objective = nodes[("objective", "improve_profitability")]
    assert objective["score"] == pytest.approx((8 * 2 + 2 * 1) / 3)
    assert objective["scored_count"] == 2
    assert objective["total_count"] == len(catalog.kpis_of("improve_profitability"))
    assert nodes[("objective", "grow_revenue")]["score"] is None
    assert nodes[("objective", "grow_revenue")]["status"] == NO_DATA
    # a perspective with one scored objective carries exactly that objective's score
    assert nodes[("perspective", "financial")]["score"] == pytest.approx(objective["score"])
    assert nodes[("overall", "overall")]["score"] == pytest.approx(objective["score"])


def test_formula_is_arithmetic_only_and_never_a_silent_zero():
    assert formula.evaluate("a / b * 100", {"a": 1.0, "b": 4.0}) == pytest.approx(25)
    assert formula.evaluate("a / b", {"a": 1.0, "b": 0.0}) is None
    assert formula.evaluate("a - b", {"a": 1.0, "b": None}) is None
    assert formula.inputs("(revenue_usd - x) / headcount") == ["revenue_usd", "x", "headcount"]
    for bad in ("__import__('os')", "a ** 2", "a.b", "a if b else c", "[a]"):
        with pytest.raises(formula.FormulaError):
            formula.inputs(bad)


def test_calculated_kpi_from_inputs():
    kpi = Kpi(
        id="rpe",
        name="Revenue per employee",
        description="d",
        objective="o",
        owner="x",
        unit="usd",
        direction="higher_is_better",
        formula="revenue / headcount",
    )
    inputs = {
        "revenue": KpiValue("revenue", VALUE, 1000.0, 3000.0, 9000.0),
        "headcount": KpiValue("headcount", VALUE, 10.0, 10.0, 12.0),
    }
    value = calculated_value(kpi, inputs)
    assert (value.value, value.ytd_value, value.ttm_value) == (100.0, 300.0, 750.0)
    missing = calculated_value(kpi, {"revenue": inputs["revenue"]})
    assert (missing.state, missing.value) == (NO_DATA, None)
    held = calculated_value(
        kpi,
        {**inputs, "headcount": KpiValue("headcount", WITHHELD, None, None, None, "check failed")},
    )
    assert held.state == WITHHELD and "headcount" in held.withheld_reason


def _initiative(**changes):
    base = {
        "id": "i",
        "name": "I",
        "owner": "o",
        "objectives": ["grow_revenue"],
        "start": "2026-01",
        "deadline": "2026-12-31",
        "status": "on_schedule",
        "percent_complete": 50,
    }
    return Initiative(**{**base, **changes})


@pytest.mark.parametrize(
    ("changes", "as_of", "overdue", "at_risk"),
    [
        ({}, date(2026, 6, 30), False, False),
        ({"percent_complete": 10}, date(2026, 9, 30), False, True),  # 74 % of time, 10 % done
        ({"status": "behind"}, date(2026, 3, 31), False, True),
        ({"deadline": "2026-05-31"}, date(2026, 6, 30), True, False),
        ({"deadline": "2026-05-31", "status": "completed"}, date(2026, 6, 30), False, False),
    ],
)
def test_initiative_flags_are_derived(catalog, changes, as_of, overdue, at_risk):
    line = initiative_line(catalog, _initiative(**changes), as_of)
    assert (line.overdue, line.at_risk) == (overdue, at_risk)
    if overdue:
        assert line.days_overdue == 30


def test_highlights(report_kpis):
    result = highlights(report_kpis)
    kinds = {(h.kind, h.kpi.id) for h in result}
    assert ("success", "improved") in kinds
    assert ("improvement_area", "worst") in kinds
    assert ("status_change", "worst") in kinds
    change = next(h for h in result if h.kind == "status_change" and h.kpi.id == "worst")
    assert change.reason == "at risk → off track"
    assert not any(h.kind == "signal" for h in result)  # no limits: no signal


def test_highlights_prefer_signals_to_routine_variation(report_kpis):
    limits = limits_of([(f"2025-{m:02d}", v) for m, v in enumerate([1.0, 2.0] * 6, start=1)])
    routine = MonthSignal(ROUTINE, limits)
    below = MonthSignal(SIGNAL, limits, (OUTSIDE,), "below")
    improved, worst, steady = report_kpis
    kpis = [
        replace(worst, signal=routine),
        replace(improved, signal=below),
        replace(steady, status=OFF_TRACK, previous_status=AT_RISK, score=3.0, signal=below),
    ]
    result = highlights(kpis)
    assert [(h.kind, h.kpi.id) for h in result if h.kind == "signal"] == [
        ("signal", "steady"),  # a deterioration, off track, before one on track
        ("signal", "improved"),
    ]
    assert result[0].reason == "below the lower limit (deterioration)"
    changes = [h for h in result if h.kind == "status_change"]
    assert [h.kpi.id for h in changes] == ["steady", "worst"]  # the signal first
    assert changes[0].reason == "at risk → off track, a signal of deterioration"
    assert changes[1].reason == "at risk → off track, routine variation"
    areas = [h for h in result if h.kind == "improvement_area"]
    assert [h.kpi.id for h in areas] == ["steady", "worst"]  # same status: the signal first


@pytest.fixture
def report_kpis():
    from pipelines.report.model import KpiLine

    def line(kpi_id, status, score, previous_status, previous_score):
        return KpiLine(
            id=kpi_id,
            name=kpi_id,
            description="",
            owner="",
            unit="pct",
            direction="higher_is_better",
            actual=1.0,
            target=1.0,
            target_lower=None,
            target_upper=None,
            red_flag=0.9,
            variance=0.0,
            variance_pct=0.0,
            status=status,
            score=score,
            previous=1.0,
            last_year=None,
            ytd_actual=None,
            ytd_target=None,
            sql_file="",
            tables=(),
            previous_status=previous_status,
            previous_score=previous_score,
        )

    return [
        line("improved", ON_TRACK, 8.0, ON_TRACK, 7.0),
        line("worst", OFF_TRACK, 1.0, AT_RISK, 4.0),
        line("steady", ON_TRACK, 7.0, ON_TRACK, 7.0),
    ]

"""XmR limits and the three detection rules on small hand-made series (docs/semantics.md)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pipelines.catalog.models import Kpi
from pipelines.periods import Period
from pipelines.scoring.signals import (
    ABOVE,
    BELOW,
    NEAR,
    OUTSIDE,
    ROUTINE,
    RUN,
    SIGNAL,
    TOO_LITTLE,
    limits_of,
    month_signal,
    signal_months,
)

# Twelve months of a stable process. Mean 138 / 12 = 11.5; moving ranges
# 2 1 2 1 2 1 1 1 2 1 1 = 15 over 11 = 1.363636...; limits 11.5 -/+ 2.66 * 1.363636 =
# 7.872727 and 15.127273; halfway to a limit: 11.5 -/+ 1.813636 = 9.686364 and 13.313636.
BASE = [10, 12, 11, 13, 12, 10, 11, 12, 13, 11, 12, 11]
START = Period(2024, 1)


def series(*values: float | None, start: Period = START) -> list[tuple[str, float | None]]:
    return [(start.shift(i).key, v) for i, v in enumerate(values)]


def at(index: int) -> Period:
    return START.shift(index)


# The rules below are judged against BASE's limits: the catalog fixes BASE as the baseline
# (by default the baseline would grow with each month until it holds 24 values).
FIXED = (START, START.shift(11))


def test_limits_are_mean_plus_minus_266_average_moving_ranges():
    limits = limits_of([(m, v) for m, v in series(*BASE)])
    assert limits.centre == pytest.approx(11.5)
    assert limits.average_moving_range == pytest.approx(15 / 11)
    assert limits.lower == pytest.approx(7.872727, abs=1e-6)
    assert limits.upper == pytest.approx(15.127273, abs=1e-6)
    assert (limits.baseline_first, limits.baseline_last, limits.baseline_values) == (
        "2024-01",
        "2024-12",
        12,
    )


def test_a_stable_process_is_routine_variation_and_the_baseline_needs_twelve_values():
    history = series(*BASE, 12.0)
    early = month_signal(history, at(11))
    assert (early.state, early.values_in_process, early.baseline_count) == (TOO_LITTLE, 12, 11)
    verdict = month_signal(history, at(12))
    assert verdict.state == ROUTINE and verdict.rules == () and verdict.side is None
    assert verdict.limits.centre == pytest.approx(11.5)


def test_a_single_outlier_is_a_signal_and_the_month_after_it_is_routine_again():
    history = series(*BASE, 15.2, 11.0)
    outlier = month_signal(history, at(12), baseline=FIXED)
    assert (outlier.state, outlier.rules, outlier.side) == (SIGNAL, (OUTSIDE,), ABOVE)
    assert month_signal(history, at(13), baseline=FIXED).state == ROUTINE
    low = month_signal(series(*BASE, 7.8), at(12), baseline=FIXED)
    assert (low.state, low.rules, low.side) == (SIGNAL, (OUTSIDE,), BELOW)
    # just inside the limit: not outside it (alone near the limit, not three of four)
    assert month_signal(series(*BASE, 15.1), at(12), baseline=FIXED).state == ROUTINE


def test_a_level_shift_is_a_signal_at_the_eighth_month_on_one_side():
    shifted = [12.5, 12.6, 12.2, 12.8, 12.4, 12.9, 12.3, 12.7]  # above 11.5, below 13.31
    history = series(*BASE, *shifted)
    found = signal_months(history, [at(i) for i in range(12, 20)], baseline=FIXED)
    assert [found[at(i).key].state for i in range(12, 19)] == [ROUTINE] * 7
    eighth = found[at(19).key]
    assert (eighth.state, eighth.rules, eighth.side) == (SIGNAL, (RUN,), ABOVE)
    # a value on the centre line breaks the run
    broken = series(*BASE, 12.5, 12.6, 12.2, 11.5, 12.4, 12.9, 12.3, 12.7)
    assert month_signal(broken, at(19), baseline=FIXED).state == ROUTINE


def test_three_of_four_near_a_limit_is_a_signal_only_with_the_month_among_them():
    history = series(*BASE, 13.5, 11.0, 13.6, 13.4, 11.2)
    assert month_signal(history, at(14), baseline=FIXED).state == ROUTINE  # 2 of 4 near
    third = month_signal(history, at(15), baseline=FIXED)
    assert (third.state, third.rules, third.side) == (SIGNAL, (NEAR,), ABOVE)
    # the last four hold three near the limit, but the month itself is not one of them
    assert month_signal(history, at(16), baseline=FIXED).state == ROUTINE
    low = month_signal(series(*BASE, 9.5, 9.6, 9.4), at(14), baseline=FIXED)
    assert (low.state, low.rules, low.side) == (SIGNAL, (NEAR,), BELOW)


def test_months_without_a_value_are_skipped_and_have_no_verdict():
    gappy = series(*BASE[:6], None, *BASE[6:], None, 15.2)
    assert month_signal(gappy, at(6)) is None
    verdict = month_signal(gappy, at(14))  # the twelve values before it, by default
    assert verdict.limits.centre == pytest.approx(11.5)  # the same twelve values
    assert verdict.limits.average_moving_range == pytest.approx(15 / 11)
    assert (verdict.state, verdict.rules) == (SIGNAL, (OUTSIDE,))


def test_the_default_baseline_is_the_first_24_values_of_the_process():
    values = BASE + BASE + [30.0] * 6  # 24 stable values, then a new level (24 to 29)
    verdict = month_signal(series(*values), at(29))
    assert verdict.limits.baseline_values == 24
    assert verdict.limits.centre == pytest.approx(11.5)
    assert verdict.state == SIGNAL and set(verdict.rules) == {OUTSIDE, NEAR}
    # the month judged is not in its own baseline: 17 values before the 18th month
    assert month_signal(series(*values), at(17)).limits.baseline_values == 17


def test_a_process_change_starts_the_limits_again():
    values = [*BASE, 12.0, 20.0, 21.0, 19.5]
    change = [at(13)]
    verdict = month_signal(series(*values), at(15), changes=change)
    assert verdict.state == TOO_LITTLE
    assert (verdict.process_start, verdict.values_in_process) == ("2025-02", 3)
    # before the change the old process is judged as before
    before = month_signal(series(*values), at(12), changes=change)
    assert before.state == ROUTINE and before.limits.centre == pytest.approx(11.5)
    # without the change, the new level is a signal against the old limits
    assert month_signal(series(*values), at(15)).state == SIGNAL


def test_a_fixed_baseline_is_used_for_its_process_only():
    values = [30.0, 10.0] * 6 + BASE  # a noisy first year, then the stable one
    fixed = (at(12), at(23))
    verdict = month_signal(series(*values), at(23), baseline=fixed)
    assert verdict.limits.centre == pytest.approx(11.5)
    assert verdict.limits.baseline_first == "2025-01"
    default = month_signal(series(*values), at(23))
    assert default.limits.baseline_values == 23  # the values before the month
    # a baseline in another process than the month's is not used
    other = month_signal(series(*values), at(23), changes=[at(20)], baseline=fixed)
    assert other.state == TOO_LITTLE
    # a month before the fixed baseline has filled: the baseline's values so far
    young = month_signal(series(*values), at(16), baseline=fixed)
    assert (young.state, young.baseline_count, young.fixed_baseline) == (
        TOO_LITTLE,
        5,
        ("2025-01", "2025-12"),
    )


def _kpi(**signals) -> dict:
    return {
        "id": "nps",
        "name": "NPS",
        "description": "Net promoter score",
        "objective": "loyal_customers",
        "owner": "Head of CX",
        "unit": "score",
        "direction": "higher_is_better",
        "sql": "kpis/nps.sql",
        "signals": signals,
    }


def test_the_catalog_sets_a_baseline_and_process_changes():
    kpi = Kpi.model_validate(
        {
            **_kpi(
                baseline={"from": "2024-01", "to": "2024-12"},
                process_changes=[{"effective": "2025-06", "note": "New survey vendor."}],
            ),
            "revisions": [{"effective": "2025-03", "note": "Promoters counted from 9."}],
        }
    )
    assert kpi.signals.baseline.months == (Period(2024, 1), Period(2024, 12))
    assert kpi.process_starts == (Period(2025, 3), Period(2025, 6))


@pytest.mark.parametrize(
    ("signals", "revisions", "message"),
    [
        ({"baseline": {"from": "2024-01", "to": "2024-08"}}, [], r"is 8 month\(s\)"),
        (
            {"baseline": {"from": "2024-01", "to": "2025-06"}},
            [{"effective": "2024-09", "note": "New rule."}],
            "spans the process change of 2024-09",
        ),
        (
            {
                "process_changes": [
                    {"effective": "2025-06", "note": "b"},
                    {"effective": "2025-02", "note": "a"},
                ]
            },
            [],
            "increasing order",
        ),
    ],
)
def test_the_catalog_rejects_a_baseline_that_cannot_give_limits(signals, revisions, message):
    with pytest.raises(ValidationError, match=message):
        Kpi.model_validate({**_kpi(**signals), "revisions": revisions})


def test_a_lower_limit_below_zero_for_a_never_negative_process_is_no_limit():
    spiky = [0.5, 3.0, 0.4, 2.8, 0.6, 3.1, 0.5, 2.9, 0.4, 3.0, 0.6, 2.7]
    limits = limits_of(series(*spiky))
    assert limits.lower < 0 and limits.below_zero
    assert not limits_of(series(*BASE)).below_zero
    assert not limits_of(series(-1.0, 2.0, -1.5, 2.5)).below_zero  # negatives happen: a limit

"""The goal / red-flag scoring model and the weighted roll-up."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipelines.scoring.rollup import rollup
from pipelines.scoring.score import GOAL_SCORE, RED_FLAG_SCORE, Goal, score, status, status_of_score
from pipelines.scoring.statuses import AT_RISK, OFF_TRACK, ON_TRACK

HIGHER = Goal("higher_is_better", goal=100, red_flag=90)
LOWER = Goal("lower_is_better", goal=8, red_flag=12)
BAND = Goal("within_range", lower=270, upper=300, red_flag_lower=255, red_flag_upper=315)


@pytest.mark.parametrize(
    ("goal", "actual", "expected_score", "expected_status"),
    [
        (HIGHER, 100, GOAL_SCORE, ON_TRACK),
        (HIGHER, 90, RED_FLAG_SCORE, AT_RISK),
        (HIGHER, 95, 5.0, AT_RISK),
        (HIGHER, 89.99, 3.33, OFF_TRACK),
        (HIGHER, 110, 10.0, ON_TRACK),  # goal + (goal - red flag) reaches the cap
        (HIGHER, 500, 10.0, ON_TRACK),
        (HIGHER, 0, 0.0, OFF_TRACK),
        (LOWER, 8, GOAL_SCORE, ON_TRACK),
        (LOWER, 12, RED_FLAG_SCORE, AT_RISK),
        (LOWER, 10, 5.0, AT_RISK),
        (LOWER, 4, 10.0, ON_TRACK),
        (LOWER, 16, 0.0, OFF_TRACK),
        (BAND, 285, 10.0, ON_TRACK),
        (BAND, 270, GOAL_SCORE, ON_TRACK),
        (BAND, 300, GOAL_SCORE, ON_TRACK),
        (BAND, 262.5, 5.0, AT_RISK),
        (BAND, 315, RED_FLAG_SCORE, AT_RISK),
        (BAND, 330, 0.0, OFF_TRACK),
    ],
)
def test_score_and_status_by_hand(goal, actual, expected_score, expected_status):
    assert score(actual, goal) == pytest.approx(expected_score, abs=0.01)
    assert status(actual, goal) == expected_status


def test_zero_target_is_scored_without_dividing_by_it():
    zero_defects = Goal("lower_is_better", goal=0, red_flag=2)
    assert score(0, zero_defects) == pytest.approx(GOAL_SCORE)
    assert score(1, zero_defects) == pytest.approx(5.0)
    assert status(3, zero_defects) == OFF_TRACK


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@given(goal=finite, gap=st.floats(min_value=0.01, max_value=1e5), a=finite, b=finite)
def test_score_is_monotone_bounded_and_direction_symmetric(goal, gap, a, b):
    higher = Goal("higher_is_better", goal=goal, red_flag=goal - gap)
    lower = Goal("lower_is_better", goal=-goal, red_flag=-goal + gap)
    low, high = sorted((a, b))
    assert 0 <= score(low, higher) <= score(high, higher) <= 10
    assert score(low, lower) >= score(high, lower)
    assert score(a, higher) == pytest.approx(score(-a, lower))


def test_rollup_renormalises_over_members_that_scored():
    value, coverage = rollup([(6.0, 2), (None, 1), (3.0, 1)])
    assert value == pytest.approx(5.0)
    assert (coverage.scored, coverage.total) == (2, 3)
    assert (coverage.scored_weight, coverage.total_weight) == (3, 4)


def test_rollup_with_no_scored_member_has_no_score():
    value, coverage = rollup([(None, 1), (None, 2)])
    assert value is None
    assert coverage.scored == 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (10, ON_TRACK),
        (GOAL_SCORE, ON_TRACK),
        (5, AT_RISK),
        (RED_FLAG_SCORE, AT_RISK),
        (1, OFF_TRACK),
    ],
)
def test_rolled_up_status(value, expected):
    assert status_of_score(value) == expected

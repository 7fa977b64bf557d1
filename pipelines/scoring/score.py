"""The goal / red-flag scoring model, as pure functions.

On a 0 to 10 scale the goal scores 6.67 and the red flag 3.33, linear through both and beyond,
capped at 0 and 10. Status: at or past the goal on track; between the red flag and the goal at
risk; past the red flag off track. A within-range KPI scores 6.67 at the edges of its band and
10 at its centre, and outside the band falls off towards its red flags as above.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.scoring.statuses import AT_RISK, OFF_TRACK, ON_TRACK

GOAL_SCORE = 20 / 3
RED_FLAG_SCORE = 10 / 3
MAX_SCORE = 10.0
DEFAULT_RED_FLAG_RATIO = 0.10  # 10 % short of the goal


@dataclass(frozen=True)
class Goal:
    """What a KPI is scored against in one period."""

    direction: str
    goal: float | None = None
    red_flag: float | None = None
    lower: float | None = None
    upper: float | None = None
    red_flag_lower: float | None = None
    red_flag_upper: float | None = None


def _clamp(score: float) -> float:
    return max(0.0, min(MAX_SCORE, score))


def _one_sided(actual: float, goal: float, red_flag: float, higher: bool) -> float:
    if goal == red_flag:  # e.g. a goal of zero defects: better, at, or worse than it
        better = actual - goal if higher else goal - actual
        return MAX_SCORE if better > 0 else (GOAL_SCORE if better == 0 else 0.0)
    return _clamp(RED_FLAG_SCORE + (actual - red_flag) / (goal - red_flag) * RED_FLAG_SCORE)


def score(actual: float, goal: Goal) -> float:
    """The 0..10 score of an actual value against its goal."""
    if goal.direction != "within_range":
        return _one_sided(actual, goal.goal, goal.red_flag, goal.direction == "higher_is_better")
    if actual < goal.lower:
        return min(GOAL_SCORE, _one_sided(actual, goal.lower, goal.red_flag_lower, True))
    if actual > goal.upper:
        return min(GOAL_SCORE, _one_sided(actual, goal.upper, goal.red_flag_upper, False))
    half = (goal.upper - goal.lower) / 2
    if half == 0:
        return MAX_SCORE
    distance = abs(actual - (goal.lower + half)) / half
    return MAX_SCORE - distance * (MAX_SCORE - GOAL_SCORE)


def _status_one_sided(actual: float, goal: float, red_flag: float, higher: bool) -> str:
    sign = 1 if higher else -1
    if sign * (actual - goal) >= 0:
        return ON_TRACK
    if sign * (actual - red_flag) >= 0:
        return AT_RISK
    return OFF_TRACK


def status(actual: float, goal: Goal) -> str:
    """on_track, at_risk or off_track."""
    if goal.direction == "higher_is_better":
        return _status_one_sided(actual, goal.goal, goal.red_flag, True)
    if goal.direction == "lower_is_better":
        return _status_one_sided(actual, goal.goal, goal.red_flag, False)
    if actual < goal.lower:
        return _status_one_sided(actual, goal.lower, goal.red_flag_lower, True)
    if actual > goal.upper:
        return _status_one_sided(actual, goal.upper, goal.red_flag_upper, False)
    return ON_TRACK


def status_of_score(value: float) -> str:
    """The status a rolled-up score reads as."""
    if value >= GOAL_SCORE - 1e-9:
        return ON_TRACK
    if value >= RED_FLAG_SCORE - 1e-9:
        return AT_RISK
    return OFF_TRACK


def default_red_flag(goal: float, direction: str, ratio: float | None) -> float:
    """The red flag when the target gives none: the KPI's ratio of the goal, or 10 % short."""
    if ratio is not None:
        return goal * ratio
    margin = abs(goal) * DEFAULT_RED_FLAG_RATIO
    return goal - margin if direction == "higher_is_better" else goal + margin

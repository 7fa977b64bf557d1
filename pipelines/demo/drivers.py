"""The company's monthly levels (revenue, rates, service levels) that every export is drawn from.

Levels follow the calendar (t = months since January 2024) so that they line up with the yearly
targets of the shipped catalog: growth, a Q4 peak and a summer dip, a few slow cycles so that
the scorecard's statuses move, and noise drawn per calendar month from the seed alone (the same
month gets the same levels at any scale and in any start..end range).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.demo.months import Month

REVENUE_SEASON = np.array([0.95, 0.96, 1.02, 0.99, 1.00, 0.98, 0.91, 0.89, 1.01, 1.05, 1.09, 1.15])
TRAINING_SEASON = np.array([1.2, 1.1, 1.1, 1.0, 0.95, 0.85, 0.7, 0.72, 1.05, 1.15, 1.05, 0.78])
TWO_PI = 2 * np.pi


@dataclass(frozen=True)
class Drivers:
    """One month's levels of the company: the dials the exports are sampled around."""

    volume: float  # transaction volume factor, ~1 on average over 2023-12..2026-10
    revenue: float
    gross_margin_pct: float
    opex: float
    late_payment_share: float
    collection_days: float
    nps: float
    churn_rate: float
    win_rate: float
    active_customers: int
    csat: float
    resolution_hours: float
    late_delivery_share: float
    cycle_days: float
    defects_per_1000: float
    engagement_favourable: float
    training_hours_per_fte: float
    voluntary_attrition: float
    involuntary_attrition: float
    headcount: int


def _wave(t: float, period: float, phase: float = 0.0) -> float:
    return float(np.sin(TWO_PI * (t - phase) / period))


def _financial(t: int, moy: int, z: np.ndarray) -> dict:
    season = REVENUE_SEASON[moy - 1]
    trend = 2.05e6 * 1.11 ** ((t - 5.5) / 12)
    q4, summer = moy >= 10, moy in (7, 8)
    opex_ratio = 28.3 + 0.42 * max(0, min(t, 36) - 19) + 0.5 * z[2]
    return {
        "volume": 1.11 ** ((t - 16) / 12) * season,
        "revenue": trend * season * (1 + 0.02 * z[0]),
        "gross_margin_pct": 43.2 - 0.06 * min(t, 36) + 1.0 * q4 - 0.9 * summer + 0.6 * z[1],
        "opex": opex_ratio / 100 * trend * (1.03 if moy == 12 else 1.0),
        "late_payment_share": float(
            np.clip(0.095 + 0.028 * _wave(t, 7) + 0.012 * (moy in (12, 1)) + 0.01 * z[3], 0.02, 0.3)
        ),
        "collection_days": 40 + 2.5 * _wave(t, 12, 9) + 0.1 * (min(t, 36) - 20) + 0.8 * z[4],
    }


def _customer(t: int, moy: int, z: np.ndarray) -> dict:
    growth = 967 + 7.0 * t + 1.5 * max(0, min(t, 36) - 24)
    spike = 0.006 if t in (25, 26) else 0.0
    return {
        "nps": 41 + 5 * _wave(t, 11, 3) - 0.2 * max(0, min(t, 36) - 16) + 1.5 * z[5],
        "churn_rate": max(0.004, 0.0165 + 0.004 * _wave(t, 9, 1) + spike + 0.001 * z[6]),
        "win_rate": float(np.clip(0.295 + 0.035 * _wave(t, 8, 20) + 0.008 * z[7], 0.1, 0.6)),
        "active_customers": max(50, int(round(growth + 4 * z[8]))),
    }


def _process(t: int, moy: int, z: np.ndarray) -> dict:
    peak = moy in (11, 12)
    return {
        "csat": float(
            np.clip(0.895 + 0.02 * _wave(t, 7, 1) - 0.015 * peak + 0.005 * z[9], 0.5, 0.99)
        ),
        # From June 2026 (t = 29) the support team is short of two engineers and a firmware
        # release floods it: resolution times climb until hiring catches up (capped).
        "resolution_hours": max(
            6.0,
            27
            + 7 * _wave(t, 10, 4)
            + 4 * (moy in (11, 12, 1))
            + 4.0 * max(0, min(t, 34) - 29)
            + 1.2 * z[10],
        ),
        "late_delivery_share": float(
            np.clip(0.046 + 0.02 * _wave(t, 6) + 0.025 * peak + 0.005 * z[11], 0.005, 0.4)
        ),
        "cycle_days": max(2.5, 7.6 + 1.1 * _wave(t, 8, 2) + 1.0 * peak + 0.3 * z[12]),
        "defects_per_1000": max(1.0, 8.8 + 2.5 * _wave(t, 5, 1) + 5.0 * (t == 27) + 0.6 * z[13]),
    }


def _people(t: int, moy: int, z: np.ndarray) -> dict:
    return {
        "engagement_favourable": float(
            np.clip(
                0.785 + 0.035 * _wave(t, 9) - 0.004 * max(0, min(t, 36) - 14) + 0.01 * z[14],
                0.3,
                0.95,
            )
        ),
        "training_hours_per_fte": 2.0 * TRAINING_SEASON[moy - 1] * (1 + 0.05 * z[15]),
        "voluntary_attrition": 0.0105 + 0.003 * (moy <= 3) - 0.002 * (moy >= 11),
        "involuntary_attrition": 0.003,
        "headcount": max(30, int(round(250 + 60 * (min(t, 40) + 1) / 35))),
    }


def monthly_drivers(seed: int, month: Month) -> Drivers:
    """The company's levels in a month, for a seed."""
    z = np.random.default_rng([seed, 7919, month.serial]).standard_normal(16)
    t, moy = month.t, month.moy
    levels = {
        **_financial(t, moy, z),
        **_customer(t, moy, z),
        **_process(t, moy, z),
        **_people(t, moy, z),
    }
    return Drivers(
        **{
            key: float(value) if not isinstance(value, int) else value
            for key, value in levels.items()
        }
    )

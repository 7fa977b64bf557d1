"""CRM exports: the customer base month by month, closed opportunities and NPS answers."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from pipelines.demo.context import RowContext
from pipelines.demo.drivers import Drivers
from pipelines.demo.exports import MONEY, MRR, decimals, ids, labels
from pipelines.demo.months import Month, random_days

SEGMENTS = ("enterprise", "mid_market", "small_business")
SEGMENT_SHARE = np.array([0.12, 0.33, 0.55])
SEGMENT_MRR = np.array([2400.0, 750.0, 230.0])  # median monthly recurring revenue
SEGMENT_CHURN = np.array([0.5, 1.0, 1.35])  # relative churn propensity
REGIONS = ("north_america", "europe", "asia_pacific", "latin_america")
REGION_SHARE = np.array([0.45, 0.30, 0.17, 0.08])
STAGES = ("closed_lost", "closed_won")
DETRACTOR_SCORES = np.array([0.02, 0.02, 0.04, 0.07, 0.12, 0.29, 0.44])
BASE_OPPORTUNITIES, BASE_NPS = 417, 833


def customer_ids(index: np.ndarray):
    """C-000001 style ids of customers by index."""
    return ids("C-", np.asarray(index) + 1, width=6)


class CustomerBase:
    """Every customer signed so far (segment, region, base MRR) and who is still active."""

    def __init__(self, rng: np.random.Generator, count: int):
        self.rng = rng
        self.segment = np.empty(0, dtype=np.int64)
        self.region = np.empty(0, dtype=np.int64)
        self.base_mrr = np.empty(0)
        self.active = np.empty(0, dtype=bool)
        self.current = self._sign(count)
        self.new = np.empty(0, dtype=np.int64)

    def _sign(self, n: int) -> np.ndarray:
        """Add n new active customers; return their indices."""
        segment = self.rng.choice(3, n, p=SEGMENT_SHARE)
        first = len(self.segment)
        self.segment = np.concatenate([self.segment, segment])
        self.region = np.concatenate([self.region, self.rng.choice(4, n, p=REGION_SHARE)])
        mrr = SEGMENT_MRR[segment] * self.rng.lognormal(0.0, 0.45, n)
        self.base_mrr = np.concatenate([self.base_mrr, mrr])
        self.active = np.concatenate([self.active, np.ones(n, dtype=bool)])
        return np.arange(first, first + n)

    def mrr(self, index: np.ndarray, month: Month) -> np.ndarray:
        """Monthly recurring revenue in a month (list prices rise about 5 % a year)."""
        return np.round(self.base_mrr[index] * 1.004**month.t, 2)

    def advance(self, month: Month, levels: Drivers) -> dict:
        """Churn and sign customers for the month; return its month-end snapshot rows."""
        before = np.flatnonzero(self.active)
        propensity = SEGMENT_CHURN[self.segment[before]]
        n_churn = min(len(before) - 1, int(self.rng.binomial(len(before), levels.churn_rate)))
        churned = self.rng.choice(before, n_churn, replace=False, p=propensity / propensity.sum())
        self.active[churned] = False
        gap = levels.active_customers - (len(before) - n_churn)
        self.new = self._sign(max(0, gap + int(self.rng.integers(-3, 4))))
        self.current = np.flatnonzero(self.active)
        rows = np.sort(np.concatenate([self.current, churned]))
        is_active = self.active[rows]
        return {
            "snapshot_date": np.full(len(rows), month.last),
            "customer_id": customer_ids(rows),
            "segment": labels(SEGMENTS, self.segment[rows]),
            "region": labels(REGIONS, self.region[rows]),
            "mrr_usd": decimals(np.where(is_active, self.mrr(rows, month), 0.0), MRR),
            "status": labels(("churned", "active"), is_active.astype(np.int64)),
        }

    def subscription_revenue(self, month: Month) -> float:
        """The month's recurring revenue of the active customers."""
        return float(self.mrr(self.current, month).sum())


def opportunities(
    ctx: RowContext, month: Month, levels: Drivers, customers: CustomerBase, reps: pa.Array
) -> dict:
    """The opportunities closed in the month, won ones first landing the new customers."""
    rng = ctx.rng
    n = ctx.count(BASE_OPPORTUNITIES, levels.volume)
    close = np.sort(random_days(rng, month, n))
    created = close - (7 + rng.gamma(2.0, 25.0, n)).astype("timedelta64[D]")
    won = rng.random(n) < levels.win_rate
    who = rng.choice(customers.current, n)
    won_rows = np.flatnonzero(won)[: len(customers.new)]
    who[won_rows] = customers.new[: len(won_rows)]
    amount = 0.55 * levels.revenue * ctx.weights(n, 0.9) / (n * 1.5)
    return {
        "opportunity_id": ids("OPP-", ctx.numbers("opportunities", n)),
        "customer_id": customer_ids(who),
        "created_date": created,
        "close_date": close,
        "stage": labels(STAGES, won.astype(np.int64)),
        "amount_usd": decimals(amount, MONEY),
        "sales_rep": reps.take(pa.array(rng.integers(0, len(reps), n))),
    }


def nps_responses(ctx: RowContext, month: Month, levels: Drivers, customers: CustomerBase) -> dict:
    """The month's NPS answers: promoter and detractor shares set by the month's NPS level."""
    rng = ctx.rng
    n = ctx.count(BASE_NPS, len(customers.current) / 1100)
    shift = (levels.nps - 40) / 200
    promoter, detractor = 0.52 + shift, max(0.01, 0.12 - shift)
    u = rng.random(n)
    score = np.where(
        u < promoter, rng.choice([9, 10], n, p=[0.45, 0.55]), rng.choice([7, 8], n, p=[0.45, 0.55])
    )
    score = np.where(u >= 1 - detractor, rng.choice(7, n, p=DETRACTOR_SCORES), score)
    return {
        "response_id": ids("NPS-", ctx.numbers("nps_responses", n)),
        "customer_id": customer_ids(rng.choice(customers.current, n)),
        "response_date": np.sort(random_days(rng, month, n, weekdays=False, weekend_weight=0.4)),
        "score": score,
    }

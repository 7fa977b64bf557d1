"""Operations exports: orders and their deliveries, defect reports and support tickets."""

from __future__ import annotations

import numpy as np

from pipelines.demo.context import RowContext
from pipelines.demo.crm import CustomerBase, customer_ids
from pipelines.demo.drivers import Drivers
from pipelines.demo.exports import MONEY, decimals, ids, labels, nullable_ints
from pipelines.demo.months import Month, random_days

SEVERITIES, SEVERITY_SHARE = ("minor", "major", "critical"), np.array([0.62, 0.30, 0.08])
CATEGORIES = (
    "calibration",
    "firmware",
    "hardware_fault",
    "packaging",
    "wrong_item",
    "documentation",
)
CATEGORY_SHARE = np.array([0.26, 0.18, 0.22, 0.14, 0.12, 0.08])
PRIORITIES, PRIORITY_SHARE = ("low", "normal", "high", "urgent"), np.array([0.27, 0.5, 0.17, 0.06])
PRIORITY_PACE = np.array([1.5, 1.0, 0.6, 0.3])  # relative resolution time
CHANNELS, CHANNEL_SHARE = ("email", "phone", "portal", "chat"), np.array([0.38, 0.22, 0.28, 0.12])
BASE_ORDERS, BASE_TICKETS = 6950, 4170
REPORT_WINDOW_DAYS = 45  # defects are reported within this many days of delivery
DAY = np.timedelta64(1, "D")


class RecentDeliveries:
    """Orders delivered in the last few months (sorted by delivery), for defect reports."""

    def __init__(self):
        self.months: list[tuple[np.ndarray, np.ndarray]] = []
        self.numbers = np.empty(0, dtype=np.int64)
        self.delivered = np.empty(0, dtype="datetime64[D]")

    def add(self, numbers: np.ndarray, delivered: np.ndarray) -> None:
        """Remember a month's orders (undelivered ones are skipped); keep three months."""
        done = ~np.isnat(delivered)
        self.months = [*self.months[-2:], (numbers[done], delivered[done])]
        numbers = np.concatenate([m[0] for m in self.months])
        delivered = np.concatenate([m[1] for m in self.months])
        order = np.argsort(delivered, kind="stable")
        self.numbers, self.delivered = numbers[order], delivered[order]

    def pick(
        self, rng: np.random.Generator, reported: np.ndarray, month: Month
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per report date an order delivered shortly before (else by month end), and the date."""
        lo = np.searchsorted(self.delivered, reported - REPORT_WINDOW_DAYS * DAY, side="left")
        hi = np.searchsorted(self.delivered, reported, side="right")
        none = hi <= lo
        lo[none], hi[none] = 0, np.searchsorted(self.delivered, month.last, side="right")
        keep = hi > lo
        lo, hi, reported = lo[keep], hi[keep], reported[keep]
        offset = np.floor(rng.random(len(lo)) * (hi - lo)).astype(np.int64)
        at = lo + np.minimum(hi - lo - 1, offset)
        return self.numbers[at], np.maximum(reported, self.delivered[at])


def _delivery(ctx: RowContext, levels: Drivers, ordered: np.ndarray):
    """Promised and delivered dates: cycle days around the month's level, a share late."""
    rng, n = ctx.rng, len(ordered)
    cycle = np.maximum(1, np.rint(1 + rng.gamma(3.0, (levels.cycle_days - 1) / 3.0, n)))
    late = rng.random(n) < levels.late_delivery_share
    cycle = np.where(late, np.maximum(cycle, 3), cycle)
    slack = np.where(late, -np.minimum(cycle - 1, 1 + rng.poisson(1.5, n)), rng.poisson(1.2, n))
    delivered = ordered + cycle.astype("timedelta64[D]")
    promised = delivered + slack.astype("timedelta64[D]")
    return promised, ctx.censor(delivered)


def orders(
    ctx: RowContext, month: Month, levels: Drivers, customers: CustomerBase, product_revenue: float
) -> tuple[dict, np.ndarray, np.ndarray]:
    """The month's orders (amounts add up to instrument sales), their numbers and deliveries."""
    rng = ctx.rng
    n = ctx.count(BASE_ORDERS, levels.volume)
    ordered = np.sort(random_days(rng, month, n))
    quantity = rng.geometric(0.45, n)
    weight = quantity * ctx.weights(n, 0.5)
    promised, delivered = _delivery(ctx, levels, ordered)
    numbers = ctx.numbers("orders", n)
    columns = {
        "order_id": ids("ORD-", numbers),
        "customer_id": customer_ids(rng.choice(customers.current, n)),
        "order_date": ordered,
        "promised_date": promised,
        "delivered_date": delivered,
        "quantity": quantity,
        "amount_usd": decimals(np.maximum(0.01, product_revenue * weight / weight.sum()), MONEY),
    }
    return columns, numbers, delivered


def defects(
    ctx: RowContext, month: Month, levels: Drivers, recent: RecentDeliveries, n_orders: int
) -> dict:
    """Defects reported in the month against recently delivered orders."""
    rng = ctx.rng
    expected = levels.defects_per_1000 * n_orders / 1000
    wanted = random_days(rng, month, max(3, int(rng.poisson(expected))))
    order, reported = recent.pick(rng, wanted, month)
    ranked = np.argsort(reported, kind="stable")
    order, reported, n = order[ranked], reported[ranked], len(order)
    return {
        "defect_id": ids("DEF-", ctx.numbers("defects", n), width=6),
        "order_id": ids("ORD-", order),
        "reported_date": reported,
        "severity": labels(SEVERITIES, rng.choice(3, n, p=SEVERITY_SHARE)),
        "category": labels(CATEGORIES, rng.choice(len(CATEGORIES), n, p=CATEGORY_SHARE)),
    }


def _opened_at(ctx: RowContext, month: Month, n: int) -> np.ndarray:
    """Opening timestamps: mostly weekdays, mostly office hours."""
    days = random_days(ctx.rng, month, n, weekdays=False, weekend_weight=0.25)
    seconds = np.clip(ctx.rng.normal(13.5 * 3600, 3.3 * 3600, n), 0, 86399).astype(np.int64)
    return np.sort(days.astype("datetime64[s]") + seconds.astype("timedelta64[s]"))


def support_tickets(
    ctx: RowContext, month: Month, levels: Drivers, customers: CustomerBase
) -> dict:
    """The month's tickets: resolution hours and ratings around the month's service levels."""
    rng = ctx.rng
    busy = 1.12 if month.moy in (11, 12, 1) else 1.0
    n = ctx.count(BASE_TICKETS, busy * len(customers.current) / 1100)
    opened = _opened_at(ctx, month, n)
    priority = rng.choice(4, n, p=PRIORITY_SHARE)
    pace = PRIORITY_PACE[priority] / (PRIORITY_SHARE @ PRIORITY_PACE)
    sigma = 0.85
    hours = rng.lognormal(np.log(levels.resolution_hours) - sigma**2 / 2, sigma, n) * pace
    resolved = ctx.censor(opened + np.rint(hours * 3600).astype("timedelta64[s]"))
    unanswered = np.isnat(resolved) | (rng.random(n) >= 0.38)
    favourable = rng.random(n) < levels.csat
    score = np.where(
        favourable, rng.choice([4, 5], n, p=[0.4, 0.6]), rng.choice([1, 2, 3], n, p=[0.2, 0.3, 0.5])
    )
    return {
        "ticket_id": ids("TCK-", ctx.numbers("support_tickets", n)),
        "customer_id": customer_ids(rng.choice(customers.current, n)),
        "opened_at": opened,
        "resolved_at": resolved,
        "priority": labels(PRIORITIES, priority),
        "channel": labels(CHANNELS, rng.choice(4, n, p=CHANNEL_SHARE)),
        "satisfaction_score": nullable_ints(score, unanswered),
    }

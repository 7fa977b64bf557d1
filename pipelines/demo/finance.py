"""Finance exports: general-ledger lines and customer invoices."""

from __future__ import annotations

import numpy as np

from pipelines.demo.context import RowContext
from pipelines.demo.crm import CustomerBase, customer_ids
from pipelines.demo.drivers import Drivers
from pipelines.demo.exports import MONEY, decimals, ids, labels
from pipelines.demo.hr import DEPARTMENT_SHARE, DEPARTMENTS
from pipelines.demo.months import Month, random_days

# code, name, type, share of its type's total (revenue shares are set per month), department
ACCOUNTS = (
    ("4000", "Instrument sales", "revenue", 0.0, "sales"),
    ("4100", "Subscription revenue", "revenue", 0.0, "customer_success"),
    ("4200", "Service and calibration revenue", "revenue", 0.0, "field_service"),
    ("4300", "Training and consulting revenue", "revenue", 0.0, "customer_success"),
    ("5000", "Materials and components", "cost_of_sales", 0.45, "manufacturing"),
    ("5100", "Direct labour", "cost_of_sales", 0.25, "manufacturing"),
    ("5200", "Freight and logistics", "cost_of_sales", 0.10, "manufacturing"),
    ("5300", "Field service costs", "cost_of_sales", 0.20, "field_service"),
    ("6000", "Salaries and wages", "operating_expense", 0.55, ""),
    ("6100", "Rent and facilities", "operating_expense", 0.10, "finance"),
    ("6200", "Marketing", "operating_expense", 0.10, "sales"),
    ("6300", "Travel", "operating_expense", 0.05, "sales"),
    ("6400", "Software and IT", "operating_expense", 0.08, "engineering"),
    ("6500", "Professional fees", "operating_expense", 0.05, "finance"),
    ("6600", "Training and development", "operating_expense", 0.03, "people"),
    ("6700", "Recruiting", "operating_expense", 0.04, "people"),
)
TYPES = ("revenue", "cost_of_sales", "operating_expense")
LINE_SHARE = {"revenue": 0.38, "cost_of_sales": 0.32, "operating_expense": 0.30}
ACCOUNT_TYPE = np.array([TYPES.index(a[2]) for a in ACCOUNTS])
ACCOUNT_DEPARTMENT = np.array([DEPARTMENTS.index(a[4]) if a[4] else -1 for a in ACCOUNTS])
TERMS, TERM_SHARE = np.array([30, 45, 60]), np.array([0.45, 0.35, 0.20])
BASE_GL, BASE_INVOICES = 11100, 1390
INSTRUMENT, SUBSCRIPTION = 0, 1


def account_totals(levels: Drivers, subscriptions: float) -> np.ndarray:
    """The month's total per account: revenue split around subscriptions, costs by shares."""
    revenue = levels.revenue
    subscription = min(subscriptions, 0.5 * revenue)
    rest = revenue - subscription
    totals = np.array([a[3] for a in ACCOUNTS])
    totals[:4] = [0.62 * rest, subscription, 0.28 * rest, 0.10 * rest]
    totals[ACCOUNT_TYPE == 1] *= revenue * (1 - levels.gross_margin_pct / 100)
    totals[ACCOUNT_TYPE == 2] *= levels.opex
    return totals


def _lines_per_account(ctx: RowContext, n: int, totals: np.ndarray) -> np.ndarray:
    """How many ledger lines each account gets (at least one)."""
    share = np.array([LINE_SHARE[TYPES[k]] for k in ACCOUNT_TYPE])
    for kind in range(3):
        in_type = ACCOUNT_TYPE == kind
        share[in_type] *= totals[in_type] / totals[in_type].sum()
    return 1 + ctx.rng.multinomial(max(0, n - len(ACCOUNTS)), share / share.sum())


def gl_entries(ctx: RowContext, month: Month, levels: Drivers, totals: np.ndarray) -> dict:
    """The month's ledger lines: each account's total split over log-normal line amounts."""
    rng = ctx.rng
    n_lines = _lines_per_account(ctx, ctx.count(BASE_GL, levels.volume), totals)
    account = np.repeat(np.arange(len(ACCOUNTS)), n_lines)
    weight = ctx.weights(len(account), 0.9)
    amount = totals[account] * weight / np.bincount(account, weight)[account]
    department = ACCOUNT_DEPARTMENT[account]
    payroll = department < 0
    department[payroll] = rng.choice(7, int(payroll.sum()), p=DEPARTMENT_SHARE)
    dates = random_days(rng, month, len(account))
    order = np.argsort(dates, kind="stable")
    account = account[order]
    return {
        "entry_id": ids("GL-", ctx.numbers("gl_entries", len(account))),
        "entry_date": dates[order],
        "account_code": labels([a[0] for a in ACCOUNTS], account),
        "account_name": labels([a[1] for a in ACCOUNTS], account),
        "account_type": labels(TYPES, ACCOUNT_TYPE[account]),
        "department": labels(DEPARTMENTS, department[order]),
        "amount_usd": decimals(np.maximum(0.01, amount[order]), MONEY),
    }


def _payment_days(ctx: RowContext, levels: Drivers, terms: np.ndarray) -> np.ndarray:
    """Days from issue to payment: most pay shortly before the due date, a share late."""
    rng, n = ctx.rng, len(terms)
    late_days = float(np.clip(20 + 4 * (levels.collection_days - 40), 8, 45))
    share = levels.late_payment_share
    mean_terms = float(TERMS @ TERM_SHARE)
    on_time_mean = (levels.collection_days - share * (mean_terms + 1 + late_days)) / (1 - share)
    slack = float(np.clip(mean_terms - on_time_mean, 0.5, 15))
    early = np.minimum(terms - 3, np.rint(rng.gamma(2.0, slack / 2.0, n)))
    late = 1 + rng.geometric(1 / late_days, n)
    return np.where(rng.random(n) < share, terms + late, terms - early)


def invoices(ctx: RowContext, month: Month, levels: Drivers, customers: CustomerBase) -> dict:
    """The month's invoices: amounts add up to the month's revenue; unpaid ones near the end."""
    rng = ctx.rng
    n = ctx.count(BASE_INVOICES, levels.volume)
    issued = np.sort(random_days(rng, month, n))
    terms = rng.choice(TERMS, n, p=TERM_SHARE)
    paid = issued + _payment_days(ctx, levels, terms).astype("timedelta64[D]")
    weight = ctx.weights(n, 1.0)
    return {
        "invoice_id": ids("INV-", ctx.numbers("invoices", n), width=6),
        "customer_id": customer_ids(rng.choice(customers.current, n)),
        "issue_date": issued,
        "due_date": issued + terms.astype("timedelta64[D]"),
        "paid_date": ctx.censor(paid),
        "amount_usd": decimals(np.maximum(0.01, levels.revenue * weight / weight.sum()), MONEY),
    }

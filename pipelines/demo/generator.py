"""Write the demo company's exports (docs/demo-data.md): deterministic per seed, scale and range."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import numpy as np

from pipelines.demo.context import RowContext
from pipelines.demo.crm import CustomerBase, nps_responses, opportunities
from pipelines.demo.drivers import Drivers, monthly_drivers
from pipelines.demo.exports import ExportWriters, RowSink
from pipelines.demo.finance import INSTRUMENT, account_totals, gl_entries, invoices
from pipelines.demo.hr import Workforce, engagement_responses, training_records
from pipelines.demo.months import Month, month_range
from pipelines.demo.operations import RecentDeliveries, defects, orders, support_tickets
from pipelines.demo.units import Countries, Outcomes, WithCountry


class _Company:
    """The demo company's state carried from month to month: customers, staff, deliveries."""

    def __init__(self, seed: int, scale: float, months: list[Month]):
        entities, rows = np.random.default_rng(seed).spawn(2)
        first = monthly_drivers(seed, months[0])
        self.seed = seed
        self.customers = CustomerBase(entities, first.active_customers)
        self.staff = Workforce(entities, first.headcount, months[0])
        self.deliveries = RecentDeliveries()
        self.ctx = RowContext(rows, scale, months[-1].last)

    def write_month(self, out: RowSink, month: Month) -> None:
        """Advance the company by a month and append that month's rows to every export."""
        levels = monthly_drivers(self.seed, month)
        out.write("crm/account_snapshots", self.customers.advance(month, levels))
        out.write("hr/roster", self.staff.advance(month, levels))
        self._finance(out, month, levels)
        ctx, customers, staff = self.ctx, self.customers, self.staff
        reps = staff.sales_reps()
        out.write("crm/opportunities", opportunities(ctx, month, levels, customers, reps))
        out.write("crm/nps_responses", nps_responses(ctx, month, levels, customers))
        out.write("hr/training_records", training_records(ctx, month, levels, staff))
        out.write("hr/engagement_responses", engagement_responses(ctx, month, levels, staff))
        out.write("operations/support_tickets", support_tickets(ctx, month, levels, customers))

    def _finance(self, out: RowSink, month: Month, levels: Drivers) -> None:
        """Ledger, invoices, and the orders that make up instrument sales (with their defects)."""
        totals = account_totals(levels, self.customers.subscription_revenue(month))
        out.write("finance/gl_entries", gl_entries(self.ctx, month, levels, totals))
        out.write("finance/invoices", invoices(self.ctx, month, levels, self.customers))
        placed, numbers, delivered = orders(
            self.ctx, month, levels, self.customers, float(totals[INSTRUMENT])
        )
        out.write("operations/orders", placed)
        self.deliveries.add(numbers, delivered)
        out.write(
            "operations/defects", defects(self.ctx, month, levels, self.deliveries, len(numbers))
        )


def _countries(seed: int, scale: float, months: list[Month]) -> Countries:
    """Run the company once without writing to see who went through what, then give everyone a
    country (pipelines/demo/units.py); the second run, which writes, draws exactly the same."""
    company = _Company(seed, scale, months)
    outcomes = Outcomes(initial_customers=len(company.customers.active))
    for month in months:
        company.write_month(outcomes, month)
    return outcomes.countries(seed)


def _swap_into_place(staging: Path, out_dir: Path) -> None:
    """Replace out_dir by the fully written staging folder (the old one is removed after)."""
    previous = staging.with_name(staging.name + "-previous")
    if out_dir.exists():
        out_dir.rename(previous)
    try:
        staging.rename(out_dir)
    except OSError:
        if previous.exists():
            previous.rename(out_dir)
        raise
    shutil.rmtree(previous, ignore_errors=True)


def generate_demo(
    out_dir: Path, *, start: str, end: str, scale: float = 1.0, seed: int = 7
) -> dict[str, int]:
    """Write the demo exports for months start..end ('YYYY-MM', inclusive) under out_dir/<system>/<table>.csv; return rows written per 'system/table'."""  # noqa: E501
    months = month_range(start, end)
    if not scale > 0:
        raise ValueError(f"scale must be positive, not {scale}")
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = out_dir.with_name(f".{out_dir.name}.{uuid.uuid4().hex[:12]}.partial")
    staging.mkdir()
    try:
        countries = _countries(seed, scale, months)
        company = _Company(seed, scale, months)
        with ExportWriters(staging) as files:
            out = WithCountry(files, countries)
            for month in months:
                company.write_month(out, month)
        _swap_into_place(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return files.rows

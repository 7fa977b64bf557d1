"""The demo company's business units: the `country` column of every export (docs/demo-data.md).

Countries are drawn from a random stream of their own, never from the streams that draw the other
columns, so every other value is the same as without them. A customer keeps one country in every
table that names it, an employee in every HR table, a defect takes its order's; ledger lines,
which name neither, get one each. Who goes where leans on outcomes the generator has already
drawn over the whole range, found by a first pass that writes nothing (`Outcomes`): customers
with more late deliveries and slower tickets lean to APAC, customers who win more of their deals
to the Americas, voluntary leavers to the UK, cost-of-sales lines away from EMEA. The shares per
country are then calibrated back to the mix below.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.demo.exports import labels
from pipelines.demo.operations import PRIORITIES, PRIORITY_PACE

COUNTRIES = ("DE", "FR", "GB", "NL", "ES", "US", "CA", "MX", "JP", "AU", "SG")
REGION_OF = ("emea",) * 5 + ("americas",) * 3 + ("apac",) * 3
SHARE = np.array([18, 9, 10, 5, 3, 27, 5, 3, 8, 7, 5]) / 100  # of customers, staff, ledger lines
EMEA, AMERICAS, APAC = (np.array(REGION_OF) == name for name in ("emea", "americas", "apac"))
UK = np.array(COUNTRIES) == "GB"
# log-odds added per standard deviation of a customer's record, and for a voluntary leaver
LATE_TILT, SLOW_TILT, WIN_TILT, LEAVER_TILT = 1.0, 1.0, 1.0, 1.1
# ledger lines: relative odds of a cost-of-sales line per region (EMEA's margin is higher)
COST_TILT = np.where(EMEA, 0.9, 1.06)
STREAM = 8747  # the units' seed component (the drivers use 7919)


def _numbers(values: pa.Array, prefix: int) -> np.ndarray:
    """The numbers of ids like C-000123 (prefix: the letters and dash to skip)."""
    digits = pc.utf8_slice_codeunits(values, prefix)
    return pc.cast(digits, pa.int64()).to_numpy(zero_copy_only=False)


class _Counts:
    """Sums per entity index, growing as new indices come."""

    def __init__(self):
        self.size = 0
        self.sums: dict[str, np.ndarray] = {}

    def add(self, name: str, index: np.ndarray, values: np.ndarray | None = None) -> None:
        if len(index) == 0:
            return
        size = max(self.size, int(index.max()) + 1)
        if size > self.size:
            self.sums = {k: np.pad(v, (0, size - self.size)) for k, v in self.sums.items()}
            self.size = size
        total = self.sums.setdefault(name, np.zeros(self.size))
        total += np.bincount(index, weights=values, minlength=self.size)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.sums.get(name, np.zeros(self.size))


class Outcomes:
    """Pass one: what each customer and employee went through in the range (nothing is written).

    It takes the place of the export writers: `write` receives every table's month of columns.
    """

    def __init__(self, initial_customers: int):
        self.initial_customers = initial_customers
        self.customers, self.employees = _Counts(), _Counts()
        self.first_seen = np.empty(0, dtype=np.int64)  # month number of a customer's first row
        self.month = -1
        self.ticket_sd = np.zeros(2)  # residual count and sum of squares, for their spread

    def write(self, key: str, columns: dict) -> None:
        """Tally one table's rows of a month."""
        handler = getattr(self, "_" + key.split("/")[1], None)
        if handler is not None:
            handler(columns)

    def _account_snapshots(self, columns: dict) -> None:  # the first table of every month
        self.month += 1
        who = _numbers(columns["customer_id"], 2) - 1
        self.customers.add("months", who)
        seen = np.full(self.customers.size, -1, dtype=np.int64)
        seen[: len(self.first_seen)] = self.first_seen
        seen[who] = np.where(seen[who] < 0, self.month, seen[who])
        self.first_seen = seen

    def _opportunities(self, columns: dict) -> None:
        who = _numbers(columns["customer_id"], 2) - 1
        won = pc.equal(columns["stage"], "closed_won").to_numpy(zero_copy_only=False)
        # the deal that landed a new customer is won by construction: it says nothing about them
        landing = won & (self.first_seen[who] == self.month) & (who >= self.initial_customers)
        self.customers.add("deals", who[~landing])
        self.customers.add("won", who[~landing], won[~landing].astype(float))

    def _orders(self, columns: dict) -> None:
        delivered, promised = columns["delivered_date"], columns["promised_date"]
        done = ~np.isnat(delivered)
        who = _numbers(columns["customer_id"], 2)[done] - 1
        self.customers.add("delivered", who)
        self.customers.add("late", who, (delivered[done] > promised[done]).astype(float))

    def _support_tickets(self, columns: dict) -> None:
        opened, resolved = columns["opened_at"], columns["resolved_at"]
        done = ~np.isnat(resolved)
        if not done.any():
            return
        seconds = np.maximum(1, (resolved[done] - opened[done]).astype(np.int64))
        priority = pc.index_in(columns["priority"], value_set=pa.array(PRIORITIES))
        pace = PRIORITY_PACE[priority.to_numpy(zero_copy_only=False)[done]]
        log_hours = np.log(seconds / 3600 / pace)
        residual = log_hours - log_hours.mean()
        self.ticket_sd += [len(residual), float(residual @ residual)]
        who = _numbers(columns["customer_id"], 2)[done] - 1
        self.customers.add("tickets", who)
        self.customers.add("slowness", who, residual)

    def _roster(self, columns: dict) -> None:
        who = _numbers(columns["employee_id"], 2) - 1
        kind = columns["termination_type"]
        voluntary = pc.fill_null(pc.equal(kind, "voluntary"), False)
        self.employees.add("months", who)
        self.employees.add("voluntary", who, voluntary.to_numpy(zero_copy_only=False).astype(float))

    def countries(self, seed: int) -> Countries:
        """Every customer's and employee's country, drawn from the units' own stream."""
        customers, employees, ledger = np.random.SeedSequence([seed, STREAM]).spawn(3)
        c, e = self.customers, self.employees
        sd = np.sqrt(self.ticket_sd[1] / max(1.0, self.ticket_sd[0]))
        slow = np.where(c["tickets"] > 0, c["slowness"] / (sd * np.sqrt(c["tickets"]) + 1e-12), 0)
        late, won = _binomial_z(c["late"], c["delivered"]), _binomial_z(c["won"], c["deals"])
        tilt = np.zeros((c.size, len(COUNTRIES)))
        tilt[:, APAC] += (LATE_TILT * late + SLOW_TILT * slow)[:, None]
        tilt[:, AMERICAS] += (WIN_TILT * won)[:, None]
        leaver = np.zeros((e.size, len(COUNTRIES)))
        leaver[:, UK] += LEAVER_TILT * (e["voluntary"] > 0)[:, None]
        return Countries(
            customer=_draw(np.random.default_rng(customers), tilt, c["months"]),
            employee=_draw(np.random.default_rng(employees), leaver, e["months"]),
            ledger=np.random.default_rng(ledger),
        )


def _binomial_z(hits: np.ndarray, trials: np.ndarray) -> np.ndarray:
    """How far each entity's hit count is above the overall rate, in standard deviations."""
    p = hits.sum() / max(1.0, trials.sum())
    spread = np.sqrt(np.maximum(p * (1 - p) * trials, 1e-12))
    return np.clip(np.where(trials > 0, (hits - p * trials) / spread, 0.0), -4, 4)


def _draw(rng: np.random.Generator, tilt: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """A country per entity: shares tilted per entity, calibrated so the weighted mix is SHARE."""
    logits = np.log(SHARE) + tilt
    shift = np.zeros(len(SHARE))
    for _ in range(100):
        p = _softmax(logits + shift)
        mix = weight @ p / max(1.0, weight.sum())
        if np.abs(mix - SHARE).max() < 1e-9:
            break
        shift += np.log(SHARE / np.maximum(mix, 1e-12))
    return _balanced_choice(rng, _softmax(logits + shift))


def _balanced_choice(rng: np.random.Generator, p: np.ndarray) -> np.ndarray:
    """A column index per row of p, row i picking j with probability p[i, j], the count of each
    j within about one of its expected count (systematic sampling, one column after the other,
    over the rows not yet placed, in a random order): a few hundred employees keep the mix."""
    n, k = p.shape
    order = rng.permutation(n)
    picked = np.full(n, k - 1)
    open_ = np.ones(n, dtype=bool)
    left = np.ones(n)  # the probability not yet spent on earlier columns
    for j in range(k - 1):
        rows = order[open_[order]]
        q = np.clip(p[rows, j] / np.maximum(left[rows], 1e-12), 0.0, 1.0)
        end = np.cumsum(q) + rng.random()
        chosen = rows[np.floor(end) > np.floor(end - q)]
        picked[chosen] = j
        open_[chosen] = False
        left[rows] -= p[rows, j]
    return picked


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class Countries:
    """Pass two: adds the `country` column to each table's month before it is written."""

    def __init__(self, customer: np.ndarray, employee: np.ndarray, ledger: np.random.Generator):
        self.customer, self.employee, self.ledger = customer, employee, ledger
        self.order = np.empty(0, dtype=np.int8)  # each order's country, by order number - 1

    def column(self, key: str, columns: dict) -> pa.Array:
        """The country of each row of one table's month."""
        if "customer_id" in columns:
            code = self.customer[_numbers(columns["customer_id"], 2) - 1]
        elif "employee_id" in columns:
            code = self.employee[_numbers(columns["employee_id"], 2) - 1]
        elif key == "operations/defects":
            code = self.order[_numbers(columns["order_id"], 4) - 1]
        elif key == "finance/gl_entries":
            code = self._ledger(columns["account_type"])
        else:
            raise KeyError(f"no country rule for {key}")
        if key == "operations/orders" and len(code):  # for the defects reported against them
            number = _numbers(columns["order_id"], 4) - 1
            grown = np.zeros(max(len(self.order), int(number.max()) + 1), dtype=np.int8)
            grown[: len(self.order)] = self.order
            grown[number] = code
            self.order = grown
        return labels(COUNTRIES, code)

    def _ledger(self, account_type: pa.Array) -> np.ndarray:
        """A country per ledger line; cost-of-sales lines less often in EMEA."""
        cost = pc.equal(account_type, "cost_of_sales").to_numpy(zero_copy_only=False)
        shares = np.where(cost[:, None], SHARE * COST_TILT / (SHARE @ COST_TILT), SHARE)
        u = self.ledger.random(len(cost))
        return np.minimum((u[:, None] >= shares.cumsum(axis=1)).sum(axis=1), len(SHARE) - 1)


class WithCountry:
    """The export writers, each table's rows given their `country` column on the way."""

    def __init__(self, writers, countries: Countries):
        self.writers, self.countries = writers, countries

    def write(self, key: str, columns: dict) -> None:
        """Append a month of rows with their countries."""
        self.writers.write(key, {**columns, "country": self.countries.column(key, columns)})

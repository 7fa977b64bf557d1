"""HR exports: the month-end roster, completed training and engagement pulse answers."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from pipelines.demo.context import RowContext, apportion
from pipelines.demo.drivers import Drivers
from pipelines.demo.exports import FTE, HOURS, decimals, ids, labels
from pipelines.demo.months import Month, random_days

DEPARTMENTS = (
    "sales",
    "customer_success",
    "engineering",
    "manufacturing",
    "field_service",
    "finance",
    "people",
)
DEPARTMENT_SHARE = np.array([0.16, 0.12, 0.20, 0.26, 0.14, 0.06, 0.06])
LEVELS = ("individual_contributor", "manager", "director", "executive")
LEVEL_SHARE = np.array([0.80, 0.14, 0.05, 0.01])
COURSES = (
    "Safety induction",
    "Quality management basics",
    "Calibration procedures",
    "Product update",
    "Customer conversations",
    "Data protection",
    "Leadership essentials",
    "Lean manufacturing",
    "Field service certification",
    "Spreadsheet skills",
)
COURSE_LENGTH = np.array([1.0, 1.5, 2.5, 0.5, 1.0, 0.5, 3.0, 2.0, 4.0, 1.0])
QUESTIONS = (
    "I know what is expected of me at work",
    "I have the tools and resources to do my job well",
    "My manager cares about me as a person",
    "I see a clear path for my career here",
    "I would recommend this company as a place to work",
    "My workload is manageable",
    "I receive recognition for good work",
    "I believe in the direction of the company",
)
QUESTION_TILT = np.array([0.07, -0.03, 0.05, -0.08, 0.02, -0.06, -0.02, 0.05])
BASE_TRAINING, BASE_ENGAGEMENT = 417, 694
TERMINATION_TYPES = ("voluntary", "involuntary")


class Workforce:
    """Every employee hired so far (department, level, hire date, FTE) and who is employed."""

    def __init__(self, rng: np.random.Generator, count: int, month: Month):
        self.rng = rng
        self.department = np.empty(0, dtype=np.int64)
        self.level = np.empty(0, dtype=np.int64)
        self.hired = np.empty(0, dtype="datetime64[D]")
        self.fte = np.empty(0)
        self.employed = np.empty(0, dtype=bool)
        tenure = (30 + rng.exponential(4 * 365, count)).astype("timedelta64[D]")
        self._hire(month.first - tenure)
        self.current = np.flatnonzero(self.employed)
        self.total_fte = float(self.fte.sum())

    def _hire(self, dates: np.ndarray) -> np.ndarray:
        """Add employees hired on the given dates; return their indices."""
        n, first = len(dates), len(self.hired)
        self.department = np.concatenate(
            [self.department, self.rng.choice(7, n, p=DEPARTMENT_SHARE)]
        )
        self.level = np.concatenate([self.level, self.rng.choice(4, n, p=LEVEL_SHARE)])
        self.hired = np.concatenate([self.hired, dates])
        self.fte = np.concatenate([self.fte, np.where(self.rng.random(n) < 0.07, 0.5, 1.0)])
        self.employed = np.concatenate([self.employed, np.ones(n, dtype=bool)])
        return np.arange(first, first + n)

    def _leavers(self, month: Month, levels: Drivers) -> tuple[np.ndarray, np.ndarray]:
        """Pick the month's leavers among those employed before it, and their types."""
        before = np.flatnonzero(self.employed)
        n_vol = int(self.rng.poisson(levels.voluntary_attrition * len(before)))
        n_invol = int(self.rng.poisson(levels.involuntary_attrition * len(before)))
        n = min(len(before) - 1, n_vol + n_invol)
        leavers = np.sort(self.rng.choice(before, n, replace=False))
        kind = np.zeros(n, dtype=np.int64)
        kind[self.rng.permutation(n)[: max(0, n - n_vol)]] = 1
        return leavers, kind

    def advance(self, month: Month, levels: Drivers) -> dict:
        """Hire and lose employees in the month; return its month-end roster rows."""
        leavers, kind = self._leavers(month, levels)
        gap = levels.headcount - (int(self.employed.sum()) - len(leavers))
        self._hire(
            np.sort(random_days(self.rng, month, max(0, gap + int(self.rng.integers(-2, 3)))))
        )
        self.employed[leavers] = False
        rows = np.sort(np.concatenate([np.flatnonzero(self.employed), leavers]))
        left = np.isin(rows, leavers)
        ended = np.full(len(rows), np.datetime64("NaT"), dtype="datetime64[D]")
        ended[left] = random_days(self.rng, month, int(left.sum()))
        kinds = np.zeros(len(rows), dtype=np.int64)
        kinds[left] = kind[np.searchsorted(leavers, rows[left])]
        self.current = np.flatnonzero(self.employed)
        self.total_fte = float(self.fte[rows].sum())
        return {
            "snapshot_date": np.full(len(rows), month.last),
            "employee_id": employee_ids(rows),
            "department": labels(DEPARTMENTS, self.department[rows]),
            "job_level": labels(LEVELS, self.level[rows]),
            "hire_date": self.hired[rows],
            "termination_date": ended,
            "termination_type": pa.array(
                np.array(TERMINATION_TYPES, dtype=object)[kinds], mask=~left, type=pa.string()
            ),
            "fte": decimals(self.fte[rows], FTE),
        }

    def sales_reps(self) -> pa.Array:
        """Ids of the employed sales people."""
        reps = self.current[self.department[self.current] == 0]
        return employee_ids(reps if len(reps) else self.current)


def employee_ids(index: np.ndarray) -> pa.Array:
    """E-00001 style ids of employees by index."""
    return ids("E-", np.asarray(index) + 1, width=5)


def _dates_after_hire(rng, month: Month, who: np.ndarray, staff: Workforce) -> np.ndarray:
    """Random weekdays of the month, none before the employee's hire date."""
    return np.maximum(random_days(rng, month, len(who)), staff.hired[who])


def training_records(ctx: RowContext, month: Month, levels: Drivers, staff: Workforce) -> dict:
    """Courses completed in the month; their hours add up to the month's hours per FTE."""
    rng = ctx.rng
    n = ctx.count(BASE_TRAINING)
    who = rng.choice(staff.current, n)
    course = rng.integers(0, len(COURSES), n)
    weight = COURSE_LENGTH[course] * ctx.weights(n, 0.25)
    tenths = int(round(levels.training_hours_per_fte * staff.total_fte * 10))
    hours = apportion(tenths, weight) / 10
    order = np.argsort(dates := _dates_after_hire(rng, month, who, staff), kind="stable")
    return {
        "record_id": ids("TR-", ctx.numbers("training_records", n)),
        "employee_id": employee_ids(who[order]),
        "course": labels(COURSES, course[order]),
        "completion_date": dates[order],
        "hours": decimals(hours[order], HOURS),
    }


def engagement_responses(ctx: RowContext, month: Month, levels: Drivers, staff: Workforce) -> dict:
    """The month's pulse answers: the favourable share set by the month's engagement level."""
    rng = ctx.rng
    n = ctx.count(BASE_ENGAGEMENT)
    who = rng.choice(staff.current, n)
    question = rng.integers(0, len(QUESTIONS), n)
    favourable = rng.random(n) < np.clip(
        levels.engagement_favourable + QUESTION_TILT[question], 0.02, 0.98
    )
    score = np.where(
        favourable,
        rng.choice([4, 5], n, p=[0.6, 0.4]),
        rng.choice([1, 2, 3], n, p=[0.1, 0.25, 0.65]),
    )
    order = np.argsort(dates := _dates_after_hire(rng, month, who, staff), kind="stable")
    return {
        "response_id": ids("ENG-", ctx.numbers("engagement_responses", n)),
        "employee_id": employee_ids(who[order]),
        "response_date": dates[order],
        "question": labels(QUESTIONS, question[order]),
        "score": score[order],
    }

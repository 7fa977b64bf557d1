"""The one patch of GE's internals (pipelines/quality/ge_configuration_memo.py) still applies,
and gives GE's own results: fails loudly on a GE upgrade that changes what it relies on."""

from __future__ import annotations

import contextlib
from datetime import datetime

import pandas as pd
import pytest
from great_expectations.expectations.expectation import Expectation

from pipelines.catalog import load_catalog
from pipelines.catalog.expectations import ExpectationEntry, parameters
from pipelines.periods import Period
from pipelines.quality import ge_configuration_memo, ge_runner
from pipelines.quality.ge_runner import BOOLEAN, SUMMARY, GeValidator
from pipelines.settings import PROJECT_ROOT

JAN, FEB = Period(2026, 1), Period(2026, 2)
AS_OF = datetime(2026, 3, 4, 5)


def test_the_internal_the_memo_relies_on_is_still_there():
    """If this fails after upgrading Great Expectations, the memo is off (one warning at start,
    validation slower, verdicts the same): adapt or remove ge_configuration_memo.py."""
    assert ge_configuration_memo.PATCHABLE, (
        "Expectation.configuration is no longer a plain property in this Great Expectations"
    )
    assert isinstance(Expectation.__dict__["configuration"], property)


@pytest.fixture(scope="module")
def table():
    catalog = load_catalog(PROJECT_ROOT / "definitions", PROJECT_ROOT / "sql")
    return catalog.table("finance.gl_entries")


def test_memoised_configurations_give_ges_own_results(table, monkeypatch):
    """Every result, failing rows and samples included, equals GE's own, run after run with
    other months' parameters; outside a run the property is GE's."""
    ge = GeValidator()
    original = Expectation.__dict__["configuration"]
    entries = {i: e for i, e in enumerate(table.table.expectations) if e.expectation}
    between = 99  # a position after the table's own expectations
    entries[between] = ExpectationEntry(
        expectation="expect_column_values_to_be_between",
        severity="error",
        kwargs={
            "column": "entry_date",
            "min_value": {"$PARAMETER": "period_start"},
            "max_value": {"$PARAMETER": "period_end"},
        },
    )
    frame = pd.DataFrame(
        {
            "entry_id": ["GL-1", "GL-2", "GL-2", None, "GL-5", "GL-6"],
            "entry_date": pd.to_datetime(
                ["2026-01-03", "2026-01-04", "2026-01-05", "2026-01-06", "2026-02-07", "2026-01-08"]
            ),
            "account_code": ["4000", "4000", "5000", "4000", "4000", "40x0"],
            "account_name": ["Sale"] * 6,
            "account_type": ["revenue", "revenue", "cogs", "revenue", "bogus", "revenue"],
            "department": ["sales"] * 6,
            "amount_usd": [10.0, float("nan"), 5.0, float("inf"), -3.0, 1e12],
        }
    )

    def runs() -> str:
        answers = [
            ge.run(frame, entries, parameters(month, AS_OF), detail)
            for month in (JAN, FEB, JAN)
            for detail in (BOOLEAN, SUMMARY)
        ]
        return repr(answers)  # repr: nan != nan

    memoised = runs()
    assert Expectation.__dict__["configuration"] is original
    monkeypatch.setattr(ge_runner, "memoised_configurations", contextlib.nullcontext)
    assert memoised == runs()
    by_month = [ge.run(frame, entries, parameters(m, AS_OF), SUMMARY) for m in (JAN, FEB)]
    failed = [
        {entries[p].expectation for p, a in answers.items() if not a.success}
        for answers in by_month
    ]
    assert {
        "expect_column_values_to_be_unique",
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_be_between",
    } <= failed[0]
    assert [answers[between].result["unexpected_count"] for answers in by_month] == [1, 5]

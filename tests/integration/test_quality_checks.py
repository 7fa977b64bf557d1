"""The default expectations, each on data that breaks it: exactly the expected checks fail (and
only those), warnings stay warnings, an expectation that raises is errored (never passed), and a
backfill gives every month the verdict it gets alone."""

from __future__ import annotations

from datetime import datetime

import pytest

from pipelines.catalog.catalog import SourceTable
from pipelines.catalog.expectations import ExpectationEntry
from pipelines.ingest.files import load_file_table
from pipelines.periods import Period
from pipelines.quality.ge_runner import GeValidator
from pipelines.quality.outcomes import ERRORED, FAILED
from pipelines.quality.validate import validate_table
from pipelines.warehouse.connection import connect, ensure_tables

JAN, FEB = Period(2026, 1), Period(2026, 2)
AS_OF = datetime(2026, 6, 1)
GL = "entry_id,entry_date,account_code,account_name,account_type,department,amount_usd,country"


@pytest.fixture(scope="module")
def ge() -> GeValidator:
    return GeValidator()


@pytest.fixture
def con(paths, tiny_exports):
    con = connect(paths.warehouse)
    ensure_tables(con)
    yield con
    con.close()


def _load(con, paths, table: SourceTable, lines: list[str], first=JAN, last=JAN) -> None:
    path = paths.home / table.table.path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    load_file_table(con, table, first, last, paths.home, "load", as_of=AS_OF)


def _failing(verdict) -> dict[str, tuple[str, str]]:
    return {o.entry.label(): (o.outcome, o.entry.severity) for o in verdict.outcomes if o.failing}


def _gl_rows(month: str, count: int, last_day: int = 28) -> list[str]:
    return [
        f"GL-{month}-{i},{month}-{1 + i % last_day:02d},4000,Sale,revenue,sales,10.00,DE"
        for i in range(count)
    ]


def test_a_clean_month_passes_every_check(con, paths, catalog, ge):
    table = catalog.table("finance.gl_entries")
    load_file_table(con, table, JAN, JAN, paths.home, "load", as_of=AS_OF)
    [verdict] = validate_table(con, table, JAN, JAN, AS_OF, ge)
    assert (verdict.rows, verdict.status, _failing(verdict)) == (4, "passed", {})
    assert verdict.passed == len(table.table.expectations) == 13
    assert (verdict.latest_record, verdict.lag_days) == (datetime(2026, 1, 31), 0)


def test_each_row_level_default_fails_on_its_own_bad_value(con, paths, catalog, ge):
    table = catalog.table("finance.gl_entries")
    _load(
        con,
        paths,
        table,
        [
            GL,
            "GL-1,2026-01-05,4000,Product revenue,revenue,sales,1000.00,DE",
            "GL-1,2026-01-06,4000,Product revenue,revenue,sales,5.00,DE",  # duplicate business key
            "GL-3,2026-01-21,5000,Materials,,manufacturing,600.00,FR",  # no account_type
            "GL-4,2026-01-22,7000,Salaries,operating_expense,people,300.00,US",  # code not 4-6xxx
            "GL-5,2026-01-23,4000,Refund,revenue,sales,-5.00,US",  # a negative amount
            "GL-6,2026-01-24,4000,Sale,revenu,marketing,5.00,JP",  # type and department not allowed
            "GL-7,2026-01-31,4000,Sale,revenue,sales,5.00,GB",
        ],
    )
    [verdict] = validate_table(con, table, JAN, JAN, AS_OF, ge)
    assert _failing(verdict) == {
        "expect_column_values_to_be_unique(entry_id)": (FAILED, "error"),
        "expect_column_values_to_not_be_null(account_type)": (FAILED, "error"),
        "expect_column_values_to_match_regex(account_code)": (FAILED, "error"),
        "expect_column_values_to_be_between(amount_usd)": (FAILED, "error"),
        "expect_column_values_to_be_in_set(account_type)": (FAILED, "error"),
        "expect_column_values_to_be_in_set(department)": (FAILED, "warning"),
    }
    assert (verdict.failed, verdict.warned, verdict.status) == (5, 1, "failed")
    unique = next(o for o in verdict.outcomes if o.entry.label().endswith("_unique(entry_id)"))
    assert (unique.unexpected_count, unique.element_count) == (2, 7)
    assert unique.message == "2 of 7 rows unexpected"
    assert {r["entry_id"] for r in unique.sample} == {"GL-1"}
    amount = next(o for o in verdict.outcomes if o.entry.label().endswith("between(amount_usd)"))
    assert amount.sample == (
        {"entry_id": "GL-5", "entry_date": "2026-01-23T00:00:00", "amount_usd": -5.0},
    )


def test_month_level_defaults_empty_collapsed_and_stale_months(con, paths, catalog, ge):
    table = catalog.table("finance.gl_entries")
    # January: 200 rows to the 31st; February: 60 rows ending on the 10th; March: none
    _load(
        con,
        paths,
        table,
        [GL, *_gl_rows("2026-01", 200, 31), *_gl_rows("2026-02", 60, 10)],
        JAN,
        Period(2026, 3),
    )
    jan, feb, mar = validate_table(con, table, JAN, Period(2026, 3), AS_OF, ge)
    assert _failing(jan) == {}
    assert _failing(feb) == {
        "row_count_vs_previous": (FAILED, "error"),
        "freshness": (FAILED, "error"),
    }
    collapse = next(o for o in feb.outcomes if o.entry.name == "row_count_vs_previous")
    assert collapse.observed == {"rows": 60, "previous_rows": 200, "ratio": 0.3}
    assert feb.lag_days == 18
    assert _failing(mar) == {
        "expect_table_row_count_to_be_between": (FAILED, "error"),
        "freshness": (FAILED, "error"),
    }  # 0 < 60 * 0.5 is not judged: 60 < 100
    assert mar.rows == 0


def test_pair_future_and_snapshot_date_defaults(con, paths, catalog, ge):
    invoices = catalog.table("finance.invoices")
    _load(
        con,
        paths,
        invoices,
        [
            "invoice_id,customer_id,issue_date,due_date,paid_date,amount_usd,country",
            "I-1,C-1,2026-01-10,2026-02-09,2026-02-01,100.00,DE",
            "I-2,C-2,2026-01-11,2026-01-01,,100.00,US",  # due before issued
            "I-3,C-3,2026-01-31,2026-03-02,2026-07-01,100.00,GB",  # paid after as_of: in the future
        ],
    )
    [verdict] = validate_table(con, invoices, JAN, JAN, AS_OF, ge)
    assert _failing(verdict) == {
        "expect_column_pair_values_a_to_be_greater_than_b(due_date, issue_date)": (FAILED, "error"),
        "expect_column_values_to_be_between(paid_date)": (FAILED, "error"),
    }
    roster = catalog.table("hr.roster")
    _load(
        con,
        paths,
        roster,
        [
            "snapshot_date,employee_id,department,job_level,hire_date,termination_date,"
            "termination_type,fte,country",
            "2026-01-31,E-1,sales,manager,2020-01-01,,,1.0,DE",
            "2026-01-30,E-2,sales,manager,2020-01-01,,,1.0,US",  # not the month's last day
            "2026-01-31,E-3,sales,manager,2027-01-01,2025-12-20,voluntary,-1.0,GB",
            "2026-01-31,E-1,finance,manager,2020-01-01,,,0.5,DE",  # E-1 twice on one roster
        ],
    )
    [verdict] = validate_table(con, roster, JAN, JAN, AS_OF, ge)
    assert _failing(verdict) == {
        "expect_column_values_to_be_between(snapshot_date)": (FAILED, "error"),
        "expect_column_values_to_be_between(fte)": (FAILED, "error"),  # negative headcount
        "expect_column_pair_values_a_to_be_greater_than_b(snapshot_date, hire_date)": (
            FAILED,
            "error",
        ),
        "expect_column_values_to_be_between(termination_date)": (FAILED, "error"),
        "expect_compound_columns_to_be_unique(snapshot_date, employee_id)": (FAILED, "error"),
    }


def test_a_type_drift_fails_column_types(con, paths, catalog, ge):
    table = catalog.table("finance.gl_entries")
    load_file_table(con, table, JAN, JAN, paths.home, "load", as_of=AS_OF)
    con.execute("alter table raw.finance_gl_entries alter amount_usd type double")
    [verdict] = validate_table(con, table, JAN, JAN, AS_OF, ge)
    assert _failing(verdict) == {"column_types": (FAILED, "error")}
    drift = next(o for o in verdict.outcomes if o.entry.name == "column_types")
    assert drift.message == "amount_usd: DOUBLE, declared decimal"


def test_an_expectation_that_raises_is_errored_and_counts_as_failed(con, paths, catalog, ge):
    base = catalog.table("finance.gl_entries")
    entries = [
        ExpectationEntry.model_validate(e)
        for e in (
            {
                # amounts against a date: raises
                "expectation": "expect_column_values_to_be_between",
                "kwargs": {"column": "amount_usd", "min_value": {"$PARAMETER": "as_of"}},
                "severity": "warning",
            },
            {
                "expectation": "expect_column_values_to_not_be_null",
                "kwargs": {"column": "entry_id"},
                "severity": "error",
            },
        )
    ]
    table = SourceTable(base.source, base.table.model_copy(update={"expectations": entries}))
    load_file_table(con, table, JAN, FEB, paths.home, "load", as_of=AS_OF)
    for verdict in validate_table(con, table, JAN, FEB, AS_OF, ge):
        raised, not_null = verdict.outcomes
        assert (raised.outcome, not_null.outcome) == (ERRORED, "passed")
        assert raised.message == (
            "'>=' not supported between instances of 'float' and 'datetime.datetime'"
        )
        assert (verdict.passed, verdict.warned, verdict.errored, verdict.status) == (
            1,
            1,
            1,
            "warned",
        )
    error_level = [e.model_copy(update={"severity": "error"}) for e in entries]
    table = SourceTable(base.source, base.table.model_copy(update={"expectations": error_level}))
    [verdict] = validate_table(con, table, JAN, JAN, AS_OF, ge)
    assert (verdict.failed, verdict.status) == (1, "failed")


def test_a_backfill_gives_each_month_the_verdict_it_gets_alone(con, paths, catalog, ge):
    table = catalog.table("finance.gl_entries")
    rows = [*_gl_rows("2026-01", 150, 31), *_gl_rows("2026-02", 140, 28)]
    rows[3] = rows[3].replace(",sales,", ",marketing,")  # a January warning
    rows[200] = rows[200].replace("GL-2026-02-50", "GL-2026-01-7")  # a key seen in January only
    rows[201] = rows[201].replace(",10.00", ",-1.00")  # a February error
    _load(con, paths, table, [GL, *rows], JAN, FEB)
    together = validate_table(con, table, JAN, FEB, AS_OF, ge)
    alone = [
        *validate_table(con, table, JAN, JAN, AS_OF, ge),
        *validate_table(con, table, FEB, FEB, AS_OF, ge),
    ]

    def shape(verdicts):
        return [
            [(o.period, o.position, o.outcome, o.unexpected_count or 0) for o in v.outcomes]
            for v in verdicts
        ]

    assert shape(together) == shape(alone)
    assert [_failing(v) for v in together] == [
        {"expect_column_values_to_be_in_set(department)": (FAILED, "warning")},
        {"expect_column_values_to_be_between(amount_usd)": (FAILED, "error")},
    ]


INVOICES = "invoice_id,customer_id,issue_date,due_date,paid_date,amount_usd"


def _invoice_rows(month: Period, count: int) -> list[str]:
    from datetime import timedelta

    rows = []
    for i in range(count):
        issued = month.start + timedelta(days=i % 28)
        paid = "" if i % 5 == 0 else (issued + timedelta(days=1 + i % 20)).isoformat()
        rows.append(
            f"I-{month.key}-{i},C-{i % 7},{issued},{issued + timedelta(days=30)},"
            f"{paid},{100 + i}.50"
        )
    return rows


def test_a_backfill_counts_nan_as_no_value_and_infinity_as_out_of_bounds(con, paths, catalog, ge):
    """On a column of doubles, a NaN in February fails the null check in February only, and an
    infinity in March the bounds in March only, over the months as alone."""
    table = _custom_gl(
        catalog.table("finance.gl_entries"),
        [{"name": "rate", "type": "double"}],
        [
            {
                "expectation": "expect_column_values_to_not_be_null",
                "kwargs": {"column": "rate"},
                "severity": "error",
            },
            {
                "expectation": "expect_column_values_to_be_between",
                "kwargs": {"column": "rate", "min_value": 0, "max_value": 1000},
                "severity": "error",
            },
        ],
    )
    months = [JAN, FEB, Period(2026, 3)]
    rows = [f"{row},{i % 90}.25" for m in months for i, row in enumerate(_gl_rows(m.key, 120))]
    rows[130] = rows[130].rsplit(",", 1)[0] + ",NaN"
    rows[250] = rows[250].rsplit(",", 1)[0] + ",inf"
    _load(con, paths, table, [GL + ",rate", *rows], months[0], months[-1])
    together = validate_table(con, table, JAN, months[-1], AS_OF, ge)
    alone = [v for m in months for v in validate_table(con, table, m, m, AS_OF, ge)]
    assert (
        [_failing(v) for v in together]
        == [_failing(v) for v in alone]
        == [
            {},
            {"expect_column_values_to_not_be_null(rate)": (FAILED, "error")},
            {"expect_column_values_to_be_between(rate)": (FAILED, "error")},
        ]
    )


ROSTER = (
    "snapshot_date,employee_id,department,job_level,hire_date,termination_date,termination_type,fte"
)


def _roster_rows(month: Period, count: int) -> list[str]:
    return [
        f"{month.last_day},E-{i},sales,manager,2020-01-01,"
        + (f"{month.start.replace(day=1 + i % 28)},voluntary" if i % 9 == 0 else ",")
        + ",1.0"
        for i in range(count)
    ]


def _custom_gl(base: SourceTable, columns: list, entries: list[dict]) -> SourceTable:
    from pipelines.catalog.models import Column

    table = base.table.model_copy(
        update={
            "columns": [*base.table.columns, *(Column(**c) for c in columns)],
            "expectations": [ExpectationEntry.model_validate(e) for e in entries],
        }
    )
    return SourceTable(base.source, table)


def test_nan_infinite_amounts_and_a_currency_outside_the_set(con, paths, catalog, ge):
    base = catalog.table("finance.gl_entries")
    table = _custom_gl(
        base,
        [{"name": "rate", "type": "double"}, {"name": "currency", "type": "varchar"}],
        [
            {
                "expectation": "expect_column_values_to_not_be_null",
                "kwargs": {"column": "rate"},
                "severity": "error",
            },
            {
                "expectation": "expect_column_values_to_be_between",
                "kwargs": {"column": "rate", "min_value": 0, "max_value": 1000},
                "severity": "error",
            },
            {
                "expectation": "expect_column_values_to_be_in_set",
                "kwargs": {"column": "currency", "value_set": ["USD"]},
                "severity": "error",
            },
        ],
    )
    _load(
        con,
        paths,
        table,
        [
            GL + ",rate,currency",
            "GL-1,2026-01-05,4000,Sale,revenue,sales,10.00,DE,1.5,USD",
            "GL-2,2026-01-06,4000,Sale,revenue,sales,10.00,DE,NaN,USD",
            "GL-3,2026-01-07,4000,Sale,revenue,sales,10.00,DE,inf,USD",
            "GL-4,2026-01-08,4000,Sale,revenue,sales,10.00,DE,2.0,EUR",
        ],
    )
    [verdict] = validate_table(con, table, JAN, JAN, AS_OF, ge)
    counts = {o.entry.label(): o.unexpected_count for o in verdict.outcomes if o.failing}
    assert counts == {
        "expect_column_values_to_not_be_null(rate)": 1,  # NaN is no value
        "expect_column_values_to_be_between(rate)": 1,  # inf is out of range
        "expect_column_values_to_be_in_set(currency)": 1,
    }
    currency = verdict.outcomes[2]
    assert (currency.observed, currency.sample[0]["entry_id"]) == (["EUR"], "GL-4")


def test_a_zero_target_is_scored_and_a_missing_one_is_no_target(catalog):
    from dataclasses import replace

    from pipelines.catalog.models import TargetVersion
    from pipelines.scoring.scorecard import kpi_score_row

    kpi = catalog.kpi("defects_per_1000_orders")  # lower is better
    zero = replace(
        catalog,
        targets={**catalog.targets, kpi.id: (TargetVersion(**{"from": "2026-01", "value": 0.0}),)},
    )
    at_goal = kpi_score_row(zero, kpi, JAN, "value", 0.0)
    above = kpi_score_row(zero, kpi, JAN, "value", 2.0)
    assert (at_goal["status"], at_goal["variance"], at_goal["variance_pct"]) == (
        "on_track",
        0,
        None,
    )
    assert (above["status"], above["score"], above["variance_pct"]) == ("off_track", 0.0, None)
    none = replace(catalog, targets={k: v for k, v in catalog.targets.items() if k != kpi.id})
    row = kpi_score_row(none, kpi, JAN, "value", 5.0)
    assert (row["status"], row["score"], row["target"], row["variance_pct"]) == (
        "no_target",
        None,
        None,
        None,
    )


def test_an_unclosed_month_or_one_without_data_is_incomplete(con, catalog):
    from dataclasses import replace

    from report_factory import PERIOD, report_from_catalog

    from pipelines.report.quality_appendix import with_quality

    report = report_from_catalog(catalog)
    closed = with_quality(con, catalog, PERIOD, report, today=PERIOD.end)
    assert (closed.data_complete, closed.incomplete_reasons) == (True, ())
    assert {q.status for q in closed.quality} == {"unchecked"}  # nothing loaded, nothing said
    still_open = with_quality(con, catalog, PERIOD, report, today=PERIOD.last_day)
    assert still_open.incomplete_reasons == (
        f"{PERIOD.label} has not closed yet (it ends on {PERIOD.last_day:%Y-%m-%d}); its data "
        "is not final.",
    )
    empty = replace(
        report,
        perspectives=tuple(
            replace(
                p,
                objectives=tuple(
                    replace(o, kpis=tuple(replace(k, actual=None) for k in o.kpis))
                    for o in p.objectives
                ),
            )
            for p in report.perspectives
        ),
    )
    assert with_quality(con, catalog, PERIOD, empty, today=PERIOD.end).incomplete_reasons == (
        "No KPI has a value: there is no data for this month.",
    )


def test_a_validation_that_breaks_records_errored_checks_and_withholds(
    con, paths, catalog, ge, monkeypatch
):
    from dagster import AssetCheckSeverity, AssetKey

    from pipelines.defs.quality import check_result
    from pipelines.quality import validate
    from pipelines.quality.gate import withheld_reason

    table = catalog.table("finance.gl_entries")
    loaded = load_file_table(con, table, JAN, JAN, paths.home, "load", as_of=AS_OF)

    def broken(*args, **kwargs):
        raise RuntimeError("disk went away")

    monkeypatch.setattr(validate, "validate_table", broken)
    validated = validate.validate_and_record(con, table, [JAN], "run-1", ge, loaded)
    result = check_result(AssetKey("raw_finance_gl_entries"), validated.verdicts, validated.seconds)
    assert (result.passed, result.severity) == (False, AssetCheckSeverity.ERROR)
    assert result.metadata["checks_errored"].value == 13
    row = con.execute(
        "select rows_checked, checks_failed, status from quality.table_results "
        "where run_id = 'run-1'"
    ).fetchone()
    assert row == (4, 12, "failed")  # 12 error-level, 1 warning (errored counts as warned)
    reason = withheld_reason(con, catalog, catalog.kpi("revenue_usd"), JAN)
    assert reason.startswith(
        "failed data-quality check(s): finance.gl_entries: column_types "
        "errored: the validation raised RuntimeError: disk went away"
    )

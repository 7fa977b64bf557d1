"""The default expectations, each on data that breaks it: exactly the expected checks fail (and
only those), warnings stay warnings, an expectation that raises is errored (never passed), and a
backfill gives every month the verdict it gets alone."""

from __future__ import annotations

import contextlib
from datetime import datetime

import pandas as pd
import pytest
from fresh_python import run_python

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
GL = "entry_id,entry_date,account_code,account_name,account_type,department,amount_usd"


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
    return [f"GL-{month}-{i},{month}-{1 + i % last_day:02d},4000,Sale,revenue,sales,10.00"
            for i in range(count)]


def test_a_clean_month_passes_every_check(con, paths, catalog, ge):
    table = catalog.table("finance.gl_entries")
    load_file_table(con, table, JAN, JAN, paths.home, "load", as_of=AS_OF)
    [verdict] = validate_table(con, table, JAN, JAN, AS_OF, ge)
    assert (verdict.rows, verdict.status, _failing(verdict)) == (4, "passed", {})
    assert verdict.passed == len(table.table.expectations) == 13
    assert (verdict.latest_record, verdict.lag_days) == (datetime(2026, 1, 31), 0)


def test_each_row_level_default_fails_on_its_own_bad_value(con, paths, catalog, ge):
    table = catalog.table("finance.gl_entries")
    _load(con, paths, table, [
        GL,
        "GL-1,2026-01-05,4000,Product revenue,revenue,sales,1000.00",
        "GL-1,2026-01-06,4000,Product revenue,revenue,sales,5.00",  # duplicate business key
        "GL-3,2026-01-21,5000,Materials,,manufacturing,600.00",  # no account_type
        "GL-4,2026-01-22,7000,Salaries,operating_expense,people,300.00",  # code outside 4-6xxx
        "GL-5,2026-01-23,4000,Refund,revenue,sales,-5.00",  # a negative amount
        "GL-6,2026-01-24,4000,Sale,revenu,marketing,5.00",  # type and department not allowed
        "GL-7,2026-01-31,4000,Sale,revenue,sales,5.00",
    ])
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
    assert amount.sample == ({"entry_id": "GL-5", "entry_date": "2026-01-23T00:00:00",
                              "amount_usd": -5.0},)


def test_month_level_defaults_empty_collapsed_and_stale_months(con, paths, catalog, ge):
    table = catalog.table("finance.gl_entries")
    # January: 200 rows to the 31st; February: 60 rows ending on the 10th; March: none
    _load(con, paths, table, [GL, *_gl_rows("2026-01", 200, 31), *_gl_rows("2026-02", 60, 10)],
          JAN, Period(2026, 3))
    jan, feb, mar = validate_table(con, table, JAN, Period(2026, 3), AS_OF, ge)
    assert _failing(jan) == {}
    assert _failing(feb) == {"row_count_vs_previous": (FAILED, "error"),
                             "freshness": (FAILED, "error")}
    collapse = next(o for o in feb.outcomes if o.entry.name == "row_count_vs_previous")
    assert collapse.observed == {"rows": 60, "previous_rows": 200, "ratio": 0.3}
    assert feb.lag_days == 18
    assert _failing(mar) == {"expect_table_row_count_to_be_between": (FAILED, "error"),
                             "freshness": (FAILED, "error")}  # 0 < 60 * 0.5 is not judged: 60 < 100
    assert mar.rows == 0


def test_pair_future_and_snapshot_date_defaults(con, paths, catalog, ge):
    invoices = catalog.table("finance.invoices")
    _load(con, paths, invoices, [
        "invoice_id,customer_id,issue_date,due_date,paid_date,amount_usd",
        "I-1,C-1,2026-01-10,2026-02-09,2026-02-01,100.00",
        "I-2,C-2,2026-01-11,2026-01-01,,100.00",  # due before issued
        "I-3,C-3,2026-01-31,2026-03-02,2026-07-01,100.00",  # paid after as_of: in the future
    ])
    [verdict] = validate_table(con, invoices, JAN, JAN, AS_OF, ge)
    assert _failing(verdict) == {
        "expect_column_pair_values_a_to_be_greater_than_b(due_date, issue_date)": (FAILED, "error"),
        "expect_column_values_to_be_between(paid_date)": (FAILED, "error"),
    }
    roster = catalog.table("hr.roster")
    _load(con, paths, roster, [
        "snapshot_date,employee_id,department,job_level,hire_date,termination_date,"
        "termination_type,fte",
        "2026-01-31,E-1,sales,manager,2020-01-01,,,1.0",
        "2026-01-30,E-2,sales,manager,2020-01-01,,,1.0",  # not the month's last day
        "2026-01-31,E-3,sales,manager,2027-01-01,2025-12-20,voluntary,-1.0",
        "2026-01-31,E-1,finance,manager,2020-01-01,,,0.5",  # E-1 twice on one roster
    ])
    [verdict] = validate_table(con, roster, JAN, JAN, AS_OF, ge)
    assert _failing(verdict) == {
        "expect_column_values_to_be_between(snapshot_date)": (FAILED, "error"),
        "expect_column_values_to_be_between(fte)": (FAILED, "error"),  # negative headcount
        "expect_column_pair_values_a_to_be_greater_than_b(snapshot_date, hire_date)":
            (FAILED, "error"),
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
    entries = [ExpectationEntry.model_validate(e) for e in (
        {"expectation": "expect_column_values_to_be_between",  # amounts against a date: raises
         "kwargs": {"column": "amount_usd", "min_value": {"$PARAMETER": "as_of"}},
         "severity": "warning"},
        {"expectation": "expect_column_values_to_not_be_null", "kwargs": {"column": "entry_id"},
         "severity": "error"})]
    table = SourceTable(base.source, base.table.model_copy(update={"expectations": entries}))
    load_file_table(con, table, JAN, FEB, paths.home, "load", as_of=AS_OF)
    for verdict in validate_table(con, table, JAN, FEB, AS_OF, ge):
        raised, not_null = verdict.outcomes
        assert (raised.outcome, not_null.outcome) == (ERRORED, "passed")
        assert raised.message == ("'>=' not supported between instances of 'float' and "
                                  "'datetime.datetime'")
        assert (verdict.passed, verdict.warned, verdict.errored, verdict.status) == (
            1, 1, 1, "warned")
    error_level = [e.model_copy(update={"severity": "error"}) for e in entries]
    table = SourceTable(base.source, base.table.model_copy(update={"expectations": error_level}))
    [verdict] = validate_table(con, table, JAN, JAN, AS_OF, ge)
    assert (verdict.failed, verdict.status) == (1, "failed")


def test_a_backfill_gives_each_month_the_verdict_it_gets_alone(con, paths, catalog, ge,
                                                               monkeypatch):
    table = catalog.table("finance.gl_entries")
    rows = [*_gl_rows("2026-01", 150, 31), *_gl_rows("2026-02", 140, 28)]
    rows[3] = rows[3].replace(",sales,", ",marketing,")  # a January warning
    rows[200] = rows[200].replace("GL-2026-02-50", "GL-2026-01-7")  # a key seen in January only
    rows[201] = rows[201].replace(",10.00", ",-1.00")  # a February error
    _load(con, paths, table, [GL, *rows], JAN, FEB)
    together = validate_table(con, table, JAN, FEB, AS_OF, ge)
    alone = [*validate_table(con, table, JAN, JAN, AS_OF, ge),
             *validate_table(con, table, FEB, FEB, AS_OF, ge)]

    def shape(verdicts):
        return [[(o.period, o.position, o.outcome, o.unexpected_count or 0) for o in v.outcomes]
                for v in verdicts]

    assert shape(together) == shape(alone)
    # a long range is validated in passes of ROWS_PER_PASS rows: the same verdicts
    monkeypatch.setattr("pipelines.quality.validate.ROWS_PER_PASS", 1)
    assert shape(validate_table(con, table, JAN, FEB, AS_OF, ge)) == shape(alone)
    assert [_failing(v) for v in together] == [
        {"expect_column_values_to_be_in_set(department)": (FAILED, "warning")},
        {"expect_column_values_to_be_between(amount_usd)": (FAILED, "error")},
    ]


def test_a_backfill_checks_uniqueness_on_hashes_and_finds_a_duplicate_in_its_month(
        con, paths, catalog, ge, monkeypatch):
    monkeypatch.setattr("pipelines.quality.shortcuts.MIN_ROWS", 0)
    table = catalog.table("finance.gl_entries")
    unique = next(i for i, e in enumerate(table.table.expectations)
                  if e.expectation == "expect_column_values_to_be_unique")
    validated = []  # (positions, dtype of entry_id) of every GE run
    run = ge.run

    def recording(frame, entries, parameters, detail="SUMMARY"):
        if "entry_id" in frame.columns:
            validated.append((set(entries), str(frame["entry_id"].dtype)))
        return run(frame, entries, parameters, detail)

    monkeypatch.setattr(ge, "run", recording)
    clean = [*_gl_rows("2026-01", 150, 31), *_gl_rows("2026-02", 140, 28)]
    _load(con, paths, table, [GL, *clean], JAN, FEB)
    assert all(v.failed == 0 for v in validate_table(con, table, JAN, FEB, AS_OF, ge))
    # the whole range's uniqueness was settled on int64 hashes, never on the strings
    assert (({unique}, "int64") in validated
            and not any(unique in positions and dtype != "int64" for positions, dtype in validated))

    validated.clear()
    rows = list(clean)
    rows[210] = rows[210].replace("GL-2026-02-60,", "GL-2026-02-5,")  # twice in February
    _load(con, paths, table, [GL, *rows], JAN, FEB)
    together = validate_table(con, table, JAN, FEB, AS_OF, ge)
    alone = [*validate_table(con, table, JAN, JAN, AS_OF, ge),
             *validate_table(con, table, FEB, FEB, AS_OF, ge)]
    assert [_failing(v) for v in together] == [_failing(v) for v in alone] == [
        {}, {"expect_column_values_to_be_unique(entry_id)": (FAILED, "error")}]
    [february] = [o for o in together[1].outcomes if o.position == unique]
    assert february.unexpected_count == 2
    assert {r["entry_id"] for r in february.sample} == {"GL-2026-02-5"}

    # the hashes checked a month at a time: a key of January's seen again in February is no
    # duplicate in either month, and settles there; the duplicate within February still fails
    monkeypatch.setattr("pipelines.quality.shortcuts.HASHES_PER_RUN", 1)
    rows[205] = rows[205].replace("GL-2026-02-55,", "GL-2026-01-7,")
    _load(con, paths, table, [GL, *rows], JAN, FEB)
    validated.clear()
    together = validate_table(con, table, JAN, FEB, AS_OF, ge)
    assert [len(p) for p, dtype in validated if unique in p and dtype == "int64"] == [1, 1]
    assert [_failing(v) for v in together] == [
        {}, {"expect_column_values_to_be_unique(entry_id)": (FAILED, "error")}]
    [february] = [o for o in together[1].outcomes if o.position == unique]
    assert february.unexpected_count == 2


def test_a_backfill_settles_row_counts_in_its_smallest_and_largest_months(
        con, paths, catalog, ge, monkeypatch):
    """Plain row-count bounds are validated in the months with the fewest and the most rows
    when those pass; a month outside the bounds sends them month by month, where it fails."""
    table = catalog.table("finance.gl_entries")
    count = next(i for i, e in enumerate(table.table.expectations)
                 if e.expectation == "expect_table_row_count_to_be_between")
    months = [Period(2026, m) for m in (1, 2, 3, 4, 5)]
    counted = []  # the row count of every month GE validated the entry on
    run = ge.run

    def recording(frame, entries, parameters, detail="SUMMARY"):
        if count in entries:
            counted.append(len(frame))
        return run(frame, entries, parameters, detail)

    monkeypatch.setattr(ge, "run", recording)
    sizes = (150, 140, 160, 155, 145)
    _load(con, paths, table, [GL, *(row for m, n in zip(months, sizes, strict=True)
                                    for row in _gl_rows(m.key, n))], months[0], months[-1])
    verdicts = validate_table(con, table, months[0], months[-1], AS_OF, ge)
    assert sorted(counted) == [140, 160]
    assert all(o.outcome == "passed" for v in verdicts for o in v.outcomes if o.position == count)

    counted.clear()
    _load(con, paths, table, [GL, *(row for m, n in zip(months, sizes, strict=True)
                                    if m != months[2] for row in _gl_rows(m.key, n))],
          months[0], months[-1])  # March empty
    together = validate_table(con, table, months[0], months[-1], AS_OF, ge)
    alone = [v for m in months for v in validate_table(con, table, m, m, AS_OF, ge)]
    assert [_failing(v) for v in together] == [_failing(v) for v in alone]
    assert "expect_table_row_count_to_be_between" in _failing(together[2])
    assert [v.period for v in together if _failing(v)] == ["2026-03"]


def test_a_backfill_checks_text_columns_on_their_distinct_values(con, paths, catalog, ge,
                                                                monkeypatch):
    """Over many months, checks of a text column outside the key are validated on the column's
    distinct values (nulls included), and the column is not fetched; a bad value sends them to
    the rows, where its month, and only its month, fails as it does alone."""
    monkeypatch.setattr("pipelines.quality.shortcuts.MIN_ROWS", 0)
    table = catalog.table("finance.gl_entries")
    seen = []  # (rows, columns) of every frame GE validated
    run = ge.run

    def recording(frame, entries, parameters, detail="SUMMARY"):
        seen.append((len(frame), set(frame.columns)))
        return run(frame, entries, parameters, detail)

    monkeypatch.setattr(ge, "run", recording)
    clean = [*_gl_rows("2026-01", 150, 31), *_gl_rows("2026-02", 140, 28)]
    clean[5] = clean[5].replace(",sales,", ",finance,")
    _load(con, paths, table, [GL, *clean], JAN, FEB)
    assert all(not _failing(v) for v in validate_table(con, table, JAN, FEB, AS_OF, ge))
    text = {"account_code", "account_type", "department"}
    assert (2, text) in seen  # two departments; one code, one type, repeated
    assert not any(rows > 2 and columns & text for rows, columns in seen)

    rows = list(clean)
    rows[200] = rows[200].replace(",sales,", ",marketing,")  # a February warning
    rows[210] = rows[210].replace(",revenue,", ",,")  # a February type missing: an error
    _load(con, paths, table, [GL, *rows], JAN, FEB)
    together = validate_table(con, table, JAN, FEB, AS_OF, ge)
    alone = [*validate_table(con, table, JAN, JAN, AS_OF, ge),
             *validate_table(con, table, FEB, FEB, AS_OF, ge)]
    assert [_failing(v) for v in together] == [_failing(v) for v in alone] == [{}, {
        "expect_column_values_to_be_in_set(department)": (FAILED, "warning"),
        "expect_column_values_to_not_be_null(account_type)": (FAILED, "error")}]
    [shown] = [o.sample for o in together[1].outcomes
               if o.failing and o.entry.label().endswith("(department)")]
    assert [r["department"] for r in shown] == ["marketing"]

    # a raw table holding a text column as something else: that column goes the usual way
    _load(con, paths, table, [GL, *clean], JAN, FEB)
    con.execute("alter table raw.finance_gl_entries alter account_code type integer")
    drifted = validate_table(con, table, JAN, FEB, AS_OF, ge)
    assert [_failing(v) for v in drifted] == [{"column_types": (FAILED, "error")}] * 2
    assert [_failing(v) for v in drifted] == [
        _failing(v) for m in (JAN, FEB) for v in validate_table(con, table, m, m, AS_OF, ge)]


INVOICES = "invoice_id,customer_id,issue_date,due_date,paid_date,amount_usd"


def _invoice_rows(month: Period, count: int) -> list[str]:
    from datetime import timedelta

    rows = []
    for i in range(count):
        issued = month.start + timedelta(days=i % 28)
        paid = "" if i % 5 == 0 else (issued + timedelta(days=1 + i % 20)).isoformat()
        rows.append(f"I-{month.key}-{i},C-{i % 7},{issued},{issued + timedelta(days=30)},"
                    f"{paid},{100 + i}.50")
    return rows


def test_a_backfill_checks_bounds_nulls_and_pairs_on_the_rows_that_stand_for_all(
        con, paths, catalog, ge, monkeypatch):
    """Over many months, bounds and null checks are validated on each column's smallest and
    largest value and a null if it has one, a comparison of two columns on the row where they
    are closest and a row of each pattern of nulls; with every entry so settled, no row is
    fetched. A value out of bounds, a pair the wrong way round or a payment in the future sends
    its check to the rows, where its month, and only its month, fails as it does alone."""
    import pipelines.quality.validate as validate

    monkeypatch.setattr("pipelines.quality.shortcuts.MIN_ROWS", 0)
    table = catalog.table("finance.invoices")
    months = [JAN, FEB, Period(2026, 3)]
    seen, fetched = [], []  # (rows, columns) of every frame GE validated; every fetch
    run, fetch = ge.run, validate.fetch_frame

    def recording(frame, entries, parameters, detail="SUMMARY"):
        seen.append((len(frame), set(frame.columns)))
        return run(frame, entries, parameters, detail)

    def fetching(con, table, columns, first, last):
        fetched.append((first.key, last.key))
        return fetch(con, table, columns, first, last)

    monkeypatch.setattr(ge, "run", recording)
    monkeypatch.setattr(validate, "fetch_frame", fetching)
    clean = [row for m, n in zip(months, (150, 140, 160), strict=True)
             for row in _invoice_rows(m, n)]
    _load(con, paths, table, [INVOICES, *clean], months[0], months[-1])
    assert all(not _failing(v) for v in validate_table(con, table, JAN, months[-1], AS_OF, ge))
    dates = {"due_date", "paid_date", "issue_date", "amount_usd"}
    assert (3, {"amount_usd", "due_date", "invoice_id", "paid_date"}) in seen
    assert not any(rows > 4 and columns & dates for rows, columns in seen)
    assert fetched == []

    def changed(row: str, field: int, value: str) -> str:
        fields = row.split(",")
        return ",".join([*fields[:field], value, *fields[field + 1:]])

    rows = list(clean)
    rows[11] = changed(rows[11], 4, "2026-07-01")  # January: paid after as_of, in the future
    rows[160] = changed(rows[160], 5, "-5.00")  # February: a negative amount
    rows[300] = changed(rows[300], 3, "2026-02-28")  # March: due before it was issued
    _load(con, paths, table, [INVOICES, *rows], months[0], months[-1])
    together = validate_table(con, table, JAN, months[-1], AS_OF, ge)
    alone = [v for m in months for v in validate_table(con, table, m, m, AS_OF, ge)]
    assert [_failing(v) for v in together] == [_failing(v) for v in alone] == [
        {"expect_column_values_to_be_between(paid_date)": (FAILED, "error")},
        {"expect_column_values_to_be_between(amount_usd)": (FAILED, "error")},
        {"expect_column_pair_values_a_to_be_greater_than_b(due_date, issue_date)":
         (FAILED, "error")}]
    [shown] = [o.sample for o in together[2].outcomes if o.failing]
    assert [(r["invoice_id"], r["due_date"]) for r in shown] == [
        ("I-2026-03-10", "2026-02-28T00:00:00")]

    # a raw table holding a column as something else: its checks go the usual way
    _load(con, paths, table, [INVOICES, *clean], months[0], months[-1])
    con.execute("alter table raw.finance_invoices alter amount_usd type varchar")
    drifted = validate_table(con, table, JAN, months[-1], AS_OF, ge)
    assert [_failing(v) for v in drifted] == [
        _failing(v) for m in months for v in validate_table(con, table, m, m, AS_OF, ge)]
    assert _failing(drifted[0])["column_types"] == (FAILED, "error")


def test_a_backfill_counts_nan_as_no_value_and_infinity_as_out_of_bounds(
        con, paths, catalog, ge, monkeypatch):
    """On a column of doubles, a NaN in February fails the null check in February only, and an
    infinity in March the bounds in March only, over the months as alone."""
    monkeypatch.setattr("pipelines.quality.shortcuts.MIN_ROWS", 0)
    table = _custom_gl(catalog.table("finance.gl_entries"), [{"name": "rate", "type": "double"}], [
        {"expectation": "expect_column_values_to_not_be_null", "kwargs": {"column": "rate"},
         "severity": "error"},
        {"expectation": "expect_column_values_to_be_between",
         "kwargs": {"column": "rate", "min_value": 0, "max_value": 1000}, "severity": "error"}])
    months = [JAN, FEB, Period(2026, 3)]
    rows = [f"{row},{i % 90}.25" for m in months
            for i, row in enumerate(_gl_rows(m.key, 120))]
    rows[130] = rows[130].rsplit(",", 1)[0] + ",NaN"
    rows[250] = rows[250].rsplit(",", 1)[0] + ",inf"
    _load(con, paths, table, [GL + ",rate", *rows], months[0], months[-1])
    together = validate_table(con, table, JAN, months[-1], AS_OF, ge)
    alone = [v for m in months for v in validate_table(con, table, m, m, AS_OF, ge)]
    assert [_failing(v) for v in together] == [_failing(v) for v in alone] == [
        {}, {"expect_column_values_to_not_be_null(rate)": (FAILED, "error")},
        {"expect_column_values_to_be_between(rate)": (FAILED, "error")}]


ROSTER = ("snapshot_date,employee_id,department,job_level,hire_date,termination_date,"
          "termination_type,fte")


def _roster_rows(month: Period, count: int) -> list[str]:
    return [f"{month.last_day},E-{i},sales,manager,2020-01-01,"
            + (f"{month.start.replace(day=1 + i % 28)},voluntary" if i % 9 == 0 else ",")
            + ",1.0" for i in range(count)]


def test_a_backfill_checks_bounds_by_the_months_dates_once_over_the_months(
        con, paths, catalog, ge, monkeypatch):
    """Bounds by a month's dates ({$PARAMETER: period_end}) are validated once over all the
    months, as comparisons with each row's month dates; a roster taken before the month's end
    in February and a leaver of an earlier month in March fail there, and only there, as alone;
    a strict bound stays strict."""
    table = catalog.table("hr.roster")
    months = [JAN, FEB, Period(2026, 3)]
    by_month_dates = []  # the rows of every GE run of an entry with a month's date as bound
    run = ge.run

    def recording(frame, entries, parameters, detail="SUMMARY"):
        if any("$PARAMETER" in str(e.kwargs) and "as_of" not in str(e.kwargs)
               for e in entries.values()):
            by_month_dates.append(len(frame))
        return run(frame, entries, parameters, detail)

    monkeypatch.setattr(ge, "run", recording)
    clean = [row for m in months for row in _roster_rows(m, 50)]
    _load(con, paths, table, [ROSTER, *clean], months[0], months[-1])
    assert all(not _failing(v) for v in validate_table(con, table, JAN, months[-1], AS_OF, ge))
    assert by_month_dates == []  # none left as they are: all as comparisons, in one run

    rows = list(clean)
    rows[60] = rows[60].replace("2026-02-28,", "2026-02-27,", 1)
    rows[110] = rows[110].replace(",,", ",2026-02-15,voluntary", 1)
    _load(con, paths, table, [ROSTER, *rows], months[0], months[-1])
    together = validate_table(con, table, JAN, months[-1], AS_OF, ge)
    alone = [v for m in months for v in validate_table(con, table, m, m, AS_OF, ge)]
    assert [_failing(v) for v in together] == [_failing(v) for v in alone] == [
        {}, {"expect_column_values_to_be_between(snapshot_date)": (FAILED, "error")},
        {"expect_column_values_to_be_between(termination_date)": (FAILED, "error")}]

    def left_by(strict: bool) -> SourceTable:
        return SourceTable(table.source, table.table.model_copy(update={"expectations": [
            ExpectationEntry.model_validate({
                "expectation": "expect_column_values_to_be_between", "severity": "error",
                "kwargs": {"column": "termination_date",
                           "min_value": {"$PARAMETER": "period_start"},
                           "max_value": {"$PARAMETER": "next_period_start"},
                           "strict_max": strict}})]}))

    rows = list(clean)
    rows[51] = rows[51].replace(",,", ",2026-03-01,voluntary", 1)  # February: the next month's
    _load(con, paths, table, [ROSTER, *rows], months[0], months[-1])
    for strict, failing in ((True, [{}, {"expect_column_values_to_be_between(termination_date)":
                                         (FAILED, "error")}, {}]), (False, [{}, {}, {}])):
        together = validate_table(con, left_by(strict), JAN, months[-1], AS_OF, ge)
        alone = [v for m in months for v in validate_table(con, left_by(strict), m, m, AS_OF, ge)]
        assert [_failing(v) for v in together] == [_failing(v) for v in alone] == failing


def _custom_gl(base: SourceTable, columns: list, entries: list[dict]) -> SourceTable:
    from pipelines.catalog.models import Column

    table = base.table.model_copy(update={
        "columns": [*base.table.columns, *(Column(**c) for c in columns)],
        "expectations": [ExpectationEntry.model_validate(e) for e in entries]})
    return SourceTable(base.source, table)


def test_nan_infinite_amounts_and_a_currency_outside_the_set(con, paths, catalog, ge):
    base = catalog.table("finance.gl_entries")
    table = _custom_gl(base, [{"name": "rate", "type": "double"},
                              {"name": "currency", "type": "varchar"}], [
        {"expectation": "expect_column_values_to_not_be_null", "kwargs": {"column": "rate"},
         "severity": "error"},
        {"expectation": "expect_column_values_to_be_between",
         "kwargs": {"column": "rate", "min_value": 0, "max_value": 1000}, "severity": "error"},
        {"expectation": "expect_column_values_to_be_in_set",
         "kwargs": {"column": "currency", "value_set": ["USD"]}, "severity": "error"},
    ])
    _load(con, paths, table, [
        GL + ",rate,currency",
        "GL-1,2026-01-05,4000,Sale,revenue,sales,10.00,1.5,USD",
        "GL-2,2026-01-06,4000,Sale,revenue,sales,10.00,NaN,USD",
        "GL-3,2026-01-07,4000,Sale,revenue,sales,10.00,inf,USD",
        "GL-4,2026-01-08,4000,Sale,revenue,sales,10.00,2.0,EUR",
    ])
    [verdict] = validate_table(con, table, JAN, JAN, AS_OF, ge)
    counts = {o.entry.label(): o.unexpected_count for o in verdict.outcomes if o.failing}
    assert counts == {"expect_column_values_to_not_be_null(rate)": 1,  # NaN is no value
                      "expect_column_values_to_be_between(rate)": 1,  # inf is out of range
                      "expect_column_values_to_be_in_set(currency)": 1}
    currency = verdict.outcomes[2]
    assert (currency.observed, currency.sample[0]["entry_id"]) == (["EUR"], "GL-4")


def test_a_zero_target_is_scored_and_a_missing_one_is_no_target(catalog):
    from dataclasses import replace

    from pipelines.catalog.models import TargetVersion
    from pipelines.scoring.scorecard import kpi_score_row

    kpi = catalog.kpi("defects_per_1000_orders")  # lower is better
    zero = replace(catalog, targets={**catalog.targets, kpi.id: (
        TargetVersion(**{"from": "2026-01", "value": 0.0}),)})
    at_goal = kpi_score_row(zero, kpi, JAN, "value", 0.0)
    above = kpi_score_row(zero, kpi, JAN, "value", 2.0)
    assert (at_goal["status"], at_goal["variance"], at_goal["variance_pct"]) == (
        "on_track", 0, None)
    assert (above["status"], above["score"], above["variance_pct"]) == ("off_track", 0.0, None)
    none = replace(catalog, targets={k: v for k, v in catalog.targets.items() if k != kpi.id})
    row = kpi_score_row(none, kpi, JAN, "value", 5.0)
    assert (row["status"], row["score"], row["target"], row["variance_pct"]) == (
        "no_target", None, None, None)


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
        "is not final.",)
    empty = replace(report, perspectives=tuple(
        replace(p, objectives=tuple(replace(o, kpis=tuple(replace(k, actual=None) for k in o.kpis))
                                    for o in p.objectives)) for p in report.perspectives))
    assert with_quality(con, catalog, PERIOD, empty, today=PERIOD.end).incomplete_reasons == (
        "No KPI has a value: there is no data for this month.",)


def test_a_validation_that_breaks_records_errored_checks_and_withholds(con, paths, catalog, ge,
                                                                       monkeypatch):
    from dagster import AssetCheckSeverity, AssetKey

    from pipelines.defs.quality import check_result
    from pipelines.quality import worker
    from pipelines.quality.gate import withheld_reason

    table = catalog.table("finance.gl_entries")
    loaded = load_file_table(con, table, JAN, JAN, paths.home, "load", as_of=AS_OF)

    def broken(*args, **kwargs):
        raise RuntimeError("disk went away")

    monkeypatch.setattr(worker, "validate_table", broken)
    validated = worker.validate_and_record(con, table, [JAN], "run-1", ge, loaded)
    result = check_result(AssetKey("raw_finance_gl_entries"), validated.verdicts,
                          validated.seconds)
    assert (result.passed, result.severity) == (False, AssetCheckSeverity.ERROR)
    assert result.metadata["checks_errored"].value == 13
    row = con.execute("select rows_checked, checks_failed, status from quality.table_results "
                      "where run_id = 'run-1'").fetchone()
    assert row == (4, 12, "failed")  # 12 error-level, 1 warning (errored counts as warned)
    reason = withheld_reason(con, catalog, catalog.kpi("revenue_usd"), JAN)
    assert reason.startswith("failed data-quality check(s): finance.gl_entries: column_types "
                             "errored: the validation raised RuntimeError: disk went away")


def test_memoised_expectation_configurations_give_ges_own_results(catalog, ge, monkeypatch):
    """GeValidator memoises Expectation.configuration during each suite run: every result,
    failing rows and samples included, equals GE's own, run after run with other months'
    parameters; outside a run the property is GE's."""
    from great_expectations.expectations.expectation import Expectation

    from pipelines.catalog.expectations import parameters
    from pipelines.quality import ge_runner
    from pipelines.quality.ge_runner import COMPLETE, SUMMARY

    table = catalog.table("finance.gl_entries")
    entries = {i: e for i, e in enumerate(table.table.expectations) if e.expectation}
    between = 99  # a position after the table's own expectations
    entries[between] = ExpectationEntry(
        expectation="expect_column_values_to_be_between", severity="error",
        kwargs={"column": "entry_date", "min_value": {"$PARAMETER": "period_start"},
                "max_value": {"$PARAMETER": "period_end"}})
    frame = pd.DataFrame({
        "entry_id": ["GL-1", "GL-2", "GL-2", None, "GL-5", "GL-6"],
        "entry_date": pd.to_datetime(["2026-01-03", "2026-01-04", "2026-01-05", "2026-01-06",
                                      "2026-02-07", "2026-01-08"]),
        "account_code": ["4000", "4000", "5000", "4000", "4000", "40x0"],
        "account_name": ["Sale"] * 6,
        "account_type": ["revenue", "revenue", "cogs", "revenue", "bogus", "revenue"],
        "department": ["sales"] * 6,
        "amount_usd": [10.0, float("nan"), 5.0, float("inf"), -3.0, 1e12],
    })

    def runs() -> str:
        answers = [ge.run(frame, entries, parameters(month, AS_OF), detail)
                   for month in (JAN, FEB, JAN) for detail in (SUMMARY, COMPLETE)]
        return repr(answers)  # repr: nan != nan

    memoised = runs()
    assert isinstance(Expectation.__dict__["configuration"], property)
    monkeypatch.setattr(ge_runner, "memoised_configurations", contextlib.nullcontext)
    assert memoised == runs()
    by_month = [ge.run(frame, entries, parameters(m, AS_OF), SUMMARY) for m in (JAN, FEB)]
    failed = [{entries[p].expectation for p, a in answers.items() if not a.success}
              for answers in by_month]
    assert {"expect_column_values_to_be_unique", "expect_column_values_to_not_be_null",
            "expect_column_values_to_be_in_set", "expect_column_values_to_be_between"} <= failed[0]
    assert [answers[between].result["unexpected_count"] for answers in by_month] == [1, 5]


def test_scipy_stats_waits_for_the_expectation_that_uses_it():
    """Importing GE through import_great_expectations leaves scipy.stats unloaded (a fresh
    process); a KL-divergence expectation then loads it and GE's verdicts are right."""
    script = (
        "import sys\n"  # a module's type is ModuleType once it has run
        "from pipelines.quality.ge_import import import_great_expectations\n"
        "import_great_expectations()\n"
        "import pandas as pd\n"
        "from pipelines.catalog.expectations import ExpectationEntry\n"
        "from pipelines.quality.ge_runner import GeValidator\n"
        "print(type(sys.modules['scipy.stats']) is type(sys))\n"
        "entry = ExpectationEntry(expectation='expect_column_kl_divergence_to_be_less_than',\n"
        "    severity='error', kwargs={'column': 'x', 'threshold': 0.1, 'partition_object':\n"
        "    {'values': ['a', 'b'], 'weights': [0.5, 0.5]}})\n"
        "ge = GeValidator()\n"
        "for xs in (['a', 'b'] * 50, ['a'] * 95 + ['b'] * 5):\n"
        "    answer = ge.run(pd.DataFrame({'x': xs}), {0: entry}, {})[0]\n"
        "    print(answer.success, answer.error, round(answer.result['observed_value'], 3))\n"
        "print(type(sys.modules['scipy.stats']) is type(sys))\n"
    )
    done = run_python(script)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n") == ["False", "True None 0.0", "False None 0.495", "True", ""]


def test_validations_on_two_threads_leave_ges_configuration_property_in_place(catalog):
    """Suite runs on several threads (a load step's worker, a benchmark's) take turns with the
    configuration memo: each result is the one a lone run gives, and GE's property is back
    afterwards."""
    from concurrent.futures import ThreadPoolExecutor

    from great_expectations.expectations.expectation import Expectation

    from pipelines.catalog.expectations import parameters

    original = Expectation.__dict__["configuration"]
    table = catalog.table("finance.gl_entries")
    entries = {i: e for i, e in enumerate(table.table.expectations) if e.expectation}
    frame = pd.DataFrame({
        "entry_id": [f"GL-{i}" for i in range(300)] + ["GL-1"],
        "entry_date": pd.to_datetime(["2026-01-03"] * 301),
        "account_code": ["4000"] * 301, "account_type": ["revenue"] * 301,
        "department": ["sales"] * 301, "amount_usd": [10.0] * 300 + [-1.0]})
    validators = [GeValidator(), GeValidator()]
    alone = repr(validators[0].run(frame, entries, parameters(JAN, AS_OF)))

    def runs(ge: GeValidator) -> list[str]:
        return [repr(ge.run(frame, entries, parameters(JAN, AS_OF))) for _ in range(15)]

    with ThreadPoolExecutor(2) as threads:
        results = [r for done in threads.map(runs, validators) for r in done]
    assert results == [alone] * 30
    assert Expectation.__dict__["configuration"] is original

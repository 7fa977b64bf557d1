"""New sources are checked by default (issue 17, item 4): `total_vs_previous` catches an export
that changed unit (kWh to MWh: every row check passes, the KPI 1,000 times too small) and
withholds the KPIs reading it, passes seasonality and the first month loaded, and gives a month
the same verdict in a backfill as alone; `scorecard new source` writes the defaults and its file
passes `scorecard check`; `scorecard check` warns about a table without expectations."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import yaml

from pipelines.catalog import CatalogError, load_catalog
from pipelines.catalog.catalog import SourceTable
from pipelines.catalog.expectations import ExpectationEntry
from pipelines.catalog_check import check_catalog
from pipelines.cli import main
from pipelines.ingest.files import load_file_table
from pipelines.kpis.evaluate import kpi_value
from pipelines.periods import Period, months_between
from pipelines.quality.ge_runner import GeValidator
from pipelines.quality.outcomes import ERRORED, FAILED, PASSED
from pipelines.quality.validate import validate_and_record, validate_table
from pipelines.scaffold.write import new_source
from pipelines.settings import PROJECT_ROOT, RuntimePaths
from pipelines.warehouse.connection import connect, ensure_tables

JAN, APR = Period(2026, 1), Period(2026, 4)
AS_OF = datetime(2026, 6, 1)
TRAINING = "record_id,employee_id,course,completion_date,hours,country"
TOTAL = "total_vs_previous(hours)"
DEFAULTS = [  # what `scorecard new source` writes for its example table, in order
    "column_types",
    "expect_column_values_to_not_be_null(todo_id)",
    "expect_column_values_to_be_unique(todo_id)",
    "expect_table_row_count_to_be_between",
    "row_count_vs_previous",
    "freshness",
    "expect_column_values_to_be_between(todo_amount_usd)",
    "total_vs_previous(todo_amount_usd)",
]


@pytest.fixture(scope="module")
def ge() -> GeValidator:
    return GeValidator()


@pytest.fixture
def con(paths):
    con = connect(paths.warehouse)
    ensure_tables(con)
    yield con
    con.close()


def _days(period: Period):
    day = period.start
    while day < period.end:
        yield day
        day += timedelta(days=1)


def _training_rows(period: Period, total: float) -> list[str]:
    """One course completed a day, the month's hours adding up to exactly `total` (the last
    day's takes what the others' rounding left)."""
    days = list(_days(period))
    each = round(total / len(days), 4)
    hours = [each] * (len(days) - 1) + [round(total - each * (len(days) - 1), 4)]
    return [
        f"TR-{day:%Y%m%d},E-{i % 7},safety,{day:%Y-%m-%d},{h:.4f},DE"
        for i, (day, h) in enumerate(zip(days, hours, strict=True))
    ]


def _load_training(con, paths, table: SourceTable, totals: dict[Period, float]) -> None:
    lines = [TRAINING] + [r for p, t in totals.items() for r in _training_rows(p, t)]
    path = paths.home / table.table.path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    months = sorted(totals)
    load_file_table(con, table, months[0], months[-1], paths.home, "load", as_of=AS_OF)


def _outcomes(verdict) -> dict[str, str]:
    return {o.entry.label(): o.outcome for o in verdict.outcomes}


def _failing(verdict) -> dict[str, str]:
    return {label: o for label, o in _outcomes(verdict).items() if o != PASSED}


def _total(verdict):
    return next(o for o in verdict.outcomes if o.entry.check == "total_vs_previous")


def test_a_month_in_mwh_instead_of_kwh_fails_the_total_and_withholds_its_kpi(
    con, paths, catalog, ge
):
    """April's export switched unit: its total is 1/1000 of the months before. Every other
    check passes; total_vs_previous fails, and the KPI reading the table is withheld."""
    table = catalog.table("hr.training_records")
    _load_training(
        con,
        paths,
        table,
        {Period(2026, 1): 310.0, Period(2026, 2): 280.0, Period(2026, 3): 310.0, APR: 0.30},
    )
    loaded = load_file_table(con, table, APR, APR, paths.home, "april", as_of=AS_OF)
    [verdict] = validate_and_record(con, table, [APR], "april", ge, loaded).verdicts
    assert _failing(verdict) == {TOTAL: FAILED}
    assert _total(verdict).observed == {
        "hours": {
            "total": pytest.approx(0.3),
            "median": pytest.approx(310.0),
            "previous": {
                "2026-01": pytest.approx(310.0),
                "2026-02": pytest.approx(280.0),
                "2026-03": pytest.approx(310.0),
            },
            "ratio": pytest.approx(0.000968, abs=1e-6),
        }
    }
    assert _total(verdict).message == (
        "hours totals 0.3, 0.0009677 times the median 310 of 2026-01, 2026-02, 2026-03 "
        "(between 0.1 and 10 expected): a change of unit?"
    )
    value = kpi_value(con, catalog, catalog.kpi("training_hours_per_fte"), APR)
    assert (value.state, value.value) == ("withheld", None)
    assert value.withheld_reason == (
        "failed data-quality check(s): hr.training_records: total_vs_previous(hours) failed: "
        + _total(verdict).message
    )


def test_a_backfill_gives_each_month_its_total_verdict_alone(con, paths, catalog, ge):
    """January (nothing before it), February and March (normal), April (1/1000): one call over
    the four months gives each the verdict, observed totals included, it gets alone."""
    table = catalog.table("hr.training_records")
    _load_training(
        con,
        paths,
        table,
        {Period(2026, 1): 310.0, Period(2026, 2): 280.0, Period(2026, 3): 310.0, APR: 0.30},
    )
    backfill = validate_table(con, table, JAN, APR, AS_OF, ge)
    alone = [validate_table(con, table, p, p, AS_OF, ge)[0] for p in months_between(JAN, APR)]
    assert [(v.period, _total(v).outcome, _total(v).observed) for v in backfill] == [
        (v.period, _total(v).outcome, _total(v).observed) for v in alone
    ]
    assert [_total(v).outcome for v in backfill] == [PASSED, PASSED, PASSED, FAILED]


def test_seasonality_within_the_band_passes(con, paths, catalog, ge):
    """Totals moving by half up and down (ratios 1.5, 0.48 and 1.4 to the median of the months
    before) pass; so does a month ten times the median of the three before, the band's edge."""
    table = catalog.table("hr.training_records")
    totals = {
        Period(2026, 1): 100.0,
        Period(2026, 2): 150.0,
        Period(2026, 3): 60.0,
        APR: 140.0,
        Period(2026, 5): 1400.0,
    }
    _load_training(con, paths, table, totals)
    verdicts = validate_table(con, table, JAN, Period(2026, 5), AS_OF, ge)
    assert [_failing(v) for v in verdicts] == [{}] * 5
    assert [_total(v).observed["hours"].get("ratio") for v in verdicts] == [
        None,
        1.5,
        0.48,
        1.4,
        10.0,
    ]


def test_the_first_month_loaded_has_nothing_to_compare_and_passes(con, paths, catalog, ge):
    table = catalog.table("hr.training_records")
    _load_training(con, paths, table, {JAN: 310.0})
    [verdict] = validate_table(con, table, JAN, JAN, AS_OF, ge)
    assert _failing(verdict) == {}
    assert _total(verdict).observed == {
        "hours": {
            "total": pytest.approx(310.0),
            "previous": {},
            "note": "no earlier month loaded: nothing to compare",
        }
    }


def test_a_month_above_ten_times_the_median_fails(con, paths, catalog, ge):
    """MWh exported as kWh: 1,000 times the months before."""
    table = catalog.table("hr.training_records")
    _load_training(con, paths, table, {Period(2026, 3): 0.31, APR: 310.0})
    [verdict] = validate_table(con, table, APR, APR, AS_OF, ge)
    assert _failing(verdict) == {TOTAL: FAILED}
    assert _total(verdict).observed["hours"]["ratio"] == pytest.approx(1000.0)


def test_a_column_the_raw_table_does_not_hold_as_a_number_is_errored(con, paths, catalog, ge):
    """A catalog edit the raw table does not follow (hours declared integer, held as decimals):
    the check errors, never passes."""
    base = catalog.table("hr.training_records")
    _load_training(con, paths, base, {JAN: 310.0})
    columns = [
        c if c.name != "hours" else c.model_copy(update={"type": "integer"})
        for c in base.table.columns
    ]
    table = SourceTable(
        base.source,
        base.table.model_copy(
            update={
                "columns": columns,
                "expectations": [
                    ExpectationEntry(
                        check="total_vs_previous", kwargs={"columns": ["hours"]}, severity="error"
                    )
                ],
            }
        ),
    )
    [verdict] = validate_table(con, table, JAN, JAN, AS_OF, ge)
    assert (_total(verdict).outcome, _total(verdict).message) == (
        ERRORED,
        "the check raised ValueError: column 'hours' is not held as a number in the raw table",
    )


def _copied_paths(copied_catalog, tmp_path) -> RuntimePaths:
    return RuntimePaths(
        home=tmp_path / "home",
        definitions=copied_catalog / "definitions",
        sql=copied_catalog / "sql",
        report_assets=PROJECT_ROOT / "reports",
    )


@pytest.mark.parametrize("kind", ["file", "sql", "api"])
def test_new_source_writes_the_defaults_and_passes_check(copied_catalog, monkeypatch, capsys, kind):
    """The written file, placeholders and all, passes `scorecard check` (exit 0, no error, no
    warning but an unset connector variable) with the default expectations."""
    monkeypatch.setenv("SCORECARD_DEFINITIONS", str(copied_catalog / "definitions"))
    monkeypatch.setenv("SCORECARD_SQL", str(copied_catalog / "sql"))
    assert main(["new", "source", "billing", "--kind", kind]) == 0
    capsys.readouterr()
    assert main(["check"]) == 0
    out, err = capsys.readouterr()
    assert "The catalog is valid" in out
    assert [w for w in err.splitlines() if "billing" in w and "environment variable" not in w] == []
    catalog = load_catalog(copied_catalog / "definitions", copied_catalog / "sql")
    table = catalog.table("billing.todo_table").table
    assert [e.label() for e in table.expectations] == DEFAULTS
    assert {e.label(): e.severity for e in table.expectations}["freshness"] == "warning"
    assert table.expectations[-1].kwargs == {"columns": ["todo_amount_usd"]}
    assert table.expectations[-2].kwargs == {"column": "todo_amount_usd", "min_value": 0}


def test_new_source_defaults_catch_a_kwh_export_switched_to_mwh(copied_catalog, tmp_path, ge):
    """A meter-reading source written by `scorecard new source`, its placeholders replaced:
    three months in kWh pass every default; April in MWh fails total_vs_previous alone."""
    paths = _copied_paths(copied_catalog, tmp_path)
    [path] = new_source(paths, "energy", "file")
    text = path.read_text()
    for old, new in (
        ("todo_table", "meter_readings"),
        ("todo_id", "reading_id"),
        ("todo_date", "reading_date"),
        ("todo_amount_usd", "energy_kwh"),
    ):
        text = text.replace(old, new)
    path.write_text(text)
    catalog = load_catalog(paths.definitions, paths.sql)
    table = catalog.table("energy.meter_readings")
    lines = ["reading_id,reading_date,energy_kwh"]
    for period, factor in (
        (JAN, 1.0),
        (Period(2026, 2), 1.0),
        (Period(2026, 3), 1.0),
        (APR, 0.001),
    ):
        lines += [
            f"R-{day:%Y%m%d},{day:%Y-%m-%d},{(1200 + day.day * 10) * factor:.4f}"
            for day in _days(period)
        ]
    (paths.home / "imports/energy").mkdir(parents=True)
    (paths.home / "imports/energy/meter_readings.csv").write_text("\n".join(lines) + "\n")
    con = connect(paths.warehouse)
    ensure_tables(con)
    load_file_table(con, table, JAN, APR, paths.home, "load", as_of=AS_OF)
    verdicts = validate_table(con, table, JAN, APR, AS_OF, ge)
    con.close()
    assert [_failing(v) for v in verdicts] == [
        {},
        {},
        {},
        {"total_vs_previous(energy_kwh)": FAILED},
    ]
    assert len(verdicts[0].outcomes) == len(DEFAULTS)


def test_check_warns_about_a_table_without_expectations(copied_catalog):
    """A warning naming the file and table and what to add; the run may go on."""
    path = copied_catalog / "definitions/sources/operations.yaml"
    data = yaml.safe_load(path.read_text())
    del data["tables"][1]["expectations"]  # operations.defects
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    catalog = load_catalog(copied_catalog / "definitions", copied_catalog / "sql")
    report = check_catalog(catalog, date(2026, 11, 28))
    assert report.errors == []
    assert [w for w in report.warnings if "no expectations" in w] == [
        "sources/operations.yaml: tables (defects): no expectations, so no month of it is "
        "checked before its KPIs read it; add at least the key not null and unique, "
        "row_count_vs_previous, freshness, numbers non-negative and total_vs_previous (the "
        "defaults `scorecard new source` writes; docs/data-quality.md)"
    ]


def test_the_shipped_catalog_has_expectations_on_every_table(catalog):
    report = check_catalog(catalog, date(2026, 11, 28))
    assert [w for w in report.warnings if "no expectations" in w] == []


def test_a_total_of_a_column_that_is_not_a_number_is_a_check_error(copied_catalog):
    path = copied_catalog / "definitions/sources/operations.yaml"
    data = yaml.safe_load(path.read_text())
    data["tables"][1]["expectations"].append(  # operations.defects
        {"check": "total_vs_previous", "kwargs": {"columns": ["severity"]}, "severity": "error"}
    )
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    catalog = load_catalog(copied_catalog / "definitions", copied_catalog / "sql")
    assert check_catalog(catalog, date(2026, 11, 28)).errors == [
        "sources/operations.yaml: tables (defects): expectations[7] (total_vs_previous): column "
        "'severity' is varchar; only bigint, decimal, double, integer columns have a total"
    ]


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"columns": ["amount"]}, "column 'amount' is not declared under columns"),
        ({"columns": []}, "columns: List should have at least 1 item after validation, not 0"),
        ({"columns": ["amount_usd"], "min_ratio": 2}, "min_ratio: Input should be less than 1"),
        (
            {"columns": ["amount_usd"], "months": 0},
            "months: Input should be greater than or equal to 1",
        ),
    ],
)
def test_the_loader_refuses_bad_total_arguments(copied_catalog, kwargs, problem):
    path = copied_catalog / "definitions/sources/operations.yaml"
    data = yaml.safe_load(path.read_text())
    data["tables"][0]["expectations"].append(  # operations.orders
        {"check": "total_vs_previous", "kwargs": kwargs, "severity": "error"}
    )
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(CatalogError, match="total_vs_previous") as raised:
        load_catalog(copied_catalog / "definitions", copied_catalog / "sql")
    assert problem in str(raised.value)


def test_a_month_without_rows_is_left_to_the_row_checks(con, paths, catalog, ge):
    """April without rows is the row-count checks' failure, not the total's."""
    table = catalog.table("hr.training_records")
    _load_training(con, paths, table, {Period(2026, 3): 310.0})
    table = SourceTable(table.source, _only(table, "total_vs_previous"))
    [verdict] = validate_table(con, table, APR, APR, AS_OF, ge)
    assert (_total(verdict).outcome, _total(verdict).observed["hours"]["note"]) == (
        PASSED,
        "no value this month",
    )


def _only(table: SourceTable, check: str):
    """The table's definition with only its `check` entries."""
    return table.table.model_copy(
        update={"expectations": [e for e in table.table.expectations if e.check == check]}
    )

"""`scorecard check`: the deeper checks, each error naming the file and the problem."""

from __future__ import annotations

import re
from datetime import date

import duckdb
import pytest
import yaml

from pipelines.catalog import CatalogError, load_catalog
from pipelines.catalog_check import check_catalog
from pipelines.cli import main
from pipelines.ingest.files import load_file_table
from pipelines.kpis.evaluate import KpiQueryError, kpi_value
from pipelines.periods import Period
from pipelines.settings import PROJECT_ROOT
from pipelines.warehouse.connection import connect, ensure_tables


def _check(root):
    catalog = load_catalog(root / "definitions", root / "sql")
    return check_catalog(catalog, date(2026, 11, 28))


def _edit(path, change):
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def test_shipped_catalog_has_no_errors(copied_catalog):
    assert _check(copied_catalog).errors == []


def test_sql_with_an_undeclared_column(copied_catalog):
    sql = copied_catalog / "sql/kpis/nps.sql"
    sql.write_text(sql.read_text().replace("select score", "select nps_score"))
    errors = _check(copied_catalog).errors
    assert any(
        e.startswith("sql/kpis/nps.sql (KPI nps): does not bind") and "nps_score" in e
        for e in errors
    ), errors


def test_sql_returning_the_wrong_columns(copied_catalog):
    (copied_catalog / "sql/kpis/nps.sql").write_text(
        "select count(*) as n, 1 as m from raw.crm_nps_responses"
    )
    assert any(
        "sql/kpis/nps.sql (KPI nps): must return one column named value; it returns n, m" in e
        for e in _check(copied_catalog).errors
    )


def test_sql_that_is_not_a_single_select(copied_catalog):
    (copied_catalog / "sql/kpis/nps.sql").write_text(
        "select 1 as value from raw.crm_nps_responses; drop table raw.crm_nps_responses"
    )
    problems = pytest.raises(CatalogError, _check, copied_catalog)
    assert "must be exactly one SELECT statement" in str(problems.value)


def test_threshold_contradicting_the_direction(copied_catalog):
    _edit(
        copied_catalog / "definitions/targets.yaml",
        lambda d: d["targets"]["nps"].__setitem__(
            0, {"from": "2022-01", "value": 40, "red_flag": 50}
        ),
    )
    assert (
        "targets.yaml: targets.nps (from 2022-01): red_flag 50.0 is above the goal 40.0, "
        "but higher is better"
    ) in _check(copied_catalog).errors


def test_fractional_weights_that_do_not_add_up(copied_catalog):
    _edit(
        copied_catalog / "definitions/scorecard.yaml",
        lambda d: d["perspectives"][0].__setitem__("weight", 0.5),
    )
    errors = _check(copied_catalog).errors
    assert any(
        re.match(r"scorecard\.yaml:\d+: perspectives: the fractional weights add up to 1\.2", e)
        for e in errors
    ), errors


def test_missing_target_for_the_coming_period_is_a_warning(copied_catalog):
    _edit(
        copied_catalog / "definitions/targets.yaml",
        lambda d: (
            d["targets"]["nps"].__setitem__(0, {"from": "2022-01", "value": 40})
            or d["targets"].__setitem__("nps", [{"from": "2022-01", "value": 40}])
        ),
    )
    _edit(
        copied_catalog / "definitions/targets.yaml",
        lambda d: d["targets"].__setitem__("win_rate_pct", [{"from": "2030-01", "value": 30}]),
    )
    report = _check(copied_catalog)
    assert report.errors == []
    assert any(
        "targets.win_rate_pct: no target for the coming period 2026-11" in w
        for w in report.warnings
    )


def test_check_command_exit_codes(copied_catalog, monkeypatch, capsys):
    monkeypatch.setenv("SCORECARD_DEFINITIONS", str(copied_catalog / "definitions"))
    monkeypatch.setenv("SCORECARD_SQL", str(copied_catalog / "sql"))
    assert main(["check"]) == 0
    assert "The catalog is valid" in capsys.readouterr().out
    _edit(
        copied_catalog / "definitions/targets.yaml",
        lambda d: d["targets"]["nps"].__setitem__(
            0, {"from": "2022-01", "value": 40, "red_flag": 50}
        ),
    )
    assert main(["check"]) == 1
    assert "red_flag 50.0 is above the goal" in capsys.readouterr().err


def test_kpi_sql_cannot_touch_files_or_other_databases(paths, catalog, tiny_exports, tmp_path):
    con = connect(paths.warehouse)
    ensure_tables(con)
    load_file_table(
        con, catalog.table("crm.nps_responses"), Period(2026, 1), Period(2026, 1), paths.home, "t"
    )
    con.close()
    sandboxed = connect(paths.warehouse, sandboxed=True)
    kpi = catalog.kpi("nps")
    for attack in (
        f"select count(*) as value from read_csv('{tiny_exports}/crm/nps_responses.csv')",
        f"select 1 as value from (attach '{tmp_path}/other.duckdb' as o)",
        "select 1 as value; install httpfs",
    ):
        text = catalog.sql_text
        try:
            catalog.__class__.sql_text = lambda self, k, period=None, attack=attack: attack
            with pytest.raises(KpiQueryError):
                kpi_value(sandboxed, catalog, kpi, Period(2026, 1))
        finally:
            catalog.__class__.sql_text = text.__func__
    with pytest.raises(duckdb.Error):
        sandboxed.execute("set enable_external_access = true")
    assert not (tmp_path / "other.duckdb").exists()


@pytest.mark.parametrize(
    ("kind", "template"), [("sql", "sql"), ("postgres", "sql"), ("api", "api"), ("http_api", "api")]
)
def test_new_source_accepts_the_connector_kinds_names(
    copied_catalog, monkeypatch, capsys, kind, template
):
    """`--kind postgres` and `--kind http_api` (the catalog's names) write the same templates,
    each followed by the default expectations."""
    monkeypatch.setenv("SCORECARD_DEFINITIONS", str(copied_catalog / "definitions"))
    monkeypatch.setenv("SCORECARD_SQL", str(copied_catalog / "sql"))
    assert main(["new", "source", "billing", "--kind", kind]) == 0
    written = (copied_catalog / "definitions/sources/billing.yaml").read_text()
    expected = (PROJECT_ROOT / f"pipelines/scaffold/source_{template}.yaml.tmpl").read_text()
    defaults = (PROJECT_ROOT / "pipelines/scaffold/source_expectations.yaml.tmpl").read_text()
    assert written == expected.format(name="billing") + defaults


def _kpi(root, file, kpi_id, **changes):
    def change(data):
        next(k for k in data["kpis"] if k["id"] == kpi_id).update(changes)

    _edit(root / f"definitions/kpis/{file}.yaml", change)


def _target(root, kpi_id, *versions):
    _edit(
        root / "definitions/targets.yaml",
        lambda d: d["targets"].__setitem__(kpi_id, list(versions)),
    )


def test_a_red_flag_ratio_below_1_of_a_lower_is_better_kpi_is_refused(
    copied_catalog, monkeypatch, capsys
):
    """churn 1.5 % with a red flag at 1.35 %: 2 % churn would score 10 while off track."""
    _kpi(copied_catalog, "customer", "customer_churn_pct", red_flag_ratio=0.9)
    _target(copied_catalog, "customer_churn_pct", {"from": "2022-01", "value": 1.5})
    expected = (
        "kpis/customer.yaml:31: kpis[2].red_flag_ratio: 0.9 puts the red flag "
        "below the goal (90% of the goal), but customer_churn_pct is lower_is_better: it would "
        "score 10 while off track. Use a ratio above 1 (e.g. 1.1: the red flag 10 % past the "
        "goal), or give each target a red_flag in targets.yaml instead"
    )
    assert _check(copied_catalog).errors == [expected]
    monkeypatch.setenv("SCORECARD_DEFINITIONS", str(copied_catalog / "definitions"))
    monkeypatch.setenv("SCORECARD_SQL", str(copied_catalog / "sql"))
    assert main(["check"]) == 1
    assert expected in capsys.readouterr().err


def test_a_red_flag_ratio_above_1_of_a_higher_is_better_kpi_is_refused(copied_catalog):
    _kpi(copied_catalog, "financial", "revenue_usd", red_flag_ratio=1.1)
    assert _check(copied_catalog).errors == [
        "kpis/financial.yaml:10: kpis[0].red_flag_ratio: 1.1 puts the red flag above "
        "the goal (110% of the goal), but revenue_usd is higher_is_better: it would score 10 "
        "while off track. Use a ratio below 1 (e.g. 0.9: the red flag 10 % short of the goal), "
        "or give each target a red_flag in targets.yaml instead"
    ]


@pytest.mark.parametrize(("ratio", "errors"), [(1.1, 0), (0.9, 1)])
def test_a_red_flag_ratio_is_judged_on_the_sign_of_the_goals_it_applies_to(
    copied_catalog, ratio, errors
):
    """A goal of -5 (a loss to shrink): 1.1 puts the red flag at -5.5, short of it."""
    _kpi(copied_catalog, "financial", "revenue_usd", red_flag_ratio=ratio)
    _target(
        copied_catalog,
        "revenue_usd",
        {"from": "2022-01", "value": -5},
        {"from": "2024-01", "value": 10, "red_flag": 8},
    )
    found = _check(copied_catalog).errors
    assert len(found) == errors, found
    if errors:
        assert "0.9 puts the red flag above the goal (90% of the negative goal -5)" in found[0]
        assert "Use a ratio above 1 (e.g. 1.1: the red flag 10 % short of the goal)" in found[0]


def test_a_red_flag_ratio_of_a_within_range_kpi_is_a_warning(copied_catalog):
    _kpi(copied_catalog, "learning_growth", "headcount", red_flag_ratio=0.9)
    report = _check(copied_catalog)
    assert report.errors == []
    assert (
        "kpis/learning_growth.yaml:39: kpis[3].red_flag_ratio: has no effect on a "
        "within_range KPI (its red flags are the targets' red_flag_lower and red_flag_upper, "
        "or half the band's width outside it); remove it"
    ) in report.warnings


def test_one_pass_reports_a_broken_file_and_a_bad_reference_elsewhere(copied_catalog):
    """A typo in a source's expectation no longer hides a KPI's unknown objective: both are
    reported at once; checks the broken file could change (unknown KPIs, SQL) stay quiet."""
    root = copied_catalog / "definitions"
    finance = root / "sources" / "finance.yaml"
    finance.write_text(
        finance.read_text().replace(
            "expect_column_values_to_not_be_null, kwargs: {column: entry_id}",
            "expect_column_values_to_not_be_nul, kwargs: {column: entry_id}",
            1,
        )
    )
    kpis = root / "kpis" / "financial.yaml"
    kpis.write_text(
        kpis.read_text().replace("objective: grow_revenue", "objective: grow_revnue", 1)
    )
    with pytest.raises(CatalogError) as caught:
        load_catalog(root, copied_catalog / "sql")
    problems = caught.value.problems
    assert len(problems) == 3, problems
    assert problems[0].startswith("sources/finance.yaml:") and "not_be_nul" in problems[0]
    assert "unknown objective 'grow_revnue'" in problems[1]
    assert problems[2] == "scorecard.yaml: objective 'grow_revenue' has no KPI measuring it"

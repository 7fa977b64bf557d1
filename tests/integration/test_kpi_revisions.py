"""KPI revisions: definitions that change over time, recorded per month, marked in the report.

A revision's SQL computes the months from its effective month on, the earlier SQL the months
before (a backfill of an earlier month too); every kpi.kpi_values row says which definition
computed it; comparisons and trends across a change are marked, never shown as like for like.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date

import pytest
import yaml

from pipelines.catalog import CatalogError, load_catalog
from pipelines.catalog.models import Kpi
from pipelines.catalog_check import check_catalog
from pipelines.ingest.files import load_file_table
from pipelines.kpis.evaluate import period_values, write_kpi_values
from pipelines.periods import Period
from pipelines.report import render
from pipelines.report.charts import sparkline_svg
from pipelines.report.context import build_report
from pipelines.report.model import RevisionLine, TrendPoint
from pipelines.report.revisions import revision_fields
from pipelines.report.trend_chart import LEFT, RIGHT, trend_chart_svg
from pipelines.scoring.scorecard import score_period
from pipelines.settings import PROJECT_ROOT
from pipelines.warehouse.connection import connect, ensure_tables

JAN, FEB = Period(2026, 1), Period(2026, 2)
KPI_FILE = "definitions/kpis/financial.yaml"
# Product revenue only (accounts 4000-4099): service revenue moved to its own KPI.
PRODUCT_REVENUE_SQL = """\
-- revenue_usd (from 2026-02): revenue booked to product revenue accounts, in USD.
with revenue_lines as (
    select amount_usd
    from raw.finance_gl_entries
    where entry_date >= $window_start
      and entry_date < $window_end
      and account_type = 'revenue'
      and account_code like '40%'
),

final as (
    select sum(amount_usd)::double as value
    from revenue_lines
)

select * from final
"""
NOTE = "Service revenue <b>moved</b> to its own KPI & out of this one"


def _edit_kpi(root, kpi_id: str, **fields) -> None:
    path = root / KPI_FILE
    data = yaml.safe_load(path.read_text())
    kpi = next(k for k in data["kpis"] if k["id"] == kpi_id)
    kpi.update(fields)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def _problems(root) -> list[str]:
    with pytest.raises(CatalogError) as caught:
        load_catalog(root / "definitions", root / "sql")
    return caught.value.problems


# --- the catalog --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("revisions", "expected"),
    [
        (
            [{"effective": "2026-07", "note": "a"}, {"effective": "2026-04", "note": "b"}],
            r"kpis/financial.yaml:\d+: kpis\[0\].revisions: effective months must be in increasing "
            r"order, each once; 2026-04 follows 2026-07",
        ),
        (
            [{"effective": "2026-04", "note": "a"}, {"effective": "2026-04", "note": "b"}],
            r"revisions: effective months must be in increasing order, each once; 2026-04 follows",
        ),
        (
            [{"effective": "2026-4", "note": "a"}],
            r"kpis\[0\].revisions\[0\].effective: '2026-4' is not valid here; expected a month",
        ),
        ([{"effective": "2026-04"}], r"kpis\[0\].revisions\[0\].note: required field is missing"),
        (
            [{"effective": "2026-04", "note": "a", "sql": "../outside.sql"}],
            r"kpis\[0\].revisions\[0\].sql: sql must be a relative path under sql/",
        ),
        (
            [{"effective": "2026-04", "note": "a", "sql": "kpis/nowhere.sql"}],
            r"kpis/financial.yaml:\d+: kpis\[0\].revisions\[0\].sql: the SQL file "
            r"sql/kpis/nowhere.sql does not exist",
        ),
        (
            [{"effective": "2026-04", "note": "a", "when": "x"}],
            r"kpis\[0\].revisions\[0\].when: unknown field",
        ),
    ],
)
def test_bad_revisions_are_named_with_file_line_and_field(copied_catalog, revisions, expected):
    _edit_kpi(copied_catalog, "revenue_usd", revisions=revisions)
    problems = _problems(copied_catalog)
    assert any(re.search(expected, p) for p in problems), problems


def test_a_revision_at_or_after_retirement_and_sql_on_a_calculated_kpi_are_refused():
    base = dict(
        id="a",
        name="A",
        description="d",
        objective="o",
        owner="x",
        unit="pct",
        direction="higher_is_better",
    )
    with pytest.raises(ValueError, match="not before retired 2026-04"):
        Kpi(
            **base,
            sql="kpis/a.sql",
            retired="2026-04",
            revisions=[{"effective": "2026-04", "note": "n"}],
        )
    with pytest.raises(ValueError, match="calculated KPI has no SQL"):
        Kpi(
            **base,
            formula="b / c",
            revisions=[{"effective": "2026-04", "note": "n", "sql": "kpis/b.sql"}],
        )


def test_revision_sql_is_checked_like_the_kpi_sql(copied_catalog):
    (copied_catalog / "sql/kpis/revenue_v2.sql").write_text(
        "select sum(amount_usd) as value from raw.finance_ledger"
    )
    _edit_kpi(
        copied_catalog,
        "revenue_usd",
        revisions=[{"effective": "2026-04", "note": "n", "sql": "kpis/revenue_v2.sql"}],
    )
    assert any(
        "sql/kpis/revenue_v2.sql: reads raw.finance_ledger" in p for p in _problems(copied_catalog)
    )


def test_scorecard_check_binds_the_revision_sql(copied_catalog):
    (copied_catalog / "sql/kpis/revenue_v2.sql").write_text(
        "select sum(amount_net) as value from raw.finance_gl_entries"
    )
    _edit_kpi(
        copied_catalog,
        "revenue_usd",
        revisions=[{"effective": "2026-04", "note": "n", "sql": "kpis/revenue_v2.sql"}],
    )
    catalog = load_catalog(copied_catalog / "definitions", copied_catalog / "sql")
    errors = check_catalog(catalog, date(2026, 10, 5)).errors
    assert any(
        e.startswith("sql/kpis/revenue_v2.sql (KPI revenue_usd): does not bind")
        and "amount_net" in e
        for e in errors
    ), errors


def test_the_shipped_revision_is_note_only():
    catalog = load_catalog(PROJECT_ROOT / "definitions", PROJECT_ROOT / "sql")
    kpi = catalog.kpi("on_time_delivery_pct")
    assert [r.effective for r in kpi.revisions] == ["2026-04"]
    assert kpi.sql_at(Period(2026, 3)) == kpi.sql_at(Period(2026, 4)) == kpi.sql


# --- the warehouse ------------------------------------------------------------------------------


@pytest.fixture
def revised(copied_catalog, paths, tiny_exports):
    """The catalog with revenue_usd's SQL revised from February 2026, and the tiny data loaded."""
    (copied_catalog / "sql/kpis/revenue_product_usd.sql").write_text(PRODUCT_REVENUE_SQL)
    _edit_kpi(
        copied_catalog,
        "revenue_usd",
        revisions=[{"effective": "2026-02", "note": NOTE, "sql": "kpis/revenue_product_usd.sql"}],
    )
    catalog = load_catalog(copied_catalog / "definitions", copied_catalog / "sql")
    con = connect(paths.warehouse)
    ensure_tables(con)
    for key in (
        "finance.gl_entries",
        "crm.nps_responses",
        "operations.orders",
        "operations.defects",
    ):
        load_file_table(con, catalog.table(key), JAN, FEB, paths.home, "test-run")
    yield catalog, con
    con.close()


def _run(con, catalog, period: Period) -> None:
    write_kpi_values(
        con, catalog, period, period_values(con, catalog, list(catalog.kpis), period), "test-run"
    )
    score_period(con, catalog, period, "test-run")


def _stored(con, period: Period) -> tuple:
    return con.execute(
        "select value, ytd_value, definition_revision, definition_since from kpi.kpi_values "
        "where kpi_id = 'revenue_usd' and period = ?",
        [period.start],
    ).fetchone()


def test_each_month_uses_the_sql_in_force_and_records_it(revised):
    catalog, con = revised
    _run(con, catalog, FEB)
    _run(con, catalog, JAN)  # a backfill of the earlier month, after the later one
    # January: 1,000 product + 500 service revenue under the original SQL.
    assert _stored(con, JAN) == (1500.0, 1500.0, 0, None)
    # February: 2,000 product revenue; its year to date is January and February under the
    # February definition (1,000 + 2,000), not the sum of the stored months (3,500).
    assert _stored(con, FEB) == (2000.0, 3000.0, 1, FEB.start)
    _run(con, catalog, JAN)
    assert _stored(con, JAN) == (1500.0, 1500.0, 0, None)


def test_an_existing_warehouse_gains_the_revision_columns(paths):
    con = connect(paths.warehouse)
    con.execute("create schema kpi")
    con.execute(
        "create table kpi.kpi_values (period date not null, kpi_id varchar not null, "
        "state varchar not null, value double, ytd_value double, ttm_value double, "
        "withheld_reason varchar, tables_read varchar not null, catalog_version varchar "
        "not null, run_id varchar not null, computed_at timestamp not null, "
        "primary key (period, kpi_id))"
    )
    con.execute(
        "insert into kpi.kpi_values values ('2025-12-01', 'nps', 'value', 1, 1, 1, null, "
        "'', 'v', 'r', now())"
    )
    ensure_tables(con)
    ensure_tables(con)  # twice: the migration is idempotent
    assert con.execute(
        "select definition_revision, definition_since from kpi.kpi_values"
    ).fetchall() == [(0, None)]
    con.close()


# --- the report ---------------------------------------------------------------------------------


def test_the_report_marks_comparisons_across_the_change(revised):
    catalog, con = revised
    _run(con, catalog, JAN)
    _run(con, catalog, FEB)
    report = build_report(con, catalog, FEB, "test-run")
    kpi = next(k for k in report.kpis() if k.id == "revenue_usd")
    change = RevisionLine(1, "2026-02", NOTE, "sql/kpis/revenue_product_usd.sql")
    assert kpi.revisions == (change,)
    assert kpi.previous == 1500.0 and kpi.previous_breaks == (change,)
    assert kpi.ytd_breaks == (change,)  # the fiscal year starts in January
    assert kpi.last_year is None and kpi.last_year_breaks == ()
    assert kpi.trend_breaks == (change,)
    assert kpi.definition == "sql/kpis/revenue_product_usd.sql"
    assert [p.definition_revision for p in kpi.trend[-2:]] == [0, 1]
    unchanged = next(k for k in report.kpis() if k.id == "gross_margin_pct")
    assert unchanged.revisions == () and unchanged.definition_breaks == ()

    html = render.render_html(report, PROJECT_ROOT / "reports")
    assert "<b>moved</b>" not in html
    assert "Service revenue &lt;b&gt;moved&lt;/b&gt; to its own KPI &amp; out of this one" in html
    assert "Definition changed in February 2026" in html
    assert html.count('class="definition-break"') >= 2  # the sparkline and the detail chart

    january = build_report(con, catalog, JAN, "test-run")
    before = next(k for k in january.kpis() if k.id == "revenue_usd")
    assert before.revisions == () and before.definition == "sql/kpis/revenue_usd.sql"


def _kpi():
    catalog = load_catalog(PROJECT_ROOT / "definitions", PROJECT_ROOT / "sql")
    return catalog.kpi("on_time_delivery_pct"), Period(2026, 9)


def test_breaks_follow_the_catalog_and_the_stored_revisions():
    kpi, period = _kpi()
    history = {
        ("on_time_delivery_pct", p.key): {"value": 90.0, "definition_revision": rev}
        for p, rev in ((Period(2026, 8), 1), (Period(2025, 9), 0))
    }
    fields = revision_fields(kpi, period, Period(2026, 1), 1, history, has_ytd=True)
    change = fields["revisions"][0]
    assert change.effective == "2026-04"
    assert fields["previous_breaks"] == ()  # August and September: the same definition
    assert fields["last_year_breaks"] == (change,)
    assert fields["ytd_breaks"] == (change,)
    assert fields["trend_breaks"] == (change,)  # October 2025 to September 2026
    # A fiscal year starting in April begins with the change: its YTD is like for like.
    april = revision_fields(kpi, period, Period(2026, 4), 1, history, has_ytd=True)
    assert april["ytd_breaks"] == ()
    # August restated under the original definition: the stored rows disagree, so it is marked.
    history[("on_time_delivery_pct", "2026-08")]["definition_revision"] = 0
    assert revision_fields(kpi, period, Period(2026, 4), 1, history, has_ytd=True)[
        "previous_breaks"
    ] == (change,)
    # Before the change the report knows nothing of it.
    assert revision_fields(kpi, Period(2026, 3), Period(2026, 1), 0, history, has_ytd=True) == {}


# --- the charts ---------------------------------------------------------------------------------


def _points() -> tuple[TrendPoint, ...]:
    return tuple(TrendPoint(Period(2025, 10).shift(i).key, 80.0 + i, 85.0) for i in range(12))


def test_the_sparkline_draws_the_change_between_the_months():
    change = RevisionLine(1, "2026-04", "Promised date <of> the latest change")
    svg = sparkline_svg(_points(), width=84, height=22, breaks=(change,))
    root = ET.fromstring(svg)  # well-formed: the note is escaped
    ns = {"s": "http://www.w3.org/2000/svg"}
    line = root.find("s:g[@class='definition-break']/s:line", ns)
    step = (84 - 2 * 2.0) / 11
    x = 2.0 + (6 - 0.5) * step  # April 2026 is the seventh month shown
    assert float(line.get("x1")) == pytest.approx(x, abs=0.05) and line.get("x1") == line.get("x2")
    title = root.find("s:g[@class='definition-break']/s:title", ns).text
    assert title == "Definition changed in April 2026: Promised date <of> the latest change"
    assert "change of definition" in root.get("aria-label")
    assert "definition-break" not in sparkline_svg(_points())
    # a change before the window, or at its first month, breaks nothing shown
    early = RevisionLine(1, "2025-10", "n")
    assert "definition-break" not in sparkline_svg(_points(), breaks=(early,))


def test_the_detail_chart_draws_and_labels_the_change():
    from dataclasses import replace

    from report_factory import report_from_catalog

    catalog = load_catalog(PROJECT_ROOT / "definitions", PROJECT_ROOT / "sql")
    kpi = report_from_catalog(catalog).kpis()[0]
    points = tuple(
        replace(p, period=Period(2025, 11).shift(i).key) for i, p in enumerate(kpi.trend)
    )
    change = RevisionLine(1, "2026-04", "Returns now netted from revenue")
    svg = trend_chart_svg(replace(kpi, trend=points, trend_breaks=(change,)), lambda v: f"{v:.0f}")
    root = ET.fromstring(svg)
    ns = {"s": "http://www.w3.org/2000/svg"}
    group = root.find("s:g[@class='definition-break']", ns)
    slot = (500 - LEFT - RIGHT) / 12
    x = LEFT + slot * 5  # the left edge of April 2026, the sixth month shown
    assert float(group.find("s:line", ns).get("x1")) == pytest.approx(x, abs=0.05)
    assert group.find("s:title", ns).text.endswith(": Returns now netted from revenue")
    assert "new definition" in group.find("s:text", ns).text


def test_a_retired_kpi_keeps_its_history_under_its_current_name(
    copied_catalog, paths, tiny_exports
):
    _edit_kpi(copied_catalog, "opex_ratio_pct", name="Opex ratio (old basis)", retired="2026-02")
    catalog = load_catalog(copied_catalog / "definitions", copied_catalog / "sql")
    con = connect(paths.warehouse)
    ensure_tables(con)
    load_file_table(con, catalog.table("finance.gl_entries"), JAN, FEB, paths.home, "test-run")
    con.execute(
        "insert into kpi.kpi_values (period, kpi_id, state, tables_read, "
        "catalog_version, run_id, computed_at) values "
        "('2026-02-01', 'opex_ratio_pct', 'value', '', 'old', 'old', now())"
    )
    for period in (JAN, FEB):
        _run(con, catalog, period)
    stored = con.execute(
        "select strftime(period, '%Y-%m') from kpi.kpi_values where kpi_id = 'opex_ratio_pct'"
    ).fetchall()
    assert stored == [("2026-01",)]  # February's row, computed before it retired, is gone
    assert (
        con.execute(
            "select count(*) from score.kpi_scores where kpi_id = 'opex_ratio_pct' and period = ?",
            [FEB.start],
        ).fetchone()[0]
        == 0
    )
    february = build_report(con, catalog, FEB, "test-run")
    assert "opex_ratio_pct" not in {k.id for k in february.kpis()}
    january = build_report(con, catalog, JAN, "test-run")
    opex = next(k for k in january.kpis() if k.id == "opex_ratio_pct")
    assert opex.name == "Opex ratio (old basis)" and opex.actual == pytest.approx(300 / 1500 * 100)
    con.close()

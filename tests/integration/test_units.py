"""Business units: each unit's value is the KPI's own SQL over its rows, the company's over all
rows; targets inherit up the tree; rows of no unit are counted; a unit with no rows in a month has
no data; the company report shows the units side by side, and each unit has a report of its own
beside the company's, both read back from their PDFs.

The demo's first quarter of 2026 is loaded into a real DuckDB warehouse. France's February
ledger lines are removed and one March line is coded for no unit. The expected revenue and
gross margin are computed here from the general-ledger export with the standard library.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from contextlib import nullcontext
from dataclasses import replace

import pytest
from smtp_server import SmtpServer

from pipelines.catalog import load_catalog
from pipelines.catalog.models import Recipient, RecipientList
from pipelines.delivery.deliver import deliver_period, delivery_context
from pipelines.delivery.transport import SmtpSettings
from pipelines.ingest.files import load_file_table
from pipelines.kpis.evaluate import NO_DATA, VALUE, period_values, write_kpi_values
from pipelines.kpis.units import (
    attach_units,
    units_values,
    unmapped_codes,
    unmapped_rows,
    write_unit_values,
)
from pipelines.periods import Period, months_between
from pipelines.report.context import build_report
from pipelines.report.publish import publish_unit_report
from pipelines.report.render import write_report
from pipelines.scoring.scorecard import score_period
from pipelines.scoring.statuses import NO_TARGET
from pipelines.scoring.units import score_unit_period
from pipelines.settings import PROJECT_ROOT, RuntimePaths
from pipelines.warehouse.connection import connect, ensure_tables

JAN, FEB, MAR = (Period(2026, m) for m in (1, 2, 3))
EMEA = {"NL", "ES", "DE", "FR", "GB"}


def _edit_ledger(path) -> None:
    """Drop France's February lines; code one March revenue line for no unit ('XX')."""
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames, list(reader)
    kept = [r for r in rows if not (r["country"] == "FR" and r["entry_date"].startswith("2026-02"))]
    stray = next(
        r for r in kept if r["entry_date"].startswith("2026-03") and r["account_type"] == "revenue"
    )
    stray["country"] = "XX"
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(kept)


@pytest.fixture(scope="module")
def units(tmp_path_factory, quarter_exports):
    home = tmp_path_factory.mktemp("units")
    shutil.copytree(quarter_exports, home / "demo")
    _edit_ledger(home / "demo/finance/gl_entries.csv")
    paths = RuntimePaths(
        home=home,
        definitions=PROJECT_ROOT / "definitions",
        sql=PROJECT_ROOT / "sql",
        report_assets=PROJECT_ROOT / "reports",
    )
    catalog = load_catalog(paths.definitions, paths.sql)
    con = connect(paths.warehouse)
    ensure_tables(con)
    for table in catalog.tables:
        load_file_table(con, table, JAN, MAR, home, "t")
    attach_units(con, catalog)
    for period in months_between(JAN, MAR):
        write_kpi_values(
            con, catalog, period, period_values(con, catalog, list(catalog.kpis), period), "t"
        )
        score_period(con, catalog, period, "t")
        for unit_id, values in units_values(con, catalog, period).items():
            write_unit_values(con, catalog, unit_id, period, values, "t")
            score_unit_period(con, catalog, unit_id, period, "t")
    yield catalog, con, paths
    con.close()


def _ledger(paths, codes: set[str] | None, first: Period, last: Period) -> tuple[float, float]:
    """(revenue, gross margin %) of the ledger lines of `codes` (None: all) in first..last."""
    revenue = cost = 0.0
    with open(paths.demo / "finance/gl_entries.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            if codes is not None and row["country"] not in codes:
                continue
            if not first.start.isoformat() <= row["entry_date"] < last.end.isoformat():
                continue
            if row["account_type"] == "revenue":
                revenue += float(row["amount_usd"])
            elif row["account_type"] == "cost_of_sales":
                cost += float(row["amount_usd"])
    return revenue, (revenue - cost) / revenue * 100


def _unit_row(con, unit_id: str, kpi_id: str, period: Period, table: str = "kpi_values") -> dict:
    cursor = con.execute(
        f"select * from unit.{table} where unit_id = ? and kpi_id = ? and period = ?",  # noqa: S608
        [unit_id, kpi_id, period.start],
    )
    names = [d[0] for d in cursor.description]
    return dict(zip(names, cursor.fetchone(), strict=True))


def _company(con, kpi_id: str, period: Period) -> float:
    return con.execute(
        "select value from kpi.kpi_values where kpi_id = ? and period = ?", [kpi_id, period.start]
    ).fetchone()[0]


def test_a_units_value_is_the_same_sql_over_its_rows(units):
    catalog, con, paths = units
    revenue, margin = _ledger(paths, EMEA, MAR, MAR)
    emea = _unit_row(con, "emea", "revenue_usd", MAR)
    assert emea["value"] == pytest.approx(revenue)
    assert emea["ytd_value"] == pytest.approx(_ledger(paths, EMEA, JAN, MAR)[0])
    assert emea["ttm_value"] == pytest.approx(_ledger(paths, EMEA, JAN, MAR)[0])  # no 2025 rows
    # a ratio of the unit's sums
    assert _unit_row(con, "emea", "gross_margin_pct", MAR)["value"] == pytest.approx(margin)
    germany = _unit_row(con, "germany", "gross_margin_pct", MAR)["value"]
    assert germany == pytest.approx(_ledger(paths, {"DE"}, MAR, MAR)[1])
    # the company over all rows, the stray one included: never the units' sum or mean
    assert _company(con, "revenue_usd", MAR) == pytest.approx(_ledger(paths, None, MAR, MAR)[0])
    tops = sum(_unit_row(con, u, "revenue_usd", MAR)["value"] for u in ("emea", "americas", "apac"))
    assert tops < _company(con, "revenue_usd", MAR)


def test_a_unit_without_rows_in_a_month_has_no_data_not_zero(units):
    catalog, con, paths = units
    february = _unit_row(con, "france", "revenue_usd", FEB)
    assert (february["state"], february["value"]) == (NO_DATA, None)
    march = _unit_row(con, "france", "revenue_usd", MAR)
    assert march["state"] == VALUE
    # its year to date covers the months it has rows in
    assert march["ytd_value"] == pytest.approx(_ledger(paths, {"FR"}, JAN, MAR)[0])


def test_rows_of_no_unit_are_counted(units):
    catalog, con, _ = units
    assert unmapped_rows(con, catalog, MAR) == {"finance.gl_entries": 1}
    assert unmapped_rows(con, catalog, FEB) == {}
    # scorecard check says which codes, in which months, so they can be mapped
    assert unmapped_codes(con, catalog) == [
        "finance.gl_entries.country: 1 row(s) of 2026-03 carry a code of no unit (XX): they "
        "count for the company only; add the code to a unit in units.yaml"
    ]


def test_targets_are_the_units_own_else_inherited(units):
    catalog, con, _ = units
    # own
    assert _unit_row(con, "germany", "revenue_usd", MAR, "kpi_scores")["target"] == 450000
    assert _unit_row(con, "apac", "on_time_delivery_pct", MAR, "kpi_scores")["target"] == 92
    # inherited from the company (a ratio)
    assert _unit_row(con, "germany", "gross_margin_pct", MAR, "kpi_scores")["target"] == 42
    # an amount with no target of its own: none, never the company's
    headcount = _unit_row(con, "france", "headcount", MAR, "kpi_scores")
    assert (headcount["target_lower"], headcount["status"]) == (None, NO_TARGET)


def test_the_company_report_shows_the_units_side_by_side(units):
    catalog, con, paths = units
    report = build_report(con, catalog, MAR, "t")
    scores = [u.overall.score for u in report.units]
    assert {u.id for u in report.units} == {u.id for u in catalog.units}
    assert scores == sorted(scores)  # those needing attention first
    germany = next(u for u in report.units if u.id == "germany")
    assert germany.path == ("Europe, Middle East & Africa",)
    # its coverage counts its KPIs (scored of those in force), not the perspectives it rolls up
    assert (germany.scored_count, germany.total_count) == con.execute(
        "select count(score), count(*) from unit.kpi_scores where unit_id = 'germany' "
        "and period = ?",
        [MAR.start],
    ).fetchone()
    assert germany.total_count == len([k for k in catalog.unit_kpis() if k.in_force(MAR)])
    _, pdf = write_report(report, paths.report_assets, paths.report_dir(MAR.key))
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Units at a glance" in text
    for unit in catalog.units:
        assert _flat(unit.name) in _flat(text), unit.name
    # March's line coded XX is the company's only: the page says so, the units do not add up
    assert report.rows_of_no_unit == (("finance.gl_entries", 1),)
    assert _flat("so the units do not add up to it: 1 of finance.gl_entries") in _flat(text)


def _flat(text: str) -> str:
    return "".join(text.split())


def _pdf_text(pdf) -> str:
    return subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


def _overall(con, table: str, period: Period, unit: str | None = None) -> float:
    where = "and unit_id = ?" if unit else ""
    return con.execute(
        f"select score from {table} where period = ? and level = 'overall' {where}",
        [period.start, *([unit] if unit else [])],
    ).fetchone()[0]


def test_a_units_report_is_its_own_scorecard_beside_the_companys(units):
    catalog, con, paths = units
    report = build_report(con, catalog, MAR, "t", "emea")
    assert report.overall_score == pytest.approx(_overall(con, "unit.rollup_scores", MAR, "emea"))
    assert report.unit.company.score == pytest.approx(_overall(con, "score.rollup_scores", MAR))
    revenue = {k.id: k for k in report.kpis()}["revenue_usd"]
    assert revenue.actual == pytest.approx(_ledger(paths, EMEA, MAR, MAR)[0])
    assert revenue.target == 1125000  # EMEA's own
    assert revenue.previous == pytest.approx(_unit_row(con, "emea", "revenue_usd", FEB)["value"])
    assert {u.id for u in report.units} == {"germany", "france", "uk"}  # its own units only
    assert report.kpi_detail_pages == "off_track"  # report.unit_kpi_detail_pages
    published = publish_unit_report(con, catalog, MAR, "emea", "t", paths)
    assert published.pdf == paths.report_dir(MAR.key) / "units/emea/scorecard.pdf"
    text = _flat(_pdf_text(published.pdf))
    for expected in (
        "Europe, Middle East & Africa",
        "led by Sofia Lindqvist, SVP EMEA",
        "this unit vs the company",
        "Germany",
        "United Kingdom",
    ):
        assert _flat(expected) in text, expected
    assert _flat("Asia Pacific") not in text
    title = subprocess.run(
        ["pdfinfo", str(published.pdf)], capture_output=True, text=True, check=True
    ).stdout
    assert "Northwind Instruments \u2014 Europe, Middle East & Africa \u2014 Balanced" in title


def test_a_units_own_weights_owners_and_initiatives(units):
    catalog, con, _ = units
    perspectives = dict(
        con.execute(
            "select node_id, score from unit.rollup_scores where period = ? and unit_id = 'apac' "
            "and level = 'perspective'",
            [MAR.start],
        ).fetchall()
    )
    assert None not in perspectives.values()

    def weighted(weights: dict[str, float]) -> float:
        return sum(perspectives[p] * w for p, w in weights.items()) / sum(weights.values())

    apac = {"financial": 0.30, "customer": 0.25, "internal_process": 0.35, "learning_growth": 0.10}
    expected = weighted(apac)
    assert _overall(con, "unit.rollup_scores", MAR, "apac") == pytest.approx(expected)
    company = {p.id: p.weight for p in catalog.perspectives}
    assert expected != pytest.approx(weighted(company))  # the weights made a difference
    report = build_report(con, catalog, MAR, "t", "apac")
    delivery = {k.id: k for k in report.kpis()}["on_time_delivery_pct"]
    assert delivery.owner == "Kenji Sato, Head of Operations APAC"
    assert [i.id for i in report.initiatives] == ["apac_second_carrier"]
    whole = build_report(con, catalog, MAR, "t")
    assert {k.id: k for k in whole.kpis()}["on_time_delivery_pct"].owner != delivery.owner
    assert "apac_second_carrier" in {i.id for i in whole.initiatives}
    assert [i.id for i in build_report(con, catalog, MAR, "t", "germany").initiatives] == []


def test_a_units_commentary_is_its_own_else_its_parents_else_the_companys(shipped_definitions):
    catalog = load_catalog(shipped_definitions, PROJECT_ROOT / "sql")
    november = Period(2026, 11)
    own, written = catalog.comment_for("on_time_delivery_pct", november, "apac")
    assert (own.author, written) == ("Kenji Sato, Head of Operations APAC", Period(2026, 10))
    # the company has no comment on it: EMEA has none either, never APAC's
    assert catalog.comment_for("on_time_delivery_pct", november) is None
    assert catalog.comment_for("on_time_delivery_pct", november, "emea") is None
    uk, _ = catalog.comment_for("voluntary_attrition_pct", november, "uk")
    assert uk.author == "Oliver Hughes, Country Manager UK"
    # Germany has none of its own, nor has EMEA: the company's, not the UK's
    germany, _ = catalog.comment_for("voluntary_attrition_pct", november, "germany")
    assert germany == catalog.comment_for("voluntary_attrition_pct", november)[0] != uk
    # a unit's report says whose comment it shows when it is not the unit's own
    from pipelines.report.context import _commentary

    attrition = next(k for k in catalog.kpis if k.id == "voluntary_attrition_pct")
    said = {u: _commentary(catalog, attrition, november, "on_track", u) for u in ("uk", "germany")}
    assert said["uk"]["commentary_from"] is None
    assert said["germany"]["commentary_from"] == "the company's comment"
    assert _commentary(catalog, attrition, november, "on_track")["commentary_from"] is None


def test_a_units_list_gets_only_its_units_pdf_and_the_executives_the_companys(units):
    catalog, con, paths = units
    company_html, company_pdf = write_report(
        build_report(con, catalog, MAR, "t"), paths.report_assets, paths.report_dir(MAR.key)
    )
    emea_pdf = publish_unit_report(con, catalog, MAR, "emea", "t", paths).pdf
    lists = (
        RecipientList(
            id="executives", recipients=[Recipient(name="Alex Morgan", email="alex@example.com")]
        ),
        RecipientList(
            id="emea_leadership",
            unit="emea",
            recipients=[Recipient(name="Sofia Lindqvist", email="sofia@example.com")],
        ),
    )
    with SmtpServer() as server:
        smtp = SmtpSettings(
            host="127.0.0.1", port=server.port, security="none", sender="bsc@example.com"
        )
        context = delivery_context(
            replace(catalog, recipient_lists=lists), paths, smtp, lambda: nullcontext(con), "t"
        )
        outcome = deliver_period(context, MAR)
    assert outcome.failures == []
    sent = {m.rcpt_tos[0]: m.message for m in server.received}
    assert set(sent) == {"alex@example.com", "sofia@example.com"}
    emea, company = sent["sofia@example.com"], sent["alex@example.com"]
    attached = [a.get_content() for a in emea.iter_attachments()]
    assert attached == [emea_pdf.read_bytes()] != [company_pdf.read_bytes()]
    assert [a.get_content() for a in company.iter_attachments()] == [company_pdf.read_bytes()]
    assert "Europe, Middle East & Africa" in emea["Subject"]
    assert "Europe" not in company["Subject"]
    text = emea.get_body(("plain",)).get_content()
    assert "led by Sofia Lindqvist" in text.replace("Led by", "led by")
    assert next(emea.iter_attachments()).get_filename().endswith("-emea-scorecard-2026-03.pdf")

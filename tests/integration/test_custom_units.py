"""A KPI with a unit of its own ({label: MWh, decimals: 1}): the catalog takes it, and the report's
tables, detail page, chart and email show its numbers with that label."""

from __future__ import annotations

import re
from dataclasses import replace
from email import message_from_bytes, policy

import pytest
from delivery_support import scorecard_email
from pypdf import PdfReader
from report_factory import report_from_catalog

from pipelines.catalog import load_catalog
from pipelines.catalog.models import CustomUnit, Recipient, RecipientList
from pipelines.report import render
from pipelines.report.formatting import format_value
from pipelines.scoring.statuses import OFF_TRACK
from pipelines.settings import PROJECT_ROOT

KPI = "active_customers"


@pytest.fixture
def energy_catalog(copied_catalog):
    kpis = copied_catalog / "definitions" / "kpis" / "customer.yaml"
    text = kpis.read_text()
    block = text[text.index(f"  - id: {KPI}") :]
    unit_line = next(line for line in block.splitlines() if line.strip().startswith("unit:"))
    assert unit_line.strip() == "unit: count"
    kpis.write_text(text.replace(unit_line, "    unit: {label: MWh, decimals: 1}", 1))
    return load_catalog(copied_catalog / "definitions", copied_catalog / "sql")


def test_the_report_and_the_email_show_the_kpis_own_unit(energy_catalog, tmp_path):
    kpi = energy_catalog.kpi(KPI)
    assert kpi.unit == CustomUnit(label="MWh", decimals=1) and kpi.unit_name == "MWh"
    report = report_from_catalog(energy_catalog)
    line = next(k for k in report.kpis() if k.id == KPI)
    shown = format_value(line.actual, line.unit)
    assert re.fullmatch(r"\d{3}\.\d MWh", shown), shown

    html_path, pdf_path = render.write_report(report, PROJECT_ROOT / "reports", tmp_path)
    html = html_path.read_text()
    assert html.count(shown) >= 2, "the KPI table and the detail page show the value with MWh"
    svgs = re.findall(r"<svg.*?</svg>", html, re.S)
    assert any("MWh" in svg for svg in svgs), "the detail chart labels its axis in MWh"
    assert "Direction &middot; unit" in html
    pdf_text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(pdf_path).pages)
    assert pdf_text.count(shown) >= 2
    assert not re.search(rf"{re.escape(line.name)}\s+{int(line.actual)}\b", pdf_text)

    report = _off_track(report, KPI)  # the email lists the off-track KPIs with their numbers
    leaders = RecipientList(
        id="leadership", recipients=[Recipient(name="Alex Morgan", email="alex@example.com")]
    )
    message = scorecard_email(report, leaders)
    parsed = message_from_bytes(message.as_bytes(), policy=policy.default)
    assert shown in parsed.get_body(("html",)).get_content()
    assert f"{line.name}: {shown} against a target of" in parsed.get_body(("plain",)).get_content()


def _off_track(report, kpi_id):
    def mark(k):
        return replace(k, status=OFF_TRACK) if k.id == kpi_id else k

    perspectives = tuple(
        replace(
            p,
            objectives=tuple(replace(o, kpis=tuple(mark(k) for k in o.kpis)) for o in p.objectives),
        )
        for p in report.perspectives
    )
    return replace(report, perspectives=perspectives)


@pytest.mark.parametrize(
    ("unit", "message"),
    [
        (
            "MWh",
            "unknown unit 'MWh'; a unit is one of usd, pct, days, hours, count, score, ratio, "
            "or a unit of your own as {label: MWh, decimals: 1}",
        ),
        ("{label: MWh, decimal: 1}", "unit: decimal: Extra inputs are not permitted; a unit is "),
        ("{label: MWh, decimals: 9}", "unit: decimals: Input should be less than or equal to 4"),
        ("{decimals: 1}", "unit: label: Field required"),
    ],
)
def test_a_wrong_unit_names_the_file_line_and_the_allowed_forms(copied_catalog, unit, message):
    from pipelines.catalog.loader import CatalogError

    kpis = copied_catalog / "definitions" / "kpis" / "customer.yaml"
    text = kpis.read_text()
    start = text.index(f"  - id: {KPI}")
    at = text.index("    unit: count", start)
    kpis.write_text(text[:at] + f"    unit: {unit}" + text[at + len("    unit: count") :])
    line = text[:at].count("\n") + 1
    with pytest.raises(CatalogError) as caught:
        load_catalog(copied_catalog / "definitions", copied_catalog / "sql")
    assert f"kpis/customer.yaml:{line}:" in str(caught.value)
    assert message in str(caught.value)

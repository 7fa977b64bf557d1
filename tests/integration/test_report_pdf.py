"""The PDF read back as a reader gets it: pages, sections, every KPI's numbers, pictures, speed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from documentation import document
from pypdf import PdfReader
from report_factory import report_from_catalog
from report_pages import page_problems

from pipelines.catalog import load_catalog
from pipelines.report import render
from pipelines.report.formatting import (
    format_score,
    format_target,
    format_value,
    format_variance,
    status_label,
)
from pipelines.settings import PROJECT_ROOT

ASSETS = PROJECT_ROOT / "reports"
# How fast it renders is the benchmark's (python -m benchmarks.report_render), never a test's.
MAX_PDF_BYTES = 2 * 1024 * 1024


def _squash(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def demo_report():
    catalog = load_catalog(PROJECT_ROOT / "definitions", PROJECT_ROOT / "sql")
    return report_from_catalog(catalog)


@pytest.fixture(scope="module")
def demo_pdf(demo_report, tmp_path_factory):
    out = tmp_path_factory.mktemp("demo-report")
    _, pdf = render.write_report(demo_report, ASSETS, out)
    reader = PdfReader(pdf)
    pages = [_squash(page.extract_text()) for page in reader.pages]
    return pdf, reader, pages


def _first_page(pages: list[str], needle: str) -> int:
    """The index of the first page showing needle (eyebrows are set in capitals)."""
    return next(i for i, text in enumerate(pages) if needle.upper() in text.upper())


def test_page_count_and_order(demo_report, demo_pdf):
    _, _, pages = demo_pdf
    kpis = demo_report.kpis()
    total = len(pages)
    assert "Northwind Instruments" in pages[0] and "Overall score".upper() in pages[0].upper()
    assert "Strategy map" in pages[1]
    first_perspective = _first_page(pages, "Perspective 1 of 4")
    assert first_perspective == 2
    first_detail = _first_page(pages, f"KPI 1 of {len(kpis)}")
    for offset, kpi in enumerate(kpis):  # one detail page per KPI, in catalog order
        assert f"KPI {offset + 1} OF {len(kpis)}" in pages[first_detail + offset].upper()
        assert _squash(kpi.name) in pages[first_detail + offset]
    assert "Initiatives" in pages[first_detail + len(kpis)]
    assert demo_report.actions  # the demo catalog records decisions of its reviews
    assert "Decisions and actions" in pages[first_detail + len(kpis) + 1]
    assert "Data appendix" in pages[-1]
    assert first_detail + len(kpis) + 3 == total
    for number, text in enumerate(pages, start=1):  # footer: period and page numbers
        assert f"Page {number} of {total}" in text
        assert demo_report.period_label in text


def test_summary_page_text(demo_report, demo_pdf):
    _, _, pages = demo_pdf
    cover = pages[0]
    for needle in (
        "Vision",
        "Mission",
        "Signals",
        "Successes",
        "Areas for improvement",
        "Status changes",
        "Late initiatives",
        "Contents",
        format_score(demo_report.overall_score),
        status_label(demo_report.overall_status),
    ):
        assert needle.upper() in cover.upper(), needle
    for p in demo_report.perspectives:
        assert p.name in cover and format_score(p.score) in cover


def test_detail_pages_tell_signals_from_routine_variation(demo_report, demo_pdf):
    _, _, pages = demo_pdf
    kpis = demo_report.kpis()
    first_detail = _first_page(pages, f"KPI 1 of {len(kpis)}")
    verdicts = {"signal": "Signal", "routine": "Routine variation:"}
    seen = set()
    for offset, kpi in enumerate(kpis):
        text = pages[first_detail + offset]
        assert verdicts[kpi.signal.state] in text, kpi.id
        assert "natural process limits" in text
        low, high = (
            format_value(v, kpi.unit) for v in (kpi.signal.limits.lower, kpi.signal.limits.upper)
        )
        assert f"limits {low} to {high}" in text, kpi.id
        seen.add(kpi.signal.state)
    assert seen == {"signal", "routine"}


def test_actions_page_lists_the_reviews_decisions(demo_report, demo_pdf):
    _, _, pages = demo_pdf
    text = pages[_first_page(pages, "What the reviews decided")]
    overdue = [a for a in demo_report.actions if a.overdue]
    assert overdue  # the demo's October has an action past due
    assert f"{len(demo_report.actions)} action(s), {len(overdue)} overdue" in text
    for action in demo_report.actions:
        assert " ".join(action.action.split()[:3]) in text, action.id
        assert action.owner in text
    assert "Overdue" in text and "days late" in text
    assert "Decisions and actions" in pages[0]  # in the contents


def test_strategy_map_page_names_every_objective(demo_report, demo_pdf):
    _, _, pages = demo_pdf
    text = pages[1]
    for p in demo_report.perspectives:
        for o in p.objectives:
            first_word = o.name.split()[0]
            assert first_word in text, o.name
            assert format_score(o.score) in text


def test_every_kpi_shows_the_models_numbers(demo_report, demo_pdf):
    _, _, pages = demo_pdf
    kpis = demo_report.kpis()
    first_detail = _first_page(pages, f"KPI 1 of {len(kpis)}")
    currency = demo_report.currency
    for offset, k in enumerate(kpis):
        page = pages[first_detail + offset]
        expected = [
            format_value(k.actual, k.unit, currency),
            format_target(k.target, k.target_lower, k.target_upper, k.direction, k.unit, currency),
            format_variance(k.variance, k.unit, currency),
            format_score(k.score),
            format_value(k.ytd_actual, k.unit, currency),
            status_label(k.status),
            k.definition,
        ]
        for needle in expected:
            assert _squash(needle) in page, (k.id, needle)
    perspective_text = " ".join(pages[2:first_detail])
    for k in kpis:  # the perspective tables carry the same figures
        assert format_value(k.actual, k.unit, currency) in perspective_text, k.id
        assert format_value(k.previous, k.unit, currency) in perspective_text, k.id


def test_commentary_flags_in_the_pdf(demo_report, demo_pdf):
    _, _, pages = demo_pdf
    text = " ".join(pages)
    if any(k.commentary_missing for k in demo_report.kpis()):
        assert "No comment for an off-track KPI" in text
    carried = [k for k in demo_report.kpis() if k.commentary and k.commentary_carried_over]
    if carried:
        assert "carried over from September 2026" in text


def test_contents_links_bookmarks_and_metadata(demo_report, demo_pdf):
    _, reader, pages = demo_pdf
    annotations = [a.get_object() for a in reader.pages[0].get("/Annots", [])]
    internal = [a for a in annotations if "/Dest" in a or "/A" in a and "/D" in a["/A"]]
    assert len(internal) >= 8  # the table of contents and the perspective cards
    starts = [1, 2] + [_first_page(pages, f"Perspective {i} of 4") + 1 for i in range(1, 5)]
    starts += [_first_page(pages, "KPI 1 of") + 1, len(pages) - 2, len(pages) - 1, len(pages)]
    assert " ".join(map(str, starts)) in pages[0], "the contents' page numbers"
    titles = [item.title for item in reader.outline if not isinstance(item, list)]
    for needle in (
        "Summary",
        "Strategy map",
        "Initiatives",
        "Decisions and actions",
        "Data appendix",
    ):
        assert needle in titles
    assert reader.metadata.title == render.report_title(demo_report)


def test_pages_are_not_blank_and_stay_inside_the_margins(demo_pdf, tmp_path):
    pdf, _, _ = demo_pdf
    assert page_problems(pdf, tmp_path) == []


def test_demo_report_is_small(demo_pdf):
    pdf, _, _ = demo_pdf
    assert pdf.stat().st_size < MAX_PDF_BYTES


def test_letter_and_off_track_settings(demo_report, tmp_path):
    report = replace(demo_report, page_size="Letter", kpi_detail_pages="off_track")
    _, pdf = render.write_report(report, ASSETS, tmp_path)
    reader = PdfReader(pdf)
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)
    off_track = [k for k in report.kpis() if k.status == "off_track"]
    text = _squash(" ".join(page.extract_text() for page in reader.pages)).upper()
    for number, k in enumerate(off_track, start=1):
        assert f"KPI {number} OF {len(off_track)}" in text
        assert k.name.upper() in text
    assert f"KPI 1 OF {len(report.kpis())}" not in text
    assert page_problems(pdf, tmp_path / "pages") == []


def test_locale_from_the_report(demo_report):
    html = render.render_html(replace(demo_report, locale="de_DE"), ASSETS)
    revenue = next(k for k in demo_report.kpis() if k.unit == "usd")
    assert format_value(revenue.actual, "usd", "USD", "de_DE") in html
    assert '<html lang="de">' in html


def test_page_size_is_a_setting_not_markup(demo_report):
    html = render.render_html(replace(demo_report, page_size="Letter"), ASSETS)
    assert "@page { size: letter; }" in html
    html = render.render_html(replace(demo_report, page_size="A3; } body { display:none"), ASSETS)
    assert "@page { size: A4; }" in html


def test_catalog_report_settings_reach_the_model(copied_catalog):
    path = Path(copied_catalog) / "definitions" / "scorecard.yaml"
    text = path.read_text(encoding="utf-8")
    text += "\nreport:\n  page_size: Letter\n  locale: de_DE\n  kpi_detail_pages: off_track\n"
    path.write_text(text, encoding="utf-8")
    catalog = load_catalog(path.parent, Path(copied_catalog) / "sql")
    assert catalog.report.page_size == "Letter" and catalog.report.locale == "de_DE"
    assert catalog.report.kpi_detail_pages == "off_track"
    path.write_text(text.replace("locale: de_DE", "locale: xx_XX"), encoding="utf-8")
    with pytest.raises(Exception, match="locale"):
        load_catalog(path.parent, Path(copied_catalog) / "sql")


def test_the_docs_document_every_report_setting():
    from pipelines.catalog.models import ReportSettings

    section = document("report.md")
    for name in ReportSettings.model_fields:
        assert f"  {name}:" in section, f"report.{name} is not in docs/report.md"

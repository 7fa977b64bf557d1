"""The leadership report: formatting filters, sparklines, HTML and PDF rendering, URL fetcher."""

from __future__ import annotations

import builtins
import time
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pipelines.catalog.models import CustomUnit
from pipelines.report import render
from pipelines.report.charts import score_bar_svg, sparkline_svg
from pipelines.report.formatting import (
    DASH,
    format_change,
    format_coverage,
    format_datetime,
    format_number,
    format_score,
    format_target,
    format_value,
    format_variance,
    format_variance_pct,
    status_class,
    status_label,
    status_symbol,
)
from pipelines.report.model import (
    KpiLine,
    ObjectiveLine,
    PerspectiveLine,
    ScorecardReport,
    SourceLine,
    TrendPoint,
)
from pipelines.report.templating import template_environment
from pipelines.scoring.statuses import (
    AT_RISK,
    NO_DATA,
    NO_TARGET,
    OFF_TRACK,
    ON_TRACK,
    WITHHELD,
    Coverage,
)
from pipelines.settings import PROJECT_ROOT

MWH = CustomUnit(label="MWh", decimals=1)

ASSETS = PROJECT_ROOT / "reports"
XSS_NAME = "<script>alert(1)</script>"
TEMPLATE_INJECTION = "{{ 7*7 }}"


# --- the fixture report ------------------------------------------------------------------------


def _trend(base: float, step: float, target: float | None, gaps: tuple[int, ...] = ()):
    months = [f"2025-{m:02d}" for m in range(11, 13)] + [f"2026-{m:02d}" for m in range(1, 11)]
    return tuple(
        TrendPoint(p, None if i in gaps else base + step * i + (i % 3) * step * 0.6, target)
        for i, p in enumerate(months)
    )


def _kpi(kpi_id: str, name: str, unit: str, status: str, actual, target, **extra) -> KpiLine:
    fields = {
        "description": f"What {name} measures.",
        "owner": "Jane Roe",
        "direction": "higher_is_better",
        "target_lower": None,
        "target_upper": None,
        "red_flag": None,
        "variance": None if actual is None or target is None else actual - target,
        "variance_pct": (
            None if actual is None or not target else (actual - target) / abs(target) * 100
        ),
        "score": None if status in (NO_DATA, NO_TARGET, WITHHELD) else 6.5,
        "previous": actual,
        "last_year": actual,
        "ytd_actual": actual,
        "ytd_target": target,
        "sql_file": f"sql/kpis/{kpi_id}.sql",
        "tables": ("erp.invoices",),
        "trend": _trend(actual or 10.0, (actual or 10.0) * 0.015, target, gaps=(3,)),
    }
    fields.update(extra)
    return KpiLine(
        id=kpi_id, name=name, unit=unit, status=status, actual=actual, target=target, **fields
    )


KPIS = {
    "revenue": _kpi(
        "revenue",
        "Net revenue",
        "usd",
        ON_TRACK,
        2_412_345.0,
        2_300_000.0,
        score=8.4,
        previous=2_301_000.0,
        last_year=2_050_000.0,
        ytd_actual=21_950_000.0,
        ytd_target=21_000_000.0,
    ),
    "margin": _kpi(
        "margin",
        "Operating margin",
        "pct",
        AT_RISK,
        18.4,
        20.0,
        score=5.6,
        previous=19.1,
        last_year=17.2,
        commentary="Freight costs rose in Q3.",
    ),
    "csat": _kpi("csat", "Customer satisfaction", "score", OFF_TRACK, 6.1, 7.5, score=2.9),
    "turns": _kpi(
        "turns",
        "Inventory turnover",
        "ratio",
        ON_TRACK,
        5.12,
        None,
        direction="within_range",
        target_lower=4.0,
        target_upper=6.0,
        score=9.0,
    ),
    "cycle": _kpi(
        "cycle",
        "Order cycle time",
        "days",
        OFF_TRACK,
        7.2,
        5.0,
        direction="lower_is_better",
        score=1.8,
    ),
    "response": _kpi(
        "response",
        "First response time",
        "hours",
        NO_TARGET,
        24.1,
        None,
        direction="lower_is_better",
        ytd_target=None,
    ),
    "training": _kpi(
        "training",
        "Training hours completed",
        "count",
        NO_DATA,
        None,
        1200.0,
        previous=None,
        last_year=1100.0,
        ytd_actual=None,
        trend=(),
    ),
    "engagement": _kpi(
        "engagement",
        "Employee engagement",
        "pct",
        WITHHELD,
        None,
        75.0,
        withheld_reason="Fewer than 5 responses: withheld to protect anonymity.",
        trend=(),
    ),
    "xss": _kpi(
        "xss", XSS_NAME, "count", AT_RISK, 1204.0, 1300.0, score=5.1, commentary=TEMPLATE_INJECTION
    ),
}


def _cov(scored: int, total: int) -> Coverage:
    return Coverage(scored, total, scored_weight=float(scored), total_weight=float(total))


def _objective(oid: str, name: str, *kpi_ids: str, status=ON_TRACK, score=7.0) -> ObjectiveLine:
    kpis = tuple(KPIS[k] for k in kpi_ids)
    scored = sum(k.score is not None for k in kpis)
    return ObjectiveLine(
        id=oid,
        name=name,
        owner="John Doe",
        score=score,
        status=status,
        coverage=_cov(scored, len(kpis)),
        kpis=kpis,
    )


def make_report() -> ScorecardReport:
    """A hand-built report covering every status and unit."""
    perspectives = (
        PerspectiveLine(
            "financial",
            "Financial",
            7.0,
            ON_TRACK,
            6.6,
            _cov(2, 2),
            (_objective("grow", "Grow profitable revenue", "revenue", "margin", score=7.0),),
        ),
        PerspectiveLine(
            "customer",
            "Customer",
            4.0,
            AT_RISK,
            4.4,
            _cov(2, 2),
            (_objective("delight", "Delight customers", "csat", "xss", status=AT_RISK, score=4.0),),
        ),
        PerspectiveLine(
            "internal",
            "Internal Process",
            5.4,
            AT_RISK,
            None,
            _cov(2, 2),
            (
                _objective(
                    "flow", "Run a lean supply chain", "turns", "cycle", status=AT_RISK, score=5.4
                ),
                _objective(
                    "service", "Responsive service", "response", status=NO_TARGET, score=None
                ),
            ),
        ),
        PerspectiveLine(
            "learning",
            "Learning & Growth",
            None,
            NO_DATA,
            5.0,
            _cov(0, 1),
            (
                _objective(
                    "people",
                    "Develop our people",
                    "training",
                    "engagement",
                    status=NO_DATA,
                    score=None,
                ),
            ),
        ),
    )
    return ScorecardReport(
        organization="Acme Widgets GmbH",
        vision="The most trusted widget maker in Europe.",
        mission="Reliable widgets, delivered on time, made by people who love their work.",
        currency="USD",
        period="2026-10",
        period_label="October 2026",
        period_end=date(2026, 10, 31),
        overall_score=5.8,
        overall_status=AT_RISK,
        previous_overall_score=5.5,
        coverage=_cov(3, 4),
        perspectives=perspectives,
        run_id="run-7f3a2c",
        generated_at=datetime(2026, 11, 2, 6, 15, tzinfo=UTC),
        catalog_version="2026.10.1",
        sources=(
            SourceLine("erp.invoices", 120_345, datetime(2026, 11, 2, 5, 58, tzinfo=UTC)),
            SourceLine("crm.surveys", 4_210, None),
        ),
        withheld=(KPIS["engagement"],),
    )


@pytest.fixture(scope="module")
def report() -> ScorecardReport:
    return make_report()


@pytest.fixture(scope="module")
def written(report, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    start = time.perf_counter()
    html_path, pdf_path = render.write_report(report, ASSETS, out)
    return html_path, pdf_path, time.perf_counter() - start


# --- HTML helpers --------------------------------------------------------------------------------

VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
    "circle",
    "polyline",
    "rect",
    "path",
    "line",
}


class _Checker(HTMLParser):
    """Checks tags balance and collects the text of each element with an id."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str | None]] = []
        self.texts: dict[str, list[str]] = {}

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append((tag, dict(attrs).get("id")))

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        assert self.stack and self.stack[-1][0] == tag, f"unbalanced </{tag}> in {self.stack}"
        self.stack.pop()

    def handle_data(self, data):
        for _, element_id in self.stack:
            if element_id:
                self.texts.setdefault(element_id, []).append(data)


def _parse(html: str) -> dict[str, str]:
    checker = _Checker()
    checker.feed(html)
    checker.close()
    assert not checker.stack, f"unclosed tags: {checker.stack}"
    return {k: " ".join("".join(v).split()) for k, v in checker.texts.items()}


def _squash(text: str) -> str:
    return " ".join(text.split())


# --- formatting ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit", "locale", "expected"),
    [
        (1_234_567.0, "usd", "en_US", "$1.23M"),
        (2_412_345.0, "usd", "en_US", "$2.41M"),
        (234_567.4, "usd", "en_US", "$234,567"),
        (12.5, "usd", "en_US", "$12.50"),
        (-12_345.0, "usd", "en_US", "\u2212$12,345"),
        (3_200_000_000.0, "usd", "en_US", "$3.20B"),
        (234_567.4, "usd", "de_DE", "234.567\u00a0$"),
        (42.34, "pct", "en_US", "42.3 %"),
        (42.34, "pct", "de_DE", "42,3 %"),
        (7.24, "days", "en_US", "7.2 days"),
        (24.06, "hours", "en_US", "24.1 h"),
        (1204.0, "count", "en_US", "1,204"),
        (1204.0, "count", "de_DE", "1.204"),
        (6.66, "score", "en_US", "6.7"),
        (2.154, "ratio", "en_US", "2.15"),
        (2.154, "ratio", "de_DE", "2,15"),
        (0.0, "count", "en_US", "0"),
        (-0.01, "pct", "en_US", "0.0 %"),
        (None, "usd", "en_US", DASH),
        (None, "pct", "de_DE", DASH),
        (float("nan"), "count", "en_US", DASH),
        (357.24, MWH, "en_US", "357.2 MWh"),
        (12_357.25, MWH, "de_DE", "12.357,2 MWh"),
        (-0.01, MWH, "en_US", "0.0 MWh"),
        (None, MWH, "en_US", DASH),
        (42.0, CustomUnit(label="tCO2e"), "en_US", "42 tCO2e"),
    ],
)
def test_format_value(value, unit, locale, expected):
    assert format_value(value, unit, "USD", locale) == expected


@pytest.mark.parametrize(
    ("currency", "locale", "expected"),
    [
        ("EUR", "en_US", "\u20ac1,500"),
        ("EUR", "de_DE", "1.500\u00a0\u20ac"),
        ("GBP", "en_US", "\u00a31,500"),
        ("CHF", "en_US", "CHF\u00a01,500"),
        ("SEK", "en_US", "SEK\u00a01,500"),
    ],
)
def test_format_value_currency(currency, locale, expected):
    assert format_value(1500.0, "usd", currency, locale) == expected


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (1.2, "pct", "+1.2 pts"),
        (-0.04, "pct", "0.0 pts"),
        (-3.1, "pct", "\u22123.1 pts"),
        (12_345.0, "usd", "+$12,345"),
        (-12_345.0, "usd", "\u2212$12,345"),
        (1_500_000.0, "usd", "+$1.50M"),
        (2.2, "days", "+2.2 days"),
        (-1.0, "hours", "\u22121.0 h"),
        (-96.0, "count", "\u221296"),
        (0.0, "score", "0.0"),
        (0.05, "ratio", "+0.05"),
        (None, "pct", DASH),
        (1.25, MWH, "+1.2 MWh"),
        (-12.0, MWH, "\u221212.0 MWh"),
    ],
)
def test_format_variance(value, unit, expected):
    assert format_variance(value, unit) == expected


@pytest.mark.parametrize(
    ("value", "locale", "expected"),
    [
        (-3.14, "en_US", "\u22123.1 %"),
        (4.25, "en_US", "+4.2 %"),
        (4.25, "de_DE", "+4,2 %"),
        (None, "en_US", DASH),
        (0.0, "en_US", "0.0 %"),
    ],
)
def test_format_variance_pct(value, locale, expected):
    assert format_variance_pct(value, locale) == expected


@pytest.mark.parametrize(
    ("status", "label", "symbol"),
    [
        (ON_TRACK, "On track", "\u25cf"),
        (AT_RISK, "At risk", "\u25b2"),
        (OFF_TRACK, "Off track", "\u25a0"),
        (NO_DATA, "No data", "\u25cb"),
        (NO_TARGET, "No target", "\u25c7"),
        (WITHHELD, "Withheld", "\u2298"),
    ],
)
def test_status_label_and_symbol(status, label, symbol):
    assert status_label(status) == label
    assert status_symbol(status) == symbol
    assert status_class(status).startswith("status-")


def test_unknown_status_unit_and_locale_raise():
    with pytest.raises(ValueError):
        status_label("great")
    with pytest.raises(ValueError):
        format_value(1.0, "furlongs")
    with pytest.raises(ValueError):
        format_number(1.0, 1, "xx_XX")
    assert format_number(1234.5, 1, "de_AT") == "1.234,5"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((None, 4.0, 6.0, "within_range", "ratio"), "4.00 \u2013 6.00"),
        ((95.0, None, None, "higher_is_better", "pct"), "95.0 %"),
        ((None, None, None, "within_range", "days"), DASH),
        ((None, None, None, "higher_is_better", "count"), DASH),
    ],
)
def test_format_target(args, expected):
    assert format_target(*args) == expected


def test_score_change_coverage_and_datetime():
    assert format_score(6.66) == "6.7"
    assert format_score(None) == DASH
    assert format_change(6.0, 5.55) == "+0.5"
    assert format_change(5.0, 5.5) == "\u22120.5"
    assert format_change(5.0, None) == DASH
    expected = "7 of 8 KPIs scored \u00b7 86 % of weight"
    assert format_coverage(Coverage(7, 8, 0.86, 1.0), "KPIs") == expected
    moment = datetime(2026, 11, 2, 6, 15, tzinfo=UTC)
    assert format_datetime(moment) == "2026-11-02 06:15 UTC"
    assert format_datetime(moment, "de_DE") == "02.11.2026 06:15 UTC"
    assert format_datetime(None) == DASH


# --- charts --------------------------------------------------------------------------------------


def test_sparkline_numbers_only():
    svg = sparkline_svg(KPIS["revenue"].trend)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "stroke-dasharray" in svg  # the target line
    assert svg.count("<polyline") >= 3  # the gap splits the actual and target series
    assert "2026" not in svg
    assert sparkline_svg(()) == ""
    assert sparkline_svg([TrendPoint("2026-01", None, 3.0)]) == ""
    assert "<circle" in sparkline_svg([TrendPoint("2026-01", 2.0, None)])
    with pytest.raises(ValueError):
        sparkline_svg(KPIS["revenue"].trend, width=-1)
    assert 'width="60.0"' in score_bar_svg(6.0, ON_TRACK, width=100)
    assert score_bar_svg(None).count("<rect") == 1


# --- HTML ----------------------------------------------------------------------------------------


def test_environment_autoescapes_strings_and_is_strict():
    env = template_environment(ASSETS / "templates")
    assert env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"
    with pytest.raises(Exception, match="undefined"):
        env.from_string("{{ nope }}").render()


def test_html_contains_every_kpi_with_its_actual(report):
    html = render.render_html(report, ASSETS)
    texts = _parse(html)
    assert "<style>" in html and "<link" not in html  # self-contained
    for kpi in report.kpis():
        row = texts[f"kpi-{kpi.id}"]
        assert _squash(kpi.name) in row
        if kpi.status == WITHHELD:
            assert kpi.withheld_reason in row
        else:
            assert format_value(kpi.actual, kpi.unit, report.currency) in row
    assert texts["kpi-training"].split("Training hours completed Jane Roe ")[1].startswith(DASH)
    assert "4.00 \u2013 6.00" in texts["kpi-turns"]
    assert "$2.41M" in texts["kpi-revenue"]
    assert "Acme Widgets GmbH" in texts["summary"] and "October 2026" in texts["summary"]


def test_none_is_a_dash_not_zero(report):
    texts = _parse(render.render_html(report, ASSETS))
    training = texts["kpi-training"]
    assert DASH in training
    assert " 0 " not in f" {training} " and "0.0" not in training


def test_html_escapes_user_text(report):
    html = render.render_html(report, ASSETS)
    assert XSS_NAME not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    texts = _parse(html)
    assert TEMPLATE_INJECTION in texts["kpi-xss"]
    assert ">49<" not in html and " 49 " not in texts["kpi-xss"]


def test_html_other_locale(report):
    texts = _parse(render.render_html(report, ASSETS, locale="de_DE"))
    assert "2,41M $" in texts["kpi-revenue"]  # the no-break space is squashed
    assert "18,4 %" in texts["kpi-margin"]


# --- PDF -----------------------------------------------------------------------------------------


def test_pdf_written_and_readable(report, written):
    from pypdf import PdfReader

    html_path, pdf_path, _ = written
    assert html_path.name == "scorecard.html" and pdf_path.name == "scorecard.pdf"
    reader = PdfReader(pdf_path)
    assert len(reader.pages) > 1
    text = _squash(" ".join(page.extract_text() for page in reader.pages))
    assert report.organization in text and report.period_label in text
    for kpi in report.kpis():
        assert _squash(kpi.name) in text, kpi.name
    assert "Page 1 of" in text
    title = "Acme Widgets GmbH \u2014 Balanced Scorecard \u2014 October 2026"
    assert reader.metadata.title == render.report_title(report) == title
    assert sorted(p.name for p in pdf_path.parent.iterdir()) == ["scorecard.html", "scorecard.pdf"]


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://127.0.0.1:1/",
        "https://example.com/x.png",
        "file:///dev/urandom",
        "data:text/plain,hi",
        "file://otherhost/reports/static/report.css",
        (ASSETS / "static" / ".." / ".." / "pyproject.toml").as_uri(),
    ],
)
def test_url_fetcher_refuses(url):
    fetcher = render.make_url_fetcher(ASSETS)
    with pytest.raises(render.AssetAccessError):
        fetcher(url)
    assert fetcher.refused == [url] and fetcher.served == []


def test_url_fetcher_refuses_symlink_escape(tmp_path):
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "ok.css").write_text("p {}")
    (tmp_path / "static" / "escape.css").symlink_to("/etc/passwd")
    fetcher = render.make_url_fetcher(tmp_path)
    assert fetcher((tmp_path / "static" / "ok.css").as_uri()).read() == b"p {}"
    with pytest.raises(render.AssetAccessError):
        fetcher((tmp_path / "static" / "escape.css").as_uri())


def test_hostile_html_fetches_nothing(tmp_path):
    from pypdf import PdfReader

    fetcher = render.make_url_fetcher(ASSETS)
    html = (
        '<html><body><p>hello</p><img src="file:///etc/passwd">'
        '<img src="http://127.0.0.1:1/x.png"><link rel="stylesheet" href="/etc/passwd">'
        "</body></html>"
    )
    target = tmp_path / "hostile.pdf"
    render.write_pdf(html, ASSETS, target, title="t", url_fetcher=fetcher)
    assert fetcher.served == []
    assert "file:///etc/passwd" in fetcher.refused and "http://127.0.0.1:1/x.png" in fetcher.refused
    assert "root:" not in PdfReader(target).pages[0].extract_text()


def test_failed_render_leaves_nothing(report, tmp_path, monkeypatch):
    def broken(html, assets_dir, target, **kwargs):
        (html() if callable(html) else html)
        Path(target).write_bytes(b"%PDF-1.7 half")
        raise RuntimeError("boom")

    monkeypatch.setattr(render, "render_pdf", broken)
    with pytest.raises(RuntimeError, match="boom"):
        render.write_report(report, ASSETS, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_failing_child_leaves_nothing(report, tmp_path, monkeypatch):
    """A PDF child that dies writes no file at all."""
    from pipelines.report import pdf

    monkeypatch.setattr(pdf.sys, "executable", "/bin/false")
    with pytest.raises(render.RenderError):
        render.write_report(report, ASSETS, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_missing_pango_is_a_clear_error(monkeypatch, tmp_path):
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "weasyprint":
            raise OSError("cannot load library 'libpango-1.0-0'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(RuntimeError, match="libpangoft2-1.0-0"):
        render.write_pdf("<p>x</p>", ASSETS, tmp_path / "x.pdf", title="t")
    with pytest.raises(RuntimeError, match="libpango-1.0-0"):
        render.make_url_fetcher(ASSETS)

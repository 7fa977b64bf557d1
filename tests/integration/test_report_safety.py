"""Hostile and pathological input: text stays text, nothing is fetched, the layout and cap hold."""

from __future__ import annotations

import http.server
import random
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader
from report_factory import generated_report, make_kpi, report_from_catalog
from report_pages import page_problems

from pipelines.catalog import load_catalog
from pipelines.report import pdf, render
from pipelines.report.model import SourceLine
from pipelines.report.templating import template_environment
from pipelines.settings import PROJECT_ROOT

ASSETS = PROJECT_ROOT / "reports"


class _Canary(http.server.BaseHTTPRequestHandler):
    """Records every request it gets; the report must never make one."""

    hits: list[str] = []

    def do_GET(self):  # noqa: N802
        self.hits.append(self.path)
        self.send_response(302)
        self.send_header("Location", "file:///etc/passwd")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def canary():
    _Canary.hits = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _Canary)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Canary.hits
    server.shutdown()
    server.server_close()


def _payloads(url: str) -> list[str]:
    return [
        "<script>alert(1)</script>",
        f'<img src="{url}/img.png" onerror="alert(2)">',
        "{{ 7*7 }}{% for x in range(3) %}X{% endfor %}",
        f'<link rel="stylesheet" href="{url}/style.css">',
        f"</style><style>@import url({url}/import.css);"
        " body { background: url(file:///etc/passwd) }</style>",
        '<img src="file:///etc/passwd"><img src="/dev/urandom">',
        f'<svg><image href="{url}/svg.png"/></svg><iframe src="http://169.254.169.254/latest/meta-data/">',
    ]


def _hostile_report(catalog, url: str):
    """The demo report with hostile text wherever source data or catalog text appears."""
    payloads = _payloads(url)
    report = report_from_catalog(catalog)
    p0 = report.perspectives[0]
    o0 = p0.objectives[0]
    kpis = [
        replace(
            k,
            name=f"{k.name} {payloads[i % len(payloads)]}",
            commentary=payloads[(i + 1) % len(payloads)],
            commentary_author=payloads[(i + 2) % len(payloads)],
            owner=payloads[(i + 3) % len(payloads)],
            description=payloads[(i + 4) % len(payloads)],
            tables=(payloads[(i + 5) % len(payloads)],),
        )
        for i, k in enumerate(o0.kpis)
    ]
    o0 = replace(o0, name=f"Grow {payloads[1]}", kpis=tuple(kpis))
    p0 = replace(p0, name=f"Financial {payloads[3]}", objectives=(o0, *p0.objectives[1:]))
    initiatives = tuple(
        replace(i, name=payloads[n % len(payloads)], owner=payloads[1])
        for n, i in enumerate(report.initiatives)
    )
    sources = (SourceLine(payloads[4], 12, None), *report.sources)
    withheld = (replace(kpis[0], status="withheld", withheld_reason=payloads[1]),)
    return replace(
        report,
        organization=f"Northwind {payloads[0]}",
        vision=payloads[2],
        mission=payloads[4],
        perspectives=(p0, *report.perspectives[1:]),
        initiatives=initiatives,
        sources=sources,
        withheld=withheld,
        run_id=payloads[5],
        catalog_version=payloads[6],
    )


@pytest.fixture(scope="module")
def hostile(canary, tmp_path_factory):
    url, hits = canary
    catalog = load_catalog(PROJECT_ROOT / "definitions", PROJECT_ROOT / "sql")
    report = _hostile_report(catalog, url)
    out = tmp_path_factory.mktemp("hostile")
    html_path, pdf_path = render.write_report(
        replace(report, kpi_detail_pages="off_track"), ASSETS, out
    )
    return report, html_path.read_text(encoding="utf-8"), pdf_path, url, hits


def test_injected_markup_is_text_in_html(hostile):
    _, html, _, url, _ = hostile
    for tag in (
        "<script>",
        '<img src="file',
        f'<img src="{url}',
        "<iframe",
        '<link rel="style',
        "<image href",
        'onerror="alert',
    ):
        assert tag not in html, tag
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "{{ 7*7 }}" in html and ">49<" not in html and "XXX" not in html
    assert html.count("<script") == 0 and html.count("<style") == 3  # ours only


def test_injected_markup_is_text_in_pdf_and_nothing_was_fetched(hostile):
    _, _, pdf_path, url, hits = hostile
    text = " ".join(page.extract_text() for page in PdfReader(pdf_path).pages)
    assert "<script>alert(1)</script>" in " ".join(text.split())
    assert "{{ 7*7 }}" in text
    assert "root:x:0:0" not in text
    assert hits == [], f"the canary server was called: {hits}"


def test_hostile_html_through_the_render_child_fetches_nothing(canary, tmp_path):
    url, hits = canary
    html = (
        "<html><head><style>@import url(" + url + "/a.css); @import 'file:///etc/passwd';"
        " body { background: url(/dev/urandom) } p { background: url(" + url + "/p.png) }"
        " @font-face { font-family: x; src: url(" + url + "/f.woff) }</style>"
        '<link rel="stylesheet" href="file:///etc/passwd"></head><body><p>hello</p>'
        f'<img src="{url}/redirect.png"><img src="file:///etc/shadow">'
        '<img src="http://169.254.169.254/latest/meta-data/iam/">'
        '<img src="http://[::1]:1/"><object data="file:///etc/hostname"></object>'
        f'<svg xmlns="http://www.w3.org/2000/svg"><image href="{url}/s.png"/></svg>'
        "</body></html>"
    )
    target = tmp_path / "hostile.pdf"
    seen = pdf.render_pdf(html, ASSETS, target, title="t", timeout=30)
    assert seen["served"] == []
    assert any("/etc/passwd" in u for u in seen["refused"])
    assert any(url in u for u in seen["refused"])
    assert hits == []
    text = PdfReader(target).pages[0].extract_text()
    assert "hello" in text and "root:" not in text


def test_fetcher_never_follows_a_redirect(canary):
    """Network URLs are refused before any connection, so a redirect is never even seen."""
    url, hits = canary
    fetcher = render.make_url_fetcher(ASSETS)
    for target in (
        f"{url}/redirect",
        "http://169.254.169.254/latest/meta-data/",
        "ftp://127.0.0.1/x",
        "file:///proc/self/environ",
    ):
        with pytest.raises(render.AssetAccessError):
            fetcher(target)
    assert hits == []


def test_render_past_its_cap_is_stopped_and_leaves_nothing(tmp_path):
    big = (
        "<table>"
        + "".join(f"<tr><td>{i}</td><td>{'x ' * 50}</td></tr>" for i in range(20000))
        + "</table>"
    )
    target = tmp_path / "slow.pdf"
    start = time.monotonic()
    with pytest.raises(pdf.RenderTimeout):
        pdf.render_pdf(f"<html><body>{big}</body></html>", ASSETS, target, title="t", timeout=1)
    assert time.monotonic() - start < 10
    assert not target.exists() and list(tmp_path.iterdir()) == []


def test_pathological_report_holds_its_layout(tmp_path):
    """Very long names, huge numbers and a thousand-row appendix: rendered under the cap,
    nothing runs off the page."""
    report = generated_report(objectives=4, kpis=6, links=3, seed=5)
    long_word = "Supercalifragilistic" * 12
    p0 = report.perspectives[0]
    o0 = p0.objectives[0]
    rng = random.Random(1)
    huge = make_kpi(
        rng,
        "huge",
        f"Revenue {long_word} and a very long name " * 3,
        "usd",
        "higher_is_better",
        actual=9.87e17,
        previous=-4.2e16,
        last_year=1e15,
        ytd_actual=9.9e18,
        variance=8.1e17,
        status="off_track",
        commentary=("A very long comment. " * 120) + long_word,
    )
    o0 = replace(
        o0, name=f"Objective {long_word}", owner="Owner " + long_word, kpis=(huge, *o0.kpis)
    )
    p0 = replace(p0, name="Financial " + long_word, objectives=(o0, *p0.objectives[1:]))
    sources = tuple(
        SourceLine(
            f"source_{i % 7}.table_with_a_long_name_{i}",
            10**12 + i,
            datetime(2026, 11, 4, 5, 0, tzinfo=UTC),
        )
        for i in range(1000)
    )
    report = replace(
        report,
        organization="Northwind " + long_word,
        perspectives=(p0, *report.perspectives[1:]),
        sources=sources,
        kpi_detail_pages="off_track",
        render_timeout_seconds=60,
    )
    start = time.monotonic()
    _, pdf_path = render.write_report(report, ASSETS, tmp_path / "out")
    assert time.monotonic() - start < report.render_timeout_seconds
    assert page_problems(pdf_path, tmp_path / "pages") == []
    text = " ".join(page.extract_text() for page in PdfReader(pdf_path).pages)
    assert "table_with_a_long_name_999" in text


def test_template_syntax_in_data_is_never_evaluated():
    env = template_environment(ASSETS / "templates")
    assert env.from_string("{{ x }}").render(x="{{ 7*7 }}") == "{{ 7*7 }}"
    assert env.autoescape is not False


def test_dependency_floors_fix_the_fetcher_cves():
    text = (PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"weasyprint>=70' in text and '"jinja2>=3.1.6' in text
    import jinja2
    import weasyprint

    assert tuple(int(x) for x in weasyprint.__version__.split(".")[:1]) >= (70,)
    assert tuple(int(x) for x in jinja2.__version__.split(".")[:3]) >= (3, 1, 6)

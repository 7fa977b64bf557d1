"""The HTML report and the email in a real headless browser (Debian's chromium through
Playwright): on a desktop window, and at a phone's 390 px, where nothing may scroll sideways and
no word may break across lines (the tables reflow).

Skipped, with the reason, only where chromium or Playwright is missing; .ci/run installs both,
so CI always runs it. The screenshot is kept in the test's temporary folder (pytest's
`--basetemp DIR` puts it where you want it); nothing is written into the working tree.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from delivery_support import scorecard_email
from report_factory import report_from_catalog

from pipelines.catalog import load_catalog
from pipelines.report.render import render_html
from pipelines.settings import PROJECT_ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() and shutil.which("chromium") is None,
    reason="chromium is not installed (apt-get install chromium; .ci/run installs it)",
)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')"
    )
    with sync_api.sync_playwright() as playwright:
        executable = str(CHROMIUM) if CHROMIUM.exists() else shutil.which("chromium")
        browser = playwright.chromium.launch(executable_path=executable, args=ARGS)
        yield browser
        browser.close()


def test_report_html_in_chromium(browser, tmp_path):
    catalog = load_catalog(PROJECT_ROOT / "definitions", PROJECT_ROOT / "sql")
    report = report_from_catalog(catalog)
    page_file = tmp_path / "scorecard.html"
    page_file.write_text(render_html(report, PROJECT_ROOT / "reports"), encoding="utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems, requests = [], []
    page.on(
        "console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(page_file.as_uri(), wait_until="load")
    assert problems == []
    assert requests == [page_file.as_uri()]  # the page itself, nothing else
    assert page.title() == f"{report.organization} \u2014 Balanced Scorecard \u2014 October 2026"
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow} px wider than the window"
    assert page.locator("svg.strategy-map-svg").count() == 1
    assert page.locator("section.kpi-detail").count() == len(report.kpis())
    for kpi in report.kpis():
        assert page.locator(f"#kpi-{kpi.id}").is_visible()
    page.click("a[href='#initiatives']")
    shot = tmp_path / "report-chromium.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    page.close()


PHONE = {"width": 390, "height": 844}
# Every word of three letters or more whose letters the browser laid out on more than one line:
# text broken inside a word (a narrow table cell breaks it letter by letter).
BROKEN_WORDS = """() => {
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const m of node.textContent.matchAll(/[A-Za-z\u00c0-\u024f]{3,}/g)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const lines = new Set(
        Array.from(range.getClientRects()).filter(r => r.width > 0).map(r => Math.round(r.top))
      );
      if (lines.size > 1) found.push(`${m[0]} in <${node.parentElement.tagName.toLowerCase()}>`);
    }
  }
  return found;
}"""


def _phone_problems(browser, html_file: Path) -> tuple[int, list[str]]:
    page = browser.new_page(viewport=PHONE)
    page.goto(html_file.as_uri(), wait_until="load")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    broken = page.evaluate(BROKEN_WORDS)
    page.screenshot(path=str(html_file.with_suffix(".phone.png")), full_page=True)
    page.close()
    return overflow, broken


def test_report_html_on_a_phone(browser, tmp_path):
    catalog = load_catalog(PROJECT_ROOT / "definitions", PROJECT_ROOT / "sql")
    report = report_from_catalog(catalog)
    page_file = tmp_path / "scorecard.html"
    page_file.write_text(render_html(report, PROJECT_ROOT / "reports"), encoding="utf-8")
    overflow, broken = _phone_problems(browser, page_file)
    assert overflow <= 0, f"the page is {overflow} px wider than a 390 px phone"
    assert broken == [], f"words broken across lines: {broken[:10]}"
    # the tables reflowed: a KPI's values stand under their column's name
    page = browser.new_page(viewport=PHONE)
    page.goto(page_file.as_uri(), wait_until="load")
    kpi = report.kpis()[0]
    actual = page.locator(f"#kpi-{kpi.id} td.actual")
    label = actual.evaluate("e => getComputedStyle(e, '::before').content")
    assert label == '"Actual"'
    assert page.locator(f"#kpi-{kpi.id} thead").count() == 0
    page.close()


def test_email_on_a_phone(browser, tmp_path):
    catalog = load_catalog(PROJECT_ROOT / "definitions", PROJECT_ROOT / "sql")
    report = report_from_catalog(catalog)
    message = scorecard_email(report, catalog.recipient_lists[0])
    html = message.get_body(preferencelist=("html",)).get_content()
    page_file = tmp_path / "email.html"
    page_file.write_text(html, encoding="utf-8")
    overflow, broken = _phone_problems(browser, page_file)
    assert overflow <= 0, f"the email is {overflow} px wider than a 390 px phone"
    assert broken == [], f"words broken across lines: {broken[:10]}"

"""A month with KPIs withheld or without data, or a failed load, is provisional: the cover, the
email's subject and body say so with the share of the weight scored, before any status word; the
strategy map shows withheld objectives (`scorecard status`:
tests/integration/test_status_command.py)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from email import message_from_bytes, policy
from html.parser import HTMLParser

import pytest
from delivery_support import scorecard_email
from report_factory import generated_report

from pipelines.catalog.models import Recipient, RecipientList
from pipelines.delivery.message import (
    scorecard_subject,
)
from pipelines.delivery.summary import assess, for_list
from pipelines.report import render
from pipelines.report.formatting import STATUS_LABELS, format_score, status_label, status_symbol
from pipelines.report.provisional import provisional, weight_share
from pipelines.report.strategy_map import strategy_map_svg
from pipelines.scoring import score as scoring
from pipelines.scoring.rollup import rollup
from pipelines.scoring.statuses import Coverage
from pipelines.settings import PROJECT_ROOT

ASSETS = PROJECT_ROOT / "reports"
# objective_0 (3 KPIs, perspective p0) loses two to withholding, objective_5 (2 KPIs, p1) one
# to missing data: p0 scores (1/3 + 1) / 2 of its weight, p1 (1 + 1/2) / 2, the others all,
# so (2/3 + 3/4 + 1 + 1) / 4 = 85 % of the scorecard's weight scored.
NOTE = "Provisional \u2014 85 % of the weight scored (2 KPIs withheld, 1 without data)"
SUBJECT = (
    "Provisional (85 % scored): Northwind Instruments Balanced Scorecard \u2014 "
    "October 2026 (incomplete data)"
)
LEADERS = RecipientList(
    id="leadership", recipients=[Recipient(name="Alex Morgan", email="alex.morgan@example.com")]
)


def _status(value):
    return scoring.status_of_score(value) if value is not None else "no_data"


def _rescored(report, states: dict[str, str]):
    """The report with some KPIs withheld or without data, rolled up again as the pipeline
    does (renormalised over what scored, the coverage kept)."""

    def mark(k):
        if k.id not in states:
            return k
        return replace(
            k,
            status=states[k.id],
            actual=None,
            score=None,
            withheld_reason="finance.gl_entries failed a check"
            if states[k.id] == "withheld"
            else None,
        )

    perspectives = []
    for p in report.perspectives:
        objectives = []
        for o in p.objectives:
            kpis = tuple(mark(k) for k in o.kpis)
            value, coverage = rollup([(k.score, 1.0) for k in kpis])
            objectives.append(
                replace(o, kpis=kpis, score=value, status=_status(value), coverage=coverage)
            )
        value, coverage = rollup([(o.score, o.weight) for o in objectives])
        perspectives.append(
            replace(
                p,
                objectives=tuple(objectives),
                score=value,
                status=_status(value),
                coverage=coverage,
            )
        )
    value, coverage = rollup([(p.score, p.weight) for p in perspectives])
    report = replace(
        report,
        perspectives=tuple(perspectives),
        overall_score=value,
        overall_status=_status(value),
        coverage=coverage,
    )
    return replace(report, withheld=tuple(k for k in report.kpis() if k.status == "withheld"))


def _complete():
    return generated_report(objectives=8, kpis=20, links=6)


def _provisional():
    return _rescored(
        _complete(), {"kpi_0_0": "withheld", "kpi_0_1": "withheld", "kpi_5_0": "no_data"}
    )


class _Text(HTMLParser):
    """The text of the element with `element_id` (all of it, in reading order)."""

    def __init__(self, element_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.element_id, self.depth, self.parts = element_id, 0, []

    def handle_starttag(self, tag, attrs):
        if self.depth or dict(attrs).get("id") == self.element_id:
            self.depth += 1

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.parts.append(data)


def _text_of(html: str, element_id: str) -> str:
    parser = _Text(element_id)
    parser.feed(html)
    return " ".join("".join(parser.parts).split())


def _first_status_word(text: str) -> int:
    found = [text.find(label) for label in STATUS_LABELS.values() if label in text]
    assert found, "no status word"
    return min(found)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The provisional month and the complete one, rendered to HTML and PDF."""
    from pypdf import PdfReader

    out = {}
    for name, report in (("provisional", _provisional()), ("complete", _complete())):
        html, pdf = render.write_report(report, ASSETS, tmp_path_factory.mktemp(name))
        cover = " ".join(PdfReader(pdf).pages[0].extract_text().split())
        out[name] = (report, html.read_text(encoding="utf-8"), cover, pdf)
    return out


def test_the_share_follows_the_rollup_weights():
    report = _provisional()
    assert weight_share(report.perspectives) == pytest.approx((2 / 3 + 3 / 4 + 2) / 4)
    heavy = replace(
        report, perspectives=(replace(report.perspectives[0], weight=3.0), *report.perspectives[1:])
    )
    assert weight_share(heavy.perspectives) == pytest.approx((3 * 2 / 3 + 3 / 4 + 2) / 6)
    assert provisional(_complete()) is None


def test_cover_html_says_provisional_and_the_share_before_the_status(rendered):
    report, html, _, _ = rendered["provisional"]
    assert report.overall_status in STATUS_LABELS
    assert _text_of(html, "provisional-note") == NOTE
    summary = _text_of(html, "summary")
    assert NOTE in summary
    assert summary.index(NOTE) < _first_status_word(summary)
    assert summary.index(format_score(report.overall_score)) < summary.index(NOTE)


def test_cover_pdf_says_provisional_and_the_share_before_the_status(rendered):
    report, _, cover, _ = rendered["provisional"]
    assert NOTE in cover
    assert cover.index(NOTE) < _first_status_word(cover)
    assert cover.index(f"{format_score(report.overall_score)} / 10") < cover.index(NOTE)


def test_a_complete_month_reads_as_before(rendered):
    report, html, cover, _ = rendered["complete"]
    assert "Provisional" not in html and "Provisional" not in cover
    assert 'id="provisional-note"' not in html
    assert f"{status_symbol(report.overall_status)} {status_label(report.overall_status)}" in cover


def _message(report, recipient_list=LEADERS):
    message = scorecard_email(report, recipient_list)
    parsed = message_from_bytes(message.as_bytes(), policy=policy.default)
    # CPython folds a long subject before an encoded word ('—') leaving a space at the end of
    # the first line, which reads back doubled: compare the words, and the subject as built.
    subject = scorecard_subject(report, assess(report))
    assert " ".join(parsed["Subject"].split()) == subject
    return (
        subject,
        parsed.get_body(("plain",)).get_content(),
        parsed.get_body(("html",)).get_content(),
    )


def test_email_subject_and_body_of_a_provisional_month():
    report = _provisional()
    subject, text, html = _message(report)
    assert subject == SUBJECT
    status = f"{status_symbol(report.overall_status)} {status_label(report.overall_status)}"
    overall = f"Overall: {format_score(report.overall_score)} / 10, {NOTE}: {status}"
    assert overall in text.splitlines()
    assert text.index(NOTE) < text.index(status)
    flat = " ".join(html.replace("&nbsp;", " ").replace("&mdash;", "\u2014").split())
    assert NOTE in flat and flat.index(NOTE) < flat.index(status)


def test_email_of_a_complete_month_is_unmarked():
    report = _complete()
    subject, text, html = _message(report)
    assert subject == "Northwind Instruments Balanced Scorecard \u2014 October 2026"
    assert "Provisional" not in text and "Provisional" not in html
    status = f"{status_symbol(report.overall_status)} {status_label(report.overall_status)}"
    assert f"Overall: {format_score(report.overall_score)} / 10, {status}" in text.splitlines()


def test_a_list_gets_the_share_of_what_it_sees():
    """The list sees perspective p1 only: objective_5 lost half its weight, objective_1 none."""
    seen = RecipientList(id="p1_owners", perspectives=["p1"], recipients=LEADERS.recipients)
    view = for_list(_provisional(), seen)
    subject, text, _ = _message(view, seen)
    assert subject == (
        "Provisional (75 % scored): Northwind Instruments Balanced Scorecard "
        "\u2014 October 2026 (incomplete data)"
    )
    assert "Provisional \u2014 75 % of the weight scored (1 KPI without data)" in text


def test_a_failed_load_makes_the_month_provisional_for_the_lists_whose_kpis_read_it():
    report = replace(_complete(), load_failures=("hr.surveys",))
    subject, text, _ = _message(report)
    assert subject.startswith("Provisional (100 % scored): Northwind Instruments")
    assert "Provisional \u2014 100 % of the weight scored (1 table failed to load)" in text
    seen = RecipientList(id="p1_owners", perspectives=["p1"], recipients=LEADERS.recipients)
    assert for_list(report, seen).load_failures == ()  # no KPI it sees reads hr.surveys
    read = replace(report, load_failures=("crm.accounts", "hr.surveys"))
    assert for_list(read, seen).load_failures == ("crm.accounts",)


def _boxes(svg: str) -> list[list[str]]:
    ns = "{http://www.w3.org/2000/svg}"
    return [
        [t.text for t in g.iter(f"{ns}text")]
        for g in ET.fromstring(svg).iter(f"{ns}g")
        if g.get("class") == "objective-box"
    ]


def test_strategy_map_shows_withheld_objectives_as_withheld():
    report = _rescored(
        _complete(),
        {
            "kpi_0_0": "withheld",
            "kpi_0_1": "withheld",
            "kpi_0_2": "withheld",
            "kpi_1_0": "withheld",
        },
    )
    boxes = {texts[0]: texts for texts in _boxes(strategy_map_svg(report))}
    withheld = boxes["Objective 1: make financial"]
    assert withheld[-1] == "\u2298 Withheld"
    assert not any("No data" in t for t in withheld)
    partial = boxes["Objective 2: make customer"]
    objective = report.perspectives[1].objectives[0]
    assert partial[-2:] == [
        "\u2298 1 of 3 KPIs withheld",
        f"{status_symbol(objective.status)} {status_label(objective.status)}"
        f" \u00b7 {format_score(objective.score)}",
    ]
    from pipelines.report.view import map_legend

    assert map_legend(report)[-1] == "withheld"
    assert "withheld" not in map_legend(_complete())


def test_coverage_of_an_objective_without_weight_counts_as_unscored():
    report = _complete()
    objective = report.perspectives[0].objectives[0]
    empty = replace(objective, coverage=Coverage(0, 0, 0.0, 0.0), score=None)
    first = replace(
        report.perspectives[0], objectives=(empty, *report.perspectives[0].objectives[1:])
    )
    assert weight_share([first]) == pytest.approx(0.5)

"""The scorecard email as built (no server): structure, content, attachment, header safety."""

from __future__ import annotations

import re
from dataclasses import replace
from email import message_from_bytes, policy

import pytest
from delivery_support import scorecard_email
from report_factory import report_from_catalog

from pipelines.catalog.models import Recipient, RecipientList
from pipelines.delivery.message import (
    Attachment,
    MessageError,
    header_text,
    mailbox,
)
from pipelines.delivery.summary import assess, for_list

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\n%\xe2\xe3\xcf\xd3 binary \x00\x01\x02\r\n\n%%EOF\n"
LEADERS = RecipientList(
    id="leadership",
    recipients=[
        Recipient(name="Alex Morgan", email="alex.morgan@example.com"),
        Recipient(name="Lena Sørensen", email="lena.sorensen@example.com"),
    ],
)


@pytest.fixture
def attachment(tmp_path):
    path = tmp_path / "scorecard.pdf"
    path.write_bytes(PDF)
    return Attachment(path, path.read_bytes(), "northwind-instruments-scorecard-2026-10.pdf")


def _withheld(report, kpi_id, reason):
    """The report with one KPI withheld, as the pipeline marks it."""

    def mark(k):
        return (
            replace(k, status="withheld", withheld_reason=reason, actual=None, score=None)
            if k.id == kpi_id
            else k
        )

    perspectives = tuple(
        replace(
            p,
            objectives=tuple(replace(o, kpis=tuple(mark(k) for k in o.kpis)) for o in p.objectives),
        )
        for p in report.perspectives
    )
    report = replace(report, perspectives=perspectives)
    return replace(report, withheld=tuple(k for k in report.kpis() if k.status == "withheld"))


def _build(report, attachment, recipients=LEADERS, to=None):
    return scorecard_email(report, recipients, to=to, attachment=attachment)


def _parts(message):
    parsed = message_from_bytes(message.as_bytes(), policy=policy.default)
    return (
        parsed,
        parsed.get_body(("plain",)).get_content(),
        parsed.get_body(("html",)).get_content(),
    )


def test_structure_alternatives_and_attachment_byte_identical(catalog, attachment):
    message = _build(report_from_catalog(catalog), attachment)
    parsed = message_from_bytes(message.as_bytes(), policy=policy.default)
    assert parsed.get_content_type() == "multipart/mixed"
    body, pdf = parsed.get_payload()
    assert body.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in body.get_payload()] == ["text/plain", "text/html"]
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_filename() == "northwind-instruments-scorecard-2026-10.pdf"
    assert pdf.get_content() == attachment.path.read_bytes()
    assert parsed["Subject"] == "Northwind Instruments Balanced Scorecard \u2014 October 2026"
    assert [a.addr_spec for a in parsed["To"].addresses] == [
        "alex.morgan@example.com",
        "lena.sorensen@example.com",
    ]
    assert parsed["To"].addresses[1].display_name == "Lena Sørensen"
    assert parsed["Message-ID"] == "<1.scorecard@northwind.example>"
    assert parsed["From"].addresses[0].addr_spec == "scorecard@northwind.example"
    assert all(len(line) <= 998 for line in message.as_bytes().split(b"\r\n"))


def test_body_has_scores_statuses_and_a_line_per_off_track_kpi(catalog, attachment):
    report = report_from_catalog(catalog)
    _, text, html = _parts(_build(report, attachment))
    assert "Overall:" in text and "On track" in text
    for perspective in report.perspectives:
        assert perspective.name in text
        assert perspective.name.replace("&", "&amp;") in html
    off = [k for k in report.kpis() if k.status == "off_track"]
    assert off
    for kpi in off:
        assert (
            len([line for line in text.splitlines() if kpi.name + ":" in line and "\u25a0" in line])
            == 1
        )
        assert kpi.name in html
    assert "\u25a0&nbsp;Off track" in html  # symbol and word, never colour alone


def test_html_uses_inline_styles_and_tables_only(catalog, attachment):
    _, _, html = _parts(_build(report_from_catalog(catalog), attachment))
    for forbidden in (
        "<svg",
        "<img",
        "<style",
        "<link",
        "<script",
        "class=",
        "http://",
        "https://",
    ):
        assert forbidden not in html.lower(), forbidden
    assert "<table" in html and 'style="' in html


def test_withheld_kpis_are_plainly_marked_and_the_subject_says_incomplete(catalog, attachment):
    report = _withheld(
        report_from_catalog(catalog),
        "revenue_usd",
        "finance.gl_entries failed expect_column_values_to_not_be_null",
    )
    parsed, text, html = _parts(_build(report, attachment))
    assert "WITHHELD: Revenue: finance.gl_entries failed" in text
    assert "WITHHELD &middot; Revenue" in html or "WITHHELD · Revenue" in html
    assert "INCOMPLETE DATA" in text and "Incomplete data" in html
    assert parsed["Subject"].endswith("(incomplete data)")


def test_html_escapes_catalog_text(catalog, attachment):
    report = report_from_catalog(catalog)
    report = replace(report, organization="Evil <script>alert(1)</script> & Co")
    _, text, html = _parts(_build(report, attachment))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Evil <script>alert(1)</script> & Co" in text  # plain text is not HTML-escaped


def test_a_list_gets_only_its_perspectives(catalog, attachment):
    owners = RecipientList(
        id="customer_owners",
        perspectives=["customer"],
        recipients=[Recipient(name="Tom Becker", email="tom@example.com")],
    )
    view = for_list(report_from_catalog(catalog), owners)
    assert [p.id for p in view.perspectives] == ["customer"]
    _, text, html = _parts(_build(view, attachment, owners))
    assert "cover: Customer." in text
    assert "Financial" not in text and "Learning" not in html


def test_header_injection_is_folded_never_passed_raw(catalog, attachment):
    evil = RecipientList(
        id="leadership",
        recipients=[Recipient(name="Eve\r\nBcc: attacker@evil.example", email="eve@example.com")],
    )
    report = replace(
        report_from_catalog(catalog),
        organization="Northwind\r\nBcc: attacker@evil.example\r\nX-Evil: 1",
        period_label="October 2026\nSubject: free money",
    )
    raw = _build(report, attachment, evil).as_bytes()
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["Bcc"] is None and parsed["X-Evil"] is None
    assert len(parsed.get_all("Subject")) == 1
    assert [a.addr_spec for a in parsed["To"].addresses] == ["eve@example.com"]
    headers = raw.split(b"\r\n\r\n", 1)[0]
    assert not re.search(rb"^(Bcc|X-Evil):", headers, flags=re.MULTILINE | re.IGNORECASE)
    assert "\n" not in parsed["Subject"] and "\r" not in parsed["Subject"]


def test_the_email_library_refuses_raw_newlines_in_headers():
    from email.message import EmailMessage

    message = EmailMessage(policy=policy.SMTP)
    with pytest.raises(ValueError, match="linefeed|carriage"):
        message["Subject"] = "hello\r\nBcc: attacker@evil.example"


@pytest.mark.parametrize(
    "address",
    [
        "eve@example.com\r\nBcc: x@evil.example",
        "Eve <eve@example.com>",
        "eve@example.com, x@evil.example",
        "ève@example.com",
        "not an address",
    ],
)
def test_invalid_addresses_are_rejected(address):
    with pytest.raises(MessageError):
        mailbox("Eve", address)


def test_header_text_folds_whitespace_and_drops_controls():
    assert header_text("a\r\n b\tc\x00d\u2028e") == "a b cd e"


def test_a_scorecard_from_empty_data_is_never_sent_as_complete(catalog, attachment):
    report = report_from_catalog(catalog)
    empty = tuple(
        replace(
            p,
            score=None,
            status="no_data",
            objectives=tuple(
                replace(
                    o,
                    kpis=tuple(
                        replace(k, actual=None, score=None, status="no_data") for k in o.kpis
                    ),
                )
                for o in p.objectives
            ),
        )
        for p in report.perspectives
    )
    report = replace(
        report, perspectives=empty, overall_score=None, overall_status="no_data", highlights=()
    )
    completeness = assess(report)
    assert completeness.empty and completeness.incomplete
    parsed, text, html = _parts(_build(report, attachment))
    assert parsed["Subject"].endswith("(incomplete data)")
    assert "built from empty data" in text and "built from empty data" in html


def test_a_month_the_report_calls_incomplete_is_not_sent_as_complete(catalog, attachment):
    """Every KPI has a value, but the month has not closed: the report's own reasons count."""
    report = report_from_catalog(catalog)
    assert not assess(report).incomplete
    reason = "October 2026 has not closed yet (it ends on 2026-10-31); its data is not final."
    report = replace(report, data_complete=False, incomplete_reasons=(reason,))
    completeness = assess(report)
    assert completeness.incomplete and not completeness.empty
    assert completeness.reasons == (reason,)
    parsed, text, html = _parts(_build(report, attachment))
    assert parsed["Subject"].endswith("(incomplete data)")
    assert "has not closed yet" in text and "has not closed yet" in html

"""Build the emails: the monthly scorecard (HTML, text, the PDF attached) and data-team notices.

Messages are stdlib `EmailMessage`s with the SMTP policy. Header values that come from the catalog
or the data (organization, names, period label) are folded to one line before they reach the
email library, which refuses CR/LF in header values as a second line of defence; envelope
addresses are validated here and never parsed back out of headers.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import jinja2

from pipelines.catalog.models import Recipient, RecipientList
from pipelines.delivery.summary import Completeness, off_track, perspective_names
from pipelines.report.model import BoardPack, ScorecardReport
from pipelines.report.provisional import provisional, provisional_marker

# A plain ASCII address; the domain may be dotless (scorecard@localhost, the outbox's sender).
_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$")
HIGHLIGHT_LIMIT = 5
MAX_HEADER_TEXT = 200


class MessageError(ValueError):
    """A value that cannot go into an email (an invalid address, say)."""


def header_text(value: str) -> str:
    """One line of header text: every run of whitespace (CR, LF, tabs…) folded to one space,
    control characters dropped, capped in length."""
    text = "".join(ch for ch in str(value) if unicodedata.category(ch) != "Cc" or ch.isspace())
    return " ".join(text.split())[:MAX_HEADER_TEXT]


def mailbox(name: str, email: str) -> Address:
    """A validated mailbox: a plain ASCII address and a one-line display name."""
    if not _ADDRESS.match(email) or len(email) > 254:
        raise MessageError(f"{email[:80]!r} is not a plain email address (user@domain.tld)")
    return Address(display_name=header_text(name), addr_spec=email)


def parse_sender(text: str) -> Address:
    """The From mailbox from 'Name <user@domain>' or 'user@domain' (SCORECARD_SMTP_FROM)."""
    match = re.fullmatch(r"\s*(?:(.*?)\s*<([^<>]+)>|([^<>\s]+))\s*", text, flags=re.S)
    if not match:
        raise MessageError("SCORECARD_SMTP_FROM must be 'user@domain' or 'Name <user@domain>'")
    name, bracketed, bare = match.groups()
    return mailbox((name or "").strip('"'), (bracketed or bare).strip())


def scorecard_subject(
    report: ScorecardReport, completeness: Completeness, replaces: datetime | None = None
) -> str:
    """'<organization> Balanced Scorecard — <period label>', marked when data is missing: a
    provisional month starts 'Provisional (82 % scored): ' (the share of what the list sees);
    the complete scorecard sent after a provisional one starts 'Complete: '."""
    whose = f"{report.organization} {report.unit.name}" if report.unit else report.organization
    subject = f"{whose} Balanced Scorecard \u2014 {report.period_label}"
    if replaces is not None:
        subject = f"Complete: {subject}"
    marker = provisional_marker(provisional(report), report.locale)
    if marker:
        subject = f"{marker}: {subject}"
    if completeness.incomplete:
        subject += " (incomplete data)"
    return header_text(subject)


def attachment_name(report: ScorecardReport, list_id: str | None = None) -> str:
    """An ASCII file name: '<organization>[-<unit>]-scorecard-YYYY-MM[-<list>].pdf'."""
    suffix = f"-{list_id.replace('_', '-')}" if list_id else ""
    unit = f"-{report.unit.id.replace('_', '-')}" if report.unit else ""
    return f"{_slug(report.organization)}{unit}-scorecard-{report.period}{suffix}.pdf"


def _slug(name: str) -> str:
    """An organization's name as ASCII letters, digits and dashes."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore")
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.decode().lower()).strip("-") or "scorecard"


def new_message_id(sender: Address, tag: str) -> str:
    """A fresh, globally unique Message-ID in the sender's domain."""
    return make_msgid(idstring=re.sub(r"[^A-Za-z0-9.-]", "-", tag), domain=sender.domain)


def _envelope(
    sender: Address, to: list[Address], subject: str, message_id: str, extra: dict[str, str]
) -> EmailMessage:
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = header_text(subject)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    for name, value in extra.items():
        message[name] = header_text(value)
    return message


@dataclass(frozen=True)
class Attachment:
    """The PDF attached to a scorecard email: the file on disk and its exact bytes."""

    path: Path
    content: bytes
    filename: str


def scorecard_message(
    report: ScorecardReport,
    completeness: Completeness,
    recipient_list: RecipientList,
    recipients: list[Recipient],
    *,
    sender: Address,
    message_id: str,
    attachment: Attachment,
    env: jinja2.Environment,
    replaces: datetime | None = None,
) -> EmailMessage:
    """The monthly email to one list: plain text and HTML alternatives, the PDF attached.
    `replaces`: when the provisional scorecard this complete one replaces was sent."""
    subject = scorecard_subject(report, completeness, replaces)
    flagged = off_track(report)
    shown = {k.id for k in flagged}
    context = {
        "report": report,
        "subject": subject,
        "completeness": completeness,
        "off_track": flagged,
        "provisional": provisional(report),
        "highlights": [h for h in report.highlights if h.kpi.id not in shown][:HIGHLIGHT_LIMIT],
        "partial": bool(recipient_list.perspectives),
        "perspective_names": perspective_names(report),
        "attachment": attachment.filename,
        "replaces": replaces,
    }
    message = _envelope(
        sender,
        [mailbox(r.name, r.email) for r in recipients],
        subject,
        message_id,
        {"X-Scorecard-Period": report.period, "X-Scorecard-List": recipient_list.id},
    )
    message.set_content(
        env.get_template("email/scorecard.txt").render(context), cte="quoted-printable"
    )
    message.add_alternative(
        env.get_template("email/scorecard.html").render(context),
        subtype="html",
        cte="quoted-printable",
    )
    message.add_attachment(
        attachment.content, maintype="application", subtype="pdf", filename=attachment.filename
    )
    return message


def pack_subject(pack: BoardPack) -> str:
    """'<organization> board pack — Q3 2026 (July to September 2026)'."""
    report = pack.report
    return header_text(
        f"{report.organization} board pack \u2014 {report.period_label} ({pack.span})"
    )


def pack_attachment_name(pack: BoardPack) -> str:
    """An ASCII file name: '<organization>-board-pack-2026-Q3.pdf'."""
    return f"{_slug(pack.report.organization)}-board-pack-{pack.report.period}.pdf"


def pack_message(
    pack: BoardPack,
    recipient_list: RecipientList,
    recipients: list[Recipient],
    *,
    sender: Address,
    message_id: str,
    attachment: Attachment,
    env: jinja2.Environment,
) -> EmailMessage:
    """A quarter's or year's board pack to one list: plain text and HTML, the PDF attached."""
    report = pack.report
    context = {
        "pack": pack,
        "report": report,
        "subject": pack_subject(pack),
        "off_track": off_track(report),
        "attachment": attachment.filename,
    }
    message = _envelope(
        sender,
        [mailbox(r.name, r.email) for r in recipients],
        context["subject"],
        message_id,
        {"X-Scorecard-Period": report.period, "X-Scorecard-List": recipient_list.id},
    )
    message.set_content(env.get_template("email/pack.txt").render(context), cte="quoted-printable")
    message.add_alternative(
        env.get_template("email/pack.html").render(context), subtype="html", cte="quoted-printable"
    )
    message.add_attachment(
        attachment.content, maintype="application", subtype="pdf", filename=attachment.filename
    )
    return message


@dataclass(frozen=True)
class Notice:
    """A short notice to the data team: what happened, in which run and step, and why."""

    title: str
    organization: str
    facts: tuple[tuple[str, str], ...]  # (label, value): run, job, step, period
    details: tuple[str, ...]  # the causes, one per line


def notice_message(
    notice: Notice,
    recipients: list[Recipient],
    *,
    sender: Address,
    message_id: str,
    env: jinja2.Environment,
) -> EmailMessage:
    """A plain-text notice to the data team."""
    message = _envelope(
        sender,
        [mailbox(r.name, r.email) for r in recipients],
        f"[{notice.organization} scorecard] {notice.title}",
        message_id,
        {},
    )
    message.set_content(
        env.get_template("email/notice.txt").render(notice=notice), cte="quoted-printable"
    )
    return message

"""Deliver a period's scorecard to its recipient lists, once, through the ledger.

For each list: decide from the ledger who still needs the email, prepare the attachment, claim
the send, hand the message to the transport, and record how it ended. Dagster-free: the asset,
the CLI and the tests call `deliver_period` with a `DeliveryContext`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from email.headerregistry import Address
from email.message import EmailMessage

import jinja2

from pipelines.catalog.catalog import Catalog
from pipelines.catalog.models import Recipient, RecipientList
from pipelines.delivery import ledger
from pipelines.delivery.message import (
    Attachment,
    attachment_name,
    mailbox,
    new_message_id,
    parse_sender,
    scorecard_message,
)
from pipelines.delivery.summary import Completeness, assess, for_list
from pipelines.delivery.transport import (
    DeliveryError,
    OutboxTransport,
    SmtpSettings,
    SmtpTransport,
    UnknownOutcome,
)
from pipelines.periods import Period
from pipelines.report.context import build_report
from pipelines.report.model import ScorecardReport
from pipelines.report.templating import template_environment
from pipelines.report.versions import restatement
from pipelines.settings import RuntimePaths
from pipelines.warehouse.lake import taking_turns

PDF_NAME = "scorecard.pdf"
DIRECT_LIST = "direct"  # `scorecard send --to` an address that is on no list


class MissingReportError(RuntimeError):
    """The period's PDF is not on disk: the report has to be rendered first."""


@dataclass(frozen=True)
class DeliveryContext:
    """Everything a delivery needs: the catalog, folders, transport, sender and warehouse."""

    catalog: Catalog
    paths: RuntimePaths
    transport: object  # SmtpTransport or OutboxTransport
    sender: Address
    connection: Callable[[], AbstractContextManager]
    run_id: str

    def templates(self) -> jinja2.Environment:
        """The report's template environment; the emails' templates are under email/."""
        return template_environment(
            self.paths.report_assets / "templates", self.catalog.organization.locale
        )


@dataclass
class ListResult:
    """What happened for one list: sent, skipped as already sent, unconfirmed, refused, held."""

    list_id: str
    kind: str
    sent: list[str] = field(default_factory=list)
    already_sent: list[str] = field(default_factory=list)
    unconfirmed: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    unconfirmed_reason: str | None = None  # why this run's send has no known outcome
    message_id: str | None = None
    where: str | None = None
    held: bool = False

    @classmethod
    def nothing_pending(cls, scope: ledger.Scope, plan: ledger.Plan) -> ListResult:
        """A list whose recipients all have the email already, or wait on an unconfirmed one."""
        return cls(
            scope.list_id, scope.kind, already_sent=plan.already_sent, unconfirmed=plan.unconfirmed
        )


@dataclass
class DeliveryOutcome:
    """A period's delivery: per list, the notices, and the month's completeness."""

    period: str
    transport: str
    completeness: Completeness
    lists: list[ListResult]
    notices: list[ListResult] = field(default_factory=list)

    @property
    def failures(self) -> list[str]:
        """One line per list or recipient that finally failed."""
        lines = []
        for result in self.lists + self.notices:
            if result.error:
                lines.append(f"{result.kind} to list {result.list_id}: {result.error}")
            lines += [
                f"{result.kind} to {addr} (list {result.list_id}) refused: {reply}"
                for addr, reply in result.refused.items()
            ]
        return lines

    @property
    def unconfirmed(self) -> list[str]:
        """One line per list whose send to some recipients has no known outcome: claimed, but
        the server never confirmed it (it may or may not have arrived)."""
        return [
            f"{result.kind} to list {result.list_id} unconfirmed for "
            f"{', '.join(result.unconfirmed)} ("
            + (result.unconfirmed_reason or "an earlier send was claimed and never confirmed")
            + ")"
            for result in self.lists + self.notices
            if result.unconfirmed
        ]


def delivery_context(
    catalog: Catalog,
    paths: RuntimePaths,
    settings: SmtpSettings,
    connection: Callable[[], AbstractContextManager],
    run_id: str,
) -> DeliveryContext:
    """The context of a delivery: SMTP when a host is configured, else the .eml outbox."""
    transport = SmtpTransport(settings) if settings.host else OutboxTransport(paths.outbox)
    sender = parse_sender(settings.sender)
    if not sender.display_name:
        sender = mailbox(f"{catalog.organization.name} Balanced Scorecard", sender.addr_spec)
    return DeliveryContext(catalog, paths, transport, sender, connection, run_id)


def deliver(
    ctx: DeliveryContext,
    scope: ledger.Scope,
    recipients: list[Recipient],
    build: Callable[[str, list[Recipient]], EmailMessage],
    *,
    report_sha256: str | None = None,
    resend: bool = False,
    record: bool = True,
    unconfirmed_only: bool = False,
    provisional: bool | None = None,
    folder: str | None = None,
) -> ListResult:
    """Claim, send and record one message to the recipients of `scope` still pending (with
    `unconfirmed_only`: to those whose earlier send is unconfirmed, and no one else).
    `provisional`: whether a scorecard's month is incomplete (ledger.claim). `folder`: the
    outbox's folder for the message (default: the scope's month).

    Deliveries of one scope take turns, from claim to record (`lake.taking_turns`): on a
    DuckLake, a second run of the month waits for the first one's send and then finds its
    recipients already sent, instead of their claims unconfirmed."""
    with taking_turns(scope.turn) if record else nullcontext():
        return _deliver(
            ctx,
            scope,
            recipients,
            build,
            report_sha256=report_sha256,
            resend=resend,
            record=record,
            unconfirmed_only=unconfirmed_only,
            provisional=provisional,
            folder=folder,
        )


def _deliver(
    ctx: DeliveryContext,
    scope: ledger.Scope,
    recipients: list[Recipient],
    build: Callable[[str, list[Recipient]], EmailMessage],
    *,
    report_sha256: str | None,
    resend: bool,
    record: bool,
    unconfirmed_only: bool,
    provisional: bool | None,
    folder: str | None,
) -> ListResult:
    result = ListResult(scope.list_id, scope.kind)
    message_id = new_message_id(ctx.sender, f"{scope.kind}.{scope.period}.{scope.list_id}")
    emails = [mailbox(r.name, r.email).addr_spec for r in recipients]  # invalid: before a claim
    if record:
        with ctx.connection() as con:
            plan = ledger.claim(
                con,
                scope,
                emails,
                message_id=message_id,
                run_id=ctx.run_id,
                report_sha256=report_sha256,
                resend=resend,
                unconfirmed_only=unconfirmed_only,
                provisional=provisional,
            )
        result.already_sent, result.unconfirmed = plan.already_sent, plan.unconfirmed
        pending = plan.pending
    else:
        pending = emails
    if not pending:
        return result
    try:
        message = build(message_id, [r for r in recipients if r.email in pending])
    except Exception as exc:  # nothing was sent: close the claims as failed
        _record(
            ctx,
            record,
            ledger.finish,
            message_id,
            sent=[],
            attempts=0,
            failed=dict.fromkeys(pending, f"{type(exc).__name__}: {exc}"),
        )
        raise
    stem = f"{scope.list_id}-{scope.kind}-{hashlib.sha256(message_id.encode()).hexdigest()[:10]}"
    result.message_id = message_id
    try:
        sent = ctx.transport.send(message, pending, period=folder or scope.period.key, stem=stem)
    except UnknownOutcome as exc:  # the claims stay: reported, never silently resent
        result.unconfirmed_reason, result.unconfirmed = exc.reason, result.unconfirmed + pending
        _record(ctx, record, ledger.annotate, message_id, exc.reason, exc.attempts)
        return result
    except DeliveryError as exc:
        result.error = exc.reason
        _record(
            ctx,
            record,
            ledger.finish,
            message_id,
            sent=[],
            attempts=exc.attempts,
            failed=dict.fromkeys(pending, exc.reason),
        )
        return result
    result.sent, result.refused, result.where = list(sent.accepted), sent.refused, sent.where
    _record(
        ctx,
        record,
        ledger.finish,
        message_id,
        sent=result.sent,
        failed=sent.refused,
        attempts=sent.attempts,
        outbox_path=sent.where if ctx.transport.name == "outbox" else None,
    )
    return result


def look_first(
    ctx: DeliveryContext,
    scope: ledger.Scope,
    recipients: list[Recipient],
    *,
    resend: bool,
    unconfirmed_only: bool,
    complete: bool,
) -> ledger.Plan:
    """The ledger's plan for a scope before anything is rendered for it (call in its turn,
    `taking_turns(scope.turn)`, so that `deliver` claims what this saw)."""
    with ctx.connection() as con:
        return ledger.plan(
            con,
            scope,
            [r.email for r in recipients],
            resend=resend,
            unconfirmed_only=unconfirmed_only,
            complete=complete,
        )


def _record(ctx: DeliveryContext, enabled: bool, write: Callable, *args, **kwargs) -> None:
    """Write to the ledger (unless this delivery is not recorded)."""
    if enabled:
        with ctx.connection() as con:
            write(con, *args, **kwargs)


def scorecard_targets(
    catalog: Catalog, to: str | None
) -> list[tuple[RecipientList, list[Recipient]]]:
    """The lists that get the scorecard and their recipients; with `to`, only that address
    (on the lists it belongs to, or alone on the 'direct' list)."""
    lists = [r for r in catalog.recipient_lists if r.receives == "scorecard" and r.monthly]
    return narrowed(lists, to)


def narrowed(
    lists: list[RecipientList], to: str | None
) -> list[tuple[RecipientList, list[Recipient]]]:
    """Each list with its recipients; with `to`, only that address (on the lists it belongs
    to, or alone on the 'direct' list)."""
    if to is None:
        return [(r, list(r.recipients)) for r in lists]
    matches = [(r, [p for p in r.recipients if p.email.lower() == to.lower()]) for r in lists]
    matches = [(r, people) for r, people in matches if people]
    if matches:
        return matches
    direct = Recipient(name="", email=to)
    return [(RecipientList(id=DIRECT_LIST, recipients=[direct]), [direct])]


def _attachment(
    ctx: DeliveryContext, view: ScorecardReport, recipient_list: RecipientList
) -> Attachment:
    """The PDF a list gets: the period's report (a unit list: the unit's), or one rendered with
    only its perspectives."""
    folder = (
        ctx.paths.unit_report_dir(view.period, recipient_list.unit)
        if recipient_list.unit
        else ctx.paths.report_dir(view.period)
    )
    full = folder / PDF_NAME
    if not full.is_file():
        raise MissingReportError(
            f"there is no report at {full}; render it first (scorecard run --period {view.period})"
        )
    if not recipient_list.perspectives:
        return Attachment(full, full.read_bytes(), attachment_name(view))
    from pipelines.report.render import write_report  # WeasyPrint loads only when rendering

    out = folder / "lists" / recipient_list.id
    _, pdf = write_report(view, ctx.paths.report_assets, out)
    return Attachment(pdf, pdf.read_bytes(), attachment_name(view, recipient_list.id))


def _scorecard_to_list(
    ctx: DeliveryContext,
    env: jinja2.Environment,
    report: ScorecardReport,
    completeness: Completeness,
    recipient_list: RecipientList,
    recipients: list[Recipient],
    period: Period,
    resend: bool,
    unconfirmed_only: bool,
) -> ListResult:
    scope = ledger.Scope(period, ledger.SCORECARD, recipient_list.id, ctx.transport.name)
    # from the plan to the ledger's record: a second run of the month waits, then finds it sent
    with taking_turns(scope.turn):
        before = look_first(
            ctx,
            scope,
            recipients,
            resend=resend,
            unconfirmed_only=unconfirmed_only,
            complete=not completeness.incomplete,
        )
        if not before.pending:  # nothing to send: do not render or read anything
            return ListResult.nothing_pending(scope, before)
        view = for_list(report, recipient_list)
        attachment = _attachment(ctx, view, recipient_list)
        # the complete scorecard after a provisional one: said in the subject and the body
        replaces = min(before.updates.values()) if before.updates else None

        def build(message_id: str, to: list[Recipient]) -> EmailMessage:
            return scorecard_message(
                view,
                completeness,
                recipient_list,
                to,
                sender=ctx.sender,
                message_id=message_id,
                attachment=attachment,
                env=env,
                replaces=replaces,
            )

        digest = hashlib.sha256(attachment.content).hexdigest()
        return deliver(
            ctx,
            scope,
            recipients,
            build,
            report_sha256=digest,
            resend=resend,
            unconfirmed_only=unconfirmed_only,
            provisional=completeness.incomplete,
        )


def deliver_period(
    ctx: DeliveryContext,
    period: Period,
    *,
    resend: bool = False,
    to: str | None = None,
    unconfirmed: bool = False,
) -> DeliveryOutcome:
    """Send the period's scorecard to every list (or only `to`), then notify the data team
    of an incomplete month. Lists whose policy is 'hold' get nothing while data is missing.
    With `unconfirmed`, send again to the recipients whose send is unconfirmed, only them."""
    from pipelines.delivery.notices import notify_incomplete

    targets = scorecard_targets(ctx.catalog, to)
    with ctx.connection() as con:
        report = build_report(con, ctx.catalog, period, ctx.run_id)
        report = replace(report, restatement=restatement(con, report))  # as the report shows
        unit_reports = {  # a unit's list: the unit's scorecard, as its report shows it
            unit: build_report(con, ctx.catalog, period, ctx.run_id, unit)
            for unit in sorted({r.unit for r, _ in targets if r.unit})
        }
    completeness = assess(report)
    env = ctx.templates()
    outcome = DeliveryOutcome(period.key, ctx.transport.name, completeness, [])
    for recipient_list, recipients in targets:
        seen = unit_reports[recipient_list.unit] if recipient_list.unit else report
        complete = assess(seen) if recipient_list.unit else completeness
        if complete.incomplete and recipient_list.incomplete == "hold":
            outcome.lists.append(ListResult(recipient_list.id, ledger.SCORECARD, held=True))
            continue
        outcome.lists.append(
            _scorecard_to_list(
                ctx,
                env,
                seen,
                complete,
                recipient_list,
                recipients,
                period,
                resend,
                unconfirmed,
            )
        )
    if completeness.incomplete and to is None:
        held = [r.list_id for r in outcome.lists if r.held]
        outcome.notices = notify_incomplete(
            ctx, env, report, completeness, held, resend=resend, unconfirmed_only=unconfirmed
        )
    return outcome

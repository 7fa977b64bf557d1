"""Deliver a quarter's or year's board pack to the lists that take it, once, through the ledger.

A list takes a pack by its `packs` (quarterly, annual). The ledger records a pack under its
review's last month and its own kind (quarter_pack, annual_pack), so a December that closes both
the fourth quarter and the year sends each pack once per recipient. A pack with gaps (KPIs
withheld or without data) follows the lists' `incomplete` policy as the monthly email does.
"""

from __future__ import annotations

import hashlib
from email.message import EmailMessage

from pipelines.catalog.catalog import Catalog
from pipelines.catalog.models import Recipient, RecipientList
from pipelines.delivery import ledger
from pipelines.delivery.deliver import (
    DeliveryContext,
    DeliveryOutcome,
    ListResult,
    MissingReportError,
    deliver,
    look_first,
    narrowed,
)
from pipelines.delivery.message import Attachment, pack_attachment_name, pack_message
from pipelines.delivery.summary import assess
from pipelines.periods import QUARTER, ReviewPeriod
from pipelines.report.pack import build_pack
from pipelines.report.render import PACK_PDF_NAME
from pipelines.warehouse.lake import taking_turns

PACK_OF = {QUARTER: "quarterly", "year": "annual"}


def pack_kind(review: ReviewPeriod) -> str:
    """The ledger's kind of the review's pack."""
    return ledger.QUARTER_PACK if review.kind == QUARTER else ledger.ANNUAL_PACK


def pack_targets(
    catalog: Catalog, review: ReviewPeriod, to: str | None = None
) -> list[tuple[RecipientList, list[Recipient]]]:
    """The lists that take the review's pack and their recipients (with `to`: only that
    address, on the lists it belongs to, or alone)."""
    return narrowed([r for r in catalog.recipient_lists if PACK_OF[review.kind] in r.packs], to)


def deliver_pack(
    ctx: DeliveryContext,
    review: ReviewPeriod,
    *,
    resend: bool = False,
    to: str | None = None,
    unconfirmed: bool = False,
) -> DeliveryOutcome:
    """Email the review's rendered pack to every list that takes it (or only `to`)."""
    with ctx.connection() as con:
        pack = build_pack(con, ctx.catalog, review, ctx.run_id)
    completeness = assess(pack.report)
    env = ctx.templates()
    pdf = ctx.paths.report_dir(review.key) / PACK_PDF_NAME
    outcome = DeliveryOutcome(review.key, ctx.transport.name, completeness, [])
    kind = pack_kind(review)
    for recipient_list, recipients in pack_targets(ctx.catalog, review, to):
        if completeness.incomplete and recipient_list.incomplete == "hold":
            outcome.lists.append(ListResult(recipient_list.id, kind, held=True))
            continue
        scope = ledger.Scope(review.last, kind, recipient_list.id, ctx.transport.name)
        with taking_turns(scope.turn):  # from the plan to the record (deliver.deliver)
            before = look_first(
                ctx,
                scope,
                recipients,
                resend=resend,
                unconfirmed_only=unconfirmed,
                complete=not completeness.incomplete,
            )
            if not before.pending:
                outcome.lists.append(ListResult.nothing_pending(scope, before))
                continue
            if not pdf.is_file():
                raise MissingReportError(
                    f"there is no board pack at {pdf}; render it first "
                    f"(scorecard run --period {review.key})"
                )
            attachment = Attachment(pdf, pdf.read_bytes(), pack_attachment_name(pack))

            def build(
                message_id: str, people: list[Recipient], target=recipient_list, pdf=attachment
            ) -> EmailMessage:
                return pack_message(
                    pack,
                    target,
                    people,
                    sender=ctx.sender,
                    message_id=message_id,
                    attachment=pdf,
                    env=env,
                )

            outcome.lists.append(
                deliver(
                    ctx,
                    scope,
                    recipients,
                    build,
                    report_sha256=hashlib.sha256(attachment.content).hexdigest(),
                    resend=resend,
                    unconfirmed_only=unconfirmed,
                    # a pack sent with gaps goes out once more, complete, when its months are fixed
                    provisional=completeness.incomplete,
                    folder=review.key,  # outbox/2026-Q3/, beside reports/2026-Q3/
                )
            )
    return outcome

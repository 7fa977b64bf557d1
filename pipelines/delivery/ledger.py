"""The delivery ledger (delivery.ledger): who got which email, claimed before it is sent.

Exactly once per period, list and recipient: a send is claimed (state 'claimed') in one
transaction before the message goes to the server, then finished as 'sent' or 'failed'. The
latest row of a recipient decides what happens next time: sent is skipped unless resent on
purpose, or unless it was a provisional scorecard and the month is now complete (the complete
one goes out once, as an update), failed is retried, and a claim that never finished is
reported as unconfirmed, not sent again unless asked (`unconfirmed_only`: to those recipients
alone, recorded as resends). Outbox writes and SMTP sends are kept apart (transport), so
configuring a server later still sends the month for real.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pipelines.periods import Period
from pipelines.warehouse.connection import transactions

CLAIMED, SENT, FAILED = "claimed", "sent", "failed"
SCORECARD, DATA_NOTICE, FAILURE_NOTICE = "scorecard", "data_notice", "failure_notice"
QUARTER_PACK, ANNUAL_PACK = "quarter_pack", "annual_pack"  # board packs, by their last month


@dataclass(frozen=True)
class Scope:
    """What a ledger row is about: a period's email of a kind, to a list, by a transport.

    A failure notice is about one failed run (`run_id`); the others are about the period.
    """

    period: Period
    kind: str
    list_id: str
    transport: str
    run_id: str | None = None

    @property
    def turn(self) -> str:
        """The name under which deliveries of this scope take turns (`lake.taking_turns`)."""
        return f"delivery {self.period} {self.kind} {self.list_id} {self.transport} {self.run_id}"


@dataclass(frozen=True)
class Plan:
    """Recipients of a scope sorted by their latest ledger state."""

    pending: list[str] = field(default_factory=list)  # never sent, failed before, or resent
    already_sent: list[str] = field(default_factory=list)
    unconfirmed: list[str] = field(default_factory=list)  # claimed, never finished
    resent: set[str] = field(default_factory=set)  # pending ones that had been delivered
    prior_attempts: dict[str, int] = field(default_factory=dict)
    # pending ones who got a provisional scorecard of the month, when it was claimed
    updates: dict[str, datetime] = field(default_factory=dict)


def _latest(con, scope: Scope, recipients: list[str]) -> dict[str, tuple]:
    """recipient -> (state, attempts, provisional, claimed_at) of its latest row in the scope."""
    sql = (
        "select recipient, state, attempts, provisional, claimed_at from delivery.ledger "
        "where period = ? and kind = ? "
        "and list_id = ? and transport = ? and list_contains(?, recipient)"
    )
    params = [scope.period.start, scope.kind, scope.list_id, scope.transport, recipients]
    if scope.run_id is not None:
        sql += " and run_id = ?"
        params.append(scope.run_id)
    sql += " qualify row_number() over (partition by recipient order by claimed_at desc) = 1"
    return {r: tuple(rest) for r, *rest in con.execute(sql, params).fetchall()}


def plan(
    con,
    scope: Scope,
    recipients: list[str],
    *,
    resend: bool = False,
    unconfirmed_only: bool = False,
    complete: bool = False,
) -> Plan:
    """Who of `recipients` to send to now, who already has it, whose send is unconfirmed.

    With `unconfirmed_only`, only the recipients whose send is unconfirmed are pending. With
    `complete` (a scorecard of a month no longer provisional), those whose latest send was a
    provisional scorecard are pending too, once: the complete one replaces it.
    """
    latest = _latest(con, scope, recipients)
    result = Plan()
    for recipient in recipients:
        state, attempts, was_provisional, claimed_at = latest.get(recipient, (None, 0, None, None))
        if unconfirmed_only and state != CLAIMED:
            if state == SENT:
                result.already_sent.append(recipient)
        elif state == SENT and complete and was_provisional and not resend:
            result.pending.append(recipient)
            result.resent.add(recipient)
            result.updates[recipient] = claimed_at
        elif state == SENT and not resend:
            result.already_sent.append(recipient)
        elif state == CLAIMED and not (resend or unconfirmed_only):
            result.unconfirmed.append(recipient)
        else:
            result.pending.append(recipient)
            if state in (SENT, CLAIMED):
                result.resent.add(recipient)
            if state == FAILED:
                result.prior_attempts[recipient] = attempts
    return result


_CLAIM = (
    "insert into delivery.ledger (period, kind, list_id, recipient, message_id, report_sha256, "
    "transport, state, attempts, resend, run_id, claimed_at, provisional) "
    "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def claim(
    con,
    scope: Scope,
    recipients: list[str],
    *,
    message_id: str,
    report_sha256: str | None,
    run_id: str,
    resend: bool = False,
    unconfirmed_only: bool = False,
    provisional: bool | None = None,
) -> Plan:
    """Claim the send of one message to the recipients still pending, in one transaction.

    `provisional`: a scorecard of a month still incomplete (True) or complete (False); None for
    notices. Returns the plan as it stood inside the transaction: only its `pending` are claimed.
    On a DuckLake, two runs of a month at once could both find a recipient pending and both
    claim it: deliver.deliver makes the deliveries of one scope take turns.
    """
    for attempt in transactions(con, "the delivery claim"):
        with attempt:
            current = plan(
                con,
                scope,
                recipients,
                resend=resend,
                unconfirmed_only=unconfirmed_only,
                complete=provisional is False,
            )
            now = datetime.now()
            rows = [
                [
                    scope.period.start,
                    scope.kind,
                    scope.list_id,
                    recipient,
                    message_id,
                    report_sha256,
                    scope.transport,
                    CLAIMED,
                    current.prior_attempts.get(recipient, 0),
                    recipient in current.resent,
                    scope.run_id or run_id,
                    now,
                    provisional,
                ]
                for recipient in current.pending
            ]
            if rows:
                con.executemany(_CLAIM, rows)
    return current


def finish(
    con,
    message_id: str,
    *,
    sent: list[str],
    failed: dict[str, str],
    attempts: int,
    outbox_path: str | None = None,
) -> None:
    """Record how a claimed message ended: delivered to `sent`, refused for `failed`."""
    now = datetime.now()
    for attempt in transactions(con, "the delivery's outcome"):
        with attempt:
            for recipient in sent:
                con.execute(
                    "update delivery.ledger set state = ?, attempts = attempts + ?, "
                    "outbox_path = ?, finished_at = ? where message_id = ? and recipient = ?",
                    [SENT, attempts, outbox_path, now, message_id, recipient],
                )
            for recipient, error in failed.items():
                con.execute(
                    "update delivery.ledger set state = ?, attempts = attempts + ?, error = ?, "
                    "finished_at = ? where message_id = ? and recipient = ?",
                    [FAILED, attempts, error[:1000], now, message_id, recipient],
                )


def annotate(con, message_id: str, error: str, attempts: int) -> None:
    """Note why a claimed send's outcome is unknown; the claim stays open, to be reported."""
    for attempt in transactions(con, "the delivery's outcome"):
        with attempt:
            con.execute(
                "update delivery.ledger set error = ?, attempts = attempts + ? "
                "where message_id = ? and state = ?",
                [error[:1000], attempts, message_id, CLAIMED],
            )


@dataclass(frozen=True)
class LedgerRow:
    """One recipient of one message, as the CLI reports it."""

    kind: str
    list_id: str
    recipient: str
    message_id: str
    transport: str
    state: str
    resend: bool
    error: str | None
    outbox_path: str | None
    claimed_at: datetime


_ROW_COLUMNS = (
    "kind, list_id, recipient, message_id, transport, state, resend, error, outbox_path, claimed_at"
)


def rows_of_run(con, run_id: str) -> list[LedgerRow]:
    """What a run sent (or tried to), in claim order."""
    rows = con.execute(
        f"select {_ROW_COLUMNS} from delivery.ledger where run_id = ? "
        "order by claimed_at, list_id, recipient",
        [run_id],
    ).fetchall()
    return [LedgerRow(*row) for row in rows]


def latest_rows(con, period: Period, kind: str = SCORECARD) -> list[LedgerRow]:
    """The latest row of every recipient of a period's emails of a kind."""
    rows = con.execute(
        f"select {_ROW_COLUMNS} from delivery.ledger where period = ? and kind = ? "
        "qualify row_number() over (partition by list_id, recipient, transport "
        "order by claimed_at desc) = 1 order by list_id, recipient",
        [period.start, kind],
    ).fetchall()
    return [LedgerRow(*row) for row in rows]

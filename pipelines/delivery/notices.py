"""Notices to the data team (lists with `receives: notices`): an incomplete month, a failed run.

An incomplete-month notice goes once per period; a run-failure notice once per failed run, so
the CLI and the Dagster sensor reporting the same failure send one email between them.
"""

from __future__ import annotations

import logging
from email.message import EmailMessage

import duckdb
import jinja2

from pipelines.catalog.models import Recipient
from pipelines.delivery import ledger
from pipelines.delivery.deliver import DeliveryContext, ListResult, deliver
from pipelines.delivery.message import Notice, notice_message
from pipelines.delivery.summary import Completeness
from pipelines.periods import Period
from pipelines.report.model import ScorecardReport
from pipelines.warehouse.connection import WarehouseDamagedError, WarehouseLockedError

log = logging.getLogger(__name__)
CAUSE_LIMIT = 1500


def _notify(
    ctx: DeliveryContext,
    env: jinja2.Environment,
    notice: Notice,
    period: Period,
    kind: str,
    *,
    about_run: str | None = None,
    resend: bool = False,
    record: bool = True,
    unconfirmed_only: bool = False,
) -> list[ListResult]:
    results = []
    for notice_list in (r for r in ctx.catalog.recipient_lists if r.receives == "notices"):
        scope = ledger.Scope(period, kind, notice_list.id, ctx.transport.name, run_id=about_run)

        def build(message_id: str, to: list[Recipient]) -> EmailMessage:
            return notice_message(notice, to, sender=ctx.sender, message_id=message_id, env=env)

        results.append(
            deliver(
                ctx,
                scope,
                list(notice_list.recipients),
                build,
                resend=resend,
                record=record,
                unconfirmed_only=unconfirmed_only,
            )
        )
    return results


def notify_incomplete(
    ctx: DeliveryContext,
    env: jinja2.Environment,
    report: ScorecardReport,
    completeness: Completeness,
    held: list[str],
    *,
    resend: bool = False,
    unconfirmed_only: bool = False,
) -> list[ListResult]:
    """Tell the data team what is missing from the month, and which lists were held (with
    `unconfirmed_only`, again to those whose earlier notice is unconfirmed, only them)."""
    details = list(completeness.reasons)
    details += [
        f"The scorecard email to list {list_id!r} was held (policy incomplete: hold); "
        f"send it once the data is fixed with: scorecard send --period {report.period}"
        for list_id in held
    ]
    notice = Notice(
        title=f"The {report.period_label} scorecard is incomplete"
        + (" and was held" if held else ""),
        organization=report.organization,
        facts=(
            ("Run", ctx.run_id),
            ("Period", report.period),
            (
                "Step",
                "kpi_values (KPIs withheld: failed loads or checks)"
                if report.withheld
                else "delivery_email (the month's completeness before sending)",
            ),
        ),
        details=tuple(details),
    )
    return _notify(
        ctx,
        env,
        notice,
        Period.parse(report.period),
        ledger.DATA_NOTICE,
        resend=resend,
        unconfirmed_only=unconfirmed_only,
    )


def _details(failures: list[tuple[str, str]]) -> list[str]:
    """One line per failure: a step's cause, then each further line of it (the quality gate
    lists every failed load and check on a line of its own), each failure once."""
    lines: list[str] = []
    for step, cause in failures:
        first, *rest = cause.splitlines() or [""]
        for line in [f"{step}: {first}", *(r.strip() for r in rest if r.strip())]:
            if line[:CAUSE_LIMIT] not in lines:
                lines.append(line[:CAUSE_LIMIT])
    return lines


def notify_run_failure(
    ctx: DeliveryContext,
    *,
    failed_run_id: str,
    job_name: str,
    period: Period,
    failures: list[tuple[str, str]],
) -> list[ListResult]:
    """Tell the data team that a run failed: the run, the failed steps and their causes.

    If the warehouse itself cannot be opened (it may be what failed), the notice is sent
    without a ledger record rather than not at all.
    """
    steps = ", ".join(step for step, _ in failures) or "(the run, before any step)"
    notice = Notice(
        title=f"The {job_name} run for {period} failed",
        organization=ctx.catalog.organization.name,
        facts=(("Run", failed_run_id), ("Job", job_name), ("Period", period.key), ("Step", steps)),
        details=tuple(_details(failures))
        or ("The run failed before any step ran; see the run in the Dagster UI.",),
    )
    env = ctx.templates()
    try:
        return _notify(ctx, env, notice, period, ledger.FAILURE_NOTICE, about_run=failed_run_id)
    except (duckdb.Error, WarehouseLockedError, WarehouseDamagedError) as exc:
        log.warning("the delivery ledger is unavailable (%s); sending the notice unrecorded", exc)
        return _notify(
            ctx, env, notice, period, ledger.FAILURE_NOTICE, about_run=failed_run_id, record=False
        )

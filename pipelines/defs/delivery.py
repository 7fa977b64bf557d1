"""The delivery asset (the month's scorecard emailed to its lists) and the failure-notice sensor.

A backfill never emails: a run over several months, or one a backfill launched, sends nothing
unless told to (run config `send_email: true` or the run tag `scorecard/send_email=true`).
"""

from collections.abc import Mapping
from dataclasses import replace
from datetime import date

from dagster import (
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    Config,
    DagsterEventType,
    DagsterInstance,
    DefaultSensorStatus,
    Failure,
    MaterializeResult,
    MetadataValue,
    PartitionsDefinition,
    RunStatusChangeRecordsFilter,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    asset,
    sensor,
)

from pipelines.defs.partitions import periods_of
from pipelines.defs.resources import ScorecardResource, SmtpResource, WarehouseResource
from pipelines.defs.scorecard import REPORT_KEY
from pipelines.defs.units import UNIT_REPORTS_KEY
from pipelines.delivery.deliver import (
    DeliveryContext,
    DeliveryOutcome,
    deliver_period,
    delivery_context,
)
from pipelines.delivery.notices import notify_run_failure
from pipelines.periods import Period, PeriodError, last_complete_period

DELIVERY_KEY = AssetKey("delivery_email")
SEND_TAG = "scorecard/send_email"
RESEND_TAG = "scorecard/resend"
UNCONFIRMED_TAG = "scorecard/unconfirmed"  # send again only where the outcome is unknown
TO_TAG = "scorecard/to"
BACKFILL_TAG = "dagster/backfill"
CLI_BACKFILL_TAG = "scorecard/backfill"  # `scorecard backfill`'s runs: 'first..last'
PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
_TRUE = ("1", "true", "yes")
FAILURES_PER_TICK = 50  # run failures looked at per sensor tick; the rest wait for the next


class DeliveryConfig(Config):
    """Run config of delivery_email (all optional)."""

    send_email: bool = False  # send even in a backfill or a multi-month run
    resend: bool = False  # send again to recipients the ledger says already have it
    unconfirmed: bool = False  # send again only to recipients whose send is unconfirmed
    to: str = ""  # only this address


def tag_set(tags: Mapping[str, str], name: str) -> bool:
    """Whether the run tag `name` says yes (1, true, yes)."""
    return tags.get(name, "").strip().lower() in _TRUE


def send_decision(months: int, tags: Mapping[str, str], send_email: bool) -> str | None:
    """None when the run should email; otherwise why it sends nothing."""
    if send_email or tag_set(tags, SEND_TAG):
        return None
    how = f"set the run tag {SEND_TAG}=true or the config send_email: true to send"
    if BACKFILL_TAG in tags or CLI_BACKFILL_TAG in tags:
        return f"a backfill sends no email ({how})"
    if months > 1:
        return f"a run over {months} months sends no email ({how})"
    return None


def context_for(
    catalog_paths: ScorecardResource,
    warehouse: WarehouseResource,
    smtp: SmtpResource,
    run_id: str,
    *,
    quick: bool = False,
) -> DeliveryContext:
    """The delivery context of a run (`quick`: short attempts, for a sensor)."""
    settings = smtp.settings()
    if quick:  # a sensor evaluation has a time limit: two short attempts
        settings = replace(
            settings,
            max_attempts=min(settings.max_attempts, 2),
            timeout_seconds=min(settings.timeout_seconds, 15.0),
        )
    return delivery_context(
        catalog_paths.catalog(), catalog_paths.paths(), settings, warehouse.connection, run_id
    )


def outcome_metadata(outcomes: list[DeliveryOutcome], transport: str, where: str) -> dict:
    """The delivery's materialization metadata: who got what, where, and what is pending."""
    lists = [r for o in outcomes for r in o.lists]
    notices = [r for o in outcomes for r in o.notices]
    paths = [r.where for r in lists + notices if r.where and transport == "outbox"]
    return {
        "transport": MetadataValue.text(transport),
        "destination": MetadataValue.text(where),
        "recipients": MetadataValue.json({r.list_id: r.sent for r in lists}),
        "message_ids": MetadataValue.json({r.list_id: r.message_id for r in lists if r.message_id}),
        "outbox_paths": MetadataValue.json(paths),
        "already_sent": MetadataValue.json(
            {r.list_id: r.already_sent for r in lists if r.already_sent}
        ),
        "unconfirmed": MetadataValue.json(
            {r.list_id: r.unconfirmed for r in lists if r.unconfirmed}
        ),
        "held_lists": MetadataValue.json([r.list_id for r in lists if r.held]),
        "incomplete": MetadataValue.json(
            {o.period: list(o.completeness.reasons) for o in outcomes if o.completeness.incomplete}
        ),
        "notices": MetadataValue.json({r.list_id: r.sent for r in notices}),
    }


def failure_text(outcomes: list[DeliveryOutcome]) -> str | None:
    """Why the delivery step fails: failed recipients, unconfirmed ones (and the command that
    resends to them), or None when every email went out or was skipped on purpose."""
    failures = [line for o in outcomes for line in o.failures]
    parts = []
    if failures:
        parts.append(
            "Email delivery failed (the report stays on disk; the ledger records who "
            "got it, and the next run retries only the failed recipients): " + " | ".join(failures)
        )
    for outcome in (o for o in outcomes if o.unconfirmed):
        parts.append(
            f"Email for {outcome.period} unconfirmed: "
            + " | ".join(outcome.unconfirmed)
            + ". The server never confirmed these sends: they may or may not have "
            "arrived, and are not sent again on their own. Check the mail server's log, "
            "then send them again with: scorecard send --period "
            f"{outcome.period} --unconfirmed"
        )
    return "\n".join(parts) or None


def build_delivery_assets(partitions: PartitionsDefinition) -> list:
    """The delivery_email asset."""

    @asset(
        key=DELIVERY_KEY,
        group_name="scorecard",
        deps=[REPORT_KEY, UNIT_REPORTS_KEY],
        partitions_def=partitions,
        backfill_policy=BackfillPolicy.single_run(),
        kinds={"email"},
        pool="warehouse",
    )
    def delivery_email(
        context: AssetExecutionContext,
        config: DeliveryConfig,
        warehouse: WarehouseResource,
        scorecard: ScorecardResource,
        smtp: SmtpResource,
    ) -> MaterializeResult:
        """The month's scorecard emailed to its recipient lists, once per recipient (ledger)."""
        periods = periods_of(context)
        tags = context.run.tags
        skip = send_decision(len(periods), tags, config.send_email)
        if skip:
            context.log.info(f"No email sent: {skip}.")
            return MaterializeResult(metadata={"sent": False, "skipped": MetadataValue.text(skip)})
        ctx = context_for(scorecard, warehouse, smtp, context.run.run_id)
        resend = config.resend or tag_set(tags, RESEND_TAG)
        unconfirmed = config.unconfirmed or tag_set(tags, UNCONFIRMED_TAG)
        to = (config.to or tags.get(TO_TAG, "")).strip() or None
        outcomes = [
            deliver_period(ctx, p, resend=resend, to=to, unconfirmed=unconfirmed) for p in periods
        ]
        metadata = outcome_metadata(outcomes, ctx.transport.name, ctx.transport.where)
        if failure := failure_text(outcomes):  # unconfirmed sends too: the run must say so
            failures = [line for o in outcomes for line in o.failures + o.unconfirmed]
            raise Failure(
                description=failure, metadata={"failures": MetadataValue.json(failures), **metadata}
            )
        return MaterializeResult(metadata={"sent": True, **metadata})

    return [delivery_email]


def _period_of_run(tags: Mapping[str, str]) -> Period:
    for tag in (PARTITION_TAG, RANGE_START_TAG):
        try:
            return Period.parse(tags[tag])
        except (KeyError, PeriodError):
            continue
    return last_complete_period(date.today())


def _causes(instance: DagsterInstance, run_id: str) -> list[tuple[str, str]]:
    """Each failed step of the run and its cause (the user code's error, not Dagster's wrapper)."""
    causes = []
    for entry in instance.all_logs(run_id, of_type=DagsterEventType.STEP_FAILURE):
        error = entry.dagster_event.step_failure_data.error
        while error is not None and error.cause is not None:
            error = error.cause
        causes.append((entry.step_key or "?", (error.message if error else "").strip()))
    return causes


def _failures_after(instance: DagsterInstance, cursor: int | None) -> list:
    """The instance's run failures after the storage id `cursor` (the latest one when None)."""
    return instance.fetch_run_status_changes(
        RunStatusChangeRecordsFilter(DagsterEventType.RUN_FAILURE, after_storage_id=cursor),
        ascending=cursor is not None,
        limit=FAILURES_PER_TICK if cursor is not None else 1,
    ).records


def build_failure_sensor(monitored_job) -> SensorDefinition:
    """A sensor that emails the data team when a monitored run fails, and says what it did on
    every tick: watching from now on, nothing failed since the last tick, the notices sent, or
    why one could not be sent."""
    job_name = monitored_job.name

    @sensor(
        name="scorecard_failure_notice",
        default_status=DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
        description="Emails the data team (lists with receives: notices) the run, the failed "
        f"step and the cause when a {job_name} run fails.",
    )
    def scorecard_failure_notice(
        context: SensorEvaluationContext,
        warehouse: WarehouseResource,
        scorecard: ScorecardResource,
        smtp: SmtpResource,
    ) -> SkipReason:
        instance = context.instance
        if context.cursor is None:  # the first tick: failures from now on, not the history's
            latest = _failures_after(instance, None)
            context.update_cursor(str(latest[0].storage_id if latest else 0))
            return SkipReason(f"watching for failed {job_name} runs from now on")
        told, known, problems = [], [], []
        for record in _failures_after(instance, int(context.cursor)):
            context.update_cursor(str(record.storage_id))
            run = instance.get_run_by_id(record.event_log_entry.run_id)
            if run is None or run.job_name != job_name:
                continue
            results = notify_run_failure(
                context_for(scorecard, warehouse, smtp, run.run_id, quick=True),
                failed_run_id=run.run_id,
                job_name=run.job_name,
                period=_period_of_run(run.tags),
                failures=_causes(instance, run.run_id),
            )
            errors = [
                r.error or f"unconfirmed ({r.unconfirmed_reason})"
                for r in results
                if r.error or r.unconfirmed
            ]
            if errors:
                problems.append(f"run {run.run_id}: " + "; ".join(errors))
            elif any(r.sent for r in results):
                told.append(run.run_id)
            else:  # the ledger says it went out already (the CLI tells the data team itself)
                known.append(run.run_id)
        said = [f"failure notice sent for run(s) {', '.join(told)}"] if told else []
        said += (
            [f"run(s) {', '.join(known)} failed; their notice was already sent"] if known else []
        )
        if problems:
            return SkipReason("the failure notice could not be sent: " + " | ".join(problems))
        if said:
            return SkipReason("; ".join(said))
        return SkipReason(f"no {job_name} run has failed since the last tick")

    return scorecard_failure_notice

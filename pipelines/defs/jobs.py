"""Jobs and the monthly schedule."""

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    RunRequest,
    ScheduleEvaluationContext,
    define_asset_job,
    schedule,
)

from pipelines.catalog.models import ScheduleSettings
from pipelines.defs.delivery import DELIVERY_KEY
from pipelines.defs.review import BOARD_PACK_KEY, PACK_DELIVERY_KEY, REVIEW_SCORES_KEY
from pipelines.defs.scorecard import REPORT_KEY
from pipelines.defs.units import UNIT_REPORTS_KEY
from pipelines.periods import Period

MONTHLY_JOB = "monthly_scorecard"
HISTORY_JOB = "scorecard_history"
DELIVERY_JOB = "scorecard_delivery"
PACKS_JOB = "board_packs"
PACK_DELIVERY_JOB = "board_pack_delivery"


def build_jobs() -> list:
    """The monthly job (everything), the history job (loads, KPIs and scores, no report), the
    delivery job, and the board packs' jobs.

    Their monthly partitions come from the assets they select."""
    monthly = define_asset_job(
        MONTHLY_JOB,
        selection=AssetSelection.all(),
        description="Load, check, compute, score and render the Balanced Scorecard of a month.",
    )
    history = define_asset_job(
        HISTORY_JOB,
        selection=AssetSelection.all()
        - AssetSelection.assets(
            REPORT_KEY, UNIT_REPORTS_KEY, DELIVERY_KEY, BOARD_PACK_KEY, PACK_DELIVERY_KEY
        ),
        description="Load and score a range of past months, and the quarters and years they "
        "close (no report, no email).",
    )
    packs = define_asset_job(
        PACKS_JOB,
        selection=AssetSelection.assets(REVIEW_SCORES_KEY, BOARD_PACK_KEY, PACK_DELIVERY_KEY),
        description="Score and render the board packs of the quarters and years the months "
        "close, and email them (one month's run; a range sends nothing).",
    )
    pack_delivery = define_asset_job(
        PACK_DELIVERY_JOB,
        selection=AssetSelection.assets(PACK_DELIVERY_KEY),
        description="Email an already rendered board pack (scorecard send --period 2026-Q3).",
    )
    delivery = define_asset_job(
        DELIVERY_JOB,
        selection=AssetSelection.assets(DELIVERY_KEY),
        description="Email an already rendered month (scorecard send); the ledger sends it once.",
    )
    return [monthly, history, delivery, packs, pack_delivery]


def build_schedules(monthly_job, settings: ScheduleSettings) -> list:
    """Run the month that just closed, `days_after_month_end` days later at the local time."""
    hour, minute = (int(part) for part in settings.time.split(":"))

    @schedule(
        name="monthly_scorecard_schedule",
        job=monthly_job,
        cron_schedule=f"{minute} {hour} {settings.days_after_month_end} * *",
        execution_timezone=settings.timezone,
        # on from the start: a deployed daemon runs it without anyone switching it on in the UI
        default_status=DefaultScheduleStatus.RUNNING,
        description=f"On day {settings.days_after_month_end} of each month at {settings.time} "
        f"({settings.timezone}), the scorecard of the month that just closed, and the board "
        "packs of the fiscal quarter or year it closes.",
    )
    def monthly_scorecard_schedule(context: ScheduleEvaluationContext) -> RunRequest:
        period = Period.of(context.scheduled_execution_time.date()).shift(-1)
        # The run key makes a second firing for the same month a no-op.
        return RunRequest(run_key=f"scorecard-{period.key}", partition_key=period.key)

    return [monthly_scorecard_schedule]

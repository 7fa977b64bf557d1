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
# The history job in three stages, for a backfill split into runs side by side on a DuckLake
# (scorecard backfill --runs): every month's loads, then every month's KPIs and scores (a
# month's year to date and trailing twelve months read the months before it), then the
# quarters and years (a year's review reads its twelve months' KPIs).
HISTORY_STAGE_JOBS = {
    "load": "scorecard_history_load",
    "score": "scorecard_history_score",
    "review": "scorecard_history_review",
}


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
    loads = AssetSelection.groups("raw")
    reviews = AssetSelection.assets(REVIEW_SCORES_KEY)
    stages = [
        define_asset_job(
            HISTORY_STAGE_JOBS["load"],
            selection=loads,
            description="Load and check a range of past months (the first stage of a backfill "
            "split into runs: scorecard backfill --runs).",
        ),
        define_asset_job(
            HISTORY_STAGE_JOBS["score"],
            selection=history.selection - loads - reviews,
            description="Compute and score a range of past months already loaded (the second "
            "stage of a backfill split into runs).",
        ),
        define_asset_job(
            HISTORY_STAGE_JOBS["review"],
            selection=reviews,
            description="Score the quarters and years a range of scored months closes (the "
            "last stage of a backfill split into runs).",
        ),
    ]
    return [monthly, history, delivery, packs, pack_delivery, *stages]


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

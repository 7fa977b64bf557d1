"""Jobs and the monthly schedule."""

from __future__ import annotations

from dagster import AssetSelection, ScheduleDefinition, define_asset_job

from pipelines.defs.scorecard import REPORT_KEY

MONTHLY_JOB = "monthly_scorecard"
HISTORY_JOB = "scorecard_history"


def build_jobs(partitions) -> list:
    """The monthly job (everything) and the history job (loads, KPIs and scores, no report)."""
    monthly = define_asset_job(
        MONTHLY_JOB,
        selection=AssetSelection.all(),
        partitions_def=partitions,
        description="Load, check, compute, score and render the Balanced Scorecard of a month.",
    )
    history = define_asset_job(
        HISTORY_JOB,
        selection=AssetSelection.all() - AssetSelection.assets(REPORT_KEY),
        partitions_def=partitions,
        description="Load and score a range of past months (no report, no email).",
    )
    return [monthly, history]


def build_schedules(monthly_job) -> list:
    """Run the previous month a few days after it closes."""
    return [
        ScheduleDefinition(
            name="monthly_scorecard_schedule",
            job=monthly_job,
            cron_schedule="0 6 5 * *",
            execution_timezone="UTC",
            description="On the 5th at 06:00 UTC, the scorecard of the month that just closed.",
        )
    ]

"""What the `scorecard` command prints about email, and the failure notice it sends itself.

The delivery asset's materialization (in the Dagster instance) says where a run's messages went;
a run launched by the CLI is not watched by the daemon's sensor, so the CLI notifies the data
team of a failed run itself (the ledger keeps it to one notice per run either way).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import closing

from dagster import AssetKey, DagsterEventType, DagsterInstance

from pipelines.catalog import load_catalog
from pipelines.delivery.deliver import delivery_context
from pipelines.delivery.notices import notify_run_failure
from pipelines.delivery.transport import settings_from_environ
from pipelines.periods import Period, ReviewPeriod
from pipelines.settings import RuntimePaths
from pipelines.warehouse.connection import connect, ensure_tables

DELIVERY_ASSET = AssetKey("delivery_email")


PACK_ASSET = AssetKey("board_pack")
PACK_DELIVERY_ASSET = AssetKey("board_pack_email")


def materialization_metadata(
    instance: DagsterInstance, run_id: str, asset: AssetKey = DELIVERY_ASSET
) -> dict | None:
    """An asset's metadata from a run on `instance` (plain values), or None if it did not
    run: the monthly email's by default, the board packs' or their email's."""
    records = instance.all_logs(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION)
    for record in records:
        materialization = record.asset_materialization
        if materialization is not None and materialization.asset_key == asset:
            return {k: v.value for k, v in materialization.metadata.items()}
    return None


def delivery_lines(meta: dict | None, period: Period | ReviewPeriod) -> list[str]:
    """Where a run's messages went, for the terminal (`period`: the month, or the review of a
    board pack, as `scorecard send --period` takes it)."""
    if meta is None:
        return ["Email: the delivery step did not run."]
    if not meta.get("sent"):
        return [f"Email: none sent: {meta.get('skipped', 'skipped')}."]
    lines = []
    if meta["transport"] == "outbox":
        if meta.get("outbox_paths"):
            lines.append(
                "Email: no SMTP server is configured (SCORECARD_SMTP_HOST), so the "
                f"messages were written to the outbox {meta['destination']}:"
            )
        lines += [f"  {path}" for path in meta.get("outbox_paths", [])]
    else:
        for list_id, people in meta.get("recipients", {}).items():
            if people:
                lines.append(
                    f"Email: sent via {meta['destination']} to list {list_id}: " + ", ".join(people)
                )
    for list_id, people in meta.get("already_sent", {}).items():
        lines.append(
            f"Email: list {list_id} already has it ({len(people)} recipient(s)); "
            f"to send again: scorecard send --period {period} --resend"
        )
    for list_id, people in meta.get("unconfirmed", {}).items():
        lines.append(
            f"Email: WARNING: the send to {', '.join(people)} (list {list_id}) is "
            "unconfirmed (claimed, never confirmed by the server); check the mail "
            f"server's log, then: scorecard send --period {period} --unconfirmed"
        )
    for list_id in meta.get("held_lists", []):
        lines.append(
            f"Email: list {list_id} held: the month is incomplete (policy hold); "
            "the data team was notified"
        )
    for list_id, people in meta.get("notices", {}).items():
        if people:
            lines.append(f"Email: incomplete-data notice to list {list_id}: {', '.join(people)}")
    return lines or ["Email: nothing to send (no recipient lists receive the scorecard)."]


def notify_failure(
    paths: RuntimePaths,
    run_id: str,
    job_name: str,
    period: Period,
    errors: tuple[str, ...],
    say: Callable[[str], None],
) -> None:
    """Email the data team that a run failed (its steps and causes); never raises."""

    def connection():
        con = connect(paths.warehouse, wait_seconds=10)
        ensure_tables(con)
        return closing(con)

    failures = [tuple(e.split(": ", 1)) if ": " in e else (e, e) for e in errors]
    try:
        ctx = delivery_context(
            load_catalog(paths.definitions, paths.sql),
            paths,
            settings_from_environ(os.environ),
            connection,
            run_id,
        )
        results = notify_run_failure(
            ctx, failed_run_id=run_id, job_name=job_name, period=period, failures=failures
        )
    except Exception as exc:  # noqa: BLE001 - a failed notice must not hide the failed run
        say(f"The data team could not be notified: {type(exc).__name__}: {exc}")
        return
    for result in results:
        if result.error:
            say(f"The failure notice to list {result.list_id} failed: {result.error}")
        elif result.unconfirmed:
            say(
                f"The failure notice to list {result.list_id} is unconfirmed: "
                f"{result.unconfirmed_reason or 'claimed, never confirmed by the server'}"
            )
        elif result.sent:
            say(
                f"The data team (list {result.list_id}) was notified"
                + (f": {result.where}" if result.where else ".")
            )

"""The `scorecard` command: generate the demo, run a month, backfill, send, check the catalog.

Every command that computes anything runs the Dagster jobs of pipelines.definitions.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import date
from pathlib import Path
from typing import NoReturn

from pipelines.backfill_runs import STAGES
from pipelines.catalog import CatalogError, load_catalog
from pipelines.catalog_check import check_catalog
from pipelines.demo.commands import add_demo_source_commands
from pipelines.instance_full import InstanceFullError
from pipelines.periods import Period, PeriodError, ReviewPeriod, last_complete_period
from pipelines.settings import PROJECT_ROOT, RuntimePaths, runtime_paths
from pipelines.warehouse.backup import BackupError
from pipelines.warehouse.connection import (
    WarehouseDamagedError,
    WarehouseLockedError,
    WarehouseSettingError,
    warehouse_exists,
)
from pipelines.warehouse.transfer import TransferError

_MONTH = re.compile(r"^\d{4}-\d{1,2}$")


class UsageError(Exception):
    """A command-line argument that cannot be used; printed without a traceback."""


def _period_in_range(text: str | None, paths: RuntimePaths) -> Period:
    latest = last_complete_period(date.today())
    if text is None:
        return latest
    try:
        period = Period.parse(text)
    except PeriodError as exc:
        raise UsageError(str(exc)) from None
    catalog = load_catalog(paths.definitions, paths.sql)
    first = Period.parse(catalog.organization.first_period)
    if period < first or period > latest:
        raise UsageError(
            f"period {period} is outside the scorecard's months {first} to {latest} "
            "(from the catalog's first_period to the last complete month)"
        )
    return period


def _review_in_range(text: str, paths: RuntimePaths) -> ReviewPeriod:
    """A fiscal quarter ('2026-Q3') or year ('2026') whose months are all within the
    scorecard's months."""
    catalog = load_catalog(paths.definitions, paths.sql)
    try:
        review = ReviewPeriod.parse(text, catalog.organization.fiscal_year_start_month)
    except PeriodError as exc:
        raise UsageError(str(exc)) from None
    first = Period.parse(catalog.organization.first_period)
    latest = last_complete_period(date.today())
    if review.first < first or review.last > latest:
        raise UsageError(
            f"{review.label} runs from {review.first} to {review.last}, outside the scorecard's "
            f"months {first} to {latest} (from the catalog's first_period to the last "
            "complete month)"
        )
    return review


def _is_review(text: str | None) -> bool:
    """Whether a --period names a fiscal quarter or year rather than a month."""
    return text is not None and not _MONTH.match(text.strip())


def _report(outcome, what: str) -> int:
    if outcome.success:
        return 0
    print(f"{what} failed (Dagster run {outcome.run_id}):", file=sys.stderr)
    for error in outcome.errors:  # the quality gate lists each failure on a line of its own
        print("  - " + error.replace("\n", "\n    "), file=sys.stderr)
    return 1


def cmd_run(args, paths: RuntimePaths) -> int:
    """Run one month end to end and print where its report is."""
    from pipelines.defs.jobs import MONTHLY_JOB
    from pipelines.runner import run_job

    if _is_review(args.period):
        return _run_review(args, paths)
    period = _period_in_range(args.period, paths)
    if preflight(paths) != 0:
        return 1
    _back_up(paths)
    print(f"Running the scorecard for {period.label} ({period}) ...")
    outcome = run_job(paths, MONTHLY_JOB, period, period)
    status = _report(outcome, f"The run for {period}")
    if status == 0 or _report_rendered(paths, outcome.run_id):
        if status != 0:
            print("The report was rendered all the same, with the withheld KPIs marked:")
        out = paths.report_dir(period.key)
        print(f"HTML: {out / 'scorecard.html'}")
        print(f"PDF:  {out / 'scorecard.pdf'}")
        units = sorted((out / "units").glob("*/scorecard.pdf"))
        if units:
            print(f"Business units: {len(units)} reports, {out / 'units'}/<unit>/scorecard.pdf")
    _print_delivery(paths, outcome, MONTHLY_JOB, period)
    _print_packs(paths, outcome.run_id)
    return status


def _run_review(args, paths: RuntimePaths) -> int:
    """Score, render and email one fiscal quarter's or year's board pack from its months."""
    from pipelines.defs.jobs import PACKS_JOB
    from pipelines.defs.review import REVIEW_TAG
    from pipelines.runner import run_job

    review = _review_in_range(args.period, paths)
    if preflight(paths) != 0:
        return 1
    _back_up(paths)
    print(f"Running the board pack for {review.label} ({review.span}) ...")
    outcome = run_job(paths, PACKS_JOB, review.last, review.last, tags={REVIEW_TAG: review.key})
    status = _report(outcome, f"The board pack for {review.key}")
    _print_packs(paths, outcome.run_id, review)
    return status


def _print_packs(paths: RuntimePaths, run_id: str, review: ReviewPeriod | None = None) -> None:
    """Where the run's board packs are (`review`, or those a month's run rendered), and where
    their email went."""
    from pipelines.delivery.console import (
        PACK_DELIVERY_ASSET,
        delivery_lines,
        materialization_metadata,
    )
    from pipelines.runner import instance_for

    with instance_for(paths) as instance:
        meta = materialization_metadata(instance, run_id, PACK_DELIVERY_ASSET)
    if review is not None:
        reviews = [review]
    else:
        start = load_catalog(paths.definitions, paths.sql).organization.fiscal_year_start_month
        reviews = [ReviewPeriod.parse(k, start) for k in _rendered_packs(paths, run_id)]
    for shown in reviews:
        out = paths.report_dir(shown.key)
        if (out / "board_pack.pdf").is_file():
            print(f"Board pack {shown.label}:")
            print(f"HTML: {out / 'board_pack.html'}")
            print(f"PDF:  {out / 'board_pack.pdf'}")
    if not reviews or meta is None:
        return
    if not meta.get("sent"):
        print(f"Board pack email: none sent: {meta.get('skipped', 'skipped')}.")
        return
    for shown in reviews:
        sent = (meta.get("packs") or {}).get(shown.key)
        if sent is None:
            continue
        if not sent.get("recipients") and not sent.get("held_lists"):
            print(
                f"Board pack email ({shown.key}): no list takes packs (packs: in recipients.yaml)."
            )
            continue
        for line in delivery_lines({**sent, "sent": True}, shown):
            print(line.replace("Email:", f"Board pack email ({shown.key}):", 1))


def _report_rendered(paths: RuntimePaths, run_id: str) -> bool:
    """Whether the run rendered the report (a failed quality gate does not stop it)."""
    from dagster import DagsterEventType

    from pipelines.defs.scorecard import REPORT_KEY
    from pipelines.runner import instance_for

    with instance_for(paths) as instance:
        records = instance.all_logs(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION)
    return any(
        r.asset_materialization is not None and r.asset_materialization.asset_key == REPORT_KEY
        for r in records
    )


def _print_delivery(paths: RuntimePaths, outcome, job_name: str, period: Period) -> None:
    """Where the run's email went; after a failed run, the data team's notice."""
    from pipelines.delivery.console import delivery_lines, materialization_metadata, notify_failure
    from pipelines.runner import instance_for

    with instance_for(paths) as instance:
        meta = materialization_metadata(instance, outcome.run_id)
    if meta is not None or outcome.success:
        for line in delivery_lines(meta, period):
            print(line)
    if not outcome.success:
        notify_failure(
            paths,
            outcome.run_id,
            job_name,
            period,
            outcome.errors,
            lambda line: print(line, file=sys.stderr),
        )


def cmd_send(args, paths: RuntimePaths) -> int:
    """Email an already rendered month: to its lists, or only --to; --resend sends again;
    --unconfirmed sends again to the recipients whose send is unconfirmed, only them."""
    from pipelines.defs.jobs import DELIVERY_JOB
    from pipelines.delivery.message import MessageError, mailbox
    from pipelines.runner import run_job

    if args.to:
        try:
            mailbox("", args.to)
        except MessageError as exc:
            raise UsageError(f"--to: {exc}") from None
    if _is_review(args.period):
        return _send_review(args, paths)
    period = _period_in_range(args.period, paths)
    pdf = paths.report_dir(period.key) / "scorecard.pdf"
    if not pdf.is_file():
        raise UsageError(
            f"there is no report for {period} at {pdf}; "
            f"run it first: scorecard run --period {period}"
        )
    _back_up(paths)
    tags = _send_tags(args)
    what = "Resending" if args.resend or args.unconfirmed else "Sending"
    whom = " to its unconfirmed recipients" if args.unconfirmed else ""
    print(f"{what} the scorecard for {period.label} ({period}){whom} ...")
    outcome = run_job(paths, DELIVERY_JOB, period, period, tags=tags)
    status = _report(outcome, f"Sending {period}")
    _print_delivery(paths, outcome, DELIVERY_JOB, period)
    return status


def _send_tags(args) -> dict:
    from pipelines.defs.delivery import RESEND_TAG, SEND_TAG, TO_TAG, UNCONFIRMED_TAG

    tags = {
        SEND_TAG: "true",
        RESEND_TAG: "true" if args.resend else "false",
        UNCONFIRMED_TAG: "true" if args.unconfirmed else "false",
    }
    if args.to:
        tags[TO_TAG] = args.to
    return tags


def _send_review(args, paths: RuntimePaths) -> int:
    """Email a rendered board pack to the lists that take it (or --to)."""
    from pipelines.defs.jobs import PACK_DELIVERY_JOB
    from pipelines.defs.review import REVIEW_TAG
    from pipelines.runner import run_job

    review = _review_in_range(args.period, paths)
    pdf = paths.report_dir(review.key) / "board_pack.pdf"
    if not pdf.is_file():
        raise UsageError(
            f"there is no board pack for {review.key} at {pdf}; "
            f"run it first: scorecard run --period {review.key}"
        )
    _back_up(paths)
    print(f"Sending the board pack for {review.label} ({review.span}) ...")
    tags = {**_send_tags(args), REVIEW_TAG: review.key}
    outcome = run_job(paths, PACK_DELIVERY_JOB, review.last, review.last, tags=tags)
    status = _report(outcome, f"Sending the board pack for {review.key}")
    _print_packs(paths, outcome.run_id, review)
    return status


def cmd_backfill(args, paths: RuntimePaths) -> int:
    """Load and score a range of months in one Dagster run (no report, no email)."""
    from pipelines.defs.delivery import CLI_BACKFILL_TAG
    from pipelines.defs.jobs import HISTORY_JOB
    from pipelines.progress import StepProgress, print_backfill_summary
    from pipelines.runner import run_job, step_count

    first, last = _period_in_range(args.start, paths), _period_in_range(args.end, paths)
    if first > last:
        raise UsageError(f"--from {first} is after --to {last}")
    if getattr(args, "stage", None):
        return _backfill_stage(args.stage, paths, first, last)
    if preflight(paths) != 0:
        return 1
    runs = getattr(args, "runs", 1)
    if runs > 1:
        return _backfill_in_runs(args, paths, first, last, runs)
    if getattr(args, "submit", False):
        if getattr(args, "packs", False):
            raise UsageError(
                "--packs renders here, after the run: submit the backfill first, then render "
                f"the packs with: scorecard backfill --from {first} --to {last} --packs"
            )
        return _submit_backfill(args, first, last)
    _back_up(paths)
    print(f"Loading and scoring {first} to {last} in one Dagster run ...")
    progress = StepProgress(step_count(paths, HISTORY_JOB))
    outcome = run_job(
        paths,
        HISTORY_JOB,
        first,
        last,
        on_step=progress.step_done,
        tags={CLI_BACKFILL_TAG: f"{first}..{last}"},
    )
    progress.close()
    print_backfill_summary(paths, first, last)
    status = _report(outcome, f"The backfill {first}..{last}")
    if status != 0 or not getattr(args, "packs", False):
        return status
    return _backfill_packs(paths, first, last)


def _backfill_in_runs(args, paths: RuntimePaths, first: Period, last: Period, runs: int) -> int:
    """`--runs N`: the backfill in stages of N runs side by side (pipelines/backfill_runs.py)."""
    from pipelines.backfill_runs import backfill_in_runs
    from pipelines.progress import print_backfill_summary
    from pipelines.warehouse.lake import lake_settings

    if lake_settings() is None:
        raise UsageError(
            f"--runs {runs} needs a warehouse that several runs can write at once "
            "(SCORECARD_WAREHOUSE=ducklake); the DuckDB file takes one writer at a time"
        )
    if getattr(args, "submit", False) or getattr(args, "packs", False):
        raise UsageError("--runs runs the backfill here, without --submit or --packs")
    _back_up(paths)
    status = backfill_in_runs(first, last, runs)
    print_backfill_summary(paths, first, last)
    if status != 0:
        print(f"The backfill {first}..{last} had failed runs (above).", file=sys.stderr)
    return status


def _backfill_stage(stage: str, paths: RuntimePaths, first: Period, last: Period) -> int:
    """One run of a backfill split into runs: the stage's job over first..last."""
    from pipelines.defs.delivery import CLI_BACKFILL_TAG
    from pipelines.defs.jobs import HISTORY_STAGE_JOBS
    from pipelines.runner import run_job

    outcome = run_job(
        paths, HISTORY_STAGE_JOBS[stage], first, last, tags={CLI_BACKFILL_TAG: f"{first}..{last}"}
    )
    return _report(outcome, f"The {stage} stage of {first}..{last}")


def _backfill_packs(paths: RuntimePaths, first: Period, last: Period) -> int:
    """Render the board packs of the quarters and years that first..last close (no email)."""
    from pipelines.defs.delivery import CLI_BACKFILL_TAG
    from pipelines.defs.jobs import PACKS_JOB
    from pipelines.runner import run_job

    print(f"Rendering the board packs of the quarters and years {first} to {last} close ...")
    outcome = run_job(paths, PACKS_JOB, first, last, tags={CLI_BACKFILL_TAG: f"{first}..{last}"})
    status = _report(outcome, f"The board packs of {first}..{last}")
    for key in _rendered_packs(paths, outcome.run_id):
        print(f"  {key}: {paths.report_dir(key) / 'board_pack.pdf'}")
    return status


def _rendered_packs(paths: RuntimePaths, run_id: str) -> list[str]:
    """The reviews whose board pack a run rendered."""
    from pipelines.delivery.console import PACK_ASSET, materialization_metadata
    from pipelines.runner import instance_for

    with instance_for(paths) as instance:
        keys = (materialization_metadata(instance, run_id, PACK_ASSET) or {}).get("packs")
    return keys if isinstance(keys, list) else []


def _submit_backfill(args, first: Period, last: Period) -> int:
    """Queue the backfill on the instance at $DAGSTER_HOME for its daemon (deploy/dagster.yaml)."""
    from pipelines.defs.delivery import CLI_BACKFILL_TAG
    from pipelines.defs.jobs import HISTORY_JOB
    from pipelines.submit import SubmitError, submit_range

    try:
        run_id = submit_range(
            HISTORY_JOB,
            first,
            last,
            workspace=Path(args.workspace).resolve(),
            tags={CLI_BACKFILL_TAG: f"{first}..{last}"},
        )
    except SubmitError as exc:
        raise UsageError(str(exc)) from None
    print(
        f"Queued Dagster run {run_id} ({HISTORY_JOB}, {first} to {last}); the instance's "
        "daemon (dagster-daemon run) launches it. Follow it in the UI."
    )
    return 0


def cmd_demo(args, paths: RuntimePaths) -> int:
    """Write the demo company's exports; then load their history and run the latest month."""
    from pipelines.demo.generator import generate_demo

    end = Period.parse(args.end) if args.end else last_complete_period(date.today())
    if args.start:
        start = Period.parse(args.start)
    else:  # the company's first month: no partition before it is left without data
        start = Period.parse(load_catalog(paths.definitions, paths.sql).organization.first_period)
    if start > end:
        raise UsageError(f"--start {start} is after --end {end}")
    if not args.exports_only:
        _back_up(paths)  # a warehouse that does not read whole stops it before anything
    print(
        f"Writing the demo exports for {start} to {end} (scale {args.scale}, seed {args.seed}) ..."
    )
    rows = generate_demo(paths.demo, start=start.key, end=end.key, scale=args.scale, seed=args.seed)
    print(f"  {sum(rows.values()):,} rows in {len(rows)} files under {paths.demo}")
    if args.exports_only:
        return 0
    args.start, args.end = start.key, end.shift(-1).key
    if start < end and cmd_backfill(args, paths) != 0:
        return 1
    args.period = end.key
    return cmd_run(args, paths)


def _back_up(paths: RuntimePaths) -> None:
    """Before a command writes: check the warehouse reads whole (WarehouseDamagedError when
    not) and back it up, keeping the newest $SCORECARD_BACKUPS_KEEP."""
    from pipelines.warehouse.backup import take_backup

    backup = take_backup(paths.warehouse)
    if backup is not None:
        size = backup.size() / 2**20
        print(f"Backed up the warehouse to {backup.path} ({size:.1f} MiB).")


def preflight(paths: RuntimePaths, *, verbose: bool = False) -> int:
    """Check the catalog: print problems; 0 when it may run (warnings only), 1 on errors."""
    catalog = load_catalog(paths.definitions, paths.sql)
    report = check_catalog(catalog, date.today())
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for error in report.errors:
        print(f"error: {error}", file=sys.stderr)
    if report.errors:
        print(
            f"The catalog has {len(report.errors)} error(s); fix them and run again.",
            file=sys.stderr,
        )
        return 1
    if verbose:
        print(
            f"The catalog is valid: {len(catalog.perspectives)} perspectives, "
            f"{len(catalog.objectives)} objectives, {len(catalog.kpis)} KPIs, "
            f"{len(catalog.tables)} source tables"
            + (
                f", {len(catalog.units)} business units ({len(catalog.unit_kpis())} KPIs each)"
                if catalog.units
                else ""
            )
            + f" (version {catalog.version})"
            + (f", {len(report.warnings)} warning(s)." if report.warnings else ".")
        )
    return 0


def cmd_check(args, paths: RuntimePaths) -> int:
    """Validate the catalog and report every problem; with business units and a warehouse,
    also the loaded rows whose unit code is no unit's."""
    status = preflight(paths, verbose=True)
    catalog = load_catalog(paths.definitions, paths.sql)
    if status == 0 and catalog.units and warehouse_exists(paths.warehouse):
        from pipelines.kpis.units import unmapped_codes
        from pipelines.warehouse.connection import connect

        try:
            con = connect(paths.warehouse, read_only=True)
        except Exception as exc:  # a run holds it: the catalog's check stands on its own
            print(f"note: the warehouse's unit codes were not checked: {exc}", file=sys.stderr)
            return status
        try:
            for line in unmapped_codes(con, catalog):
                print(f"warning: {line}", file=sys.stderr)
        finally:
            con.close()
    return status


def cmd_status(args, paths: RuntimePaths) -> int:
    """Print what is loaded, computed, scored, rendered and sent per month."""
    from pipelines.status import month_statuses, status_lines
    from pipelines.warehouse.integrity import open_verified

    last = _period_in_range(args.end, paths)
    first = _period_in_range(args.start, paths) if args.start else last.shift(-11)
    if not warehouse_exists(paths.warehouse):
        raise UsageError(f"there is no warehouse at {paths.warehouse} yet; run a month first")
    con = open_verified(paths.warehouse)
    try:
        rows = month_statuses(con, first, last)
    finally:
        con.close()
    print("\n".join(status_lines(rows)))
    return 0


def cmd_report(args, paths: RuntimePaths) -> int:
    """Print the path of the report as it was sent (hash verified), for any past month."""
    import hashlib

    from pipelines.report.versions import sent_version
    from pipelines.warehouse.integrity import open_verified

    period = _period_in_range(args.period, paths)
    if not warehouse_exists(paths.warehouse):
        raise UsageError(f"there is no warehouse at {paths.warehouse} yet; run a month first")
    con = open_verified(paths.warehouse)
    try:
        sent = sent_version(con, period)
    finally:
        con.close()
    if sent is None:
        raise UsageError(
            f"no report for {period} has been sent; "
            f"the current one is {paths.report_dir(period.key) / 'scorecard.pdf'}"
        )
    archived = Path(sent["archived_pdf"])
    if hashlib.sha256(archived.read_bytes()).hexdigest() != sent["pdf_sha256"]:
        print(f"error: {archived} no longer matches the hash of the sent report", file=sys.stderr)
        return 1
    print(
        f"The report sent for {period} (rendered {sent['rendered_at']:%Y-%m-%d %H:%M}, "
        f"sha256 {sent['pdf_sha256'][:12]}…):"
    )
    print(f"PDF:  {archived}")
    return 0


def cmd_restore(args, paths: RuntimePaths) -> int:
    """Put back the newest backup that reads whole (or --from), keeping the file it replaces."""
    from pipelines.warehouse.backup import restore

    print("\n".join(restore(paths.warehouse, args.source).lines()))
    return 0


def cmd_warehouse_export(args, paths: RuntimePaths) -> int:
    """Write every table of the warehouse to a new folder as Parquet, with a manifest."""
    from pipelines.warehouse.integrity import open_verified
    from pipelines.warehouse.transfer import export_warehouse

    if not warehouse_exists(paths.warehouse):
        raise UsageError(f"there is no warehouse at {paths.warehouse} yet; run a month first")
    folder = Path(args.folder)
    con = open_verified(paths.warehouse)  # a warehouse that does not read whole is not exported
    try:
        manifest = export_warehouse(con, folder)
    finally:
        con.close()
    print(f"Exported {len(manifest.tables)} tables, {manifest.rows:,} rows to {folder}")
    return 0


def cmd_warehouse_import(args, paths: RuntimePaths) -> int:
    """Load an export into the warehouse, in one transaction, after a backup of it."""
    from pipelines.warehouse.connection import connect
    from pipelines.warehouse.transfer import import_warehouse, read_manifest

    folder = Path(args.folder)
    read_manifest(folder)  # a folder that is no export stops it before the warehouse is opened
    _back_up(paths)
    con = connect(paths.warehouse)
    try:
        tables = import_warehouse(con, folder, replace=args.replace)
    finally:
        con.close()
    print(f"Imported {len(tables)} tables, {sum(tables.values()):,} rows from {folder}")
    return 0


def cmd_new(args, paths: RuntimePaths) -> int:
    """Write the commented templates of a new KPI or source."""
    from pipelines.scaffold.write import ScaffoldError, new_kpi, new_source

    try:
        if args.what == "kpi":
            written = new_kpi(paths, args.name)
        else:
            written = new_source(paths, args.name, args.kind)
    except ScaffoldError as exc:
        raise UsageError(str(exc)) from None
    for path in written:
        print(f"wrote {path}")
    print("Fill in the TODOs, then run `scorecard check`.")
    return 0


def _run_count(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of runs from 1 to 64")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(prog="scorecard", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="generate the demo company and run its scorecard")
    demo.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    demo.add_argument("--scale", type=float, default=1.0, help="data volume factor (default 1)")
    demo.add_argument("--start", help="first month YYYY-MM (default: the catalog's first_period)")
    demo.add_argument("--end", help="last month YYYY-MM (default: the last complete month)")
    demo.add_argument("--exports-only", action="store_true", help="only write the export files")
    demo.set_defaults(func=cmd_demo)
    run = commands.add_parser("run", help="run the scorecard of one month")
    run.add_argument(
        "--period",
        help="the month YYYY-MM (default: the last complete month), or a fiscal quarter "
        "YYYY-Qn or year YYYY for its board pack",
    )
    run.set_defaults(func=cmd_run)
    backfill = commands.add_parser("backfill", help="load and score a range of past months")
    backfill.add_argument("--from", dest="start", required=True, help="first month YYYY-MM")
    backfill.add_argument("--to", dest="end", required=True, help="last month YYYY-MM")
    backfill.add_argument(
        "--submit",
        action="store_true",
        help="queue the run on the instance at $DAGSTER_HOME for its daemon",
    )
    backfill.add_argument(
        "--workspace",
        metavar="FILE",
        default=str(PROJECT_ROOT / "workspace.yaml"),
        help="with --submit: the daemon's workspace file (default: ours)",
    )
    backfill.add_argument(
        "--packs",
        action="store_true",
        help="then render the board packs of the quarters and years the range closes (no email)",
    )
    backfill.add_argument(
        "--runs",
        type=_run_count,
        default=1,
        metavar="N",
        help="on a DuckLake: split the backfill into N Dagster runs side by side (default 1)",
    )
    backfill.add_argument("--stage", choices=STAGES, help=argparse.SUPPRESS)  # one of those runs
    backfill.set_defaults(func=cmd_backfill)
    send = commands.add_parser("send", help="email a rendered month (once; --resend again)")
    send.add_argument(
        "--period", required=True, help="the month YYYY-MM, or a board pack's YYYY-Qn or YYYY"
    )
    send.add_argument("--to", help="only this address (on its lists, or alone)")
    again = send.add_mutually_exclusive_group()
    again.add_argument(
        "--resend",
        action="store_true",
        help="send even to recipients the ledger says already have it",
    )
    again.add_argument(
        "--unconfirmed",
        action="store_true",
        help="send again only to recipients whose send is unconfirmed",
    )
    send.set_defaults(func=cmd_send)
    report = commands.add_parser("report", help="find the report exactly as it was sent")
    report.add_argument("--period", required=True, help="the month YYYY-MM")
    report.add_argument(
        "--as-sent",
        action="store_true",
        required=True,
        help="the archived PDF that was emailed, its hash checked",
    )
    report.set_defaults(func=cmd_report)
    status = commands.add_parser("status", help="what each month has: loaded, scored, sent")
    status.add_argument("--from", dest="start", help="first month (default: 11 before --to)")
    status.add_argument("--to", dest="end", help="last month (default: the last complete month)")
    status.set_defaults(func=cmd_status)
    restore = commands.add_parser("restore", help="put back a backup of the warehouse")
    restore.add_argument(
        "--from",
        dest="source",
        metavar="BACKUP",
        help="a backup's path or file name (default: the newest that reads)",
    )
    restore.set_defaults(func=cmd_restore)
    warehouse = commands.add_parser(
        "warehouse", help="move the warehouse as Parquet files: to a DuckLake and back"
    )
    moves = warehouse.add_subparsers(dest="action", required=True)
    export = moves.add_parser("export", help="every table as Parquet in a new folder")
    export.add_argument("--to", dest="folder", required=True, metavar="DIR", help="a new folder")
    export.set_defaults(func=cmd_warehouse_export)
    load = moves.add_parser("import", help="load an export into the warehouse")
    load.add_argument("--from", dest="folder", required=True, metavar="DIR", help="an export")
    load.add_argument("--replace", action="store_true", help="replace the rows the warehouse holds")
    load.set_defaults(func=cmd_warehouse_import)
    new = commands.add_parser("new", help="write the templates of a new source or KPI")
    new_kinds = new.add_subparsers(dest="what", required=True)
    new_kpi = new_kinds.add_parser("kpi", help="definitions/kpis/ID.yaml and sql/kpis/ID.sql")
    new_kpi.add_argument("name", metavar="ID")
    new_kpi.set_defaults(func=cmd_new)
    new_source = new_kinds.add_parser("source", help="definitions/sources/NAME.yaml")
    new_source.add_argument("name", metavar="NAME")
    new_source.add_argument(
        "--kind",
        choices=["file", "sql", "postgres", "api", "http_api"],
        default="file",
        type=str.lower,
        help="the connector kind: file (default), sql or postgres, api or http_api",
    )
    new_source.set_defaults(func=cmd_new)
    check = commands.add_parser("check", help="validate the catalog under definitions/")
    check.set_defaults(func=cmd_check)
    add_demo_source_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `scorecard` console script."""
    args = build_parser().parse_args(argv)
    command = " ".join(filter(None, (args.command, getattr(args, "action", None))))
    try:
        return args.func(args, runtime_paths())
    except (UsageError, CatalogError, WarehouseSettingError) as exc:
        print(f"scorecard {command}: {exc}", file=sys.stderr)
        return 2
    except (
        WarehouseDamagedError,
        WarehouseLockedError,
        BackupError,
        InstanceFullError,
        TransferError,
    ) as exc:
        print(f"scorecard {command}: {exc}", file=sys.stderr)  # one line, no traceback
        return 1


def run() -> NoReturn:
    """The `scorecard` console script."""
    sys.exit(main())


if __name__ == "__main__":
    run()

"""Operations: backfills equal month-by-month runs, reruns are idempotent by table contents,
a failed load keeps the month that was there, and a second writer waits then fails clearly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from demo_homes import FIRST, LAST, home_on
from warehouse_contents import table_contents

from pipelines.cli import main
from pipelines.defs.jobs import HISTORY_JOB
from pipelines.ingest.raw_tables import replace_months
from pipelines.periods import Period, months_between
from pipelines.runner import instance_for, run_job
from pipelines.settings import PROJECT_ROOT
from pipelines.warehouse.connection import WarehouseLockedError, connect, ensure_tables


def test_backfill_equals_month_by_month_and_overlaps_change_nothing(tmp_path, quarter_exports):
    one_run = home_on(tmp_path, quarter_exports, "backfill")
    assert run_job(one_run, HISTORY_JOB, FIRST, LAST).success
    by_month = home_on(tmp_path, quarter_exports, "monthly")
    for period in months_between(FIRST, LAST):
        assert run_job(by_month, HISTORY_JOB, period, period).success
    backfilled = table_contents(one_run)
    assert backfilled["kpi.kpi_values"], "the backfill computed KPI values"
    assert backfilled == table_contents(by_month)
    # an overlapping backfill over months already there leaves exactly the same rows
    assert run_job(one_run, HISTORY_JOB, FIRST.shift(1), LAST).success
    assert table_contents(one_run) == backfilled


def test_a_load_failing_before_commit_leaves_the_month_as_it_was(paths, catalog, tiny_exports):
    from pipelines.ingest.files import load_file_table

    con = connect(paths.warehouse)
    ensure_tables(con)
    table = catalog.table("finance.gl_entries")
    jan = Period(2026, 1)
    load_file_table(con, table, jan, jan, paths.home, "good-run")
    before = con.execute("select * from raw.finance_gl_entries order by all").fetchall()
    # rows arrive, then the statement fails part way: a crash between load and commit
    crashing = (
        "select * replace (case when entry_id = 'GL-4' then error('disk went away') "
        "else amount_usd end as amount_usd) from read_csv($path, header = true)"
    )
    with pytest.raises(Exception, match="disk went away"):
        replace_months(
            con,
            table,
            crashing,
            {"path": str(tiny_exports / "finance/gl_entries.csv")},
            jan,
            jan,
            "crashing-run",
            "test",
        )
    assert con.execute("select * from raw.finance_gl_entries order by all").fetchall() == before
    assert con.execute("select distinct run_id from meta.loads").fetchall() == [("good-run",)]
    con.close()


def test_a_second_writer_waits_then_fails_with_a_clear_message(paths):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import time, duckdb
            con = duckdb.connect({str(paths.warehouse)!r})
            print("locked", flush=True)
            time.sleep(30)
        """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(WarehouseLockedError) as caught:
            connect(paths.warehouse, wait_seconds=1.5)
        message = str(caught.value)
        assert "locked by another writer" in message and str(paths.warehouse) in message
        assert f"process {holder.pid}" in message
    finally:
        holder.kill()
        holder.wait()
    connect(paths.warehouse, wait_seconds=5).close()  # free again once the holder is gone


def test_a_killed_run_does_not_keep_the_warehouse(tmp_path, quarter_exports, monkeypatch, capsys):
    """kill -9 in the middle of a backfill: the next run (here `scorecard backfill` in this
    process) finds the dead run's hold on the warehouse pool, releases it and runs (before, it
    waited for ever)."""
    paths = home_on(tmp_path, quarter_exports, "killed")
    with instance_for(paths):  # the instance's storage made before two processes open it
        pass
    env = {**os.environ, "SCORECARD_HOME": str(paths.home)}
    backfill = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "backfill", "--from", FIRST.key, "--to", LAST.key],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        claimed = False
        while not claimed and backfill.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
            with instance_for(paths) as instance:
                info = instance.event_log_storage.get_concurrency_info("warehouse")
                claimed = bool(info.claimed_slots)
        assert claimed, "the backfill claimed the warehouse slot before it was killed"
        backfill.send_signal(signal.SIGKILL)
        backfill.wait()
    finally:
        if backfill.poll() is None:
            backfill.kill()
    monkeypatch.setenv("SCORECARD_HOME", str(paths.home))
    capsys.readouterr()
    codes: list[int] = []
    month = threading.Thread(
        target=lambda: codes.append(main(["backfill", "--from", LAST.key, "--to", LAST.key])),
        daemon=True,  # a run waiting for ever on the dead run's slot is left behind, failed
    )
    month.start()
    month.join(timeout=180)
    out, err = capsys.readouterr()
    assert not month.is_alive(), "the run still waits for the killed run's warehouse slot"
    assert codes == [0], out + err
    assert "had stopped without finishing" in err
    with instance_for(paths) as instance:
        assert not instance.event_log_storage.get_concurrency_info("warehouse").claimed_slots


def _cpu_seconds(pid: int) -> float:
    """User and system CPU seconds a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_run_waiting_for_the_warehouse_sleeps_and_runs_once_the_slot_is_free(
    tmp_path, quarter_exports
):
    """Another writer holds the warehouse pool's slot: the run waits for it without keeping a
    core busy (Dagster's own wait never slept: pipelines/pool_wait.py), then runs."""
    paths = home_on(tmp_path, quarter_exports, "waiting")
    holder = "another-writer"
    with instance_for(paths) as instance:
        storage = instance.event_log_storage
        storage.initialize_concurrency_limit_to_default("warehouse")
        assert storage.claim_concurrency_slot("warehouse", holder, "load").is_claimed
    env = {**os.environ, "SCORECARD_HOME": str(paths.home)}
    run = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "backfill", "--from", LAST.key, "--to", LAST.key],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline, pending = time.monotonic() + 120, False
        while not pending and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
            with instance_for(paths) as instance:
                pending = any(
                    step.run_id != holder
                    for step in instance.event_log_storage.get_concurrency_info(
                        "warehouse"
                    ).pending_steps
                )
        assert pending, "the run asked for the warehouse slot"
        cpu, started = _cpu_seconds(run.pid), time.monotonic()
        time.sleep(4)
        busy = (_cpu_seconds(run.pid) - cpu) / (time.monotonic() - started)
        assert run.poll() is None, "the run waits while the slot is held"
        assert busy < 0.2, f"the waiting run used {busy:.0%} of a core"
        with instance_for(paths) as instance:
            instance.event_log_storage.free_concurrency_slots_for_run(holder)
        out, err = run.communicate(timeout=180)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 0, out + err
    assert table_contents(paths)["score.kpi_scores"], "the month was scored"

"""Warehouse integrity and backups (issue 18, item 3).

A truncated warehouse stops `scorecard run`, `status` and `send` (and a run the daemon starts)
before anything is written, in one line naming the file and the newest backup; a backup is
taken before each command or run that writes, and the newest SCORECARD_BACKUPS_KEEP are kept;
`scorecard restore` puts back the newest backup that reads whole, keeping the damaged file.

One monthly run of the demo's March 2026 (scale 0.03) is made per module; each test works on
a copy of its runtime folder.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from demo_homes import LAST, runtime_paths_at
from documentation import documentation

from pipelines import cli
from pipelines.defs.jobs import HISTORY_JOB, MONTHLY_JOB
from pipelines.runner import run_job
from pipelines.settings import PROJECT_ROOT, RuntimePaths
from pipelines.warehouse.connection import connect

KEPT_TABLES = ("delivery.ledger", "meta.report_versions")  # what no export can rebuild


@pytest.fixture(scope="module")
def ran_home(tmp_path_factory, quarter_exports) -> RuntimePaths:
    """A runtime folder where March 2026 ran end to end: report, versions, ledger, outbox."""
    home = tmp_path_factory.mktemp("ran") / "home"
    shutil.copytree(quarter_exports, home / "demo")  # a copy: each test copies the whole folder
    paths = runtime_paths_at(home)
    outcome = run_job(paths, MONTHLY_JOB, LAST, LAST)
    assert outcome.success, outcome.errors
    return paths


@pytest.fixture
def home(ran_home, tmp_path, monkeypatch) -> RuntimePaths:
    """A copy of `ran_home`, the runtime folder of the `scorecard` commands the test calls."""
    copy = tmp_path / "home"
    shutil.copytree(ran_home.home, copy, symlinks=True)
    monkeypatch.setenv("SCORECARD_HOME", str(copy))
    monkeypatch.delenv("SCORECARD_BACKUPS_KEEP", raising=False)
    return RuntimePaths(
        home=copy,
        definitions=ran_home.definitions,
        sql=ran_home.sql,
        report_assets=ran_home.report_assets,
    )


def _backups(paths: RuntimePaths) -> list[Path]:
    """The backup files, oldest first (their names sort by time)."""
    return sorted((paths.home / "backups").glob("warehouse-*.duckdb"))


def _state(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


def _kept_rows(path: Path) -> dict[str, list]:
    con = connect(path, read_only=True)
    try:
        return {
            table: con.execute(f"select * from {table} order by all").fetchall()
            for table in KEPT_TABLES
        }
    finally:
        con.close()


def _truncate(path: Path) -> None:
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size // 2)


def test_a_damaged_warehouse_stops_run_status_and_send_in_one_line(home, capsys, monkeypatch):
    monkeypatch.setenv("SCORECARD_BACKUPS_KEEP", "1")
    assert cli.main(["send", "--period", LAST.key]) == 0  # writes: backed up first
    backups = _backups(home)
    assert len(backups) == 1, "a backup is taken before `scorecard send`"
    _truncate(home.warehouse)
    damaged = _state(home.warehouse)
    capsys.readouterr()
    for command in (
        ["run", "--period", LAST.key],
        ["status", "--to", LAST.key],
        ["send", "--period", LAST.key],
    ):
        assert cli.main(command) == 1, command
        err = capsys.readouterr().err
        assert "Traceback" not in err
        line = err.splitlines()[-1]
        assert line.startswith(
            f"scorecard {command[0]}: the warehouse {home.warehouse} is damaged or unreadable"
        ), err
        assert f"The newest backup is {backups[0]}" in line and "`scorecard restore`" in line
        assert _state(home.warehouse) == damaged, f"scorecard {command[0]} wrote to the file"
        assert _backups(home) == backups, "a damaged warehouse never replaces a good backup"
    # a run the daemon starts (no CLI before it): every step blames the warehouse, none a source
    outcome = run_job(home, HISTORY_JOB, LAST, LAST)
    assert not outcome.success and outcome.errors
    assert all(f"the warehouse {home.warehouse} is damaged" in e for e in outcome.errors), (
        outcome.errors
    )
    assert _state(home.warehouse) == damaged and _backups(home) == backups


def test_a_backup_is_taken_before_each_run_and_the_newest_n_are_kept(home, capsys, monkeypatch):
    monkeypatch.setenv("SCORECARD_BACKUPS_KEEP", "2")
    states = [home.warehouse.read_bytes()]
    assert run_job(home, HISTORY_JOB, LAST, LAST).success  # the daemon's way: no CLI
    assert [b.read_bytes() for b in _backups(home)] == states, "backed up in the run's step"
    states.append(home.warehouse.read_bytes())
    capsys.readouterr()
    assert cli.main(["backfill", "--from", LAST.key, "--to", LAST.key]) == 0
    assert "Backed up the warehouse to" in capsys.readouterr().out
    # one backup for the command: its run's first step finds the warehouse already backed up
    assert [b.read_bytes() for b in _backups(home)] == states
    states.append(home.warehouse.read_bytes())
    first = _backups(home)[0]
    assert cli.main(["send", "--period", LAST.key]) == 0
    assert [b.read_bytes() for b in _backups(home)] == states[1:], "the newest 2 are kept"
    assert not first.exists()


def test_restore_brings_back_the_ledger_and_report_versions_and_keeps_the_damaged_file(
    home, capsys
):
    before = _kept_rows(home.warehouse)
    assert all(before.values()), "the month was sent and its report archived"
    folder = home.home / "backups"
    folder.mkdir()
    good = folder / "warehouse-20260405-060000-000000.duckdb"
    shutil.copy2(home.warehouse, good)
    newer = folder / "warehouse-20260406-060000-000000.duckdb"  # a damaged backup, skipped
    shutil.copy2(home.warehouse, newer)
    _truncate(newer)
    _truncate(home.warehouse)
    damaged = home.warehouse.read_bytes()
    capsys.readouterr()
    assert cli.main(["restore"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(
        f"Skipped the backup {newer} (taken 2026-04-06 06:00 UTC): it does not read whole"
    )
    assert out[1].startswith(f"Restored the warehouse {home.warehouse} from the backup {good}")
    aside = sorted(home.home.glob("warehouse.before-restore-*.duckdb"))
    assert len(aside) == 1 and aside[0].read_bytes() == damaged, "the damaged file is kept"
    assert f"kept as {aside[0]}" in out[2]
    assert _kept_rows(home.warehouse) == before
    assert cli.main(["status", "--to", LAST.key]) == 0
    assert cli.main(["restore", "--from", good.name]) == 0  # by name; the restored one aside
    assert len(list(home.home.glob("warehouse.before-restore-*.duckdb"))) == 2
    assert _kept_rows(home.warehouse) == before


def _leave_a_write_ahead_log(path: Path, sql: str) -> None:
    """A process that commits `sql` and dies before checkpointing: the .wal stays."""
    code = (
        f"import duckdb, os\ncon = duckdb.connect({str(path)!r}, "
        f"config={{'checkpoint_threshold': '1TB'}})\ncon.execute({sql!r})\nos._exit(0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_write_ahead_log_is_backed_up_and_a_foreign_one_is_damage(tmp_path):
    from pipelines.warehouse.backup import take_backup
    from pipelines.warehouse.connection import WarehouseDamagedError, ensure_tables
    from pipelines.warehouse.integrity import check_warehouse

    warehouse = tmp_path / "warehouse.duckdb"
    con = connect(warehouse)
    ensure_tables(con)
    con.close()
    _leave_a_write_ahead_log(warehouse, "create table meta.note as select 42 as answer")
    wal = warehouse.with_name("warehouse.duckdb.wal")
    kept = _state(warehouse), wal.read_bytes()
    backup = take_backup(warehouse, keep=3)
    assert (_state(warehouse), wal.read_bytes()) == kept, "read-only: the log is not replayed"
    assert not backup.path.with_name(backup.path.name + ".wal").exists(), "one file"
    copy = connect(backup.path, read_only=True)
    assert copy.execute("select answer from meta.note").fetchall() == [(42,)]
    copy.close()
    other = tmp_path / "other.duckdb"
    connect(other).close()
    shutil.copy(wal, other.with_name("other.duckdb.wal"))  # a log that belongs to another file
    with pytest.raises(WarehouseDamagedError, match="WAL does not match"):
        check_warehouse(other)
    assert os.path.getsize(other.with_name("other.duckdb.wal")) == len(kept[1])


def test_every_command_and_the_backups_are_documented():
    readme = documentation()
    usage = cli.build_parser().format_usage()  # "usage: scorecard [-h] {demo,run,...} ..."
    commands = re.search(r"\{([a-z,-]+)\}", usage).group(1).split(",")
    assert "restore" in commands
    for name in commands:
        assert f"`scorecard {name}" in readme, f"scorecard {name} is documented nowhere"
    for text in (
        "scorecard restore [--from BACKUP]",
        "SCORECARD_BACKUPS_KEEP",
        "$SCORECARD_HOME/backups/",
        "delivery ledger",
    ):
        assert text in readme, text
    assert "warehouse-backups.md" in (PROJECT_ROOT / "docs" / "architecture.md").read_text()


def test_the_failure_notice_goes_out_unrecorded_when_the_warehouse_does_not_open(paths):
    from pipelines.delivery.console import notify_failure

    paths.warehouse.write_bytes(b"not a database" * 100)
    said = []
    notify_failure(
        paths, "run-1", MONTHLY_JOB, LAST, ("raw_finance: the warehouse is damaged",), said.append
    )
    assert any("was notified" in line for line in said), said
    assert list((paths.outbox / LAST.key).glob("*failure_notice*.eml"))
    assert paths.warehouse.read_bytes() == b"not a database" * 100

"""Backups of the warehouse, taken before a run writes, and `scorecard restore`.

A backup is a copy of the DuckDB file (with its write-ahead log folded in) made under a
read-only connection, after every table was read whole (`integrity.verify`): the connection's
shared lock keeps writers out while the bytes are copied, so the copy is consistent, and a
warehouse that does not read whole is never copied, so no good backup is ever pushed out by a
damaged one. A DuckLake's backup is an export of it (`transfer.py`: one snapshot, Parquet), and
restoring one is an import that replaces the lake's rows. The newest `SCORECARD_BACKUPS_KEEP`
(default 7) are kept. See docs/decisions/warehouse-backups.md.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.warehouse.connection import WarehouseDamagedError, connect, warehouse_tables
from pipelines.warehouse.integrity import (
    Backup,
    backup_name,
    backups_folder,
    check_warehouse,
    list_backups,
    open_verified,
)
from pipelines.warehouse.lake import lake_settings, lake_snapshot
from pipelines.warehouse.transfer import (
    TransferError,
    export_warehouse,
    import_warehouse,
    read_manifest,
)

KEEP_VARIABLE = "SCORECARD_BACKUPS_KEEP"
DEFAULT_KEEP = 7
_STALE_PARTIAL_SECONDS = 3600


class BackupError(RuntimeError):
    """A backup could not be taken or restored; the message says why and what to do."""


def backups_keep(environ: Mapping[str, str] = os.environ) -> int:
    """How many backups to keep: $SCORECARD_BACKUPS_KEEP (0: take none), 7 when unset."""
    text = environ.get(KEEP_VARIABLE, "").strip()
    if not text:
        return DEFAULT_KEEP
    if not text.isdigit():
        raise BackupError(
            f"{KEEP_VARIABLE}={text!r} is not a whole number of backups to keep (0 takes none)"
        )
    return int(text)


def wal_of(path: Path) -> Path:
    """The write-ahead log DuckDB keeps beside a database file."""
    return path.with_name(path.name + ".wal")


def _unchanged_since(warehouse: Path, backup: Backup) -> bool:
    """Whether the newest backup holds the warehouse as it is (copies keep size and mtime)."""
    if wal_of(warehouse).exists():
        return False
    now, then = warehouse.stat(), backup.path.stat()
    return (now.st_size, now.st_mtime_ns) == (then.st_size, then.st_mtime_ns)


def take_backup(
    warehouse: Path, *, keep: int | None = None, wait_seconds: float = 30.0
) -> Backup | None:
    """Check that the warehouse reads whole, then copy it to backups/ and keep the newest `keep`.

    Returns the new backup, or None when none was taken: no warehouse yet, `keep` 0, or the
    newest backup already holds the warehouse as it is. A warehouse that does not read whole
    raises WarehouseDamagedError: nothing is copied and no backup is removed. A DuckLake is
    exported instead (`_take_lake_backup`).
    """
    keep = backups_keep() if keep is None else keep
    if lake_settings() is not None:
        return _take_lake_backup(warehouse, keep)
    if not warehouse.exists():
        return None
    folder = backups_folder(warehouse)
    existing = list_backups(folder)
    if keep and existing and _unchanged_since(warehouse, existing[0]):
        return None
    con = open_verified(warehouse, wait_seconds)  # its shared lock keeps writers out
    try:
        if not keep:
            return None
        taken_at = datetime.now(UTC)
        backup = Backup(folder / backup_name(taken_at), taken_at)
        partial = folder / f".{backup.path.name}.partial"
        _copy(warehouse, partial, folder)
    finally:
        con.close()
    if wal_of(partial).exists():
        _fold_wal(partial)
    partial.replace(backup.path)
    prune(folder, keep)
    return backup


def _take_lake_backup(warehouse: Path, keep: int) -> Backup | None:
    """Export the DuckLake into backups/ (one snapshot; the export reads every table), unless
    it holds no table yet or the newest backup was read from the snapshot it is at."""
    if not keep:
        return None
    folder = backups_folder(warehouse)
    existing = list_backups(folder)
    con = connect(warehouse)  # not read-only: that cannot attach a DuckLake not made yet
    try:
        if not warehouse_tables(con):
            return None
        if existing and existing[0].is_export and _snapshot(existing[0]) == lake_snapshot(con):
            return None
        taken_at = datetime.now(UTC)
        backup = Backup(folder / backup_name(taken_at, export=True), taken_at)
        try:
            export_warehouse(con, backup.path)
        except TransferError as exc:
            raise BackupError(
                f"could not back up the DuckLake: {exc}. Nothing was written to the warehouse; "
                f"to run without backups, set {KEEP_VARIABLE}=0."
            ) from None
    finally:
        con.close()
    prune(folder, keep)
    return backup


def _snapshot(backup: Backup) -> int | None:
    """The DuckLake snapshot an export was read from (None when it does not say)."""
    try:
        return read_manifest(backup.path).lake_snapshot
    except TransferError:
        return None


def _copy(warehouse: Path, partial: Path, folder: Path) -> None:
    """The file and its write-ahead log, if any, as they are; nothing left behind on failure."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy2(warehouse, partial)
        if wal_of(warehouse).exists():
            shutil.copy2(wal_of(warehouse), wal_of(partial))
    except OSError as exc:
        for path in (partial, wal_of(partial)):
            path.unlink(missing_ok=True)
        raise BackupError(
            f"could not back up the warehouse {warehouse} to {folder}: {exc}. Nothing was "
            f"written to the warehouse. Make room there, or set {KEEP_VARIABLE}=0 to run "
            "without backups."
        ) from None


def _fold_wal(partial: Path) -> None:
    """Replay the copied write-ahead log into the copy, so a backup is one file."""
    con = duckdb.connect(str(partial))
    try:
        con.execute("checkpoint")
    finally:
        con.close()
    wal_of(partial).unlink(missing_ok=True)


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` backups (and copies abandoned half way); the deleted."""
    deleted = [backup.path for backup in list_backups(folder)[keep:]]
    cutoff = time.time() - _STALE_PARTIAL_SECONDS
    deleted += [
        path for path in folder.glob(".warehouse-*.partial*") if path.stat().st_ctime < cutoff
    ]  # ctime: copy2 gives the mtime of the source
    for path in deleted:
        if path.is_dir():  # a DuckLake's export, whole or abandoned
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return deleted


@dataclass(frozen=True)
class Restored:
    """What `restore` did: the backup put back, where the file it replaced went, what it skipped."""

    warehouse: str  # 'the warehouse <path>', 'the DuckLake <catalog>'
    backup: Backup
    tables: int
    set_aside: tuple[Path, ...]
    skipped: tuple[str, ...]

    def lines(self) -> list[str]:
        """What `scorecard restore` prints."""
        lines = [f"Skipped the backup {line}" for line in self.skipped]
        export = self.backup.is_export
        checked = "each one's rows counted" if export else "each read whole"
        lines.append(
            f"Restored {self.warehouse} from the backup "
            f"{self.backup.describe()}: {self.tables} tables, {checked}."
        )
        if self.set_aside:
            kept = (
                "rows it replaced are kept in the export"
                if export
                else "file it replaced is kept as"
            )
            lines.append(
                f"The {kept} " + " and ".join(map(str, self.set_aside)) + " (not deleted)."
            )
        lines.append(
            f"Anything written since {self.backup.taken_at:%Y-%m-%d %H:%M} UTC is not "
            "in it: `scorecard status` shows each month; run or backfill the missing "
            "ones (emails sent since then are not in the delivery ledger)."
        )
        return lines


def _named(folder: Path, source: str) -> Backup:
    """The backup `--from` names: a path, or a file name in the backups folder."""
    path = Path(source)
    if not path.exists() and (folder / source).exists():
        path = folder / source
    if not path.exists():
        raise BackupError(f"there is no backup {source} (the backups are in {folder})")
    match = next((b for b in list_backups(path.parent) if b.path.name == path.name), None)
    return match or Backup(path, datetime.fromtimestamp(path.stat().st_mtime, UTC))


def _first_good(candidates: list[Backup]) -> tuple[Backup, int, list[str]]:
    """The first backup that reads whole, its tables, and why the ones before it were skipped."""
    skipped = []
    for backup in candidates:
        try:
            return backup, check_warehouse(backup.path, wait_seconds=0), skipped
        except WarehouseDamagedError as exc:
            cause = getattr(exc, "cause", str(exc))
            skipped.append(f"{backup.describe()}: it does not read whole ({cause})")
    raise BackupError("no backup reads whole: " + "; ".join(skipped))


def restore(warehouse: Path, source: str | None = None) -> Restored:
    """Put back the newest backup that reads whole (or the one `source` names).

    The file it replaces, and its write-ahead log, are renamed beside it, never deleted; a
    warehouse another process has open is left alone (BackupError).
    """
    folder = backups_folder(warehouse)
    lake = lake_settings()
    candidates = [_named(folder, source)] if source else list_backups(folder)
    kind = "a DuckLake's export" if lake else "a copy of the warehouse file"
    candidates = [backup for backup in candidates if backup.is_export == (lake is not None)]
    if not candidates:
        raise BackupError(f"there is no backup in {folder} that is {kind}: nothing to restore")
    if lake is not None:
        return _restore_lake(warehouse, candidates, f"the DuckLake {lake.where()}")
    backup, tables, skipped = _first_good(candidates)
    aside = _aside_name(warehouse)
    moved = []
    with _unused(warehouse):
        for path, target in ((warehouse, aside), (wal_of(warehouse), wal_of(aside))):
            if path.exists():
                path.rename(target)
                moved.append(target)
        restoring = warehouse.with_name(f".{warehouse.name}.restoring")
        shutil.copy2(backup.path, restoring)
        restoring.replace(warehouse)
    return Restored(f"the warehouse {warehouse}", backup, tables, tuple(moved), tuple(skipped))


def _restore_lake(warehouse: Path, candidates: list[Backup], where: str) -> Restored:
    """Export the DuckLake as it is beside the warehouse's place (never deleted), then import
    the first backup that loads whole into it, replacing its rows in one transaction."""
    aside = _aside_name(warehouse).with_suffix("")
    skipped = []
    con = connect(warehouse)
    try:
        try:
            export_warehouse(con, aside)
        except TransferError as exc:
            raise BackupError(f"nothing was restored: {exc}") from None
        for backup in candidates:
            try:
                tables = len(import_warehouse(con, backup.path, replace=True))
            except TransferError as exc:
                skipped.append(f"{backup.describe()}: it does not load whole ({exc})")
                continue
            return Restored(where, backup, tables, (aside,), tuple(skipped))
    finally:
        con.close()
    raise BackupError("no backup loads whole: " + "; ".join(skipped))


def _aside_name(warehouse: Path) -> Path:
    """warehouse.before-restore-<UTC time>[-n].duckdb: a name no file has (nothing overwritten)."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    for n in range(1, 1000):
        suffix = "" if n == 1 else f"-{n}"
        aside = warehouse.with_name(
            f"{warehouse.stem}.before-restore-{stamp}{suffix}{warehouse.suffix}"
        )
        if not aside.exists() and not wal_of(aside).exists():
            return aside
    raise BackupError(f"too many files named {warehouse.stem}.before-restore-{stamp}*")


@contextmanager
def _unused(warehouse: Path) -> Iterator[None]:
    """Hold the warehouse file's lock (DuckDB's own kind) for the swap; refuse while a run has it
    open."""
    if not warehouse.exists():
        yield
        return
    with open(warehouse, "r+b") as handle:
        try:
            fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise BackupError(
                f"the warehouse {warehouse} is open in another process (a run?); "
                "wait for it to finish, or stop it, then restore"
            ) from None
        try:
            yield
        finally:
            with suppress(OSError):
                fcntl.lockf(handle, fcntl.LOCK_UN)

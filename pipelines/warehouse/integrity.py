"""Is the warehouse whole? The check made before anything writes to it, and the one-line error
that says what is wrong, where the newest backup is and how to bring it back.

A truncated or overwritten DuckDB file does not always fail to open: its catalog may be intact
while the blocks holding the rows are gone, and DuckDB only notices when a query reads them
(its blocks carry checksums). So the check reads every column of every table, read-only,
without taking the writer's lock (docs/decisions/warehouse-backups.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.warehouse.connection import WarehouseDamagedError, connect, memory_lent

BACKUPS_FOLDER = "backups"
_STAMP = "%Y%m%d-%H%M%S-%f"
# a copy of the file, or a DuckLake's export (a folder: pipelines/warehouse/transfer.py)
_BACKUP_NAME = re.compile(r"^warehouse-(\d{8}-\d{6}-\d{6})(\.duckdb)?$")


@dataclass(frozen=True)
class Backup:
    """A copy of the warehouse under $SCORECARD_HOME/backups/, and when it was taken (UTC)."""

    path: Path
    taken_at: datetime

    def describe(self) -> str:
        """'<path> (taken 2026-03-06 06:15 UTC)'."""
        return f"{self.path} (taken {self.taken_at:%Y-%m-%d %H:%M} UTC)"

    @property
    def is_export(self) -> bool:
        """Whether it is a DuckLake's export (a folder of Parquet files), not a DuckDB file."""
        return self.path.is_dir()

    def size(self) -> int:
        """Its bytes: the file's, or those of every file of the export."""
        files = self.path.rglob("*") if self.is_export else [self.path]
        return sum(path.stat().st_size for path in files if path.is_file())


def backups_folder(warehouse: Path) -> Path:
    """Where the backups of a warehouse file go: `backups/` beside it."""
    return warehouse.parent / BACKUPS_FOLDER


def backup_name(taken_at: datetime, *, export: bool = False) -> str:
    """The name of a backup taken at `taken_at` (UTC), a file or an `export` folder: names sort
    by age."""
    return f"warehouse-{taken_at:{_STAMP}}" + ("" if export else ".duckdb")


def list_backups(folder: Path) -> list[Backup]:
    """The backups in `folder`, newest first (none when it does not exist)."""
    found = []
    if folder.is_dir():
        for path in folder.iterdir():
            match = _BACKUP_NAME.match(path.name)
            if match and (path.is_file() if match.group(2) else path.is_dir()):
                taken = datetime.strptime(match.group(1), _STAMP).replace(tzinfo=UTC)
                found.append(Backup(path, taken))
    return sorted(found, key=lambda b: b.taken_at, reverse=True)


def damaged_error(
    path: Path, exc: BaseException, *, table: str | None = None, nothing_written: bool = True
) -> WarehouseDamagedError:
    """The one-line error of a warehouse that does not read whole: what DuckDB said, where the
    newest backup is and how to restore it (or, without one, what is lost)."""
    what = f" (reading {table})" if table else ""
    cause = " ".join(str(exc).split())
    written = " Nothing was written to it." if nothing_written else ""
    folder = backups_folder(path)
    backups = list_backups(folder)
    if backups:
        advice = (
            f" The newest backup is {backups[0].describe()}: `scorecard restore` puts it "
            "back and keeps this file aside."
        )
    else:
        advice = (
            f" There is no backup in {folder}: move the file aside and reload the months "
            "from the exports (`scorecard backfill`); its delivery ledger, report versions "
            "and quality history cannot be reloaded."
        )
    error = WarehouseDamagedError(
        f"the warehouse {path} is damaged or unreadable{what}: {cause}.{written}{advice}"
    )
    error.cause = f"{cause}{what}"  # DuckDB's words alone, for `scorecard restore`'s lines
    return error


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def verify(con, path: Path) -> int:
    """Read every column of every table of the warehouse open on `con`; the number of tables.

    Raises WarehouseDamagedError naming the first table that does not read.
    """
    tables = con.execute(
        "select schema_name, table_name from duckdb_tables() "
        "where database_name = current_database() order by all"
    ).fetchall()
    with memory_lent(con):  # a scan: nothing worth caching
        for schema, table in tables:
            try:
                con.execute(
                    f"select count(*), bit_xor(hash(columns(*))) "
                    f"from {_quoted(schema)}.{_quoted(table)}"
                ).fetchall()
            except duckdb.Error as exc:
                raise damaged_error(path, exc, table=f"{schema}.{table}") from None
    return len(tables)


def open_verified(path: Path, wait_seconds: float = 30.0):
    """A read-only connection to a warehouse that has been read whole (`verify`).

    Read-only: a damaged file is never written to (not even a write-ahead log replayed into
    it), and the connection's shared lock keeps writers out while it is open.
    """
    con = connect(path, read_only=True, wait_seconds=wait_seconds)
    try:
        verify(con, path)
    except BaseException:
        con.close()
        raise
    return con


def check_warehouse(path: Path, wait_seconds: float = 30.0) -> int:
    """Raise WarehouseDamagedError unless the warehouse at `path` reads whole; its tables."""
    con = open_verified(path, wait_seconds)
    try:
        return len(
            con.execute(
                "select 1 from duckdb_tables() where database_name = current_database()"
            ).fetchall()
        )
    finally:
        con.close()

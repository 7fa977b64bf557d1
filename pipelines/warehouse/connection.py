"""Opening the DuckDB warehouse file: one writer at a time, a locked file is a clear error."""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path

import duckdb
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from pipelines.settings import PROJECT_ROOT

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_LOCK_WORDS = ("lock", "Conflicting lock")


class WarehouseLockedError(RuntimeError):
    """Another process holds the warehouse file's write lock."""


class WarehouseFullError(RuntimeError):
    """The disk holding the warehouse had no room for a write; the message says what survived."""


class WarehouseDamagedError(RuntimeError):
    """The warehouse file does not read whole (truncated, overwritten, a foreign write-ahead log);
    the message names the file, the newest backup and how to restore it."""


# ENOSPC, EFBIG (a file-size limit) and EDQUOT, as DuckDB reports them.
_DISK_FULL = ("No space left on device", "File too large", "Disk quota exceeded")


# What DuckDB says of a file whose blocks or log do not read back.
_DAMAGE = (
    "not a valid DuckDB database file",
    "Could not read enough bytes",
    "Corrupt database",
    "does not match stored checksum",
    "WAL does not match",
    "Failure while replaying WAL",
)


def is_damage(exc: BaseException) -> bool:
    """Whether a DuckDB error says the warehouse file itself is damaged."""
    return isinstance(exc, duckdb.Error) and any(words in str(exc) for words in _DAMAGE)


def is_disk_full(exc: BaseException) -> bool:
    """Whether a DuckDB error is the warehouse's disk (or quota) running out."""
    return isinstance(exc, duckdb.Error) and any(words in str(exc) for words in _DISK_FULL)


def warehouse_full_error(path: Path | None, exc: BaseException, what: str) -> WarehouseFullError:
    """A loud error for a write that hit a full disk: where, how much is free, what to do."""
    where, free = "the warehouse", ""
    if path is not None:
        where = f"the warehouse {path}"
        with suppress(OSError):
            free = f" ({shutil.disk_usage(path.parent).free / 2**20:.1f} MiB free)"
    return WarehouseFullError(
        f"the disk holding {where} is full{free}: {what}. Months committed before are intact. "
        f"Free space on that disk, then rerun. DuckDB said: {exc}"
    )


@contextmanager
def transaction(con, what: str) -> Iterator[None]:
    """One transaction: committed when the block ends, rolled back when it raises.

    A commit that fails has already been rolled back by DuckDB, so the rollback here never
    hides the error that mattered; a full disk becomes a WarehouseFullError that says `what`
    was not committed (and that earlier months are intact).
    """
    con.execute("begin transaction")
    try:
        yield
        con.execute("commit")
    except BaseException as exc:
        with suppress(duckdb.Error):
            con.execute("rollback")
        if is_disk_full(exc):
            # not a duckdb.Error, so no connector reports it as its source's problem; the message
            # carries DuckDB's own, so the CLI (which prints the innermost cause) shows it whole
            raise warehouse_full_error(
                database_path(con), exc, f"{what} was not committed"
            ) from None
        path = database_path(con)
        if path is not None and is_damage(exc):  # the warehouse's fault, never a source's
            from pipelines.warehouse.integrity import damaged_error

            raise damaged_error(path, exc, nothing_written=False) from None
        raise


# How often a write that another writer's commit conflicted with is tried (a DuckLake: its
# concurrent transactions conflict when they delete from the same data file), and the longest
# wait between tries; the waits are random, so writers that collided do not collide again.
CONFLICT_ATTEMPTS = 12
CONFLICT_MAX_WAIT_SECONDS = 5.0


# What DuckDB and DuckLake say of a transaction that lost to a concurrent writer. DuckLake
# also fails a commit whose conflict check trips over what another writer's DDL left in the
# catalog ("Failed to parse catalog entry", two runs creating the same raw table at once on
# a new lake): nothing of it was committed, and the same block succeeds when tried again.
_CONFLICT = ("conflict", "failed to commit ducklake transaction")


def is_conflict(exc: BaseException) -> bool:
    """Whether a DuckDB error is a transaction that lost to a concurrent writer's commit."""
    text = str(exc).lower()
    return isinstance(exc, duckdb.TransactionException) and any(w in text for w in _CONFLICT)


def conflict_retries() -> Retrying:
    """Tries of a write while it conflicts with a concurrent writer's commit (tenacity):
    `for attempt in conflict_retries(): with attempt: ...`."""
    return Retrying(
        retry=retry_if_exception(is_conflict),
        stop=stop_after_attempt(CONFLICT_ATTEMPTS),
        wait=wait_random_exponential(multiplier=0.05, max=CONFLICT_MAX_WAIT_SECONDS),
        reraise=True,
    )


def transactions(con, what: str) -> Iterator[AbstractContextManager[None]]:
    """Attempts at one transaction, tried again while it conflicts with a concurrent writer:

        for attempt in transactions(con, "the scores of 2026-02"):
            with attempt:
                ...  # deletes and inserts, all or nothing

    Each attempt is a `transaction`; one that conflicted, at a statement or at its commit, is
    rolled back and the block runs again on the warehouse as it now is, up to CONFLICT_ATTEMPTS
    times. Any other error ends it at once."""
    for attempt in conflict_retries():
        yield _InTransaction(attempt, con, what)


class _InTransaction:
    """One attempt of `transactions`: the transaction, and what ended it told to the attempt."""

    def __init__(self, attempt, con, what: str) -> None:
        self._attempt, self._transaction = attempt, transaction(con, what)

    def __enter__(self) -> None:
        self._transaction.__enter__()  # a transaction that cannot begin is no conflict

    def __exit__(self, kind, error, trace) -> bool:
        try:
            suppressed = self._transaction.__exit__(kind, error, trace)
        except BaseException as raised:  # a commit that conflicted, or the error as it became
            return self._attempt.__exit__(type(raised), raised, raised.__traceback__)
        if error is not None and not suppressed:
            return self._attempt.__exit__(kind, error, trace)
        return self._attempt.__exit__(None, None, None)


def database_path(con) -> Path | None:
    """The file behind a DuckDB connection (None in memory or when it cannot say)."""
    with suppress(duckdb.Error):
        row = con.execute(
            "select path from duckdb_databases() where database_name = current_database() "
            "and type = 'duckdb'"
        ).fetchone()
        if row and row[0]:
            return Path(row[0])
    return None


def quote_literal(text: str) -> str:
    """A text as an SQL string literal (single quotes doubled)."""
    return "'" + text.replace("'", "''") + "'"


def quote_identifier(name: str) -> str:
    """Quote a catalog identifier for SQL, refusing anything that is not a plain lowercase name."""
    if not _IDENTIFIER.match(name):
        raise ValueError(
            f"{name!r} is not a valid identifier: use lowercase letters, digits and underscores, "
            "starting with a letter"
        )
    return f'"{name}"'


# A connection for catalog SQL: it reads and writes the warehouse and nothing else: no files,
# no other databases, no extensions, and the settings cannot be changed back.
SANDBOX = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "lock_configuration": True,
}


MEMORY_VARIABLE = "SCORECARD_WAREHOUSE_MEMORY"
DEFAULT_MEMORY = "1GB"


_MEMORY = re.compile(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB|%)", re.IGNORECASE)


class WarehouseSettingError(ValueError):
    """A warehouse setting in the environment that cannot be used; the message says which."""


def memory_limit(environ=os.environ) -> str:
    """How much memory DuckDB may hold per connection before it spills to disk (beside the
    warehouse, `warehouse.duckdb.tmp`): $SCORECARD_WAREHOUSE_MEMORY ('1GB' when unset; DuckDB's
    own default is 80 % of the machine's memory, which a backfill of a large group then takes)."""
    value = environ.get(MEMORY_VARIABLE, "").strip() or DEFAULT_MEMORY
    if not _MEMORY.fullmatch(value):
        raise WarehouseSettingError(
            f"{MEMORY_VARIABLE}={value!r} is not an amount of memory: write it as DuckDB does, "
            "for example 512MB, 2GB or 25%"
        )
    return value


# What DuckDB keeps while the process works on what it fetched (a month's rows under validation)
# or only scans (the integrity check): its cache handed back, what a query needs still spilled.
LENT_MEMORY = "64MB"


@contextmanager
def memory_lent(con, keep: str = LENT_MEMORY) -> Iterator[None]:
    """Lower DuckDB's memory limit on `con` to `keep` for the block, then set it back.

    Lowering the limit makes DuckDB drop the blocks it cached above it there and then (a
    scale-100 warehouse's cache, 640 to 150 MB RSS), so Python's own peak (pandas and Great
    Expectations over a month's rows) does not come on top of DuckDB's."""
    con.execute(f"set memory_limit = '{keep}'")
    try:
        yield
    finally:
        con.execute(f"set memory_limit = '{memory_limit()}'")


def connect(
    path: Path, *, read_only: bool = False, wait_seconds: float = 30.0, sandboxed: bool = False
):
    """Open the warehouse, waiting up to `wait_seconds` for another writer to finish.

    A file DuckDB cannot open (not a database, truncated, a write-ahead log of another file)
    raises WarehouseDamagedError before anything is written to it."""
    from pipelines.warehouse.lake import lake_settings

    if (lake := lake_settings()) is not None:  # SCORECARD_WAREHOUSE=ducklake: path is unused
        return _connect_lake(lake, read_only=read_only, sandboxed=sandboxed)
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    config = dict(SANDBOX) if sandboxed else {}
    config["memory_limit"] = memory_limit()
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=config)
        except duckdb.Error as exc:
            locked = (
                isinstance(exc, duckdb.IOException)
                and not is_damage(exc)
                and any(word in str(exc) for word in _LOCK_WORDS)
            )  # "block" holds "lock" too
            if not locked:
                if path.exists() and (is_damage(exc) or isinstance(exc, duckdb.IOException)):
                    from pipelines.warehouse.integrity import damaged_error

                    raise damaged_error(path, exc) from None
                raise
            if time.monotonic() >= deadline:
                holder = re.search(r"PID (\d+)", str(exc))
                who = f" (held by process {holder.group(1)})" if holder else ""
                raise WarehouseLockedError(
                    f"the warehouse {path} is locked by another writer{who}; waited "
                    f"{wait_seconds:.0f} s. Wait for that run to finish, or stop it, and retry."
                ) from None
            time.sleep(0.5)


def _connect_lake(lake, *, read_only: bool, sandboxed: bool):
    """A connection whose default database is the DuckLake (pipelines/warehouse/lake.py)."""
    from pipelines.warehouse.lake import attach_lake, sandbox_lake

    config = {
        "memory_limit": memory_limit(),
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }
    con = duckdb.connect(config=config)
    try:
        attach_lake(con, lake, read_only=read_only)
        if sandboxed:
            sandbox_lake(con, lake)
    except BaseException:
        con.close()
        raise
    return con


def warehouse_exists(path: Path) -> bool:
    """Whether there is a warehouse to read: the file, or a configured DuckLake."""
    from pipelines.warehouse.lake import lake_settings

    return lake_settings() is not None or path.exists()


def cursor_of(con):
    """A cursor of `con` for another thread, on the warehouse's database: a DuckDB cursor starts
    on the connection's primary database, which is not the warehouse when that is a DuckLake."""
    from pipelines.warehouse.lake import LAKE

    cursor = con.cursor()
    attached = cursor.execute(
        "select 1 from duckdb_databases() where database_name = ? and type = 'ducklake'", [LAKE]
    ).fetchone()
    if attached:
        cursor.execute(f"use {LAKE}")
    return cursor


_CREATE_TABLES = PROJECT_ROOT / "sql" / "warehouse" / "create_tables.sql"
_CREATE_SCHEMA = re.compile(r"^create schema if not exists (\w+);", re.MULTILINE)


def ensure_tables(con) -> None:
    """Create the warehouse's schemas and own tables if they are missing."""
    from pipelines.warehouse.lake import is_lake, without_primary_keys

    sql = _CREATE_TABLES.read_text()
    for attempt in conflict_retries():
        with attempt:  # runs that open a new DuckLake at once both create them: one retries
            con.execute(without_primary_keys(sql) if is_lake(con) else sql)


def warehouse_schemas() -> tuple[str, ...]:
    """The warehouse's schemas: those create_tables.sql makes (raw's tables come from the
    catalog)."""
    return tuple(_CREATE_SCHEMA.findall(_CREATE_TABLES.read_text()))


def warehouse_tables(con) -> list[tuple[str, str]]:
    """The tables (schema, name) of the warehouse's schemas on `con`, views left out, in order."""
    return con.execute(
        "select schema_name, table_name from duckdb_tables() "
        "where database_name = current_database() and list_contains(?, schema_name) "
        "order by all",
        [list(warehouse_schemas())],
    ).fetchall()

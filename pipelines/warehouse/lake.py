"""The warehouse as a DuckLake: its catalog in PostgreSQL, its data in Parquet files under a
data path, so that several processes can write at once (docs/decisions/ducklake.md).

Chosen with `SCORECARD_WAREHOUSE=ducklake`, the catalog database's URL in
`SCORECARD_DUCKLAKE_CATALOG` and the data path in `SCORECARD_DUCKLAKE_DATA`. The password goes
into a temporary DuckDB secret, never into the attached path, so no SQL on the connection (KPI
SQL included) can read it. The extensions are the files the `duckdb-ext-ducklake` and
`duckdb-ext-postgres` packages ship (`pip install 'balanced-scorecard[ducklake]'`): nothing is
downloaded.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import duckdb
import psycopg

from pipelines.warehouse.connection import WarehouseSettingError, quote_literal

KIND_VARIABLE = "SCORECARD_WAREHOUSE"
CATALOG_VARIABLE = "SCORECARD_DUCKLAKE_CATALOG"
DATA_VARIABLE = "SCORECARD_DUCKLAKE_DATA"
WRITERS_VARIABLE = "SCORECARD_LAKE_WRITERS"
DEFAULT_WRITERS = 4
LAKE = "lake"  # the attached DuckLake's name: the warehouse's database on the connection
EXTENSIONS = ("postgres_scanner", "ducklake")
INITIALIZE_ATTEMPTS = 3  # runs that attach a new catalog at once: all but one find it made


class LakeSettingError(WarehouseSettingError):
    """A DuckLake setting in the environment that cannot be used; the message says which."""


@dataclass(frozen=True)
class LakeSettings:
    """Where the DuckLake's catalog database and data files are (the password never shown)."""

    host: str
    port: int
    user: str
    database: str
    data: Path
    password: str = field(default="", repr=False)

    def where(self) -> str:
        """The catalog database as 'user@host:port/database' (no password)."""
        return f"{self.user}@{self.host}:{self.port}/{self.database}"


def lake_settings(environ=os.environ) -> LakeSettings | None:
    """The DuckLake settings when $SCORECARD_WAREHOUSE is `ducklake`, None for the embedded
    file (unset or `duckdb`); LakeSettingError names a setting that is missing or wrong."""
    kind = environ.get(KIND_VARIABLE, "").strip() or "duckdb"
    if kind == "duckdb":
        return None
    if kind != "ducklake":
        raise LakeSettingError(f"{KIND_VARIABLE}={kind!r}: use duckdb (the default) or ducklake")
    url, data = environ.get(CATALOG_VARIABLE, "").strip(), environ.get(DATA_VARIABLE, "").strip()
    for name, value in ((CATALOG_VARIABLE, url), (DATA_VARIABLE, data)):
        if not value:
            raise LakeSettingError(f"{KIND_VARIABLE}=ducklake needs {name}")
    parts = urlsplit(url)
    database = parts.path.lstrip("/")
    if parts.scheme not in ("postgresql", "postgres") or not parts.hostname or not database:
        raise LakeSettingError(
            f"{CATALOG_VARIABLE} is not a PostgreSQL URL with a database: write it as "
            "postgresql://user:password@host:5432/database"
        )
    return LakeSettings(
        host=parts.hostname,
        port=parts.port or 5432,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        database=database,
        data=Path(data),
    )


def writers_at_once(environ=os.environ) -> int:
    """How many runs may write the warehouse at once (the Dagster pool "warehouse"): one for
    the embedded file, which takes one writer; on a DuckLake $SCORECARD_LAKE_WRITERS, 4 when
    unset (docs/deployment.md has the figures)."""
    if lake_settings(environ) is None:
        return 1
    value = environ.get(WRITERS_VARIABLE, "").strip() or str(DEFAULT_WRITERS)
    if not value.isdigit() or not 1 <= int(value) <= 64:
        raise LakeSettingError(f"{WRITERS_VARIABLE}={value!r}: write a whole number from 1 to 64")
    return int(value)


def _extension_folder() -> Path:
    try:
        import duckdb_ext  # the folder the extension packages install into
    except ImportError:
        raise LakeSettingError(
            f"{KIND_VARIABLE}=ducklake needs the DuckLake extensions: "
            "pip install 'balanced-scorecard[ducklake]'"
        ) from None
    return Path(next(iter(duckdb_ext.__path__))) / "extensions" / f"v{duckdb.__version__}"


def attach_lake(con, settings: LakeSettings, *, read_only: bool = False) -> None:
    """Load the extensions, put the catalog's credentials in a secret, attach the DuckLake as
    `lake` and make it the connection's default database."""
    platforms = list(_extension_folder().glob("*"))
    if len(platforms) != 1:
        raise LakeSettingError(
            f"no DuckLake extensions for DuckDB {duckdb.__version__} on this platform: "
            "pip install 'balanced-scorecard[ducklake]' (it pins the DuckDB they are built for)"
        )
    for name in EXTENSIONS:
        con.execute(f"load {quote_literal(str(platforms[0] / f'{name}.duckdb_extension'))}")
    secret = {
        "host": quote_literal(settings.host),
        "port": str(settings.port),
        "user": quote_literal(settings.user),
        "password": quote_literal(settings.password),
        "database": quote_literal(settings.database),
    }
    con.execute(
        "create or replace temporary secret scorecard_lake (type postgres, "
        + ", ".join(f"{key} {value}" for key, value in secret.items())
        + ")"
    )
    settings.data.mkdir(parents=True, exist_ok=True)
    options = (
        f"data_path {quote_literal(str(settings.data.resolve()) + '/')}, meta_secret scorecard_lake"
    )
    attach = (
        f"attach 'ducklake:postgres:' as {LAKE} ({options}{', read_only' if read_only else ''})"
    )
    for attempt in range(1, INITIALIZE_ATTEMPTS + 1):
        try:
            con.execute(attach)
            break
        except duckdb.Error as exc:  # unreachable, refused, no such database: one line
            cause = " ".join(str(exc).split())
            if "already exists" in cause and attempt < INITIALIZE_ATTEMPTS:
                time.sleep(attempt)  # another process made the new catalog's tables meanwhile
                continue
            raise LakeSettingError(
                f"the DuckLake catalog {settings.where()} ({CATALOG_VARIABLE}) cannot be "
                f"attached: {cause}"
            ) from None
    con.execute(f"use {LAKE}")


def sandbox_lake(con, settings: LakeSettings) -> None:
    """After attach_lake: the connection reads and writes the lake (its data path) and nothing
    else, and its settings cannot be changed back."""
    con.execute(f"set allowed_directories = [{quote_literal(str(settings.data.resolve()) + '/')}]")
    con.execute("set enable_external_access = false")
    con.execute("set lock_configuration = true")


def is_lake(con) -> bool:
    """Whether the connection's default database is an attached DuckLake."""
    return con.execute("select current_database()").fetchone()[0] == LAKE


def lake_snapshot(con) -> int | None:
    """The DuckLake snapshot `con` reads (a new one with every commit); None on the file."""
    if not is_lake(con):
        return None
    return con.execute(f"select * from {LAKE}.current_snapshot()").fetchone()[0]


_PRIMARY_KEY = re.compile(r",\s*primary key\s*\([^)]*\)", re.IGNORECASE)


def without_primary_keys(sql: str) -> str:
    """The warehouse's table statements as DuckLake takes them: it has no primary keys (nor
    unique or check constraints). Uniqueness there is held by the month replace."""
    sql = re.sub(r"--[^\n]*", "", sql)
    sql = _PRIMARY_KEY.sub("", sql)
    return re.sub(r"\s+primary key\b", "", sql, flags=re.IGNORECASE)


_turns_held = threading.local()  # the names this thread holds a turn of


@contextmanager
def taking_turns(name: str) -> Iterator[None]:
    """Hold the warehouse-wide lock `name` for the block, so that processes doing the same
    thing (two runs emailing the same list) take turns, on any machine.

    On a DuckLake it is a PostgreSQL advisory lock on its catalog database, held by a
    transaction there that ends with the block; DuckLake's own transactions would let two
    claims that only insert both commit. On the embedded file it is nothing: one process
    writes it at a time."""
    settings = lake_settings()
    held = _turns_held.__dict__.setdefault("names", set())
    if settings is None or name in held:  # the file; or this thread's turn already (re-entrant)
        yield
        return
    try:
        catalog = psycopg.connect(
            host=settings.host,
            port=settings.port,
            user=settings.user,
            password=settings.password,
            dbname=settings.database,
            connect_timeout=30,
        )
    except psycopg.Error as exc:
        cause = " ".join(str(exc).split())
        raise LakeSettingError(
            f"the DuckLake catalog {settings.where()} ({CATALOG_VARIABLE}) cannot be reached "
            f"for a lock: {cause}"
        ) from None
    with catalog:  # commits on leaving, which releases the lock
        catalog.execute(
            "select pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"scorecard: {name}"]
        )
        held.add(name)
        try:
            yield
        finally:
            held.discard(name)

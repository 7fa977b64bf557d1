"""Dagster's SQLite event log, writing a batch of asset events in one transaction per file.

A 36-month backfill records some 2,300 asset events: one planned and one materialization per
asset and month. Dagster's SQLite storage writes each on its own: a new SQLAlchemy engine (so
every statement is compiled again), then a transaction on the run's file and another on the
index file, each committed and synced. Dagster can hand a storage its events in batches (the
planned events of a run, the materializations of a multi-partition step) when
`DAGSTER_EVENT_BATCH_SIZE` is set, but its SQLite storage then still writes them one by one.

`BatchingSqliteEventLogStorage` is that storage with two changes, configured in
`pipelines/instance.yaml` for the local instance under `$SCORECARD_HOME/dagster`:

- one engine per database file, kept (a few at most), so SQLAlchemy compiles each statement
  once; connections still open and close per use as Dagster's do (`NullPool`); the schema
  questions Dagster asks before every event (does the tags table exist, has the asset key
  table its index columns) are answered once when the answer is yes;
- `store_event_batch`: consecutive asset events of a batch go into the run's file in one
  transaction and into the index in one transaction (their tags in one insert), row for row
  what `store_event` writes; any other event in a batch (an asset check's planned evaluation)
  is written by `store_event`, in its place, so the order of events is kept in both files.

Creating the storage turns Dagster's batching on for the process (`DAGSTER_EVENT_BATCH_SIZE`,
unless set). The tables, rows and what the UI reads are Dagster's own; other storages (the
PostgreSQL instance of deploy/dagster.yaml) are not touched. A custom storage class in the
instance's YAML is Dagster's documented extension point; what it overrides and calls are private
parts of Dagster's SQLite storage (its class at its module path is the one import that must
succeed). `MISSING` lists those this Dagster lacks, checked once at import: if an upgrade
removed or reshaped one, the storage is Dagster's own (stock behaviour, slower) after one
warning. `tests/unit/test_dagster_internals.py` fails loudly on such
an upgrade; `tests/system/test_event_log_storage.py` compares everything the storage writes with
Dagster's own (docs/decisions/patched-internals.md has the figures that keep it).
"""

from __future__ import annotations

import importlib
import inspect
import os
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from dagster import EventLogEntry
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from pipelines.stock_fallback import fall_back

BATCH_SIZE = "1000"  # events Dagster buffers before handing them over (a batch's end hands over)
_ENGINES_KEPT = 8  # database files with a kept engine: the index and the latest runs


def _private(module: str, name: str) -> Any:
    """One of Dagster's private names, or None where this Dagster lacks it."""
    try:
        return getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None


# What this storage relies on in Dagster: three private names, methods of its SQLite event log
# storage with their parameters, and the attributes that storage's constructor sets.
_NAMES = {
    "ASSET_EVENTS": ("dagster._core.events", "ASSET_EVENTS"),
    "db_result": ("dagster._core.storage.sqlalchemy_compat", "db_result"),
    "SQLITE_BUSY_TIMEOUT_SECONDS": ("dagster._core.storage.sqlite", "SQLITE_BUSY_TIMEOUT_SECONDS"),
}
_FOUND = {name: _private(*where) for name, where in _NAMES.items()}
ASSET_EVENTS = _FOUND["ASSET_EVENTS"]
db_result = _FOUND["db_result"]
SQLITE_BUSY_TIMEOUT_SECONDS = _FOUND["SQLITE_BUSY_TIMEOUT_SECONDS"]
_METHODS = {
    "_connect": ["self", "shard"],
    "_initdb": ["self", "engine"],
    "conn_string_for_shard": ["self", "shard_name"],
    "prepare_insert_event": ["self", "event"],
    "run_connection": ["self", "run_id"],
    "index_transaction": ["self"],
    "store_event": ["self", "event"],
    "store_event_batch": ["self", "events"],
    "_store_asset_event": ["self", "conn", "event", "event_id"],
    "_store_asset_event_tags": ["self", "conn", "events", "event_ids"],
    "_has_asset_key_index_cols_on_connection": ["self", "conn"],
    "has_table": ["self", "table_name"],
}
_ATTRIBUTES = ("_db_lock", "_initialized_dbs")


def _missing_internals() -> list[str]:
    """The parts of Dagster's SQLite event log storage this one needs and this Dagster lacks."""
    missing = [name for name, found in _FOUND.items() if found is None]
    for name, parameters in _METHODS.items():
        method = getattr(SqliteEventLogStorage, name, None)
        if method is None or list(inspect.signature(method).parameters)[: len(parameters)] != (
            parameters
        ):
            missing.append(name)
    init_names = SqliteEventLogStorage.__init__.__code__.co_names
    return missing + [name for name in _ATTRIBUTES if name not in init_names]


MISSING = _missing_internals()
if MISSING:
    fall_back(
        "Dagster's SQLite event log storage has changed (" + ", ".join(MISSING) + "): "
        "writing events the stock way (slower, same rows)",
    )


class BatchingSqliteEventLogStorage(SqliteEventLogStorage):
    """SQLite event log storage that compiles once per file and writes a batch per transaction
    (Dagster's own storage, unchanged, when `MISSING` names anything)."""

    def __init__(self, base_dir: str, inst_data=None):
        self._batching = not MISSING
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._asset_key_index_cols = False
        self._tables_seen: set[str] = set()
        super().__init__(base_dir, inst_data)
        if self._batching:
            os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", BATCH_SIZE)

    @classmethod
    def from_config_value(cls, inst_data, config_value) -> BatchingSqliteEventLogStorage:
        """Dagster's constructor from the instance's YAML (`base_dir`)."""
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        """The kept engine of one database file (the caller holds `_db_lock`)."""
        engine = self._engines.pop(shard, None)
        if engine is None:
            engine = create_engine(
                self.conn_string_for_shard(shard),
                poolclass=NullPool,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            )
        self._engines[shard] = engine
        while len(self._engines) > _ENGINES_KEPT:
            self._engines.popitem(last=False)[1].dispose()
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        # Dagster's own, with a kept engine instead of one per call.
        if not self._batching:
            with super()._connect(shard) as conn:
                yield conn
            return
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        """Store a batch of events: asset events a transaction per file, others one by one."""
        if not self._batching:
            super().store_event_batch(events)
            return
        group: list[EventLogEntry] = []
        for event in events:
            if group and event.run_id != group[0].run_id:
                self._store_asset_events(group)
                group = []
            if (
                event.run_id
                and event.is_dagster_event
                and (event.dagster_event_type in ASSET_EVENTS)
            ):
                group.append(event)
            else:
                self._store_asset_events(group)
                group = []
                self.store_event(event)
        self._store_asset_events(group)

    def _store_asset_events(self, events: list[EventLogEntry]) -> None:
        """What `store_event` writes for each asset event of one run, in two transactions."""
        if not events:
            return
        statements = [self.prepare_insert_event(event) for event in events]
        with self.run_connection(events[0].run_id) as conn:
            for statement in statements:
                conn.execute(statement)
        with self.index_transaction() as conn:
            event_ids = []
            for event, statement in zip(events, statements, strict=True):
                with db_result(conn, statement) as result:
                    event_ids.append(result.inserted_primary_key[0])
                self._store_asset_event(conn, event, event_ids[-1])
            self._store_asset_event_tags(conn, events, event_ids)

    def _has_asset_key_index_cols_on_connection(self, conn: Connection) -> bool:
        # Dagster reads the asset key table's columns for every event; a migration adds them
        # and nothing removes them, so a yes stays a yes.
        if not self._batching:
            return super()._has_asset_key_index_cols_on_connection(conn)
        if not self._asset_key_index_cols:
            self._asset_key_index_cols = super()._has_asset_key_index_cols_on_connection(conn)
        return self._asset_key_index_cols

    def has_table(self, table_name: str) -> bool:
        """Whether the index has the table (Dagster asks for every event; a yes is kept)."""
        if not self._batching:
            return super().has_table(table_name)
        if table_name not in self._tables_seen and super().has_table(table_name):
            self._tables_seen.add(table_name)
        return table_name in self._tables_seen

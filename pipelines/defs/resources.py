"""Dagster resources: the warehouse connection and the runtime folders."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import duckdb
from dagster import ConfigurableResource, EnvVar, InitResourceContext
from pydantic import Field, PrivateAttr

from pipelines.catalog import Catalog, load_catalog
from pipelines.delivery.transport import SMTP_ENVIRONMENT, SmtpSettings
from pipelines.settings import RuntimePaths
from pipelines.warehouse.backup import take_backup
from pipelines.warehouse.connection import (
    connect,
    ensure_tables,
    is_disk_full,
    warehouse_full_error,
)
from pipelines.warehouse.lake import is_lake


class WarehouseResource(ConfigurableResource):
    """The DuckDB warehouse file; one writer at a time. In a run, the first connection checks
    that the file reads whole and backs it up (pipelines/warehouse/backup.py)."""

    path: str
    lock_wait_seconds: float = 30.0
    _run_id: str | None = PrivateAttr(default=None)
    _checked_run: str | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        """Remember the run this resource serves (None outside a run: sensors, tests)."""
        self._run_id = context.run.run_id if context.run is not None else None

    def _check_once_per_run(self) -> None:
        """Before a run's first write: the integrity check and the backup (skipped when the
        newest backup already holds the file as it is, e.g. the CLI's, taken just before)."""
        if self._run_id is not None and self._checked_run != self._run_id:
            take_backup(Path(self.path), wait_seconds=self.lock_wait_seconds)
            self._checked_run = self._run_id

    @contextmanager
    def connection(self, sandboxed: bool = False) -> Iterator:
        """A read-write connection with the warehouse tables in place, checkpointed and closed
        after use; `sandboxed` ones (for catalog SQL) cannot touch anything but the warehouse."""
        self._check_once_per_run()
        con = connect(Path(self.path), wait_seconds=self.lock_wait_seconds, sandboxed=sandboxed)
        try:
            ensure_tables(con)
            yield con
            if is_lake(con):
                # its writes are whole in its files; its CHECKPOINT compacts them, which beside
                # other writers duplicated rows (docs/decisions/ducklake.md)
                return
            try:
                con.execute("checkpoint")
            except duckdb.Error as exc:
                if not is_disk_full(exc):
                    raise
                raise warehouse_full_error(
                    Path(self.path),
                    exc,
                    "this step's writes are committed in the write-ahead "
                    "log (.wal) but could not be checkpointed into the file; they are replayed "
                    "when the warehouse is next opened",
                ) from None
        finally:
            con.close()


class ScorecardResource(ConfigurableResource):
    """Where the runtime folder, the catalog, the SQL and the report assets live."""

    home: str
    definitions_dir: str
    sql_dir: str
    report_assets_dir: str

    def paths(self) -> RuntimePaths:
        """The runtime paths this resource was configured with."""
        return RuntimePaths(
            home=Path(self.home),
            definitions=Path(self.definitions_dir),
            sql=Path(self.sql_dir),
            report_assets=Path(self.report_assets_dir),
        )

    def catalog(self) -> Catalog:
        """Load the catalog (validated) as it is now on disk."""
        return load_catalog(Path(self.definitions_dir), Path(self.sql_dir))


class SmtpResource(ConfigurableResource):
    """The SMTP server the scorecard email goes through; no host: .eml files in the outbox."""

    host: str = Field(default="", description="SCORECARD_SMTP_HOST; empty: write to the outbox")
    port: int = Field(default=0, description="SCORECARD_SMTP_PORT; 0: 587, 465 or 25 by security")
    security: str = Field(
        default="starttls", description="SCORECARD_SMTP_SECURITY: starttls, ssl or none"
    )
    user: str = Field(default="", description="SCORECARD_SMTP_USER; empty: no login")
    password: str = Field(default="", repr=False, description="SCORECARD_SMTP_PASSWORD")
    sender: str = Field(default="", description="SCORECARD_SMTP_FROM: 'Name <user@domain>'")
    ca_file: str = Field(default="", description="SCORECARD_SMTP_CA_FILE: a private CA bundle")
    timeout_seconds: float = 30.0
    max_attempts: int = 4
    backoff_seconds: float = 2.0

    def settings(self) -> SmtpSettings:
        """The plain settings the transport uses (validated when the transport is built)."""
        return SmtpSettings(
            host=self.host.strip(),
            port=self.port,
            security=self.security.strip().lower(),
            user=self.user,
            password=self.password,
            sender=self.sender or SmtpSettings.sender,
            ca_file=self.ca_file,
            timeout_seconds=self.timeout_seconds,
            max_attempts=self.max_attempts,
            backoff_seconds=self.backoff_seconds,
        )


def smtp_resource(environ: Mapping[str, str]) -> SmtpResource:
    """The SMTP resource, its settings read from the environment variables that are set.

    Only variables that are set become EnvVars, so the code location loads (and writes to the
    outbox) when none of them is.
    """
    values = {
        name: EnvVar.int(var) if name == "port" else EnvVar(var)
        for name, var in SMTP_ENVIRONMENT.items()
        if environ.get(var)
    }
    return SmtpResource(**values)


def resources_for(paths: RuntimePaths) -> dict:
    """The resources of a deployment whose folders are `paths`."""
    return {
        "warehouse": WarehouseResource(path=str(paths.warehouse)),
        "scorecard": ScorecardResource(
            home=str(paths.home),
            definitions_dir=str(paths.definitions),
            sql_dir=str(paths.sql),
            report_assets_dir=str(paths.report_assets),
        ),
        "smtp": smtp_resource(os.environ),
    }

"""Dagster resources: the warehouse connection and the runtime folders."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dagster import ConfigurableResource

from pipelines.catalog import Catalog, load_catalog
from pipelines.settings import RuntimePaths
from pipelines.warehouse.connection import connect, ensure_tables


class WarehouseResource(ConfigurableResource):
    """The DuckDB warehouse file; one writer at a time."""

    path: str
    lock_wait_seconds: float = 30.0

    @contextmanager
    def connection(self, sandboxed: bool = False) -> Iterator:
        """A read-write connection with the warehouse tables in place, checkpointed and closed
        after use; `sandboxed` ones (for catalog SQL) cannot touch anything but the warehouse."""
        con = connect(Path(self.path), wait_seconds=self.lock_wait_seconds, sandboxed=sandboxed)
        try:
            ensure_tables(con)
            yield con
            con.execute("checkpoint")
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
            home=Path(self.home), definitions=Path(self.definitions_dir),
            sql=Path(self.sql_dir), report_assets=Path(self.report_assets_dir),
        )

    def catalog(self) -> Catalog:
        """Load the catalog (validated) as it is now on disk."""
        return load_catalog(Path(self.definitions_dir), Path(self.sql_dir))


def resources_for(paths: RuntimePaths) -> dict:
    """The resources of a deployment whose folders are `paths`."""
    return {
        "warehouse": WarehouseResource(path=str(paths.warehouse)),
        "scorecard": ScorecardResource(
            home=str(paths.home), definitions_dir=str(paths.definitions),
            sql_dir=str(paths.sql), report_assets_dir=str(paths.report_assets),
        ),
    }

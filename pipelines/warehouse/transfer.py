"""`scorecard warehouse export` and `import`: the warehouse as Parquet files and back.

The embedded file (the default DuckDB line) and a DuckLake (DuckDB 1.4.4) cannot open each
other's files, so a warehouse moves between them as one Parquet file per table,
`<folder>/<schema>/<table>.parquet`, with `<folder>/manifest.json` holding each table's row
count (docs/decisions/ducklake.md). Written and read with DuckDB's COPY and read_parquet.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.warehouse.connection import (
    ensure_tables,
    quote_identifier,
    quote_literal,
    transaction,
    warehouse_schemas,
    warehouse_tables,
)
from pipelines.warehouse.lake import lake_snapshot

MANIFEST = "manifest.json"
# Raw tables are made from the catalog (pipelines/ingest/raw_tables.py), not by
# create_tables.sql: an import makes them from their Parquet files.
RAW_SCHEMA = "raw"


class TransferError(RuntimeError):
    """An export or import that cannot be done; one line naming the file and what is wrong."""


@dataclass(frozen=True)
class Manifest:
    """What an export holds: rows per table ('schema.table'), the DuckDB that wrote it, when,
    and of a DuckLake the snapshot it was read from."""

    tables: dict[str, int]
    duckdb_version: str
    exported_at: str
    lake_snapshot: int | None = None

    @property
    def rows(self) -> int:
        """All the rows of all the tables."""
        return sum(self.tables.values())


def parquet_path(folder: Path, table: str) -> Path:
    """Where an export keeps a table's rows: <folder>/<schema>/<table>.parquet."""
    schema, name = table.split(".")
    return folder / schema / f"{name}.parquet"


def _sql_name(table: str) -> str:
    schema, name = table.split(".")
    return f"{quote_identifier(schema)}.{quote_identifier(name)}"


def export_warehouse(con, folder: Path) -> Manifest:
    """Write every table of the warehouse's schemas to `folder` as Parquet, from one snapshot
    (one transaction), and the manifest; the folder appears only when whole."""
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise TransferError(f"{folder} is not an empty folder: export into a new one")
    partial = folder.with_name(f".{folder.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)  # left by an export that was killed
    try:
        partial.mkdir(parents=True)
        tables = {}
        with _snapshot(con):
            snapshot = lake_snapshot(con)
            for schema, name in warehouse_tables(con):
                table = f"{schema}.{name}"
                target = parquet_path(partial, table)
                target.parent.mkdir(exist_ok=True)
                tables[table] = con.execute(
                    f"copy {_sql_name(table)} to {quote_literal(str(target))} (format parquet)"
                ).fetchone()[0]
        exported_at = f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}"
        manifest = Manifest(tables, duckdb.__version__, exported_at, snapshot)
        (partial / MANIFEST).write_text(json.dumps(manifest.__dict__, indent=2) + "\n")
        partial.replace(folder)  # an empty folder is replaced too
    except (duckdb.Error, OSError) as exc:
        shutil.rmtree(partial, ignore_errors=True)
        cause = " ".join(str(exc).split())
        raise TransferError(f"could not export the warehouse to {folder}: {cause}") from None
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return manifest


@contextmanager
def _snapshot(con) -> Iterator[None]:
    """One read transaction: every table as of one moment, whatever commits meanwhile (not
    connection.transaction: a full disk here is the export folder's, not the warehouse's)."""
    con.execute("begin transaction")
    try:
        yield
    finally:
        with suppress(duckdb.Error):
            con.execute("rollback")


def read_manifest(folder: Path) -> Manifest:
    """The manifest of an export, its tables' names checked and their Parquet files there."""
    path = Path(folder) / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TransferError(f"{path} is missing: {folder} is not a warehouse export") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TransferError(f"{path} cannot be read: {exc}") from None
    tables = data.get("tables") if isinstance(data, dict) else None
    if not isinstance(tables, dict) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in tables.values()
    ):
        raise TransferError(f"{path}: 'tables' must map each schema.table to its row count")
    for table in tables:
        schema, _, name = table.partition(".")
        try:
            quote_identifier(schema), quote_identifier(name)
        except ValueError:
            raise TransferError(f"{path}: {table!r} is not a schema.table name") from None
        if not parquet_path(Path(folder), table).is_file():
            raise TransferError(f"{parquet_path(Path(folder), table)} is missing ({table})")
    snapshot = data.get("lake_snapshot")
    return Manifest(
        tables,
        str(data.get("duckdb_version", "")),
        str(data.get("exported_at", "")),
        snapshot if isinstance(snapshot, int) else None,
    )


def import_warehouse(con, folder: Path, *, replace: bool = False) -> dict[str, int]:
    """Load an export into the warehouse on `con`, in one transaction: its rows per table.

    Refused (TransferError, nothing written) when the folder is no export, a file is not one of
    the warehouse's tables or its columns are not the table's, the warehouse already holds rows
    (unless `replace`: then they are replaced), or a table's rows are not the manifest's count.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    with transaction(con, f"the import of {folder}"):
        ensure_tables(con)
        own = {f"{schema}.{name}" for schema, name in warehouse_tables(con)}
        for table in manifest.tables:
            _check_columns(con, parquet_path(folder, table), table, own)
        held = _rows(con, own)
        if held and not replace:
            first = min(held)
            raise TransferError(
                f"the warehouse already holds rows ({first}: {held[first]:,}, "
                f"{len(held)} tables in all): import into an empty warehouse, or replace them "
                "(--replace)"
            )
        for table in held:
            con.execute(f"delete from {_sql_name(table)}")
        for table, expected in manifest.tables.items():
            found = _load(con, parquet_path(folder, table), table)
            if found != expected:
                raise TransferError(
                    f"{folder / MANIFEST} says {table} has {expected:,} rows, but "
                    f"{parquet_path(folder, table)} holds {found:,}: nothing was imported"
                )
    return dict(manifest.tables)


def _check_columns(con, path: Path, table: str, own: set[str]) -> None:
    """A table of the warehouse's (any table of raw), whose Parquet has the table's columns."""
    schema = table.split(".")[0]
    if schema not in warehouse_schemas() or (table not in own and schema != RAW_SCHEMA):
        raise TransferError(f"{path}: {table} is not a table of the warehouse")
    try:
        found = con.execute(f"describe select * from {_parquet(path)}").fetchall()
    except duckdb.Error as exc:
        cause = " ".join(str(exc).split())
        raise TransferError(f"{path} cannot be read as Parquet: {cause}") from None
    found = {row[0] for row in found}
    expected = set(_columns(con, table))
    if schema != RAW_SCHEMA and found != expected:
        raise TransferError(
            f"{path}: its columns are not those of {table} "
            f"(missing: {', '.join(sorted(expected - found)) or 'none'}; not in the table: "
            f"{', '.join(sorted(found - expected)) or 'none'})"
        )


def _load(con, path: Path, table: str) -> int:
    """Put a table's rows in; the rows it then holds. A raw table is made as the export holds
    it (its columns are those its source had), any one the warehouse had dropped first."""
    if table.split(".")[0] == RAW_SCHEMA:
        con.execute(f"drop table if exists {_sql_name(table)}")
        con.execute(f"create table {_sql_name(table)} as select * from {_parquet(path)}")
    else:
        columns = ", ".join(map(quote_identifier, _columns(con, table)))
        con.execute(
            f"insert into {_sql_name(table)} ({columns}) select {columns} from {_parquet(path)}"
        )
    return con.execute(f"select count(*) from {_sql_name(table)}").fetchone()[0]


def _parquet(path: Path) -> str:
    return f"read_parquet({quote_literal(str(path))})"


def _columns(con, table: str) -> list[str]:
    schema, name = table.split(".")
    return [
        row[0]
        for row in con.execute(
            "select column_name from duckdb_columns() where database_name = current_database() "
            "and schema_name = ? and table_name = ? order by column_index",
            [schema, name],
        ).fetchall()
    ]


def _rows(con, tables: set[str]) -> dict[str, int]:
    """The tables that hold rows, and how many."""
    counts = {
        table: con.execute(f"select count(*) from {_sql_name(table)}").fetchone()[0]
        for table in sorted(tables)
    }
    return {table: n for table, n in counts.items() if n}

"""Staging for streamed sources: batches land in a DuckDB temp table, then one checked replace.

A database or API connector appends Arrow batches to a `Stage` while it reads; only once the whole
range has arrived does `publish` check the schema for drift and swap the months in the raw table
(pipelines.ingest.raw_tables.replace_months), so a source that fails or drifts half way leaves the
earlier good load untouched. The temp table lives on the load's own connection and is dropped after.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

import duckdb
import pyarrow as pa

from pipelines.catalog.catalog import SourceTable
from pipelines.ingest.drift import changed_types, check_castable, extra_columns, keepable
from pipelines.ingest.raw_tables import (
    LoadResult,
    SourceLoadError,
    create_raw_table,
    raw_typed_columns,
    replace_months,
)
from pipelines.periods import Period


def quote_any(name: str) -> str:
    """Quote a column name as the source spells it (staging only; raw tables use identifiers)."""
    return '"' + name.replace('"', '""') + '"'


def where_of(table: SourceTable) -> str:
    """'source crm, table opportunities': how every message names a table."""
    return f"source {table.source.source}, table {table.table.name}"


class Stage:
    """A temp table of the rows read so far; its columns' DuckDB types and type families."""

    def __init__(self, con):
        self.con = con
        self.name = f"stage_{uuid.uuid4().hex[:12]}"
        self.types: dict[str, str] = {}
        self.families: dict[str, set[str]] = {}
        self.rows = 0

    def add_columns(self, types: Mapping[str, str]) -> None:
        """Create the table, or add columns it lacks, with the given DuckDB types."""
        new = {name: kind for name, kind in types.items() if name not in self.types}
        if not new:
            return
        if not self.types:
            columns = ", ".join(f"{quote_any(n)} {t}" for n, t in new.items())
            self.con.execute(f"create temp table {self.name} ({columns})")
        else:
            for name, kind in new.items():
                self.con.execute(f"alter table {self.name} add column {quote_any(name)} {kind}")
        self.types.update(new)
        for name in new:
            self.families.setdefault(name, set())

    def note_families(self, families: Mapping[str, set[str]]) -> None:
        """Record the type families seen per column (JSON sources see them value by value)."""
        for name, seen in families.items():
            self.families.setdefault(name, set()).update(seen)

    def append(self, batch: pa.Table) -> None:
        """Append a batch whose columns are a subset of the stage's, matched by name."""
        if batch.num_rows == 0:
            return
        view = f"{self.name}_batch"
        self.con.register(view, batch)
        try:
            names = ", ".join(quote_any(n) for n in batch.column_names)
            self.con.execute(f"insert into {self.name} ({names}) select {names} from {view}")
        finally:
            self.con.unregister(view)
        self.rows += batch.num_rows

    def drop(self) -> None:
        """Drop the temp table."""
        if self.types:
            self.con.execute(f"drop table if exists {self.name}")


def publish(
    stage: Stage,
    table: SourceTable,
    first: Period,
    last: Period,
    run_id: str,
    label: str,
    extra_types: Mapping[str, str],
    text_readable: bool,
) -> LoadResult:
    """Check the staged rows for drift, then replace months first..last of the raw table with them.

    `label` names where the rows came from (no secrets: it is stored in meta.loads); `extra_types`
    gives the raw column type of each column the source added.
    """
    where = where_of(table)
    declared = table.table.columns
    extras = extra_columns(where, declared, list(stage.types), label)
    to_cast = changed_types(where, declared, stage.families, text_readable)
    check_castable(stage.con, where, stage.name, to_cast)
    names, unkept = keepable(extras)
    kept = [(n, extra_types[n]) for n in names]
    create_raw_table(stage.con, table)
    try:
        rows = replace_months(
            stage.con,
            table,
            f"select {raw_typed_columns(table, kept)} from {stage.name}",
            {},
            first,
            last,
            run_id,
            label,
            extra_columns=tuple(kept),
        )
    except duckdb.Error as exc:
        raise SourceLoadError(f"{where}: {label} could not be loaded: {exc}") from None
    return LoadResult(table.key, rows, label, tuple(n for n, _ in kept), unkept)

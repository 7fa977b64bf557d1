"""`scorecard demo-postgres`: the demo CRM exports copied into a PostgreSQL database.

Each table of definitions/examples/crm_postgres.yaml becomes a table of the schema it names
(crm.account_snapshots, ...), dropped and recreated with the declared column types (and any other
column of the export as text), filled by COPY from the CSV export, and indexed on its date
column, as a source system would keep it.
"""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
from psycopg import sql

from pipelines.catalog.models import SourceFile, Table

PG_TYPES = {
    "varchar": "text",
    "integer": "integer",
    "bigint": "bigint",
    "double": "double precision",
    "decimal": "numeric(18, 4)",
    "date": "date",
    "timestamp": "timestamp",
    "boolean": "boolean",
}


def relation_of(table: Table) -> str:
    """schema.name the table is read from: its `table:`, or the one its query file reads."""
    if table.relation:
        return table.relation if "." in table.relation else f"public.{table.relation}"
    return f"crm.{table.name}"


def _create(conn, table: Table, relation: str, header: list[str]) -> None:
    """The declared columns with their types, then the export's other columns as text (a
    source's table may hold more than the catalog reads, like the demo's `country`)."""
    schema, name = relation.split(".")
    target = sql.Identifier(schema, name)
    declared = {c.name for c in table.columns}
    columns = sql.SQL(", ").join(
        [
            *(
                sql.SQL("{} {}{}").format(
                    sql.Identifier(c.name),
                    sql.SQL(PG_TYPES[c.type]),
                    sql.SQL("" if c.nullable else " not null"),
                )
                for c in table.columns
            ),
            *(sql.SQL("{} text").format(sql.Identifier(n)) for n in header if n not in declared),
        ]
    )
    conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
    conn.execute(sql.SQL("drop table if exists {}").format(target))
    conn.execute(sql.SQL("create table {} ({})").format(target, columns))


def _header(csv_path: Path) -> list[str]:
    with csv_path.open(encoding="utf-8") as handle:
        return handle.readline().strip().split(",")


def _copy(conn, table: Table, relation: str, csv_path: Path, header: list[str]) -> int:
    target = sql.Identifier(*relation.split("."))
    names = sql.SQL(", ").join(sql.Identifier(n) for n in header)
    query = sql.SQL("copy {} ({}) from stdin (format csv, header true)").format(target, names)
    with conn.cursor() as cur, cur.copy(query) as copy, csv_path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            copy.write(chunk)
    index = sql.Identifier(re.sub(r"\W", "_", f"{relation}_{table.date_column}_idx"))
    conn.execute(
        sql.SQL("create index {} on {} ({})").format(
            index, target, sql.Identifier(table.date_column)
        )
    )
    return conn.execute(sql.SQL("select count(*) from {}").format(target)).fetchone()[0]


def seed_postgres(url: str, source: SourceFile, exports: Path) -> dict[str, int]:
    """Load `exports/<table>.csv` of every table of `source` into the database; rows per table."""
    counts = {}
    with psycopg.connect(url, connect_timeout=10) as conn:
        for table in source.tables:
            csv_path = exports / f"{table.name}.csv"
            if not csv_path.exists():
                raise FileNotFoundError(
                    f"{csv_path} is missing; run `scorecard demo --exports-only` first"
                )
            relation, header = relation_of(table), _header(csv_path)
            _create(conn, table, relation, header)
            counts[relation] = _copy(conn, table, relation, csv_path, header)
    return counts

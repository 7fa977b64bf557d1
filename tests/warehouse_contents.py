"""Read a whole warehouse as comparable data, leaving out what differs by run (ids, times)."""

from __future__ import annotations

import math

from pipelines.settings import RuntimePaths
from pipelines.warehouse.connection import connect, warehouse_tables

RUN_COLUMNS = (
    "_run_id",
    "_loaded_at",
    "run_id",
    "computed_at",
    "loaded_at",
    "rendered_at",
    "catalog_version",
    "source_path",
)
SKIP_TABLES = ("meta.reports", "meta.report_versions", "delivery.", "quality.")


class Close(float):
    """A double from the warehouse, equal to another within 1e-9 relative: DuckDB sums doubles
    in parallel, so the same data can give results that differ in the last bits (about 1e-14)."""

    def __eq__(self, other: object) -> bool:
        if isinstance(other, float) and not (math.isnan(self) or math.isnan(other)):
            return math.isclose(self, other, rel_tol=1e-9, abs_tol=1e-12)
        return float.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None  # equal within a tolerance cannot hash consistently: no sets of rows


def _comparable(row: tuple) -> tuple:
    return tuple(Close(v) if isinstance(v, float) else v for v in row)


def table_contents(paths: RuntimePaths, skip: tuple[str, ...] = SKIP_TABLES) -> dict[str, list]:
    """Every table's rows, sorted, without run-specific columns."""
    con = connect(paths.warehouse, read_only=True)
    try:
        tables = [
            t
            for (t,) in con.execute(
                "select table_schema || '.' || table_name from information_schema.tables order by 1"
            ).fetchall()
            if not t.startswith(skip)
        ]
        contents = {}
        for table in tables:
            columns = [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema || '.' || table_name = ? order by ordinal_position",
                    [table],
                ).fetchall()
                if c not in RUN_COLUMNS
            ]
            select = ", ".join(f'"{c}"' for c in columns)
            contents[table] = [
                _comparable(row)
                for row in con.execute(f"select {select} from {table} order by all").fetchall()
            ]
        return contents
    finally:
        con.close()


# A value of each column type the warehouse uses, from the row number i.
_VALUES = {
    "VARCHAR": "'v' || i",
    "INTEGER": "i::integer",
    "BIGINT": "i",
    "DOUBLE": "i / 3",
    "DECIMAL(18,4)": "(i / 7)::decimal(18, 4)",
    "DATE": "date '2026-01-01' + i::integer",
    "TIMESTAMP": "timestamp '2026-01-01 06:00' + to_seconds(i)",
    "BOOLEAN": "i % 2 = 0",
    "JSON": "json_object('i', i)",
}


def fill_every_table(con, rows: int) -> None:
    """Put `rows` rows (distinct keys, a null every third row where a column may be null) in
    every table of the warehouse's schemas on `con`, a raw table with a decimal column too."""
    con.execute(
        "create table if not exists raw.crm_orders "
        "(order_id varchar, amount decimal(18, 4), _period date not null, "
        "_run_id varchar not null, _loaded_at timestamp not null)"
    )
    for schema, table in warehouse_tables(con):
        columns = con.execute(
            "select column_name, data_type, is_nullable from duckdb_columns() "
            "where database_name = current_database() and schema_name = ? and table_name = ? "
            "order by column_index",
            [schema, table],
        ).fetchall()
        values = ", ".join(
            f"case when i % 3 = 2 then null else {_VALUES[kind]} end" if nullable else _VALUES[kind]
            for _, kind, nullable in columns
        )
        con.execute(f'insert into {schema}."{table}" select {values} from range({rows}) t(i)')


def every_table(con) -> dict[str, list[tuple]]:
    """Every table of the warehouse's schemas on `con`: its rows, columns by name, in order."""
    contents = {}
    for schema, table in warehouse_tables(con):
        columns = ", ".join(
            f'"{name}"'
            for (name,) in con.execute(
                "select column_name from duckdb_columns() where database_name = "
                "current_database() and schema_name = ? and table_name = ? order by column_name",
                [schema, table],
            ).fetchall()
        )
        contents[f"{schema}.{table}"] = con.execute(
            f'select {columns} from {schema}."{table}" order by all'
        ).fetchall()
    return contents

"""Read a whole warehouse as comparable data, leaving out what differs by run (ids, times)."""

from __future__ import annotations

from pipelines.settings import RuntimePaths
from pipelines.warehouse.connection import connect

RUN_COLUMNS = ("_run_id", "_loaded_at", "run_id", "computed_at", "loaded_at", "rendered_at",
               "catalog_version", "source_path")
SKIP_TABLES = ("meta.reports", "meta.report_versions", "delivery.", "quality.")


def table_contents(paths: RuntimePaths, skip: tuple[str, ...] = SKIP_TABLES) -> dict[str, list]:
    """Every table's rows, sorted, without run-specific columns."""
    con = connect(paths.warehouse, read_only=True)
    try:
        tables = [t for (t,) in con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "order by 1").fetchall() if not t.startswith(skip)]
        contents = {}
        for table in tables:
            columns = [c for (c,) in con.execute(
                "select column_name from information_schema.columns "
                "where table_schema || '.' || table_name = ? order by ordinal_position",
                [table]).fetchall() if c not in RUN_COLUMNS]
            select = ", ".join(f'"{c}"' for c in columns)
            contents[table] = con.execute(f"select {select} from {table} order by all").fetchall()
        return contents
    finally:
        con.close()

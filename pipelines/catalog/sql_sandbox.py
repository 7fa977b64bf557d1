"""Where catalog SQL is parsed and bound outside a run: an in-memory DuckDB that cannot reach
anything else.

DuckDB binds a query to learn the tables it reads, and binding a table function opens what it
names (`read_csv('/etc/passwd')` reads the file to sniff it, and its error quotes the first
line). So the catalog's SQL is bound only on connections with the warehouse's SANDBOX
settings: no file system, no other database, no extension, settings locked. On top, a KPI's SQL
may call no table function but the few that only compute (`range`, `generate_series`,
`unnest`): `query('...')` or `query_table` would read tables past the check that KPI SQL names
only raw.<source>_<table> tables, and the file readers are refused by name before anything is
bound.
"""

from __future__ import annotations

import json
import os
import threading

import duckdb

from pipelines.warehouse.connection import SANDBOX

COMPUTING_TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest"})


_shared: dict[int, duckdb.DuckDBPyConnection] = {}  # per process: one in-memory database
_lock = threading.Lock()


def sandbox() -> duckdb.DuckDBPyConnection:
    """A new connection (for one thread) to an empty in-memory DuckDB that reaches no file,
    database or extension; the database, opened with SANDBOX, is shared within the process
    (opening one takes longer than a catalog's SQL takes to check)."""
    with _lock:
        base = _shared.get(os.getpid())
        if base is None:
            base = _shared[os.getpid()] = duckdb.connect(config=dict(SANDBOX))
        return base.cursor()


def _function_names(node) -> list[str]:
    """The table functions named anywhere in a serialized statement."""
    found, stack = [], [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("type") == "TABLE_FUNCTION" and isinstance(item.get("function"), dict):
                found.append(str(item["function"].get("function_name", "")).lower())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def refused_table_functions(con, sql: str) -> list[str]:
    """The table functions `sql` calls that catalog SQL may not (read_csv, query, glob, ...),
    sorted; found from DuckDB's parse alone (json_serialize_sql), nothing is bound."""
    text = con.execute("select json_serialize_sql($sql)", {"sql": sql}).fetchone()[0]
    tree = json.loads(text)
    if tree.get("error"):
        return []  # does not parse: single_select says so
    return sorted(set(_function_names(tree.get("statements", []))) - COMPUTING_TABLE_FUNCTIONS)

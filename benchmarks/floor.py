"""The floor: DuckDB alone reading every source file once into tables, nothing else.

No Dagster, no catalog, no checks, no KPIs, no report: the least any pipeline over these files must
spend. Run as `python -m benchmarks.floor SPEC.json`; the spec (written by the benchmark from the
catalog) names the database file and, per table, the file and its columns with their SQL types,
in the file's order, so DuckDB parses the same types as the pipeline without sniffing.

Prints one JSON line: the rows per table.
"""

from __future__ import annotations

import json
import sys

import duckdb


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def load_tables(spec: dict) -> dict[str, int]:
    """Create one table per source file from the spec; return their row counts."""
    rows = {}
    con = duckdb.connect(spec["database"])
    try:
        for table in spec["tables"]:
            columns = ", ".join(f"{_literal(n)}: {_literal(t)}" for n, t in table["columns"])
            con.execute(
                f"create or replace table {_quote(table['name'])} as "
                f"select * from read_csv($path, header = true, delim = $delim, "
                f"columns = {{{columns}}}, dateformat = '%Y-%m-%d', "
                "timestampformat = '%Y-%m-%d %H:%M:%S')",
                {"path": table["path"], "delim": table["delimiter"]},
            )
            rows[table["name"]] = con.execute(
                f"select count(*) from {_quote(table['name'])}"
            ).fetchone()[0]
        con.execute("checkpoint")
    finally:
        con.close()
    return rows


def main(argv: list[str]) -> int:
    """Load the tables named by the spec file argv[0] and print their row counts."""
    with open(argv[0], encoding="utf-8") as handle:
        spec = json.load(handle)
    print(json.dumps({"rows": load_tables(spec)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The floor: DuckDB alone reading every source file once into tables, nothing else.

With `--month YYYY-MM` it is the floor of one month's run: every file still read once (an
export holds every month), but only the month's rows kept, in `--database` if given.

No Dagster, no catalog, no checks, no KPIs, no report: the least any pipeline over these files must
spend. Run as `python -m benchmarks.floor SPEC.json`; the spec (written by the benchmark from the
catalog) names the database file and, per table, the file and its columns with their SQL types,
in the file's order, so DuckDB parses the same types as the pipeline without sniffing.

Prints one JSON line: the rows per table.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

import duckdb


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _bounds(month: str) -> dict[str, date]:
    """The first day of 'YYYY-MM' and the first day after it."""
    year, number = (int(part) for part in month.split("-"))
    first = date(year, number, 1)
    return {"first_day": first, "end_day": date(year + number // 12, number % 12 + 1, 1)}


def load_tables(spec: dict, month: str | None = None) -> dict[str, int]:
    """Create one table per source file from the spec (only the rows of `month`, 'YYYY-MM',
    when given); return their row counts."""
    rows = {}
    con = duckdb.connect(spec["database"])
    try:
        for table in spec["tables"]:
            columns = ", ".join(f"{_literal(n)}: {_literal(t)}" for n, t in table["columns"])
            date = _quote(table["date_column"])
            keep = f" where {date} >= $first_day and {date} < $end_day" if month else ""
            con.execute(
                f"create or replace table {_quote(table['name'])} as "
                f"select * from read_csv($path, header = true, delim = $delim, "
                f"columns = {{{columns}}}, dateformat = '%Y-%m-%d', "
                f"timestampformat = '%Y-%m-%d %H:%M:%S'){keep}",
                {"path": table["path"], "delim": table["delimiter"]}
                | (_bounds(month) if month else {}),
            )
            rows[table["name"]] = con.execute(
                f"select count(*) from {_quote(table['name'])}"
            ).fetchone()[0]
        con.execute("checkpoint")
    finally:
        con.close()
    return rows


def main(argv: list[str]) -> int:
    """Load the tables named by the spec file and print their row counts."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.floor")
    parser.add_argument("spec", help="the spec JSON the benchmark writes")
    parser.add_argument("--month", help="keep only this month's rows (YYYY-MM)")
    parser.add_argument("--database", help="the DuckDB file (default: the spec's)")
    args = parser.parse_args(argv)
    with open(args.spec, encoding="utf-8") as handle:
        spec = json.load(handle)
    if args.database:
        spec["database"] = args.database
    print(json.dumps({"rows": load_tables(spec, args.month)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

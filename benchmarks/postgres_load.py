"""Benchmark: a month of 2 million rows out of a 20-million-row PostgreSQL table, via the connector.

    python benchmarks/postgres_load.py [--url postgresql://...] [--rows 20000000]
                                       [--batch-rows 50000]

Without --url (or $BENCH_DATABASE_URL) it starts a throwaway cluster (tests/pg_cluster.py) and
removes it after. The table is built on the server with generate_series: ten months, each with a
tenth of the rows, indexed on the date column. It then loads one month into a fresh DuckDB file
with pipelines.ingest.postgres.load_postgres_table and prints rows/s and the process's peak RSS.
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from pg_cluster import find_bindir, start_postgres  # noqa: E402

from pipelines.catalog.catalog import SourceTable  # noqa: E402
from pipelines.catalog.models import SourceFile  # noqa: E402
from pipelines.ingest.postgres import PostgresSettings, load_postgres_table  # noqa: E402
from pipelines.periods import Period  # noqa: E402
from pipelines.warehouse.connection import ensure_tables  # noqa: E402

MONTH = Period(2024, 3)
BUILD = """
drop schema if exists bench cascade;
create schema bench;
create unlogged table bench.events as
select g as event_id,
       make_date(2024, (g % 10)::int + 1, ((g / 10) % 28)::int + 1) as event_date,
       'cust-' || (g % 50000) as customer_id,
       round((random() * 1000)::numeric, 2)::numeric(12, 2) as amount_usd,
       (g % 7)::int as quantity,
       (array['open', 'won', 'lost'])[(g % 3)::int + 1] as status,
       timestamp '2024-01-01' + g * interval '1 second' as created_at
from generate_series(0, %(rows)s - 1) as g;
create index on bench.events (event_date);
analyze bench.events;
"""
COLUMNS = [
    ("event_id", "bigint"),
    ("event_date", "date"),
    ("customer_id", "varchar"),
    ("amount_usd", "decimal"),
    ("quantity", "integer"),
    ("status", "varchar"),
    ("created_at", "timestamp"),
]


def _table() -> SourceTable:
    source = SourceFile.model_validate(
        {
            "source": "bench",
            "connector": {"kind": "postgres", "url_env": "BENCH_DATABASE_URL"},
            "tables": [
                {
                    "name": "events",
                    "table": "bench.events",
                    "date_column": "event_date",
                    "columns": [{"name": n, "type": t} for n, t in COLUMNS],
                }
            ],
        }
    )
    return SourceTable(source, source.tables[0])


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(url: str, rows: int, batch_rows: int) -> None:
    """Build the table, load one month, print the figures."""
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(BUILD.replace("%(rows)s", str(int(rows))))
    print(f"built bench.events: {rows:,} rows in {time.perf_counter() - started:.0f} s")
    with tempfile.TemporaryDirectory() as folder:
        con = duckdb.connect(str(Path(folder) / "warehouse.duckdb"))
        ensure_tables(con)
        before = _rss_mib()
        started = time.perf_counter()
        result = load_postgres_table(
            con,
            _table(),
            MONTH,
            MONTH,
            "bench",
            PostgresSettings(url=url, batch_rows=batch_rows),
            ROOT / "sql",
        )
        seconds = time.perf_counter() - started
        con.close()
    loaded = result.total_rows
    print(
        f"loaded {MONTH}: {loaded:,} rows in {seconds:.1f} s = {loaded / seconds:,.0f} rows/s "
        f"(batches of {batch_rows:,})"
    )
    print(f"peak RSS of the process: {_rss_mib():,.0f} MiB (before the load: {before:,.0f} MiB)")


def main() -> None:
    """Parse the arguments; start a throwaway cluster unless a URL is given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--batch-rows", type=int, default=50_000)
    args = parser.parse_args()
    if args.url:
        run(args.url, args.rows, args.batch_rows)
        return
    bindir = find_bindir()
    if bindir is None:
        sys.exit("PostgreSQL is not installed; pass --url or install postgresql-15")
    cluster = start_postgres(bindir)
    try:
        run(cluster.url, args.rows, args.batch_rows)
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()

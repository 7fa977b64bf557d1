"""`python -m benchmarks.lake --scale 1 [--months 36] [--runs 1 4]`: a backfill on a DuckLake in
one run against the same backfill split into runs side by side (`scorecard backfill --runs N`),
and on the embedded file for reference (docs/benchmarks.md, docs/deployment.md).

Runs in the environment with the `ducklake` extra. Without --url it starts a throwaway
PostgreSQL cluster for the lakes' catalogs (tests/pg_cluster.py, as benchmarks/postgres_load.py
does) and removes it after. The demo's exports are written once; each variant gets a fresh
runtime folder over them and, on a lake, a new catalog database and data folder. Each backfill
is one `scorecard` subprocess, measured for wall time and the peak RSS of its largest process
(with --runs N, N stage processes run at once beside it). Every variant's KPI values, scores and
roll-ups must equal the embedded run's, or the benchmark stops.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

import psycopg

from benchmarks.procs import measure
from benchmarks.run import _child_env
from pipelines.catalog.boundaries import EXPORT_ROOTS_ENV
from pipelines.demo.generator import generate_demo
from pipelines.periods import last_complete_period
from pipelines.settings import PROJECT_ROOT

# what every variant must have written alike (less what names the run; doubles to 12 digits: a
# sum over rows in other files adds in another order)
COMPARED = {
    "kpi.kpi_values": "run_id, computed_at, catalog_version",
    "score.kpi_scores": "run_id",
    "score.rollup_scores": "run_id",
    "unit.rollup_scores": "run_id",
}


def _tables(env: dict) -> dict[str, list[tuple]]:
    """The compared tables of the warehouse `env` names, read in a child process (the lake's
    settings are the environment's)."""
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from pipelines.warehouse.connection import connect\n"
        "tables = json.loads(sys.argv[1])\n"
        "con = connect(Path(sys.argv[2]), read_only=True)\n"
        "def text(v):\n"
        "    return f'{v:.12g}' if isinstance(v, float) else str(v)\n"
        "print(json.dumps({t: [list(map(text, r)) for r in con.execute("
        "f'select * exclude ({d}) from {t} order by all').fetchall()] "
        "for t, d in tables.items()}))\n"
    )
    done = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-c",
            code,
            json.dumps(COMPARED),
            env["SCORECARD_HOME"] + "/warehouse.duckdb",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def bench_lake(scale: float, months: int, runs: list[int], url: str | None, seed: int) -> dict:
    """The embedded backfill and each lake variant; the figures as a JSON-ready dict."""
    last = last_complete_period(date.today())
    first = last.shift(-(months - 1))
    root = Path(tempfile.mkdtemp(prefix=f"scorecard-lake-{scale:g}-"))
    cluster = None
    try:
        if url is None:
            sys.path.insert(0, str(PROJECT_ROOT / "tests"))
            from pg_cluster import find_bindir, start_postgres

            cluster = start_postgres(find_bindir())
            url = cluster.url
        exports = root / "exports"
        print(f"Scale {scale:g}: the demo exports {first}..{last} ...", flush=True)
        rows = generate_demo(exports, start=first.key, end=last.key, scale=scale, seed=seed)
        print(f"  {sum(rows.values()):,} rows", flush=True)
        results, reference = {}, None
        for variant in ["file", *(f"lake-{n}" for n in runs)]:
            home = root / variant
            home.mkdir()
            (home / "demo").symlink_to(exports, target_is_directory=True)
            env = _child_env(home) | {EXPORT_ROOTS_ENV: str(exports)}
            args = ["backfill", "--from", first.key, "--to", last.key]
            if variant != "file":
                database = variant.replace("-", "_")
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(f"create database {database}")
                catalog = url.rsplit("/", 1)[0] + f"/{database}"
                env |= {
                    "SCORECARD_WAREHOUSE": "ducklake",
                    "SCORECARD_DUCKLAKE_CATALOG": catalog,
                    "SCORECARD_DUCKLAKE_DATA": str(home / "lake-data"),
                }
                count = int(variant.split("-")[1])
                if count > 1:
                    args += ["--runs", str(count)]
            print(f"  {variant}: scorecard {' '.join(args)} ...", end="", flush=True)
            measured = measure(
                variant, [sys.executable, "-m", "pipelines.cli", *args], env=env, cwd=home
            )
            print(f" {measured.wall_s:.1f} s, peak {measured.peak_rss_mb:,.0f} MB", flush=True)
            tables = _tables(env)
            if reference is None:
                reference = tables
            elif tables != reference:
                differ = [t for t in COMPARED if tables[t] != reference[t]]
                raise SystemExit(f"{variant}: {', '.join(differ)} differ from the embedded run's")
            results[variant] = {"wall_s": measured.wall_s, "peak_rss_mb": measured.peak_rss_mb}
        return {
            "scale": scale,
            "first": first.key,
            "last": last.key,
            "source_rows": sum(rows.values()),
            "variants": results,
        }
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


def table(figures: dict) -> str:
    """The figures as a Markdown table, each variant against the lake's one run."""
    variants = figures["variants"]
    base = variants.get("lake-1")
    lines = [
        "| warehouse | backfill s | peak MB (largest process) | vs the lake in one run |",
        "|---|---:|---:|---:|",
    ]
    for name, v in variants.items():
        ratio = f"{v['wall_s'] / base['wall_s']:.2f} x" if base else ""
        lines.append(f"| {name} | {v['wall_s']:.1f} | {v['peak_rss_mb']:,.0f} | {ratio} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.lake", description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="demo data volume (1)")
    parser.add_argument("--months", type=int, default=36, help="months of history (36)")
    parser.add_argument("--runs", type=int, nargs="+", default=[1, 4], help="runs at once (1 4)")
    parser.add_argument("--url", help="a PostgreSQL server URL that may create databases")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    figures = bench_lake(args.scale, args.months, args.runs, args.url, args.seed)
    print(json.dumps(figures, indent=2))
    print(table(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""One benchmark at one scale: generate the demo, then measure the pipeline and the two references.

Everything runs on the same files in a temporary SCORECARD_HOME, each measurement in a fresh
subprocess, in this order per round: start-up alone, the DuckDB floor, the pandas script, the
36-month backfill (`scorecard backfill`), the check that pandas equals the pipeline, one month
(`scorecard run`, on top of the backfilled history, emailing to the outbox). With several rounds,
the warehouse and the Dagster instance are emptied before each, and each measurement keeps its
fastest round.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from benchmarks.pandas_reference import TOLERANCE, compare, pipeline_values
from benchmarks.procs import Measured, measure
from benchmarks.stages import read_timeline, run_figures
from pipelines.catalog import load_catalog
from pipelines.defs.jobs import HISTORY_JOB, MONTHLY_JOB
from pipelines.demo.generator import generate_demo
from pipelines.ingest.files import resolve_path
from pipelines.ingest.raw_tables import SQL_TYPES
from pipelines.periods import Period, last_complete_period
from pipelines.settings import PROJECT_ROOT, RuntimePaths, runtime_paths
from pipelines.warehouse.connection import connect

PANDAS_FILES = (
    "finance/gl_entries",
    "crm/nps_responses",
    "operations/orders",
    "hr/engagement_responses",
)


# The pandas script's peak memory per source row: 11,960 MB at 94.6 million rows (scale 100,
# docs/benchmarks.md). A scale whose estimate passes 80 % of the memory available is not given
# to it: the script would be killed, or swap the machine for the pipeline measured after it.
PANDAS_BYTES_PER_ROW = 130


def pandas_fits(rows: int) -> tuple[bool, str]:
    """Whether the pandas script fits in this machine's memory at `rows` source rows; why not."""
    available = _available_bytes()
    need = rows * PANDAS_BYTES_PER_ROW
    if available is None or need <= 0.8 * available:
        return True, ""
    return False, (
        f"not run: at {rows:,} source rows it needs about {need / 2**30:.0f} GiB "
        f"({PANDAS_BYTES_PER_ROW} bytes a row), more than 80 % of the "
        f"{available / 2**30:.0f} GiB available"
    )


def _available_bytes() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


class CheckFailed(AssertionError):
    """The pandas script's KPI values differ from the pipeline's."""


@dataclass(frozen=True)
class Options:
    """What to run: the months, the seed, how many rounds, where the temporary home goes."""

    months: int = 36
    seed: int = 7
    rounds: int = 1
    temp_root: Path | None = None
    keep: bool = False
    end: Period | None = None


def _child_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCORECARD_SMTP_")}
    env["SCORECARD_HOME"] = str(home)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(PROJECT_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    return env


def _floor_spec(paths: RuntimePaths) -> dict:
    """Every source table: its file, and its columns in the file's order with the SQL types."""
    catalog = load_catalog(paths.definitions, paths.sql)
    tables = []
    for table in catalog.tables:
        if table.source.connector.kind != "file":
            continue  # the floor reads files; other connectors have no file to read
        path = resolve_path(table, paths.home)
        declared = {c.name: SQL_TYPES[c.type] for c in table.table.columns}
        with open(path, encoding="utf-8") as handle:
            header = handle.readline().strip().split(table.table.delimiter)
        tables.append(
            {
                "name": table.raw_name,
                "path": path,
                "delimiter": table.table.delimiter,
                "date_column": table.table.date_column,
                "columns": [[name, declared.get(name, "varchar")] for name in header],
            }
        )
    return {"database": str(paths.home / "floor.duckdb"), "tables": tables}


def _reset(home: Path) -> None:
    """Empty the runtime folder except the exports and the floor's spec."""
    for entry in home.iterdir():
        if entry.name in ("demo", "floor-spec.json"):
            continue
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def _rows_loaded(paths: RuntimePaths, run_id: str) -> int:
    con = connect(paths.warehouse, read_only=True)
    try:
        return con.execute(
            "select coalesce(sum(rows_loaded), 0) from meta.loads where run_id = ?", [run_id]
        ).fetchone()[0]
    finally:
        con.close()


def _simple(measured: Measured, rows: int) -> dict:
    return {
        "total": {
            "wall_s": round(measured.wall_s, 3),
            "cpu_s": round(measured.cpu_s, 3),
            "peak_rss_mb": round(measured.peak_rss_mb, 1),
            "rows": rows,
            "rows_per_s": round(rows / measured.wall_s) if rows else None,
        }
    }


def _pipeline(paths: RuntimePaths, measured: Measured, job: str) -> dict:
    timeline = read_timeline(paths.dagster_home, job)
    figures = run_figures(measured, timeline, _rows_loaded(paths, timeline.run_id))
    figures["run_id"] = timeline.run_id
    return figures


class Round:
    """One round of measurements over the same files."""

    def __init__(self, paths: RuntimePaths, first: Period, last: Period, rows: dict[str, int]):
        self.paths, self.first, self.last, self.rows = paths, first, last, rows
        self.env = _child_env(paths.home)
        self.python = sys.executable

    def _measure(self, label: str, *args: str) -> tuple[Measured, float]:
        load = os.getloadavg()[0]
        print(f"  {label} ...", end="", flush=True)
        measured = measure(label, [self.python, *args], env=self.env, cwd=self.paths.home)
        print(f" {measured.wall_s:.1f} s (load average before: {load:.1f})", flush=True)
        return measured, load

    def run(self) -> dict:
        """Measure start-up, the floor, pandas, the backfill (then check it), and one month."""
        home, first, last = self.paths.home, self.first.key, self.last.key
        results = {}
        startup, load = self._measure("start-up", "-m", "benchmarks.startup")
        results["startup"] = _simple(startup, 0) | {
            "parts": json.loads(startup.stdout.strip().splitlines()[-1])
        }
        results["startup"]["load_before"] = load
        floor, load = self._measure(
            "floor (DuckDB only)", "-m", "benchmarks.floor", str(home / "floor-spec.json")
        )
        results["floor"] = _simple(floor, sum(self.rows.values())) | {"load_before": load}
        month_floor, load = self._measure(
            f"month floor {last} (DuckDB only)",
            "-m",
            "benchmarks.floor",
            str(home / "floor-spec.json"),
            "--month",
            last,
            "--database",
            str(home / "floor-month.duckdb"),
        )
        results["month_floor"] = _simple(month_floor, sum(self.rows.values())) | {
            "load_before": load
        }
        out = home / "pandas-kpis.json"
        fits, why_not = pandas_fits(sum(self.rows.values()))
        if not fits:
            print(f"  pandas script {why_not}", flush=True)
            results["pandas"] = {"skipped": why_not}
        pandas, load = (
            (None, None)
            if not fits
            else self._measure(
                "pandas script",
                "-m",
                "benchmarks.pandas_reference",
                "--exports",
                str(self.paths.demo),
                "--from",
                first,
                "--to",
                last,
                "--out",
                str(out),
            )
        )
        if fits:
            pandas_rows = sum(self.rows[f] for f in PANDAS_FILES)
            results["pandas"] = _simple(pandas, pandas_rows) | {"load_before": load}
        backfill, load = self._measure(
            f"backfill {first}..{last}",
            "-m",
            "pipelines.cli",
            "backfill",
            "--from",
            first,
            "--to",
            last,
        )
        results["backfill"] = _pipeline(self.paths, backfill, HISTORY_JOB) | {"load_before": load}
        results["check"] = (
            self._check(json.loads(out.read_text(encoding="utf-8")))
            if fits
            else {"skipped": why_not}
        )
        month, load = self._measure(
            f"one month {last}", "-m", "pipelines.cli", "run", "--period", last
        )
        results["month"] = _pipeline(self.paths, month, MONTHLY_JOB) | {"load_before": load}
        results["month"]["outbox_messages"] = len(list(self.paths.outbox.rglob("*.eml")))
        results["month"]["pdf"] = (self.paths.report_dir(last) / "scorecard.pdf").is_file()
        return results

    def _check(self, reference: dict) -> dict:
        con = connect(self.paths.warehouse, read_only=True)
        try:
            pipeline = pipeline_values(con, self.first.key, self.last.key)
        finally:
            con.close()
        check = compare(reference, pipeline, TOLERANCE)
        if check["mismatches"]:
            lines = [
                f"  {kpi} {month}: pandas {ours!r}, pipeline {theirs!r}"
                for kpi, month, ours, theirs in check["mismatches"][:20]
            ]
            raise CheckFailed("the pandas script and the pipeline disagree:\n" + "\n".join(lines))
        print(
            f"  check: pandas = pipeline for {check['compared']} values "
            f"(5 KPIs x {check['compared'] // 5} months) within {TOLERANCE:g}; "
            f"largest difference {check['max_abs_diff']:.2g}",
            flush=True,
        )
        return check


def _fastest(rounds: list[dict]) -> dict:
    """Per measurement, the round with the least wall time."""
    best = dict(rounds[0])
    for key in ("startup", "floor", "month_floor", "pandas", "backfill", "month"):
        if "total" in rounds[0][key]:
            best[key] = min((r[key] for r in rounds), key=lambda m: m["total"]["wall_s"])
    return best


def bench_scale(scale: float, options: Options) -> dict:
    """Generate the demo at `scale` and run the rounds; the figures as a JSON-ready dict."""
    base = runtime_paths()
    home = Path(tempfile.mkdtemp(prefix=f"scorecard-bench-{scale:g}-", dir=options.temp_root))
    paths = replace(base, home=home)
    last = options.end or last_complete_period(date.today())
    first = last.shift(-(options.months - 1))
    catalog_first = Period.parse(
        load_catalog(paths.definitions, paths.sql).organization.first_period
    )
    if first < catalog_first:
        raise ValueError(
            f"{options.months} months back from {last} starts before the catalog's "
            f"first_period {catalog_first}"
        )
    try:
        print(
            f"Scale {scale:g}: writing the demo exports {first}..{last} under {home} ...",
            flush=True,
        )
        t0 = time.perf_counter()
        rows = generate_demo(
            paths.demo, start=first.key, end=last.key, scale=scale, seed=options.seed
        )
        generate_s = time.perf_counter() - t0
        print(f"  {sum(rows.values()):,} rows in {len(rows)} files, {generate_s:.1f} s", flush=True)
        (home / "floor-spec.json").write_text(json.dumps(_floor_spec(paths)), encoding="utf-8")
        rounds = []
        for number in range(options.rounds):
            if options.rounds > 1:
                print(f" round {number + 1} of {options.rounds}", flush=True)
            _reset(home)
            rounds.append(Round(paths, first, last, rows).run())
        result = _fastest(rounds)
        result |= {
            "scale": scale,
            "first": first.key,
            "last": last.key,
            "months": options.months,
            "seed": options.seed,
            "rounds": options.rounds,
            "source_rows": sum(rows.values()),
            "rows_by_file": rows,
            "generate_s": round(generate_s, 2),
            "export_mb": round(sum(f.stat().st_size for f in paths.demo.rglob("*.csv")) / 2**20, 1),
        }
        result["check"] = {k: v for k, v in result["check"].items() if k != "mismatches"}
        return result
    finally:
        if options.keep:
            print(f"  kept {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)

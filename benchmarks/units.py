"""`python -m benchmarks.units --scale 1 [--months 12] [--units 0 1 3 50]`: what business units
cost, side by side on the same data (docs/benchmarks.md, docs/scaling.md).

The demo's exports are written once at the scale; their `country` column is then spread over 45
unit codes (C01..C45, by each row's position), so that 50 units all have rows. For each tree
(0: no units.yaml; 1: one unit holding every code; 3: three units of 15 codes; 50: five regions of
nine units of one code each), a fresh runtime folder over the same exports runs the backfill of
the months and then the last month (`scorecard backfill`, `scorecard run`), each in a subprocess
of its own, measured for wall time, CPU and peak RSS, per stage ("units": the unit_scores and
unit_reports steps).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from dataclasses import replace
from datetime import date
from pathlib import Path

import duckdb
import yaml

from benchmarks.procs import measure
from benchmarks.run import _child_env, _rows_loaded
from benchmarks.stages import read_timeline, run_figures
from pipelines.catalog.boundaries import EXPORT_ROOTS_ENV
from pipelines.defs.jobs import HISTORY_JOB, MONTHLY_JOB
from pipelines.demo.generator import generate_demo
from pipelines.periods import last_complete_period
from pipelines.settings import PROJECT_ROOT, RuntimePaths, runtime_paths

CODES = [f"C{n:02d}" for n in range(1, 46)]
UNIT_COLUMN = "country"


def drop_unit_references(definitions: Path, keep: set[str] = frozenset()) -> Path:
    """In a copy of definitions/: take out every recipient list, comment and initiative of a
    business unit not in `keep`, so the copy's catalog is valid with its units.yaml replaced or
    removed (the benchmark's trees; the tests' own)."""
    for name, key in (("recipients.yaml", "lists"), ("initiatives.yaml", "initiatives")):
        path = definitions / name
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data[key] = [item for item in data[key] if "unit" not in item or item["unit"] in keep]
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    for path in sorted((definitions / "commentary").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["comments"] = [c for c in data["comments"] if "unit" not in c or c["unit"] in keep]
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return definitions


def unit_tree(count: int) -> list[dict]:
    """The benchmark's tree of `count` units (0, 1, 3 or 50) over CODES."""
    if count == 0:
        return []
    if count == 1:
        return [{"id": "all", "name": "All", "leader": "A. Leader", "codes": CODES}]
    if count == 3:
        return [
            {"id": f"r{i}", "name": f"Region {i}", "leader": "A. Leader", "codes": CODES[i::3]}
            for i in range(3)
        ]
    if count == 50:
        # a region's codes default to its id, which no row carries: its rows are its units'
        regions = [{"id": f"r{i}", "name": f"Region {i}", "leader": "A. Leader"} for i in range(5)]
        countries = [
            {
                "id": f"u{n:02d}",
                "name": f"Unit {n}",
                "leader": "A. Leader",
                "parent": f"r{n % 5}",
                "codes": [code],
            }
            for n, code in enumerate(CODES)
        ]
        return regions + countries
    raise ValueError(f"--units takes 0, 1, 3 or 50, not {count}")


def spread_units(exports: Path) -> None:
    """Rewrite every export with a unit column so its rows carry CODES in turn."""
    con = duckdb.connect()
    try:
        for path in sorted(exports.rglob("*.csv")):
            with open(path, encoding="utf-8") as handle:
                header = handle.readline().strip().split(",")
            if UNIT_COLUMN not in header:
                continue
            temp = path.with_suffix(".spread.csv")
            codes = "[" + ", ".join(f"'{c}'" for c in CODES) + "]"
            con.execute(
                f"copy (select * replace ({codes}[((row_number() over ()) % {len(CODES)}) + 1] "
                f"as {UNIT_COLUMN}) from read_csv('{path}', all_varchar = true, header = true)) "
                f"to '{temp}' (header, quote '\"')"
            )
            os.replace(temp, path)
    finally:
        con.close()


def _definitions(root: Path, count: int) -> Path:
    definitions = root / "definitions"
    shutil.copytree(PROJECT_ROOT / "definitions", definitions)
    tree = unit_tree(count)
    drop_unit_references(definitions)
    if tree:
        (definitions / "units.yaml").write_text(yaml.safe_dump({"units": tree}), encoding="utf-8")
    else:
        (definitions / "units.yaml").unlink()
    return definitions


def _run(label: str, paths: RuntimePaths, env: dict, job: str, *args: str) -> dict:
    print(f"  {label} ...", end="", flush=True)
    measured = measure(label, [sys.executable, *args], env=env, cwd=paths.home)
    print(f" {measured.wall_s:.1f} s, peak {measured.peak_rss_mb:,.0f} MB", flush=True)
    timeline = read_timeline(paths.dagster_home, job)
    figures = run_figures(measured, timeline, _rows_loaded(paths, timeline.run_id))
    return {
        "total": figures["total"],
        "stages": {k: v["wall_s"] for k, v in figures["stages"].items()},
    }


def bench_units(scale: float, months: int, counts: list[int], seed: int, tmp: Path | None) -> dict:
    """Every tree of `counts` over the same exports; the figures as a JSON-ready dict."""
    last = last_complete_period(date.today())
    first = last.shift(-(months - 1))
    root = Path(tempfile.mkdtemp(prefix=f"scorecard-units-{scale:g}-", dir=tmp))
    try:
        exports = root / "exports"
        print(f"Scale {scale:g}: the demo exports {first}..{last} ...", flush=True)
        rows = generate_demo(exports, start=first.key, end=last.key, scale=scale, seed=seed)
        spread_units(exports)
        print(f"  {sum(rows.values()):,} rows, unit column over {len(CODES)} codes", flush=True)
        results = {}
        for count in counts:
            print(f" {count} units", flush=True)
            home = root / f"units-{count}"
            home.mkdir()
            (home / "demo").symlink_to(exports, target_is_directory=True)
            paths = replace(runtime_paths(), home=home, definitions=_definitions(home, count))
            env = _child_env(home) | {
                "SCORECARD_DEFINITIONS": str(paths.definitions),
                EXPORT_ROOTS_ENV: str(exports),
            }
            cli = ("-m", "pipelines.cli")
            backfill = _run(
                f"backfill {first}..{last}",
                paths,
                env,
                HISTORY_JOB,
                *cli,
                "backfill",
                "--from",
                first.key,
                "--to",
                last.key,
            )
            month = _run(
                f"one month {last}", paths, env, MONTHLY_JOB, *cli, "run", "--period", last.key
            )
            results[count] = {
                "units": count,
                "backfill": backfill,
                "month": month,
                "unit_reports": len(list(paths.report_dir(last.key).glob("units/*/scorecard.pdf"))),
            }
        return {
            "scale": scale,
            "first": first.key,
            "last": last.key,
            "months": months,
            "source_rows": sum(rows.values()),
            "trees": results,
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)


def table(figures: dict) -> str:
    """The figures as a Markdown table, with each tree's ratio to the run without units."""
    trees = figures["trees"]
    base = trees.get(0) or trees.get("0")
    lines = [
        "| units | backfill s | of it units s | peak MB | one month s | of it units s | peak MB "
        "| backfill vs none | month vs none | units s per unit-month |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for tree in trees.values():
        back, month = tree["backfill"], tree["month"]
        units_back = back["stages"].get("units", 0.0)
        per = units_back / (tree["units"] * figures["months"]) if tree["units"] else None
        ratio = (
            (
                f"{back['total']['wall_s'] / base['backfill']['total']['wall_s']:.2f} x",
                f"{month['total']['wall_s'] / base['month']['total']['wall_s']:.2f} x",
            )
            if base
            else ("", "")
        )
        lines.append(
            f"| {tree['units']} | {back['total']['wall_s']:.1f} | {units_back:.1f} "
            f"| {back['total']['peak_rss_mb']:,.0f} | {month['total']['wall_s']:.1f} "
            f"| {month['stages'].get('units', 0.0):.1f} | {month['total']['peak_rss_mb']:,.0f} "
            f"| {ratio[0]} | {ratio[1]} | {'' if per is None else f'{per:.3f}'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.units", description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="demo data volume (1)")
    parser.add_argument("--months", type=int, default=12, help="months of history (12)")
    parser.add_argument(
        "--units", type=int, nargs="+", default=[0, 1, 3, 50], help="trees to run (0 1 3 50)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--tmp", type=Path, help="where the runtime folders go")
    args = parser.parse_args(argv)
    figures = bench_units(args.scale, args.months, args.units, args.seed, args.tmp)
    print()
    print(table(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

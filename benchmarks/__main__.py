"""`python -m benchmarks --scale N [--json PATH] [--months 36]`: see docs/benchmarks.md."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from benchmarks.procs import MeasurementFailed
from benchmarks.report_table import cross_scale, ratios, scale_report, targets, targets_table
from benchmarks.run import CheckFailed, Options, bench_scale
from pipelines.periods import Period


def _machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {name: version(name) for name in ("dagster", "duckdb", "pandas", "pyarrow")},
    }


def build_parser() -> argparse.ArgumentParser:
    """The benchmark's arguments."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--scale",
        type=float,
        action="append",
        help="demo data volume (1 is about a million rows); repeat for several "
        "scales in one run (default 1)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument(
        "--months",
        type=int,
        default=36,
        help="months of history, ending with the last complete month (36)",
    )
    parser.add_argument("--end", help="the last month YYYY-MM (default: the last complete month)")
    parser.add_argument("--seed", type=int, default=7, help="demo random seed (7)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure each thing this many times and keep the fastest (1)",
    )
    parser.add_argument(
        "--tmp", type=Path, help="where the temporary SCORECARD_HOME goes (default: the system's)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary SCORECARD_HOME")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark at each scale, print the tables and targets, write the JSON."""
    args = build_parser().parse_args(argv)
    scales = args.scale or [1.0]
    options = Options(
        months=args.months,
        seed=args.seed,
        rounds=max(1, args.rounds),
        temp_root=args.tmp,
        keep=args.keep,
        end=Period.parse(args.end) if args.end else None,
    )
    started = datetime.now(UTC)
    load_before = os.getloadavg()
    results = []
    try:
        for scale in scales:
            result = bench_scale(scale, options)
            results.append(result)
            print(scale_report(result), flush=True)
    except (MeasurementFailed, CheckFailed) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    cross = cross_scale(results) if len(results) > 1 else {}
    if cross:
        print("\nAcross scales: " + ", ".join(f"{k} {v:g}" for k, v in cross.items()))
    goals = targets(results)
    print("\nTargets (reported, not asserted)")
    print(targets_table(goals))
    if args.json:
        report = {
            "date": started.isoformat(timespec="seconds"),
            "command": "python -m benchmarks "
            + " ".join(argv if argv is not None else sys.argv[1:]),
            "machine": _machine()
            | {"load_average_before": load_before, "load_average_after": os.getloadavg()},
            "scales": {f"{r['scale']:g}": r | {"ratios": ratios(r)} for r in results},
            "across_scales": cross,
            "targets": goals,
        }
        args.json.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
        print(f"\nWrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What the data-quality checks cost against loading the same data.

    python -m benchmarks.quality_validation [--scale 1] [--months 36] [--home DIR]

Writes the demo exports (or reuses those under --home/demo), then, in one process and on one
warehouse file: loads every table's whole history in one call per table (as the history job's
load step does) and validates it with the catalog's expectations (as that step's checks do),
then does the same for the last month alone (as the monthly job does), `--rounds` times each.
Prints per table the fastest load and the fastest checks of the rounds and the ratio validation
/ load, the checks' own time one table after another; and the ratio in the first round, where
the process validates for the first time.

The load step runs each table's checks right after its load, so the checks' time adds to the
step's. Great Expectations' import (paid once per process, when the catalog is loaded) is
reported on its own. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from tabulate import tabulate


def _timed(fn, *args, **kwargs):
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - started


def _round(con, catalog, first, last, home: Path, validator) -> list[list]:
    from pipelines.ingest.files import load_file_table
    from pipelines.quality.store import write_verdicts
    from pipelines.quality.validate import validate_table

    rows = []
    for table in catalog.tables:
        result, load_s = _timed(load_file_table, con, table, first, last, home, "bench")
        verdicts, check_s = _timed(
            validate_table,
            con,
            table,
            first,
            last,
            datetime.now(),
            validator,
            result.rejected_by_period,
        )
        _, write_s = _timed(write_verdicts, con, verdicts, "bench")
        failing = sum(v.failed + v.warned for v in verdicts)
        rows.append([table.key, result.total_rows, load_s, check_s + write_s, failing])
    return rows


def _rounds(con, catalog, first, last, home: Path, validator, rounds: int) -> tuple[list, float]:
    """Per table the fastest load and checks of `rounds` rounds, and the first round's ratio."""
    runs = [_round(con, catalog, first, last, home, validator) for _ in range(rounds)]
    fastest = []
    for same in zip(*runs, strict=True):  # one table's rows, round after round
        table, rows, _, _, failing = same[0]
        fastest.append([table, rows, min(r[2] for r in same), min(r[3] for r in same), failing])
    first_round = sum(r[3] for r in runs[0]) / sum(r[2] for r in runs[0])
    return fastest, first_round


def _print(title: str, rows: list[list], first_round: float) -> tuple[float, float]:
    load, check = sum(r[2] for r in rows), sum(r[3] for r in rows)
    table = [[r[0], f"{r[1]:,}", f"{r[2]:.2f}", f"{r[3]:.2f}", r[4]] for r in rows]
    table.append(["total", f"{sum(r[1] for r in rows):,}", f"{load:.2f}", f"{check:.2f}", ""])
    print(
        f"\n{title}\n"
        + tabulate(
            table,
            headers=["table", "rows", "load s", "checks s", "failing checks"],
            colalign=("left", "right", "right", "right", "right"),
        )
    )
    print(f"validation / load = {check / load:.0%} (first round: {first_round:.0%})")
    return load, check


def main(argv: list[str] | None = None) -> int:
    """Run the measurement and print it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--home", type=Path)
    parser.add_argument(
        "--rounds", type=int, default=2, help="rounds of each measurement, the fastest kept (2)"
    )
    args = parser.parse_args(argv)

    started = time.perf_counter()
    import great_expectations  # noqa: F401 - timed: paid once per process

    ge_import_s = time.perf_counter() - started
    from pipelines.catalog import load_catalog
    from pipelines.demo.generator import generate_demo
    from pipelines.periods import last_complete_period
    from pipelines.quality.ge_runner import GeValidator
    from pipelines.settings import PROJECT_ROOT
    from pipelines.warehouse.connection import connect, ensure_tables

    home = args.home or Path(tempfile.mkdtemp(prefix="quality-bench-"))
    last = last_complete_period(datetime.now().date())
    first = last.shift(1 - args.months)
    if not (home / "demo").is_dir():
        generate_demo(home / "demo", start=first.key, end=last.key, scale=args.scale)
    catalog = load_catalog(PROJECT_ROOT / "definitions", PROJECT_ROOT / "sql")
    warehouse = home / "quality-bench.duckdb"
    warehouse.unlink(missing_ok=True)
    con = connect(warehouse)
    ensure_tables(con)
    validator, context_s = _timed(GeValidator)
    print(f"scale {args.scale}, {first}..{last}, under {home}")
    print(
        f"Great Expectations import {ge_import_s:.2f} s, context {context_s:.2f} s "
        "(once per process)"
    )
    _print(
        f"History: {args.months} months in one run, fastest of {args.rounds} rounds",
        *_rounds(con, catalog, first, last, home, validator, args.rounds),
    )
    _print(
        f"One month: {last}, fastest of {args.rounds} rounds",
        *_rounds(con, catalog, last, last, home, validator, args.rounds),
    )
    con.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

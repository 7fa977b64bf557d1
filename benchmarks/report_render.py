"""Time the report's render: `python -m benchmarks.report_render [--home DIR] [--period YYYY-MM]`.

With --home (a SCORECARD_HOME where `scorecard demo` ran), the report of its warehouse's latest
scored month (or --period) is read and rendered, exactly as the pipeline does; without it, a
report of the shipped catalog filled with deterministic numbers (tests/report_factory.py) is.
Each round renders HTML and PDF (the PDF in its capped child process) into a temporary folder
and prints wall-clock and CPU seconds (parent and child) and the PDF's size; then the best
and the median round. The issue's targets:
under 3 s and under 2 MB.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from pipelines.catalog import load_catalog
from pipelines.periods import Period
from pipelines.report.render import write_report
from pipelines.settings import PROJECT_ROOT

TARGET_SECONDS, TARGET_BYTES = 3.0, 2 * 1024 * 1024


def _cpu() -> float:
    own, children = (
        resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _report(home: Path | None, period: str | None):
    catalog = load_catalog(PROJECT_ROOT / "definitions", PROJECT_ROOT / "sql")
    if home is None:
        sys.path.insert(0, str(PROJECT_ROOT / "tests"))
        from report_factory import report_from_catalog

        return report_from_catalog(catalog), "the shipped catalog with generated numbers"
    from pipelines.report.context import build_report
    from pipelines.warehouse.connection import connect

    con = connect(home / "warehouse.duckdb", read_only=True)
    try:
        key = (
            period
            or con.execute(
                "select strftime(max(period), '%Y-%m') from score.kpi_scores"
            ).fetchone()[0]
        )
        return build_report(con, catalog, Period.parse(key), "benchmark"), f"{home} {key}"
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    """Render the report a few times and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="a SCORECARD_HOME with a demo warehouse")
    parser.add_argument("--period", help="the month to render (default: the latest scored)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    report, source = _report(args.home, args.period)
    print(f"report: {source}; {len(report.kpis())} KPIs, detail pages: {report.kpi_detail_pages}")
    walls = []
    for round_ in range(1, args.rounds + 1):
        with tempfile.TemporaryDirectory() as out:
            cpu, start = _cpu(), time.perf_counter()
            _, pdf = write_report(report, PROJECT_ROOT / "reports", Path(out))
            wall, used, size = time.perf_counter() - start, _cpu() - cpu, pdf.stat().st_size
        print(f"round {round_}: {wall:.2f} s wall, {used:.2f} s CPU, {size / 1024:.0f} KiB")
        walls.append(wall)
    print(
        f"best: {min(walls):.2f} s, median {statistics.median(walls):.2f} s "
        f"(target {TARGET_SECONDS:g} s), size {size / 1024:.0f} KiB "
        f"(target {TARGET_BYTES // 1024} KiB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

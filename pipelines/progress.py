"""Progress and summaries the CLI prints while and after Dagster runs."""

from __future__ import annotations

import sys

from pipelines.periods import Period
from pipelines.settings import RuntimePaths

BAR_WIDTH = 30


class StepProgress:
    """A progress bar over a run's steps on a terminal; one line per step elsewhere."""

    def __init__(self, total: int, stream=None):
        self.total = max(total, 1)
        self.done = 0
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty()

    def step_done(self, step_key: str, outcome: str) -> None:
        """Record a finished step and redraw."""
        self.done += 1
        filled = int(BAR_WIDTH * min(self.done, self.total) / self.total)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        line = f"[{bar}] {self.done}/{self.total} steps  {step_key}: {outcome}"
        if self.tty:
            self.stream.write("\r\033[K" + line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        """End the bar's line."""
        if self.tty and self.done:
            self.stream.write("\n")


def print_backfill_summary(paths: RuntimePaths, first: Period, last: Period) -> None:
    """Months done and failed, and KPIs withheld, from the warehouse."""
    from pipelines.status import month_statuses
    from pipelines.warehouse.connection import connect, warehouse_exists

    if not warehouse_exists(paths.warehouse):
        return
    con = connect(paths.warehouse, read_only=True)
    try:
        rows = month_statuses(con, first, last)
    finally:
        con.close()
    done = [r for r in rows if r.kpis_total and r.overall_status]
    failed = [r.period for r in rows if r not in done]
    partial = [r.period for r in rows if r.failed_loads]
    withheld = sum(r.kpis_withheld for r in rows)
    print(f"{'month':<8} {'rows loaded':>12} {'KPIs':>7} {'withheld':>8} {'overall':>14}  outcome")
    for r in rows:
        overall = (
            f"{r.overall_score:.2f} {r.overall_status}" if r.overall_score is not None else "—"
        )
        kpis = f"{r.kpis_with_value}/{r.kpis_total}" if r.kpis_total else "—"
        print(
            f"{r.period:<8} {r.rows_loaded:>12,} {kpis:>7} {r.kpis_withheld:>8} {overall:>14}"
            f"  {r.outcome}"
        )
    print(
        f"{len(done)} month(s) done, {len(failed)} failed"
        + (f" ({', '.join(failed)})" if failed else "")
        + (f", {len(partial)} with failed loads ({', '.join(partial)})" if partial else "")
        + f", {withheld} KPI value(s) withheld."
    )
    for failure in (f for r in rows for f in r.failed_loads):
        print(f"  load failed: {failure.line()}")

"""The benchmark's printed tables, its ratios, and the issue's targets read against the figures.

Targets are reported, never asserted: met, not met, or not measured at this run's scales.
"""

from __future__ import annotations

from tabulate import tabulate

from benchmarks.stages import STAGES

HEADERS = ("", "wall s", "CPU s", "peak RSS MB", "source rows/s")
GIB_MB = 1024.0
ALIGN = ("left",) + ("right",) * 4


def _num(value, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, int) or digits == 0:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def _row(name: str, figures: dict) -> list[str]:
    return [
        name,
        _num(figures["wall_s"]),
        _num(figures["cpu_s"]),
        _num(figures["peak_rss_mb"], 0),
        _num(figures.get("rows_per_s"), 0),
    ]


def run_table(run: dict) -> str:
    """Stages (with the steps they cover indented) and the total of one pipeline measurement."""
    rows = []
    for stage in STAGES:
        if stage not in run["stages"]:
            continue
        rows.append(_row(stage, run["stages"][stage]))
        parts = run["stage_parts"][stage]
        if len(parts) > 1:
            rows += [_row(f"  {name}", figures) for name, figures in parts.items()]
    rows.append(_row("total", run["total"]))
    return tabulate(rows, headers=HEADERS, disable_numparse=True, colalign=ALIGN)


def references_table(result: dict) -> str:
    """Start-up alone, the floor, the pandas script, beside the pipeline's totals."""
    rows = [
        _row("start-up alone (import + Definitions)", result["startup"]["total"]),
        _row("DuckDB floor (every file once)", result["floor"]["total"]),
        _row(
            "DuckDB month floor (every file once, one month kept)",
            result["month_floor"]["total"],
        ),
        _row("pandas script (5 KPIs x months)", result["pandas"]["total"])
        if "total" in result["pandas"]
        else ["pandas script (5 KPIs x months)", result["pandas"]["skipped"], "", "", ""],
        _row("pipeline: backfill", result["backfill"]["total"]),
        _row("pipeline: one month", result["month"]["total"]),
    ]
    return tabulate(rows, headers=HEADERS, disable_numparse=True, colalign=ALIGN)


def ratios(result: dict) -> dict[str, float]:
    """The ratios the issue asks for, at one scale."""
    backfill = result["backfill"]["total"]["wall_s"]
    figures = {"backfill_over_floor": round(backfill / result["floor"]["total"]["wall_s"], 2)}
    if "total" in result["pandas"]:
        figures["pandas_over_backfill"] = round(result["pandas"]["total"]["wall_s"] / backfill, 3)
    figures["backfill_over_month"] = round(backfill / result["month"]["total"]["wall_s"], 2)
    figures["month_over_month_floor"] = round(
        result["month"]["total"]["wall_s"] / result["month_floor"]["total"]["wall_s"], 2
    )
    return figures


def cross_scale(results: list[dict]) -> dict[str, float]:
    """Backfill wall time and source rows of each larger scale over the smallest."""
    ordered = sorted(results, key=lambda r: r["scale"])
    base = ordered[0]
    out = {}
    for other in ordered[1:]:
        name = f"scale_{other['scale']:g}_over_{base['scale']:g}"
        out[f"backfill_{name}"] = round(
            other["backfill"]["total"]["wall_s"] / base["backfill"]["total"]["wall_s"], 2
        )
        out[f"rows_{name}"] = round(other["source_rows"] / base["source_rows"], 2)
    return out


def _at(results: list[dict], scale: float) -> dict | None:
    return next((r for r in results if r["scale"] == scale), None)


def targets(results: list[dict]) -> list[dict]:
    """Each target of the issue with the figure it is read against: met, not met, not measured."""
    s1, s10, s100 = _at(results, 1), _at(results, 10), _at(results, 100)
    rows = []

    def add(target: str, figure: float | None, limit: str, met: bool | None) -> None:
        rows.append(
            {
                "target": target,
                "figure": figure,
                "limit": limit,
                "status": "not measured" if figure is None else ("met" if met else "not met"),
            }
        )

    def total(result: dict | None, run: str, figure: str) -> float | None:
        return result[run]["total"][figure] if result else None

    rss = total(s100, "backfill", "peak_rss_mb")
    add("backfill peak RSS at scale 100 (MB)", rss, f"< {GIB_MB * 2:.0f}", (rss or 0) < GIB_MB * 2)
    rss = total(s100, "month", "peak_rss_mb")
    add("one month peak RSS at scale 100 (MB)", rss, f"< {GIB_MB:.0f}", (rss or 0) < GIB_MB)
    ratio = ratios(s100)["backfill_over_floor"] if s100 else None
    add("backfill at scale 100 / DuckDB floor", ratio, "<= 3", (ratio or 0) <= 3)
    month = total(s100, "month", "wall_s")
    add("one month at scale 100 (wall s)", month, "< 30", (month or 0) < 30)
    month = total(s1, "month", "wall_s")
    add("one month at scale 1 (wall s)", month, "< 15", (month or 0) < 15)
    growth = (
        round(total(s100, "backfill", "wall_s") / total(s10, "backfill", "wall_s"), 2)
        if s10 and s100
        else None
    )
    add("backfill scale 100 / scale 10", growth, "<= 11", (growth or 0) <= 11)
    return rows


def targets_table(rows: list[dict]) -> str:
    """The targets as a table."""
    return tabulate(
        [[r["target"], _num(r["figure"]), r["limit"], r["status"]] for r in rows],
        headers=("target", "figure", "limit", "status"),
        disable_numparse=True,
    )


def scale_report(result: dict) -> str:
    """Everything printed for one scale."""
    startup = result["startup"]["parts"]
    lines = [
        "",
        f"== Scale {result['scale']:g}: {result['source_rows']:,} source rows "
        f"({result['export_mb']:,} MB of CSV), months {result['first']}..{result['last']} ==",
        "",
        f"One month ({result['last']}): `scorecard run --period {result['last']}`, "
        "load to PDF and outbox email",
        run_table(result["month"]),
        "",
        f"Backfill ({result['months']} months): `scorecard backfill --from {result['first']} "
        f"--to {result['last']}`",
        run_table(result["backfill"]),
        "",
        "References (each a fresh process; start-up alone: import "
        f"{startup['import_s']:.2f} s, Definitions {startup['definitions_s']:.2f} s)",
        references_table(result),
        "",
        f"Check: pandas = pipeline for {result['check']['compared']} values within "
        f"{result['check']['tolerance']:g} (largest difference "
        f"{result['check']['max_abs_diff']:.2g})"
        if "compared" in result["check"]
        else f"Check: {result['check']['skipped']}",
        "Ratios: " + ", ".join(f"{k} {v:g}" for k, v in ratios(result).items()),
    ]
    return "\n".join(lines)

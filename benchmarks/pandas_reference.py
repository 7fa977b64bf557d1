"""The usual alternative: a plain pandas script over the CSV exports, before there is a pipeline.

It reads the exports the demo writes and computes five KPIs for every month of a range, one per
perspective and one ratio KPI's year to date, with the same definitions as sql/kpis/:

- revenue_usd (financial): revenue lines of the general ledger, summed.
- nps (customer): % promoters (9-10) less % detractors (0-6) of all answers.
- on_time_delivery_pct (internal process): delivered orders placed in the month that arrived on or
  before the promised date, as a share of the delivered ones.
- engagement_favourable_pct (learning and growth): answers 4 or 5 as a share of all answers.
- gross_margin_pct year to date (financial, a ratio): (revenue - cost of sales) / revenue over
  the fiscal year so far, a ratio of sums.

Run as `python -m benchmarks.pandas_reference --exports DIR --from YYYY-MM --to YYYY-MM
--out FILE.json`. `pipeline_values` and `compare` check its figures against kpi.kpi_values.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import pandas as pd

# (KPI id, the kpi.kpi_values column it is compared with)
KPIS = (
    ("revenue_usd", "value"),
    ("nps", "value"),
    ("on_time_delivery_pct", "value"),
    ("engagement_favourable_pct", "value"),
    ("gross_margin_pct", "ytd_value"),
)
TOLERANCE = 1e-6


def read_exports(exports: Path) -> dict[str, pd.DataFrame]:
    """The four exports the five KPIs need, dates parsed."""
    return {
        "gl": pd.read_csv(exports / "finance/gl_entries.csv", parse_dates=["entry_date"]),
        "nps": pd.read_csv(exports / "crm/nps_responses.csv", parse_dates=["response_date"]),
        "orders": pd.read_csv(
            exports / "operations/orders.csv",
            parse_dates=["order_date", "promised_date", "delivered_date"],
        ),
        "engagement": pd.read_csv(
            exports / "hr/engagement_responses.csv", parse_dates=["response_date"]
        ),
    }


def _between(
    frame: pd.DataFrame, column: str, start: pd.Timestamp, end: pd.Timestamp
) -> pd.DataFrame:
    return frame[(frame[column] >= start) & (frame[column] < end)]


def _share(part: int, whole: int) -> float | None:
    return part / whole * 100 if whole else None


def month_kpis(
    data: dict[str, pd.DataFrame], start: pd.Timestamp, year_start: pd.Timestamp
) -> dict[str, float | None]:
    """The five KPIs of the month beginning at `start` (fiscal year from `year_start`)."""
    end = start + pd.DateOffset(months=1)
    gl = _between(data["gl"], "entry_date", start, end)
    revenue_lines = gl[gl["account_type"] == "revenue"]
    revenue = float(revenue_lines["amount_usd"].sum()) if len(revenue_lines) else None

    scores = _between(data["nps"], "response_date", start, end)["score"]
    nps = _share(int((scores >= 9).sum()) - int((scores <= 6).sum()), len(scores))

    orders = _between(data["orders"], "order_date", start, end)
    delivered = orders[orders["delivered_date"].notna()]
    on_time = _share(
        int((delivered["delivered_date"] <= delivered["promised_date"]).sum()), len(delivered)
    )

    answers = _between(data["engagement"], "response_date", start, end)["score"]
    favourable = _share(int((answers >= 4).sum()), len(answers))

    year = _between(data["gl"], "entry_date", year_start, end)
    ytd_revenue = year.loc[year["account_type"] == "revenue", "amount_usd"].sum()
    ytd_cost = year.loc[year["account_type"] == "cost_of_sales", "amount_usd"].sum()
    margin = (ytd_revenue - ytd_cost) / ytd_revenue * 100 if ytd_revenue else None

    return {
        "revenue_usd": revenue,
        "nps": nps,
        "on_time_delivery_pct": on_time,
        "engagement_favourable_pct": favourable,
        "gross_margin_pct": margin,
    }


def kpis(
    exports: Path, first: str, last: str, fiscal_start_month: int = 1
) -> dict[str, dict[str, float | None]]:
    """{kpi id: {'YYYY-MM': value}} for every month first..last ('YYYY-MM')."""
    data = read_exports(exports)
    values: dict[str, dict[str, float | None]] = {kpi: {} for kpi, _ in KPIS}
    for start in pd.date_range(first, last, freq="MS"):
        year = start.year if start.month >= fiscal_start_month else start.year - 1
        year_start = pd.Timestamp(year=year, month=fiscal_start_month, day=1)
        for kpi, value in month_kpis(data, start, year_start).items():
            values[kpi][start.strftime("%Y-%m")] = value
    return values


def pipeline_values(con, first: str, last: str) -> dict[str, dict[str, float | None]]:
    """The same five figures as the pipeline wrote them to kpi.kpi_values."""
    values: dict[str, dict[str, float | None]] = {kpi: {} for kpi, _ in KPIS}
    for kpi, column in KPIS:
        rows = con.execute(
            f"select strftime(period, '%Y-%m'), {column} from kpi.kpi_values "
            "where kpi_id = ? and strftime(period, '%Y-%m') between ? and ? order by period",
            [kpi, first, last],
        ).fetchall()
        values[kpi] = dict(rows)
    return values


def compare(reference: dict, pipeline: dict, tolerance: float = TOLERANCE) -> dict:
    """Where the two disagree by more than `tolerance` (relative above 1, absolute below).

    Returns the number of values compared, the largest differences and the mismatches.
    """
    mismatches, compared, worst_abs, worst_rel = [], 0, 0.0, 0.0
    for kpi, _ in KPIS:
        months = sorted(set(reference.get(kpi, {})) | set(pipeline.get(kpi, {})))
        for month in months:
            ours, theirs = reference.get(kpi, {}).get(month), pipeline.get(kpi, {}).get(month)
            compared += 1
            if ours is None or theirs is None:
                if ours is not theirs:
                    mismatches.append((kpi, month, ours, theirs))
                continue
            diff = float(abs(ours - theirs))
            worst_abs = max(worst_abs, diff)
            worst_rel = max(worst_rel, diff / max(1.0, abs(float(theirs))))
            if not math.isclose(ours, theirs, rel_tol=tolerance, abs_tol=tolerance):
                mismatches.append((kpi, month, ours, theirs))
    return {
        "compared": compared,
        "max_abs_diff": worst_abs,
        "max_rel_diff": worst_rel,
        "tolerance": tolerance,
        "mismatches": mismatches,
    }


def main(argv: list[str] | None = None) -> int:
    """Compute the five KPIs for a range of months and write them as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exports", type=Path, required=True, help="the demo exports folder")
    parser.add_argument("--from", dest="first", required=True, help="first month YYYY-MM")
    parser.add_argument("--to", dest="last", required=True, help="last month YYYY-MM")
    parser.add_argument("--fiscal-start-month", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True, help="where to write the JSON")
    args = parser.parse_args(argv)
    values = kpis(args.exports, args.first, args.last, args.fiscal_start_month)
    args.out.write_text(json.dumps(values), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

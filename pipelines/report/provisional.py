"""Whether a month's scorecard is provisional, and how much of its weight was scored.

A month is provisional when any KPI in force is withheld or has no data, or when a source
table's load failed for it. The roll-up renormalises over what scored (pipelines.scoring), which
can raise a score; so wherever the score is the headline (the cover, the email's subject and
body) it is preceded by the share of the weight that was scored.

The share follows the roll-up's own tree, from the coverage it stored per node: an objective
counts for the part of its KPIs' weight that scored (scored_weight over total_weight), a
perspective for the weighted mean of its objectives, the scorecard for the weighted mean of the
perspectives shown. A recipient list that sees some perspectives gets the share of what it sees.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pipelines.report.formatting import format_number
from pipelines.report.model import ObjectiveLine, PerspectiveLine, ScorecardReport
from pipelines.scoring.statuses import NO_DATA, WITHHELD


@dataclass(frozen=True)
class Provisional:
    """What makes a month's scorecard provisional."""

    share: float | None  # 0..1 of the weight shown that scored (None: no weight at all)
    withheld: int  # KPIs withheld
    no_data: int  # KPIs without data
    failed_loads: tuple[str, ...] = ()  # source tables whose load failed for the month


def _weighted(members: Iterable[tuple[float, float]]) -> float | None:
    members = [(w, s) for w, s in members if w > 0]  # weight 0: not in the roll-up this period
    total = sum(w for w, _ in members)
    return sum(w * s for w, s in members) / total if total else None


def objective_share(objective: ObjectiveLine) -> float:
    """The part of an objective's KPI weight that scored (0 when it has none)."""
    coverage = objective.coverage
    return coverage.scored_weight / coverage.total_weight if coverage.total_weight else 0.0


def perspective_share(perspective: PerspectiveLine) -> float:
    """The part of a perspective's weight that scored, through its objectives."""
    share = _weighted((o.weight, objective_share(o)) for o in perspective.objectives)
    return share or 0.0


def weight_share(perspectives: Iterable[PerspectiveLine]) -> float | None:
    """The part of these perspectives' weight that scored (None when they weigh nothing)."""
    return _weighted((p.weight, perspective_share(p)) for p in perspectives)


def provisional(report: ScorecardReport) -> Provisional | None:
    """Why the report is provisional, or None for a complete month."""
    kpis = report.kpis()
    withheld = sum(k.status == WITHHELD for k in kpis)
    no_data = sum(k.status == NO_DATA for k in kpis)
    if not (withheld or no_data or report.load_failures):
        return None
    return Provisional(
        weight_share(report.perspectives), withheld, no_data, tuple(report.load_failures)
    )


def share_text(share: float, locale: str = "en_US") -> str:
    """'82 %': never 100 % while some weight is missing, never 0 % while some scored."""
    percent = round(share * 100)
    if share < 1:
        percent = min(percent, 99)
    if share > 0:
        percent = max(percent, 1)
    return f"{format_number(percent, 0, locale)} %"


def _counts(p: Provisional, locale: str) -> str:
    """'2 KPIs withheld, 1 without data, 1 table failed to load'."""
    parts = []
    for count, what in ((p.withheld, "withheld"), (p.no_data, "without data")):
        if count:
            noun = "" if parts else (" KPI" if count == 1 else " KPIs")
            parts.append(f"{format_number(count, 0, locale)}{noun} {what}")
    if p.failed_loads:
        count = len(p.failed_loads)
        noun = "table" if count == 1 else "tables"
        parts.append(f"{format_number(count, 0, locale)} {noun} failed to load")
    return ", ".join(parts)


def provisional_note(p: Provisional | None, locale: str = "en_US") -> str:
    """'Provisional — 82 % of the weight scored (2 KPIs withheld, 1 without data)'; '' when
    the month is complete."""
    if p is None:
        return ""
    text = "Provisional"
    if p.share is not None:
        text += f" \u2014 {share_text(p.share, locale)} of the weight scored"
    return f"{text} ({_counts(p, locale)})"


def provisional_marker(p: Provisional | None, locale: str = "en_US") -> str:
    """'Provisional (82 % scored)', for a subject line; '' when the month is complete."""
    if p is None:
        return ""
    if p.share is None:
        return "Provisional"
    return f"Provisional ({share_text(p.share, locale)} scored)"

"""The month's highlights: successes, areas for improvement and status changes, computed."""

from __future__ import annotations

from collections.abc import Sequence

from pipelines.report.model import Highlight, KpiLine
from pipelines.scoring.statuses import AT_RISK, OFF_TRACK, ON_TRACK

SCORED = (ON_TRACK, AT_RISK, OFF_TRACK)
LABELS = {ON_TRACK: "on track", AT_RISK: "at risk", OFF_TRACK: "off track"}
RANK = {OFF_TRACK: 0, AT_RISK: 1, ON_TRACK: 2}
TOP = 3


def _delta(kpi: KpiLine) -> float | None:
    if kpi.score is None or kpi.previous_score is None:
        return None
    return kpi.score - kpi.previous_score


def status_changes(kpis: Sequence[KpiLine]) -> list[Highlight]:
    """KPIs whose status moved since the previous month, better first."""
    moved = [
        k
        for k in kpis
        if k.status in SCORED and k.previous_status in SCORED and k.status != k.previous_status
    ]
    moved.sort(key=lambda k: RANK[k.previous_status] - RANK[k.status])
    return [
        Highlight("status_change", k, f"{LABELS[k.previous_status]} → {LABELS[k.status]}")
        for k in moved
    ]


def successes(kpis: Sequence[KpiLine]) -> list[Highlight]:
    """On-track KPIs that improved most against the previous month."""
    improved = [k for k in kpis if k.status == ON_TRACK and (_delta(k) or 0) > 0]
    improved.sort(key=lambda k: -_delta(k))
    return [
        Highlight("success", k, f"score up {_delta(k):.1f} to {k.score:.1f}")
        for k in improved[:TOP]
    ]


def improvement_areas(kpis: Sequence[KpiLine]) -> list[Highlight]:
    """Off-track and at-risk KPIs, furthest from target first, then those that worsened most."""
    weak = [k for k in kpis if k.status in (OFF_TRACK, AT_RISK)]
    weak.sort(key=lambda k: (RANK[k.status], k.score, _delta(k) or 0))
    reasons = []
    for k in weak[:TOP]:
        delta = _delta(k)
        trend = f", score {'down' if delta < 0 else 'up'} {abs(delta):.1f}" if delta else ""
        reasons.append(Highlight("improvement_area", k, f"{LABELS[k.status]}{trend}"))
    return reasons


def highlights(kpis: Sequence[KpiLine]) -> tuple[Highlight, ...]:
    """Successes, areas for improvement, then status changes."""
    return tuple(successes(kpis) + improvement_areas(kpis) + status_changes(kpis))

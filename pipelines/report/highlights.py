"""The month's highlights: signals, successes, areas for improvement and status changes.

Signals come first, and within each list a KPI whose month is a signal comes before one whose
month is routine variation (pipelines.scoring.signals): a single month crossing a red flag is
often noise, a signal is not.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipelines.report.labels import signal_effect, signal_rules
from pipelines.report.model import Highlight, KpiLine
from pipelines.scoring.signals import ROUTINE, SIGNAL
from pipelines.scoring.statuses import AT_RISK, OFF_TRACK, ON_TRACK

SCORED = (ON_TRACK, AT_RISK, OFF_TRACK)
LABELS = {ON_TRACK: "on track", AT_RISK: "at risk", OFF_TRACK: "off track"}
RANK = {OFF_TRACK: 0, AT_RISK: 1, ON_TRACK: 2}
EFFECT_RANK = {"deterioration": 0, None: 1, "improvement": 2}
TOP = 3


def _delta(kpi: KpiLine) -> float | None:
    if kpi.score is None or kpi.previous_score is None:
        return None
    return kpi.score - kpi.previous_score


def _is_signal(kpi: KpiLine) -> bool:
    return kpi.signal is not None and kpi.signal.state == SIGNAL


def _routine(kpi: KpiLine) -> bool:
    return kpi.signal is not None and kpi.signal.state == ROUTINE


def _kind(kpi: KpiLine) -> str:
    """', a signal of deterioration', ', routine variation' or '' (no limits)."""
    if _is_signal(kpi):
        effect = signal_effect(kpi.signal, kpi.direction)
        return f", a signal of {effect}" if effect else ", a signal"
    return ", routine variation" if _routine(kpi) else ""


def signals(kpis: Sequence[KpiLine]) -> list[Highlight]:
    """KPIs whose month is a signal, deteriorations first, then the weakest status; a month
    carrying an earlier measurement repeats no signal (it was news when measured)."""
    found = [k for k in kpis if _is_signal(k) and not k.carried]
    found.sort(
        key=lambda k: (EFFECT_RANK[signal_effect(k.signal, k.direction)], RANK.get(k.status, 3))
    )
    return [
        Highlight(
            "signal",
            k,
            signal_rules(k.signal)
            + (f" ({effect})" if (effect := signal_effect(k.signal, k.direction)) else ""),
        )
        for k in found
    ]


def status_changes(kpis: Sequence[KpiLine]) -> list[Highlight]:
    """KPIs whose status moved since the previous month: signals first, then better first; a
    move within routine variation says so."""
    moved = [
        k
        for k in kpis
        if k.status in SCORED and k.previous_status in SCORED and k.status != k.previous_status
    ]
    moved.sort(key=lambda k: (not _is_signal(k), RANK[k.previous_status] - RANK[k.status]))
    return [
        Highlight(
            "status_change",
            k,
            f"{LABELS[k.previous_status]} → {LABELS[k.status]}{_kind(k)}",
        )
        for k in moved
    ]


def successes(kpis: Sequence[KpiLine]) -> list[Highlight]:
    """On-track KPIs that improved most against the previous month, signals first."""
    improved = [k for k in kpis if k.status == ON_TRACK and (_delta(k) or 0) > 0]
    improved.sort(key=lambda k: (not _is_signal(k), -_delta(k)))
    return [
        Highlight(
            "success",
            k,
            f"score up {_delta(k):.1f} to {k.score:.1f}{_kind(k) if _is_signal(k) else ''}",
        )
        for k in improved[:TOP]
    ]


def improvement_areas(kpis: Sequence[KpiLine]) -> list[Highlight]:
    """Off-track and at-risk KPIs, furthest from target first (a signal before routine
    variation of the same status), then those that worsened most."""
    weak = [k for k in kpis if k.status in (OFF_TRACK, AT_RISK)]
    weak.sort(key=lambda k: (RANK[k.status], not _is_signal(k), k.score, _delta(k) or 0))
    reasons = []
    for k in weak[:TOP]:
        delta = _delta(k)
        trend = f", score {'down' if delta < 0 else 'up'} {abs(delta):.1f}" if delta else ""
        reasons.append(Highlight("improvement_area", k, f"{LABELS[k.status]}{trend}{_kind(k)}"))
    return reasons


def highlights(kpis: Sequence[KpiLine]) -> tuple[Highlight, ...]:
    """Signals, successes, areas for improvement, then status changes."""
    return tuple(signals(kpis) + successes(kpis) + improvement_areas(kpis) + status_changes(kpis))

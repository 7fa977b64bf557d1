"""Words and symbols for what is not a KPI status: initiatives, months, highlight kinds."""

from __future__ import annotations

from pipelines.catalog.models import CustomUnit
from pipelines.periods import Period
from pipelines.scoring.signals import (
    ABOVE,
    BELOW,
    NEAR,
    NEAR_COUNT,
    NEAR_WINDOW,
    OUTSIDE,
    ROUTINE,
    RUN,
    RUN_LENGTH,
    SIGNAL,
    MonthSignal,
)

INITIATIVE_LABELS = {
    "not_started": "Not started",
    "on_schedule": "On schedule",
    "behind": "Behind",
    "completed": "Completed",
    "cancelled": "Cancelled",
}
# Glyphs present in DejaVu Sans, so an initiative's state never relies on colour alone.
INITIATIVE_SYMBOLS = {
    "not_started": "\u25cb",  # ○
    "on_schedule": "\u25cf",  # ●
    "behind": "\u25b2",  # ▲
    "completed": "\u2713",  # ✓
    "cancelled": "\u2715",  # ✕
}
OVERDUE_SYMBOL = "\u25a0"  # ■, as off track
AT_RISK_SYMBOL = "\u25b2"  # ▲, as at risk


ACTION_LABELS = {
    "open": "Open",
    "in_progress": "In progress",
    "done": "Done",
    "cancelled": "Cancelled",
}


def action_label(status: str) -> str:
    """'In progress' for 'in_progress'."""
    return ACTION_LABELS.get(status, status.replace("_", " ").capitalize())


def initiative_label(status: str) -> str:
    """'On schedule' for 'on_schedule'; unknown codes read as they are, underscores spaced."""
    return INITIATIVE_LABELS.get(status, status.replace("_", " ").capitalize())


def initiative_symbol(status: str) -> str:
    """The glyph of an initiative's status."""
    return INITIATIVE_SYMBOLS.get(status, "\u25cb")


def initiative_state(initiative) -> str:
    """The CSS class of an initiative's derived state: overdue, at-risk, done or open."""
    if initiative.overdue:
        return "overdue"
    if initiative.at_risk:
        return "at-risk"
    return "done" if initiative.status in ("completed", "cancelled") else "open"


def month_label(key: str | None) -> str:
    """'September 2026' for '2026-09' (an empty string for None)."""
    return Period.parse(key).label if key else ""


DIRECTION_LABELS = {
    "higher_is_better": "Higher is better",
    "lower_is_better": "Lower is better",
    "within_range": "Within a range",
}
DIRECTION_ARROWS = {
    "higher_is_better": "\u2191",
    "lower_is_better": "\u2193",
    "within_range": "\u2194",
}  # ↑ ↓ ↔
UNIT_LABELS = {
    "pct": "Percent",
    "days": "Days",
    "hours": "Hours",
    "count": "Count",
    "score": "Score",
    "ratio": "Ratio",
}


def direction_label(direction: str) -> str:
    """'Higher is better' for 'higher_is_better'; an unknown code reads as it is."""
    return DIRECTION_LABELS.get(direction, direction)


def direction_arrow(direction: str) -> str:
    """The arrow beside a target: ↑ higher is better, ↓ lower, ↔ within a range."""
    return DIRECTION_ARROWS.get(direction, "")


def unit_label(unit: str | CustomUnit, currency: str) -> str:
    """'Percent' for 'pct', 'Currency (EUR)' for 'usd' in a euro report, 'MWh' for a unit of the
    KPI's own; others as they are."""
    if isinstance(unit, CustomUnit):
        return unit.label
    if unit == "usd":
        return f"Currency ({currency})"
    return UNIT_LABELS.get(unit, unit)


SIGNAL_SYMBOL = "\u25c6"  # ◆: a signal, beside its words, never colour alone
_LIMIT = {ABOVE: "upper", BELOW: "lower"}


def signal_rules(signal: MonthSignal) -> str:
    """The rules a month's signal broke, in words: 'above the upper limit; 8 values in a row
    above the centre line' (pipelines.scoring.signals; values, not months: a month without a
    value is skipped, and a quarterly KPI's values are its measurements)."""
    words = []
    side = signal.side or ABOVE
    for rule in signal.rules:
        if rule == OUTSIDE:
            words.append(f"{side} the {_LIMIT[side]} limit")
        elif rule == RUN:
            words.append(f"{RUN_LENGTH} values in a row {side} the centre line")
        elif rule == NEAR:
            words.append(
                f"{NEAR_COUNT} of the last {NEAR_WINDOW} values near the {_LIMIT[side]} limit"
            )
    return "; ".join(words)


def signal_effect(signal: MonthSignal | None, direction: str) -> str | None:
    """'improvement' or 'deterioration' for a signal of a one-sided KPI; None otherwise."""
    if signal is None or signal.state != SIGNAL or direction == "within_range":
        return None
    better = ABOVE if direction == "higher_is_better" else BELOW
    return "improvement" if signal.side == better else "deterioration"


def signal_label(signal: MonthSignal | None, direction: str) -> str:
    """The short verdict beside a KPI: '◆ signal, deterioration', 'routine variation', 'no
    limits yet'; '' without a value this month."""
    if signal is None:
        return ""
    if signal.state == SIGNAL:
        effect = signal_effect(signal, direction)
        return f"{SIGNAL_SYMBOL} signal" + (f", {effect}" if effect else "")
    if signal.state == ROUTINE:
        return "routine variation"
    return "no limits yet"

"""The vocabulary scoring gives every KPI and roll-up: its status codes and its coverage.

Scoring owns it; the report and the email read it from here.
"""

from __future__ import annotations

from dataclasses import dataclass

# Status codes, shared by KPIs and rolled-up scores.
ON_TRACK = "on_track"
AT_RISK = "at_risk"
OFF_TRACK = "off_track"
NO_DATA = "no_data"
NO_TARGET = "no_target"
WITHHELD = "withheld"


@dataclass(frozen=True)
class Coverage:
    """How much of a rolled-up score is backed by members that scored."""

    scored: int
    total: int
    scored_weight: float
    total_weight: float

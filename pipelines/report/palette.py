"""Colours of the SVG graphics, the same as the CSS variables of reports/static/report.css.

Status colours only reinforce a status: every graphic also writes the status as a symbol or text.
"""

from __future__ import annotations

from pipelines.scoring.statuses import AT_RISK, OFF_TRACK, ON_TRACK

INK = "#1b2430"
INK_SOFT = "#4a5566"
MUTED = "#6b7584"
RULE = "#dde2e9"
ACTUAL = "#1f3b73"
TARGET = "#8a94a6"
TRACK = "#e4e8ee"
ARROW = "#5f6b7a"
GREY = "#9aa3af"
LIMITS = "#5b3a8c"  # a KPI's centre line, natural process limits and signals

# Marks and fills (bars, box outlines) and the darker text colours that pass contrast checks.
STATUS_MARK = {ON_TRACK: "#1f8a4c", AT_RISK: "#d98a00", OFF_TRACK: "#c8322a"}
STATUS_TEXT = {ON_TRACK: "#1f7a45", AT_RISK: "#935400", OFF_TRACK: "#b3261e"}
STATUS_TINT = {ON_TRACK: "#e4f4ea", AT_RISK: "#fdf1dc", OFF_TRACK: "#fce8e6"}
NEUTRAL_MARK, NEUTRAL_TEXT, NEUTRAL_TINT = "#8a94a6", "#5c6675", "#f1f3f6"

# Zones of a KPI's trend chart: good side of the target, between target and red flag, past it.
ZONE_TINT = {ON_TRACK: "#e9f5ee", AT_RISK: "#fdf3e1", OFF_TRACK: "#fbe9e7"}

# The four perspective colours, top band first; a fifth or later perspective reuses them.
PERSPECTIVE = ("#1f3b73", "#0f6e74", "#5b3a8c", "#334155")
PERSPECTIVE_TINT = ("#f0f3f8", "#ecf5f5", "#f3f0f7", "#f0f2f4")

# The email's status text colours (inline styles: mail clients ignore stylesheets).
EMAIL_STATUS_TEXT = {ON_TRACK: "#1a7f37", AT_RISK: "#9a6700", OFF_TRACK: "#cf222e"}
EMAIL_NEUTRAL_TEXT = "#57606a"


def perspective_band(number: int) -> int:
    """The colour band (1-4) of the perspective at this 1-based position: the fifth reuses 1."""
    return (number - 1) % len(PERSPECTIVE) + 1


def email_text(status: str) -> str:
    """The email's text colour of a status (grey for no data, no target, withheld)."""
    return EMAIL_STATUS_TEXT.get(status, EMAIL_NEUTRAL_TEXT)


def mark(status: str) -> str:
    """The fill colour of a status mark (grey for no data, no target, withheld)."""
    return STATUS_MARK.get(status, NEUTRAL_MARK)


def text(status: str) -> str:
    """The text colour of a status."""
    return STATUS_TEXT.get(status, NEUTRAL_TEXT)


def tint(status: str) -> str:
    """The light background of a status."""
    return STATUS_TINT.get(status, NEUTRAL_TINT)

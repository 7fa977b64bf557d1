"""Number, status and date formatting for the report, and the one place its filters are registered.

Every function is pure and takes a ``locale`` argument (``en_US`` by default; ``de_DE`` swaps the
thousand and decimal separators and puts the currency symbol after the amount). A missing value
(None, NaN or infinite) is always shown as an em dash, never as 0. Negative numbers use the
typographic minus sign (U+2212).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from pipelines.catalog.locales import locale_style
from pipelines.catalog.models import UNIT_NAMES, CustomUnit
from pipelines.scoring.statuses import AT_RISK, NO_DATA, NO_TARGET, OFF_TRACK, ON_TRACK, WITHHELD

DASH = "\u2014"  # em dash: the value is missing
MINUS = "\u2212"  # typographic minus sign
EN_DASH = "\u2013"  # range separator

_DECIMALS = {"pct": 1, "days": 1, "hours": 1, "count": 0, "score": 1, "ratio": 2}
_SUFFIX = {"pct": " %", "days": " days", "hours": " h"}

STATUS_LABELS = {
    ON_TRACK: "On track",
    AT_RISK: "At risk",
    OFF_TRACK: "Off track",
    NO_DATA: "No data",
    NO_TARGET: "No target",
    WITHHELD: "Withheld",
}
# Glyphs present in DejaVu Sans, so status never relies on colour alone.
STATUS_SYMBOLS = {
    ON_TRACK: "\u25cf",  # ● black circle
    AT_RISK: "\u25b2",  # ▲ black up-pointing triangle
    OFF_TRACK: "\u25a0",  # ■ black square
    NO_DATA: "\u25cb",  # ○ white circle
    NO_TARGET: "\u25c7",  # ◇ white diamond
    WITHHELD: "\u2298",  # ⊘ circled division slash
}
_CURRENCY_SYMBOLS = {"USD": "$", "EUR": "\u20ac", "GBP": "\u00a3", "JPY": "\u00a5", "CHF": "CHF"}


def _missing(value: float | None) -> bool:
    return value is None or not math.isfinite(value)


def format_number(value: float | None, decimals: int = 0, locale: str = "en_US") -> str:
    """A number with grouped thousands and a fixed number of decimals ('1,234.5')."""
    if _missing(value):
        return DASH
    style = locale_style(locale)
    text = f"{abs(value):,.{decimals}f}"
    if text.strip("0.,") == "":  # rounds to zero: no sign
        value = 0.0
    text = text.replace(",", "\0").replace(".", style.decimal).replace("\0", style.group)
    return (MINUS if value < 0 else "") + text


def currency_symbol(currency: str) -> str:
    """The symbol of an ISO currency code ('USD' -> '$'); unknown codes stay as they are."""
    return _CURRENCY_SYMBOLS.get(currency.upper(), currency.upper())


def _money(value: float, currency: str, locale: str, sign: str = "") -> str:
    """A money amount; from a million on it is compact ('$2.41M')."""
    style = locale_style(locale)
    magnitude = abs(value)
    if magnitude >= 1e9:
        digits = format_number(magnitude / 1e9, 2, locale) + "B"
    elif magnitude >= 1e6:
        digits = format_number(magnitude / 1e6, 2, locale) + "M"
    else:
        digits = format_number(magnitude, 0 if magnitude >= 100 else 2, locale)
    symbol = currency_symbol(currency)
    if style.currency_after:
        return f"{sign}{digits}\u00a0{symbol}"
    spacer = "" if len(symbol) == 1 or symbol.endswith("$") else "\u00a0"
    return f"{sign}{symbol}{spacer}{digits}"


def _sign(text: str, signed: bool) -> str:
    """The sign to print before a formatted number: '−', '+' (if signed) or none for zero."""
    if text.startswith(MINUS):
        return MINUS
    return "+" if signed and text.strip("0.,") != "" else ""


def format_value(
    value: float | None, unit: str | CustomUnit, currency: str = "USD", locale: str = "en_US"
) -> str:
    """A KPI value in its unit: '$1,234', '42.3 %', '7.2 days', '24.1 h', '1,204', '6.7', '2.15',
    '357.2 MWh' (a unit of the KPI's own)."""
    return _format_unit(value, unit, currency, locale, signed=False)


def format_variance(
    value: float | None, unit: str | CustomUnit, currency: str = "USD", locale: str = "en_US"
) -> str:
    """A signed variance in the KPI's unit: '+1.2 pts' for percentages, '+$12,345', '−3.0 days'."""
    if unit == "pct" and not _missing(value):
        text = format_number(value, 1, locale)
        sign = _sign(text, signed=True)
        return f"{sign}{text.lstrip(MINUS)} pts"
    return _format_unit(value, unit, currency, locale, signed=True)


def _format_unit(
    value: float | None, unit: str | CustomUnit, currency: str, locale: str, signed: bool
) -> str:
    if isinstance(unit, CustomUnit):  # a unit of the KPI's own: '357.2 MWh'
        if _missing(value):
            return DASH
        text = format_number(value, unit.decimals, locale)
        return f"{_sign(text, signed)}{text.lstrip(MINUS)} {unit.label}"
    if unit not in UNIT_NAMES:
        raise ValueError(f"unknown unit {unit!r}; known: {', '.join(UNIT_NAMES)}")
    if _missing(value):
        return DASH
    if unit == "usd":
        probe = format_number(value, 0 if abs(value) >= 100 else 2, locale)
        sign = _sign(probe, signed)
        return _money(value, currency, locale, sign)
    text = format_number(value, _DECIMALS[unit], locale)
    sign = _sign(text, signed)
    return f"{sign}{text.lstrip(MINUS)}{_SUFFIX.get(unit, '')}"


def format_variance_pct(value: float | None, locale: str = "en_US") -> str:
    """A signed relative variance: '+4.2 %', '−3.1 %'."""
    if _missing(value):
        return DASH
    text = format_number(value, 1, locale)
    sign = _sign(text, signed=True)
    return f"{sign}{text.lstrip(MINUS)} %"


def format_score(value: float | None, locale: str = "en_US") -> str:
    """A 0..10 score with one decimal: '6.7'."""
    return format_number(value, 1, locale)


def format_change(current: float | None, previous: float | None, locale: str = "en_US") -> str:
    """The signed change of a score since the previous period ('+0.4'); a dash if one is missing."""
    if _missing(current) or _missing(previous):
        return DASH
    change = current - previous
    text = format_number(change, 1, locale)
    sign = _sign(text, signed=True)
    return f"{sign}{text.lstrip(MINUS)}"


def change_direction(current: float | None, previous: float | None) -> str:
    """'up', 'down', 'flat' or 'none' for the change of a score (rounded to one decimal)."""
    if _missing(current) or _missing(previous):
        return "none"
    change = round(current - previous, 1)
    return "up" if change > 0 else "down" if change < 0 else "flat"


def format_target(
    target: float | None,
    lower: float | None,
    upper: float | None,
    direction: str,
    unit: str | CustomUnit,
    currency: str = "USD",
    locale: str = "en_US",
) -> str:
    """The target of a KPI; a within_range KPI shows 'lower – upper'."""
    if direction != "within_range":
        return format_value(target, unit, currency, locale)
    if _missing(lower) and _missing(upper):
        return DASH
    low = format_value(lower, unit, currency, locale)
    high = format_value(upper, unit, currency, locale)
    return f"{low} {EN_DASH} {high}"


def format_coverage(coverage: Any, noun: str = "KPIs", locale: str = "en_US") -> str:
    """How much of a score is backed by data: '7 of 8 KPIs scored · 86 % of weight'."""
    scored = format_number(coverage.scored, 0, locale)
    total = format_number(coverage.total, 0, locale)
    text = f"{scored} of {total} {noun} scored"
    if coverage.total_weight:
        share = coverage.scored_weight / coverage.total_weight * 100
        text += f" \u00b7 {format_number(share, 0, locale)} % of weight"
    return text


def coverage_incomplete(coverage: Any) -> bool:
    """Whether fewer members scored than exist."""
    return coverage.scored < coverage.total


def format_datetime(value: datetime | None, locale: str = "en_US") -> str:
    """A timestamp to the minute, with 'UTC' (or the offset) when it is timezone-aware."""
    if value is None:
        return DASH
    text = value.strftime(locale_style(locale).date_format)
    offset = value.utcoffset()
    if offset is None:
        return text
    return f"{text} UTC" if not offset else f"{text} {value.strftime('%z')}"


def _known_status(status: str) -> str:
    if status not in STATUS_LABELS:
        raise ValueError(f"unknown status {status!r}")
    return status


def status_label(status: str) -> str:
    """The reader's label of a status code: 'On track', 'At risk', ..."""
    return STATUS_LABELS[_known_status(status)]


def status_symbol(status: str) -> str:
    """The glyph of a status code, so status never relies on colour alone."""
    return STATUS_SYMBOLS[_known_status(status)]


def status_class(status: str) -> str:
    """The CSS class of a status code: 'status-on-track'."""
    return "status-" + _known_status(status).replace("_", "-")


def _locale_bound(locale: str) -> dict[str, Callable[..., Any]]:
    return {
        "number": partial(format_number, locale=locale),
        "value": partial(format_value, locale=locale),
        "variance": partial(format_variance, locale=locale),
        "variance_pct": partial(format_variance_pct, locale=locale),
        "score": partial(format_score, locale=locale),
        "change": partial(format_change, locale=locale),
        "target": partial(format_target, locale=locale),
        "coverage": partial(format_coverage, locale=locale),
        "datetime": partial(format_datetime, locale=locale),
    }


def register_filters(env: Any, locale: str = "en_US") -> None:
    """Register every report filter (and the chart helpers) on a Jinja environment."""
    from markupsafe import Markup

    from pipelines.report import labels, palette
    from pipelines.report.charts import progress_bar_svg, score_bar_svg, sparkline_svg
    from pipelines.report.provisional import provisional_note
    from pipelines.report.trend_chart import trend_chart_svg

    locale_style(locale)  # fail early on an unsupported locale
    env.filters.update(_locale_bound(locale))
    env.filters["provisional_note"] = partial(provisional_note, locale=locale)
    env.filters.update(
        {
            "change_direction": change_direction,
            "coverage_incomplete": coverage_incomplete,
            "status_label": status_label,
            "status_symbol": status_symbol,
            "status_class": status_class,
            "sparkline": lambda points, **kw: Markup(sparkline_svg(points, **kw)),  # noqa: S704
            "score_bar": lambda score, **kw: Markup(score_bar_svg(score, **kw)),  # noqa: S704
            "progress_bar": lambda initiative: Markup(  # noqa: S704
                progress_bar_svg(initiative.percent_complete, labels.initiative_state(initiative))
            ),
            "trend_chart": lambda kpi, currency: Markup(  # noqa: S704
                trend_chart_svg(
                    kpi, partial(format_value, unit=kpi.unit, currency=currency, locale=locale)
                )
            ),
            "signal_label": labels.signal_label,
            "signal_rules": labels.signal_rules,
            "signal_effect": labels.signal_effect,
            "action_label": labels.action_label,
            "initiative_label": labels.initiative_label,
            "initiative_symbol": labels.initiative_symbol,
            "initiative_state": labels.initiative_state,
            "month_label": labels.month_label,
            "direction_label": labels.direction_label,
            "direction_arrow": labels.direction_arrow,
            "unit_label": labels.unit_label,
            "perspective_band": palette.perspective_band,
            "email_status_color": palette.email_text,
        }
    )
    env.globals["currency_symbol"] = currency_symbol

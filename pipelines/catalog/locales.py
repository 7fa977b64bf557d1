"""The locales the report writes numbers and dates in: known to the catalog, which refuses an
unknown one when it loads, and used by the report's formatting (`pipelines.report.formatting`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LocaleStyle:
    """How one locale writes numbers."""

    group: str
    decimal: str
    currency_after: bool
    date_format: str


_LOCALES = {
    "en_US": LocaleStyle(",", ".", False, "%Y-%m-%d %H:%M"),
    "en_GB": LocaleStyle(",", ".", False, "%d/%m/%Y %H:%M"),
    "de_DE": LocaleStyle(".", ",", True, "%d.%m.%Y %H:%M"),
    "fr_FR": LocaleStyle("\u202f", ",", True, "%d/%m/%Y %H:%M"),
}


def locale_style(locale: str) -> LocaleStyle:
    """The style of a locale; 'de_AT' falls back to its language ('de_DE'), unknown ones raise."""
    if locale in _LOCALES:
        return _LOCALES[locale]
    language = locale.replace("-", "_").split("_")[0].lower()
    for name, style in _LOCALES.items():
        if name.split("_")[0] == language:
            return style
    raise ValueError(f"unsupported locale {locale!r}; known: {', '.join(sorted(_LOCALES))}")

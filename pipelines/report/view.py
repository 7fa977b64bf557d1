"""The templates' context: the model's content selected and grouped per page, no arithmetic.

Templates do no filtering or sorting of their own; this module decides which KPIs get a detail
page, which highlights and initiatives the summary shows, and what the table of contents lists.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from markupsafe import Markup

from pipelines.periods import QUARTER
from pipelines.report.charts import score_trend_svg
from pipelines.report.formatting import STATUS_LABELS
from pipelines.report.model import BoardPack, KpiLine, ScorecardReport
from pipelines.report.provisional import provisional
from pipelines.report.strategy_map import strategy_map_svg
from pipelines.scoring.statuses import AT_RISK, NO_DATA, OFF_TRACK, ON_TRACK, WITHHELD

# CSS page sizes by the catalog's report.page_size.
PAGE_SIZES = {"A4": "A4", "Letter": "letter"}
HIGHLIGHT_KINDS = (
    ("signal", "Signals", "Beyond routine variation: the process has changed."),
    ("success", "Successes", "On track and improving most since last month."),
    ("improvement_area", "Areas for improvement", "Off track or at risk, weakest first."),
    ("status_change", "Status changes", "KPIs whose status moved since last month."),
)
HIGHLIGHTS_SHOWN = 3  # per column: four columns must leave the cover one page
LATE_SHOWN = 5


def read_css(path: Path) -> Markup:
    """A stylesheet of ours, to inline in a <style> block."""
    css = path.read_text(encoding="utf-8")
    if "</" in css:
        raise ValueError(f"{path.name} must not contain '</' (it is inlined in a <style> block)")
    return Markup(css)  # noqa: S704 - our own static file, checked above


def detail_kpis(report: ScorecardReport) -> list[KpiLine]:
    """The KPIs that get a detail page: all, or only the off-track ones, by the setting."""
    kpis = report.kpis()
    if report.kpi_detail_pages == "off_track":
        return [k for k in kpis if k.status == OFF_TRACK]
    return kpis


def kpi_places(report: ScorecardReport) -> dict[str, tuple[str, str]]:
    """Each KPI's perspective and objective names, for the detail pages' headings."""
    return {
        k.id: (p.name, o.name) for p in report.perspectives for o in p.objectives for k in o.kpis
    }


def highlight_groups(report: ScorecardReport) -> list[dict[str, Any]]:
    """The summary's three highlight columns, each with its first few items."""
    groups = []
    for kind, title, note in HIGHLIGHT_KINDS:
        items = [h for h in report.highlights if h.kind == kind]
        groups.append(
            {
                "kind": kind,
                "title": title,
                "note": note,
                "items": items[:HIGHLIGHTS_SHOWN],
                "more": max(0, len(items) - HIGHLIGHTS_SHOWN),
            }
        )
    return groups


def contents(report: ScorecardReport, details: list[KpiLine]) -> list[dict[str, str]]:
    """The table of contents: anchor and title of every part of the report."""
    entries = [
        {"href": "#summary", "title": "Summary"},
        {"href": "#strategy-map", "title": "Strategy map"},
    ]
    if report.units:
        entries.append({"href": "#units", "title": "Units at a glance"})
    entries += [{"href": f"#perspective-{p.id}", "title": p.name} for p in report.perspectives]
    if details:
        title = "KPI details" if report.kpi_detail_pages == "all" else "Off-track KPI details"
        entries.append({"href": f"#kpi-detail-{details[0].id}", "title": title})
    entries.append({"href": "#initiatives", "title": "Initiatives"})
    if report.actions:
        entries.append({"href": "#actions", "title": "Decisions and actions"})
    entries.append({"href": "#appendix", "title": "Data appendix"})
    return entries


def map_legend(report: ScorecardReport) -> list[str]:
    """The statuses the strategy map's legend names: withheld too when an objective shows it."""
    legend = [ON_TRACK, AT_RISK, OFF_TRACK, NO_DATA]
    objectives = [o for p in report.perspectives for o in p.objectives]
    return legend + [WITHHELD] if any(o.withheld_count for o in objectives) else legend


def template_context(report: ScorecardReport, assets_dir: Path, locale: str) -> dict[str, Any]:
    """Everything the scorecard templates read."""
    kpis = report.kpis()
    counts = Counter(k.status for k in kpis)
    details = detail_kpis(report)
    late = [i for i in report.initiatives if i.overdue]
    has_forecast = any(k.forecast is not None for k in kpis)
    kpi_columns = 10 if has_forecast else 9  # the KPI table's columns (_kpi_table.html)
    has_quality = any(s.quality is not None for s in report.sources)
    return {
        "report": report,
        "lang": locale.replace("_", "-").split("-")[0],
        "page_size": PAGE_SIZES.get(report.page_size, "A4"),
        "css_screen": read_css(assets_dir / "static" / "report.css"),
        "css_print": read_css(assets_dir / "static" / "print.css"),
        "kpi_count": len(kpis),
        "status_counts": [(s, counts[s]) for s in STATUS_LABELS if counts[s]],
        "attention_count": counts[OFF_TRACK] + counts[AT_RISK],
        "highlight_groups": highlight_groups(report),
        "late_initiatives": late[:LATE_SHOWN],
        "late_more": max(0, len(late) - LATE_SHOWN),
        "at_risk_initiatives": sum(i.at_risk for i in report.initiatives),
        "strategy_map": Markup(strategy_map_svg(report)),  # noqa: S704 - escapes its text
        "map_legend": map_legend(report),
        "provisional": provisional(report),
        "detail_kpis": details,
        "detail_ids": {k.id for k in details},
        "kpi_places": kpi_places(report),
        "contents": contents(report, details),
        "previous_label": report.previous_period_label or "previous period",
        "has_forecast": has_forecast,
        "kpi_columns": kpi_columns,
        "withheld_span": kpi_columns - 5,  # after name, reason (over 3 columns) and status
        "overdue_initiatives": len(late),
        "overdue_actions": sum(a.overdue for a in report.actions),
        "has_quality": has_quality,
        "appendix_columns": 5 if has_quality else 4,
        "source_ages": {
            s.table: freshness(s.loaded_at, report.generated_at) for s in report.sources
        },
    }


def freshness(loaded_at: datetime | None, generated_at: datetime) -> str:
    """How long before the report a table was loaded: 'minutes', '3 h', '2 days' (or '—')."""
    if loaded_at is None:
        return "\u2014"
    if (loaded_at.tzinfo is None) != (generated_at.tzinfo is None):
        loaded_at, generated_at = loaded_at.replace(tzinfo=None), generated_at.replace(tzinfo=None)
    hours = (generated_at - loaded_at).total_seconds() / 3600
    if hours < 1:
        return "under an hour"
    if hours < 48:
        return f"{hours:.0f} h"
    return f"{hours / 24:.0f} days"


PACK_CHANGES = (
    ("completed", "Completed", "Finished during the period."),
    ("slipped", "Slipped", "Due during the period and not completed by its end."),
    ("started", "Started", "Began during the period."),
    ("status_changed", "Status changed", "Moved from one status to another during the period."),
)


def pack_context(pack: BoardPack, assets_dir: Path, locale: str) -> dict[str, Any]:
    """Everything the board pack's templates read: the scorecard's context of the review, and
    the pack's own parts."""
    report = pack.report
    quarter = pack.kind == QUARTER
    noun = "quarter" if quarter else "year"
    context = template_context(report, assets_dir, locale)
    entries = [
        {"href": "#summary", "title": "Summary"},
        {"href": "#strategy-map", "title": "Strategy map"},
    ]
    entries += [{"href": f"#perspective-{p.id}", "title": p.name} for p in report.perspectives]
    entries.append({"href": "#initiatives-review", "title": "Initiatives review"})
    entries.append({"href": "#commentary", "title": "Owners' commentary"})
    if report.actions:
        entries.append({"href": "#actions", "title": "Decisions and actions"})
    by_kind = [
        {
            "kind": kind,
            "title": title,
            "note": note,
            "items": [c for c in pack.initiative_changes if c.change == kind],
        }
        for kind, title, note in PACK_CHANGES
    ]
    months: dict[str, list] = {}
    for comment in pack.comments:
        months.setdefault(comment.month, []).append(comment)
    return context | {
        "pack": pack,
        "noun": noun,
        "contents": entries,
        "detail_ids": set(),  # a pack has no KPI detail pages
        "previous_label": report.previous_period_label,
        "score_trend": Markup(score_trend_svg(pack.score_trend)),  # noqa: S704 - escapes its text
        "change_groups": by_kind,
        "comment_months": list(months.items()),
        "kpi_columns": 9 if quarter else 7,  # a year: no year to date, no separate year before
        "withheld_span": (9 if quarter else 7) - 5,
    }

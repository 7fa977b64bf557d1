"""Render a ScorecardReport to a self-contained HTML file and a PDF, from the same templates.

The HTML inlines its CSS, so it opens anywhere. WeasyPrint renders the PDF from that same HTML
with a URL fetcher that serves only regular files under the report assets folder: no network,
no other file of the machine. Both outputs are written to temporary names and renamed into place
only once both have been rendered, so a failed run never leaves half a report behind. The PDF
is rendered in a child process under a wall-clock cap (pipelines.report.pdf).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import jinja2

from pipelines.report.formatting import register_filters
from pipelines.report.model import ScorecardReport
from pipelines.report.pdf import (  # noqa: F401 - re-exported: the fetcher lives with the child
    MAX_ASSET_BYTES,
    PANGO_PACKAGES,
    AssetAccessError,
    RenderError,
    RenderTimeout,
    make_url_fetcher,
    render_pdf,
    resolve_asset_url,
    write_pdf,
)
from pipelines.report.view import template_context

TEMPLATE = "scorecard.html"
HTML_NAME = "scorecard.html"
PDF_NAME = "scorecard.pdf"
_BETWEEN_TAGS = re.compile(r">\s{2,}<")


def build_environment(templates_dir: Path, *, locale: str = "en_US") -> jinja2.Environment:
    """The report's Jinja environment: autoescape everywhere, StrictUndefined, report filters."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        autoescape=jinja2.select_autoescape(default_for_string=True, default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    register_filters(env, locale)
    return env


def report_title(report: ScorecardReport) -> str:
    """The document title: '<organization> — Balanced Scorecard — <period label>'."""
    return f"{report.organization} \u2014 Balanced Scorecard \u2014 {report.period_label}"


def render_html(report: ScorecardReport, assets_dir: Path, *, locale: str | None = None) -> str:
    """The report as one self-contained HTML document (CSS inlined), in the report's locale."""
    locale = locale or report.locale
    env = build_environment(assets_dir / "templates", locale=locale)
    context = template_context(report, assets_dir, locale)
    html = env.get_template(TEMPLATE).render(title=report_title(report), **context)
    # Indentation between tags means nothing to a renderer but costs WeasyPrint parse time;
    # escaped data never contains '<' or '>', so only markup whitespace is touched.
    return _BETWEEN_TAGS.sub("> <", html)


def _temp_file(out_dir: Path, name: str) -> Path:
    handle, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=out_dir)
    os.close(handle)
    os.chmod(temp, 0o644)
    return Path(temp)


def write_report(
    report: ScorecardReport, assets_dir: Path, out_dir: Path, *, locale: str | None = None,
    timeout: float | None = None,
) -> tuple[Path, Path]:
    """Write out_dir/scorecard.html and out_dir/scorecard.pdf; both or neither replace old ones.

    The PDF is rendered in a child process capped at `timeout` seconds (the report's
    render_timeout_seconds by default); past it, or on any failure, nothing is written.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    html_path, pdf_path = out_dir / HTML_NAME, out_dir / PDF_NAME
    temps: list[Path] = []
    try:
        html_temp = _temp_file(out_dir, HTML_NAME)
        temps.append(html_temp)
        pdf_temp = _temp_file(out_dir, PDF_NAME)
        temps.append(pdf_temp)

        def html_source() -> str:
            html = render_html(report, assets_dir, locale=locale)
            html_temp.write_text(html, encoding="utf-8")
            return html

        render_pdf(html_source, assets_dir, pdf_temp, title=report_title(report),
                   timeout=timeout or report.render_timeout_seconds)
        os.replace(pdf_temp, pdf_path)
        os.replace(html_temp, html_path)
    except BaseException:
        for temp in temps:
            temp.unlink(missing_ok=True)
        raise
    return html_path, pdf_path

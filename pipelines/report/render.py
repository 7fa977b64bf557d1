"""Render a ScorecardReport to a self-contained HTML file and a PDF, from the same templates.

The HTML inlines its CSS, so it opens anywhere. WeasyPrint renders the PDF from that same HTML
with a URL fetcher that serves only regular files under the report assets folder: no network,
no other file of the machine. Both outputs are written to temporary names and renamed into place
only once both have been rendered, so a failed run never leaves half a report behind. The PDF
is rendered in a child process under a wall-clock cap (pipelines.report.pdf).
"""

from __future__ import annotations

import mimetypes
import os
import re
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import jinja2

from pipelines.report.formatting import register_filters
from pipelines.report.model import ScorecardReport
from pipelines.report.pdf import RenderError, RenderTimeout, render_pdf  # noqa: F401 - re-exported
from pipelines.report.view import template_context

TEMPLATE = "scorecard.html"
HTML_NAME = "scorecard.html"
PDF_NAME = "scorecard.pdf"
MAX_ASSET_BYTES = 20 * 1024 * 1024
PANGO_PACKAGES = "libpango-1.0-0 libpangoft2-1.0-0"
_BETWEEN_TAGS = re.compile(r">\s{2,}<")


class AssetAccessError(ValueError):
    """A resource URL the report's URL fetcher refuses to serve."""


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


def resolve_asset_url(url: str, assets_dir: Path) -> Path:
    """The regular file under assets_dir a file: URL points to; anything else raises."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        raise AssetAccessError(f"refused to fetch {url[:200]!r}: only report assets are served")
    try:
        root = assets_dir.resolve(strict=True)
        path = Path(url2pathname(parts.path)).resolve(strict=True)
    except (OSError, ValueError) as exc:
        raise AssetAccessError(f"refused to fetch {url[:200]!r}: not found") from exc
    if not path.is_relative_to(root) or not path.is_file():
        raise AssetAccessError(f"refused to fetch {url[:200]!r}: outside the report assets")
    if path.stat().st_size > MAX_ASSET_BYTES:
        raise AssetAccessError(f"refused to fetch {url[:200]!r}: larger than the limit")
    return path


def _import_weasyprint() -> Any:
    """Import WeasyPrint, turning a missing Pango into a clear error."""
    try:
        import weasyprint
    except OSError as exc:
        raise RuntimeError(
            "WeasyPrint cannot load Pango, which the PDF report needs. On Debian/Ubuntu install "
            f"it with: apt-get install {PANGO_PACKAGES}  (cause: {exc})"
        ) from exc
    return weasyprint


def make_url_fetcher(assets_dir: Path) -> Any:
    """A WeasyPrint URL fetcher serving only files under assets_dir; it records what it refused."""
    _import_weasyprint()  # a clear error if Pango is missing, before weasyprint.urls loads it
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class AssetFetcher(URLFetcher):
        """Serves report assets and refuses every other URL (network, other files, data:)."""

        def __init__(self) -> None:
            super().__init__(allowed_protocols=("file",))
            self.served: list[str] = []
            self.refused: list[str] = []

        def fetch(self, url: str, headers: Any = None) -> Any:
            """Serve url if it is a report asset, else raise AssetAccessError."""
            try:
                path = resolve_asset_url(url, assets_dir)
            except AssetAccessError:
                self.refused.append(url)
                raise
            self.served.append(url)
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(
                path.as_uri(), path.read_bytes(), {"Content-Type": content_type}
            )

    return AssetFetcher()


def write_pdf(
    html: str, assets_dir: Path, target: Path, *, title: str, url_fetcher: Any = None
) -> None:
    """Render an HTML string to a PDF file through the asset-only URL fetcher."""
    weasyprint = _import_weasyprint()
    fetcher = url_fetcher if url_fetcher is not None else make_url_fetcher(assets_dir)
    base_url = assets_dir.resolve().as_uri() + "/"
    document = weasyprint.HTML(string=html, base_url=base_url, url_fetcher=fetcher).render()
    document.metadata.title = title
    document.write_pdf(str(target))


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

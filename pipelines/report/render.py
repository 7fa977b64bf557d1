"""Render a ScorecardReport to a self-contained HTML file and a PDF, from the same templates.

The HTML inlines its CSS, so it opens anywhere. WeasyPrint renders the PDF from that same HTML
with a URL fetcher that serves only regular files under the report assets folder: no network,
no other file of the machine. Both outputs are written to temporary names and renamed into place
only once both have been rendered, so a failed run never leaves half a report behind. The PDF
is rendered in a child process under a wall-clock cap (pipelines.report.pdf). A render that was
killed (its process, not the render, failed) leaves its temporary files and scratch folder; each
is locked while in use, and the next render sweeps the stale ones (`sweep_stale`).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

from pipelines.report.model import BoardPack, ScorecardReport
from pipelines.report.pdf import (  # noqa: F401 - re-exported: the fetcher lives with the child
    MAX_ASSET_BYTES,
    PANGO_PACKAGES,
    SCRATCH_PREFIX,
    AssetAccessError,
    RenderError,
    RenderTimeout,
    hold,
    make_url_fetcher,
    render_pdf,
    resolve_asset_url,
    write_pdf,
)
from pipelines.report.templating import template_environment
from pipelines.report.view import pack_context, template_context

TEMPLATE = "scorecard.html"
HTML_NAME = "scorecard.html"
PDF_NAME = "scorecard.pdf"
PACK_TEMPLATE = "board_pack.html"
PACK_HTML_NAME = "board_pack.html"
PACK_PDF_NAME = "board_pack.pdf"
# what _temp_file makes: .scorecard.html.<random>.tmp, .board_pack.pdf.<random>.tmp
TEMP_PATTERNS = (".scorecard.*.tmp", ".board_pack.*.tmp")
_BETWEEN_TAGS = re.compile(r">\s{2,}<")


def report_title(report: ScorecardReport) -> str:
    """The document title: '<organization> — Balanced Scorecard — <period label>' (a unit's:
    '<organization> — <unit> — Balanced Scorecard — <period label>')."""
    whose = report.organization
    if report.unit:
        whose += f" \u2014 {report.unit.name}"
    return f"{whose} \u2014 Balanced Scorecard \u2014 {report.period_label}"


def render_html(report: ScorecardReport, assets_dir: Path, *, locale: str | None = None) -> str:
    """The report as one self-contained HTML document (CSS inlined), in the report's locale."""
    locale = locale or report.locale
    env = template_environment(assets_dir / "templates", locale=locale)
    context = template_context(report, assets_dir, locale)
    html = env.get_template(TEMPLATE).render(title=report_title(report), **context)
    # Indentation between tags means nothing to a renderer but costs WeasyPrint parse time;
    # escaped data never contains '<' or '>', so only markup whitespace is touched.
    return _BETWEEN_TAGS.sub("> <", html)


def _temp_file(out_dir: Path, name: str, held: list[int]) -> Path:
    """A new temporary file for `name`, locked (its descriptor appended to `held`)."""
    handle, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=out_dir)
    os.close(handle)
    os.chmod(temp, 0o644)
    held.append(hold(Path(temp)))
    return Path(temp)


def _stale(path: Path, before: float) -> bool:
    """Whether `path` is older than `before` and no living render holds its lock."""
    try:
        if path.lstat().st_mtime >= before or path.is_symlink():
            return False
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (ImportError, OSError):
        return False  # in use by a running render (or no such locks here: left alone)
    finally:
        os.close(fd)
    return True


def sweep_stale(root: Path, before: float | None = None) -> list[Path]:
    """Remove what killed renders left under `root`: temporary report files and PDF scratch
    folders older than `before` (now by default) that no running render holds. Returns them."""
    before = time.time() if before is None else before
    if not root.is_dir():
        return []
    found = [p for pattern in TEMP_PATTERNS for p in root.rglob(pattern)]
    found += root.rglob(f"{SCRATCH_PREFIX}*")
    swept = [path for path in found if _stale(path, before)]
    for path in swept:
        with suppress(OSError):
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
    return swept


def write_report(
    report: ScorecardReport,
    assets_dir: Path,
    out_dir: Path,
    *,
    locale: str | None = None,
    timeout: float | None = None,
    sweep: Path | None = None,
) -> tuple[Path, Path]:
    """Write out_dir/scorecard.html and out_dir/scorecard.pdf; both or neither replace old ones.

    The PDF is rendered in a child process capped at `timeout` seconds (the report's
    render_timeout_seconds by default); past it, or on any failure, nothing is written. First,
    what killed renders left under `sweep` (out_dir by default) is removed.
    """
    return _write(
        lambda: render_html(report, assets_dir, locale=locale),
        report_title(report),
        (HTML_NAME, PDF_NAME),
        assets_dir,
        out_dir,
        timeout=timeout or report.render_timeout_seconds,
        sweep=sweep,
    )


def pack_title(pack: BoardPack) -> str:
    """'<organization> — Board pack — Q3 2026'."""
    return f"{pack.report.organization} \u2014 Board pack \u2014 {pack.report.period_label}"


def render_pack_html(pack: BoardPack, assets_dir: Path) -> str:
    """The board pack as one self-contained HTML document, in the report's locale."""
    locale = pack.report.locale
    env = template_environment(assets_dir / "templates", locale=locale)
    context = pack_context(pack, assets_dir, locale)
    html = env.get_template(PACK_TEMPLATE).render(title=pack_title(pack), **context)
    return _BETWEEN_TAGS.sub("> <", html)


def write_pack(
    pack: BoardPack, assets_dir: Path, out_dir: Path, *, sweep: Path | None = None
) -> tuple[Path, Path]:
    """Write out_dir/board_pack.html and out_dir/board_pack.pdf, as write_report does."""
    return _write(
        lambda: render_pack_html(pack, assets_dir),
        pack_title(pack),
        (PACK_HTML_NAME, PACK_PDF_NAME),
        assets_dir,
        out_dir,
        timeout=pack.report.render_timeout_seconds,
        sweep=sweep,
    )


def _write(
    render: Callable[[], str],
    title: str,
    names: tuple[str, str],
    assets_dir: Path,
    out_dir: Path,
    *,
    timeout: float,
    sweep: Path | None,
) -> tuple[Path, Path]:
    started = time.time()
    out_dir.mkdir(parents=True, exist_ok=True)
    sweep_stale(sweep or out_dir, before=started)
    html_name, pdf_name = names
    html_path, pdf_path = out_dir / html_name, out_dir / pdf_name
    temps: list[Path] = []
    held: list[int] = []
    try:
        html_temp = _temp_file(out_dir, html_name, held)
        temps.append(html_temp)
        pdf_temp = _temp_file(out_dir, pdf_name, held)
        temps.append(pdf_temp)

        def html_source() -> str:
            html = render()
            html_temp.write_text(html, encoding="utf-8")
            return html

        render_pdf(html_source, assets_dir, pdf_temp, title=title, timeout=timeout)
        os.replace(pdf_temp, pdf_path)
        os.replace(html_temp, html_path)
    except BaseException:
        for temp in temps:
            temp.unlink(missing_ok=True)
        raise
    finally:
        for fd in held:
            os.close(fd)
    return html_path, pdf_path

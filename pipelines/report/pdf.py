"""The PDF render in a child process, under a wall-clock cap and resource limits.

WeasyPrint cannot be interrupted from inside: a hostile or pathological document could keep it
busy or make it eat memory. So the parent runs `python -m pipelines.report.pdf`, hands it the
HTML on standard input and waits for it with a timeout; the child lowers its own CPU and memory
limits before it renders. On a timeout or a failure the child is killed and the half-written PDF
removed: the target either is a whole PDF or does not exist. A child whose parent is gone (killed
mid-render) stops at once and writes nothing. Its scratch folder lies beside the target, locked
while in use, so a later render sweeps what a killed one left (render.sweep_stale).

The child prints what its URL fetcher served and refused as one JSON line, so callers (and
tests) can see that nothing outside the report assets was read. The fetcher and `write_pdf` live
here, beside the child, so that the child imports WeasyPrint and nothing of the templates
(render.py re-exports them).
"""

from __future__ import annotations

import contextlib
import gc
import json
import mimetypes
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

MEMORY_LIMIT_BYTES = 4 * 1024**3
SCRATCH_PREFIX = ".scorecard-pdf-"  # the child's scratch folder, beside the PDF it writes
TIMEOUT_SETTING = "report.render_timeout_seconds in definitions/scorecard.yaml"
MAX_ASSET_BYTES = 20 * 1024 * 1024
PANGO_PACKAGES = "libpango-1.0-0 libpangoft2-1.0-0"
PACKAGE_ROOT = Path(__file__).resolve().parents[2]


class RenderError(RuntimeError):
    """The PDF could not be rendered; no PDF was left behind."""


class RenderTimeout(RenderError):
    """The PDF render ran past its wall-clock cap and was stopped."""


class AssetAccessError(ValueError):
    """A resource URL the report's URL fetcher refuses to serve."""


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
    html: str,
    assets_dir: Path,
    target: Path,
    *,
    title: str,
    url_fetcher: Any = None,
    before_write: Callable[[], None] | None = None,
) -> None:
    """Render an HTML string to a PDF file through the asset-only URL fetcher.

    `before_write` is called once the document is laid out, just before the file is written.
    """
    weasyprint = _import_weasyprint()
    fetcher = url_fetcher if url_fetcher is not None else make_url_fetcher(assets_dir)
    base_url = assets_dir.resolve().as_uri() + "/"
    document = weasyprint.HTML(string=html, base_url=base_url, url_fetcher=fetcher).render()
    document.metadata.title = title
    if before_write is not None:
        before_write()
    document.write_pdf(str(target))


def _child_env(scratch: str) -> dict[str, str]:
    env = dict(os.environ, TMPDIR=scratch)
    paths = [str(PACKAGE_ROOT), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


def _start(
    assets_dir: Path, target: Path, title: str, timeout: float, scratch: str
) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "pipelines.report.pdf",
        str(Path(assets_dir).resolve()),
        str(Path(target).resolve()),
        title,
        str(int(timeout) + 5),
        str(os.getpid()),
    ]
    return subprocess.Popen(  # noqa: S603 - our own module, arguments are paths
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_child_env(scratch),
        cwd=scratch,
        start_new_session=True,
    )


def _stop(child: subprocess.Popen) -> None:
    """Kill the child and its process group, and reap it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        child.communicate(timeout=5)


def render_pdf(
    html: str | Callable[[], str],
    assets_dir: Path,
    target: Path,
    *,
    title: str,
    timeout: float = 60.0,
) -> dict[str, list[str]]:
    """Render html to target in a child process; return the URLs its fetcher served/refused.

    `html` may be a function that makes the HTML: the child is started first, so it loads
    WeasyPrint while the HTML is being rendered. The cap counts from the child's start.
    """
    # The child's temporary files (WeasyPrint's, for web fonts) go in a folder removed here:
    # the child is killed on a timeout and skips its own clean-up when it ends (main, below).
    # The folder is locked while in use: if this process is killed, a later render sweeps it.
    with tempfile.TemporaryDirectory(prefix=SCRATCH_PREFIX, dir=Path(target).parent) as scratch:
        held = hold(Path(scratch))
        try:
            return _render(html, assets_dir, target, title, timeout, scratch)
        finally:
            os.close(held)


def hold(path: Path) -> int:
    """Open `path` (a file or a folder) and take an exclusive lock on it: a sign to other
    renders that it is in use. The lock ends when the returned descriptor is closed or the
    process dies, however it dies. Where there are no such locks, the descriptor only."""
    fd = os.open(path, os.O_RDONLY)
    try:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX)
    except (ImportError, OSError):  # no such locks here: nothing is swept as stale, either
        pass
    return fd


def _render(
    html: str | Callable[[], str],
    assets_dir: Path,
    target: Path,
    title: str,
    timeout: float,
    scratch: str,
) -> dict[str, list[str]]:
    started = time.monotonic()
    child = _start(assets_dir, target, title, timeout, scratch)
    try:
        text = html() if callable(html) else html
        remaining = max(0.1, timeout - (time.monotonic() - started))
        out, err = child.communicate(text.encode("utf-8"), timeout=remaining)
    except subprocess.TimeoutExpired:
        _stop(child)
        Path(target).unlink(missing_ok=True)
        # from None: the subprocess error only repeats the child's whole command line
        raise RenderTimeout(
            f"the PDF render took longer than {timeout:g} s and was stopped, so no PDF was "
            f"written; if the report is that large, raise {TIMEOUT_SETTING} "
            "(up to 600 s)"
        ) from None
    except BaseException:
        _stop(child)
        Path(target).unlink(missing_ok=True)
        raise
    if child.returncode != 0:
        Path(target).unlink(missing_ok=True)
        detail = err.decode("utf-8", "replace").strip().splitlines()[-5:]
        raise RenderError("the PDF render failed: " + " | ".join(detail))
    lines = out.decode("utf-8", "replace").strip().splitlines()
    return json.loads(lines[-1]) if lines else {"served": [], "refused": []}


def _limit_resources(cpu_seconds: int) -> None:
    """Cap the child's CPU time and address space (where the platform allows it)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return
    for limit, value in (
        (resource.RLIMIT_CPU, cpu_seconds),
        (resource.RLIMIT_AS, MEMORY_LIMIT_BYTES),
    ):
        try:
            soft, hard = resource.getrlimit(limit)
            cap = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(limit, (cap, hard))
        except (ValueError, OSError):
            continue


ORPHANED = 3  # the child's exit status when its parent died before the PDF was written


def _leave_if_orphaned(parent: int, every: float = 0.0) -> None:
    """Exit at once, writing nothing, if the parent that started this child is gone; with
    `every`, keep checking that often (a daemon thread's loop)."""
    while True:
        if os.getppid() != parent:
            os._exit(ORPHANED)
        if not every:
            return
        time.sleep(every)


def main(argv: list[str]) -> int:
    """Child entry point: assets folder, target pdf, title, CPU seconds, the parent's pid;
    the HTML on stdin."""
    # A short-lived process under a memory cap: the cyclic garbage collector only costs time
    # here (about a fifth of the render, and of WeasyPrint's import), it frees next to nothing
    # before the process exits.
    gc.disable()
    assets, target, title, cpu, parent = argv
    threading.Thread(target=_leave_if_orphaned, args=(int(parent), 0.2), daemon=True).start()
    _import_weasyprint()  # while the parent renders the HTML
    html = sys.stdin.buffer.read().decode("utf-8")
    _leave_if_orphaned(int(parent))  # a parent killed while sending sent half the HTML
    _limit_resources(int(cpu))
    fetcher = make_url_fetcher(Path(assets))
    write_pdf(
        html,
        Path(assets),
        Path(target),
        title=title,
        url_fetcher=fetcher,
        before_write=lambda: _leave_if_orphaned(int(parent)),
    )
    print(json.dumps({"served": fetcher.served, "refused": fetcher.refused}))
    return 0


if __name__ == "__main__":
    status = main(sys.argv[1:])
    # The PDF is written and closed. Tearing the interpreter down would only free WeasyPrint's
    # boxes object by object: a tenth of the child's time. Its temporary files are in the
    # parent's scratch folder (render_pdf). A failure raised above still exits the usual way,
    # with its traceback on stderr.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)

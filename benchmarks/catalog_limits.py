"""Time the catalog's bounds: `python -m benchmarks.catalog_limits`.

What tests/integration/test_catalog_limits.py checks for behaviour, timed here instead (tests
never assert timings): a YAML bomb refused (the child's seconds, the catalog's libraries already
imported), a 2 MB catalog file refused, and the strategy map's text fitting of a 20,000-character
name. Before the bounds, the bomb ran for hours and the fitting took seconds per box.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from pipelines.catalog import CatalogError, load_catalog
from pipelines.report.textfit import wrap
from pipelines.settings import PROJECT_ROOT

BOMB = (
    "\n".join(
        ["bomb:", "  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        + [f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    )
    + "\n"
)


def _copy(root: Path) -> Path:
    for part in ("definitions", "sql"):
        shutil.copytree(PROJECT_ROOT / part, root / part)
    return root


def _refused_in(root: Path) -> float:
    started = time.perf_counter()
    try:
        load_catalog(root / "definitions", root / "sql")
    except CatalogError:
        return time.perf_counter() - started
    raise SystemExit(f"{root}: the catalog was not refused")


def main() -> int:
    """Print how long each bound takes to refuse its input."""
    load_catalog(PROJECT_ROOT / "definitions", PROJECT_ROOT / "sql")  # imports out of the way
    with tempfile.TemporaryDirectory() as tmp:
        bomb = _copy(Path(tmp) / "bomb")
        scorecard = bomb / "definitions/scorecard.yaml"
        scorecard.write_text(scorecard.read_text() + BOMB)
        big = _copy(Path(tmp) / "big")
        kpis = big / "definitions/kpis/customer.yaml"
        kpis.write_text(kpis.read_text() + ("# padding " + "x" * 1000 + "\n") * 2000)
        rows = [
            ("YAML bomb refused", _refused_in(bomb)),
            ("2 MB catalog file refused", _refused_in(big)),
        ]
    for text in ("W" * 20_000, "word " * 4_000):
        started = time.perf_counter()
        wrap(text, 120, 7.6, 3, bold=True)
        rows.append((f"text fitting, {len(text):,} characters", time.perf_counter() - started))
    for name, seconds in rows:
        print(f"{name:<40} {seconds:8.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

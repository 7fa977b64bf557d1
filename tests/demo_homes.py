"""Runtime folders over one shared set of demo exports: the first quarter of 2026, scale 0.03.

The `quarter_exports` fixture (conftest.py) writes the exports once per test process; each test
then makes as many runtime folders over them as it compares (`home_on`).
"""

from __future__ import annotations

import os
from pathlib import Path

from pipelines.catalog.boundaries import EXPORT_ROOTS_ENV
from pipelines.demo.generator import generate_demo
from pipelines.periods import Period
from pipelines.settings import PROJECT_ROOT, RuntimePaths

FIRST, LAST = Period(2026, 1), Period(2026, 3)


def write_quarter_exports(folder: Path) -> Path:
    """The demo exports of FIRST..LAST in `folder`, an exports root of this test process."""
    generate_demo(folder, start=FIRST.key, end=LAST.key, scale=0.03, seed=5)
    return allow_exports(folder)


def allow_exports(folder: Path) -> Path:
    """Make `folder` an exports root (SCORECARD_EXPORT_ROOTS) of this test process and its
    children, so runtime folders may link to exports shared between tests."""
    listed = [r for r in os.environ.get(EXPORT_ROOTS_ENV, "").split(os.pathsep) if r]
    os.environ[EXPORT_ROOTS_ENV] = os.pathsep.join(dict.fromkeys([*listed, str(folder)]))
    return folder


def home_on(tmp_path: Path, exports: Path, name: str) -> RuntimePaths:
    """A runtime folder `name` under tmp_path reading `exports` (an exports root) as its demo
    exports."""
    home = tmp_path / name
    home.mkdir(parents=True, exist_ok=True)
    (home / "demo").symlink_to(allow_exports(exports), target_is_directory=True)
    return RuntimePaths(
        home=home,
        definitions=PROJECT_ROOT / "definitions",
        sql=PROJECT_ROOT / "sql",
        report_assets=PROJECT_ROOT / "reports",
    )

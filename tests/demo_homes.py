"""Runtime folders over one shared set of demo exports: the first quarter of 2026, scale 0.03.

The `quarter_exports` fixture (conftest.py) writes the exports once per test process; each test
then makes as many runtime folders over them as it compares (`home_on`).
"""

from __future__ import annotations

from pathlib import Path

from pipelines.demo.generator import generate_demo
from pipelines.periods import Period
from pipelines.settings import PROJECT_ROOT, RuntimePaths

FIRST, LAST = Period(2026, 1), Period(2026, 3)


def write_quarter_exports(folder: Path) -> Path:
    """The demo exports of FIRST..LAST in `folder`."""
    generate_demo(folder, start=FIRST.key, end=LAST.key, scale=0.03, seed=5)
    return folder


def home_on(tmp_path: Path, exports: Path, name: str) -> RuntimePaths:
    """A runtime folder `name` under tmp_path reading `exports` as its demo exports."""
    home = tmp_path / name
    home.mkdir(parents=True, exist_ok=True)
    (home / "demo").symlink_to(exports, target_is_directory=True)
    return RuntimePaths(home=home, definitions=PROJECT_ROOT / "definitions",
                        sql=PROJECT_ROOT / "sql", report_assets=PROJECT_ROOT / "reports")

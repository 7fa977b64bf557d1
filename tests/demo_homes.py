"""Runtime folders over one shared set of demo exports: the first quarter of 2026, scale 0.03,
and the catalog the tests run.

The `quarter_exports` fixture (conftest.py) writes the exports once per test process; each test
then makes as many runtime folders over them as it compares (`home_on`).

The tests' catalog is definitions/ without units.yaml: every monthly run of the shipped catalog
also scores (and reports) each business unit, which only the tests about units need. They, and
the tests of the product as shipped, read SHIPPED_DEFINITIONS (the `shipped_definitions`
fixture); every other test reads `definitions_without_units()`, the default of every run and
`scorecard` command of the test process and its children ($SCORECARD_DEFINITIONS).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from benchmarks.units import drop_unit_references
from pipelines.catalog.boundaries import EXPORT_ROOTS_ENV
from pipelines.demo.generator import generate_demo
from pipelines.periods import Period
from pipelines.settings import PROJECT_ROOT, RuntimePaths

FIRST, LAST = Period(2026, 1), Period(2026, 3)
SHIPPED_DEFINITIONS = PROJECT_ROOT / "definitions"
DEFINITIONS_ENV = "SCORECARD_DEFINITIONS"
_WITHOUT_UNITS: list[Path] = []  # the test process's copy, once written


def use_definitions_without_units(folder: Path) -> Path:
    """Write definitions/ without units.yaml (nor the lists, comments and initiatives of a unit)
    to `folder` and make it the catalog of this test process and its children
    ($SCORECARD_DEFINITIONS); called once per process (conftest.py)."""
    shutil.copytree(SHIPPED_DEFINITIONS, folder, ignore=shutil.ignore_patterns("units.yaml"))
    drop_unit_references(folder)
    os.environ[DEFINITIONS_ENV] = str(folder)
    _WITHOUT_UNITS[:] = [folder]
    return folder


def definitions_without_units() -> Path:
    """The tests' catalog: definitions/ without units.yaml (written by conftest.py)."""
    if not _WITHOUT_UNITS:
        raise RuntimeError("the tests' catalog is written by a fixture of tests/conftest.py")
    return _WITHOUT_UNITS[0]


def runtime_paths_at(home: Path, definitions: Path | None = None) -> RuntimePaths:
    """RuntimePaths of the runtime folder `home` with the tests' catalog (or `definitions`) and
    the project's SQL and report assets."""
    return RuntimePaths(
        home=home,
        definitions=definitions or definitions_without_units(),
        sql=PROJECT_ROOT / "sql",
        report_assets=PROJECT_ROOT / "reports",
    )


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


def home_on(
    tmp_path: Path, exports: Path, name: str, definitions: Path | None = None
) -> RuntimePaths:
    """A runtime folder `name` under tmp_path reading `exports` (an exports root) as its demo
    exports, with the tests' catalog (or `definitions`)."""
    home = tmp_path / name
    home.mkdir(parents=True, exist_ok=True)
    (home / "demo").symlink_to(allow_exports(exports), target_is_directory=True)
    return runtime_paths_at(home, definitions)

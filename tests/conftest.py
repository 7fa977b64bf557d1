"""Shared fixtures: a runtime folder per test, the tests' catalog, a warehouse file.

Each test's tier is the folder it is in (tests/unit, tests/integration, tests/system): the
marker of that name is added here, so `pytest -m "not system"` leaves out the slow end-to-end
tier (docs/testing.md).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from demo_homes import (
    DEFINITIONS_ENV,
    SHIPPED_DEFINITIONS,
    runtime_paths_at,
    use_definitions_without_units,
    write_quarter_exports,
)
from hypothesis import HealthCheck, settings

from pipelines.catalog import load_catalog
from pipelines.settings import PROJECT_ROOT, RuntimePaths

try:  # the DuckLake tier runs where the `ducklake` extra is installed (.ci/run's second venv)
    import duckdb_ext  # noqa: F401

    collect_ignore: list[str] = []
except ImportError:
    collect_ignore = ["system/test_ducklake.py"]

DATA = Path(__file__).parent / "data"

# Property tests judge results, not speed: on 2 busy cores input generation can be slow.
# No example database: nothing is written into the working tree.
settings.register_profile(
    "scorecard", deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("scorecard")


TIERS = ("unit", "integration", "system")


def _tier(item) -> str:
    return item.path.relative_to(Path(__file__).parent).parts[0]


def pytest_collection_modifyitems(config, items) -> None:
    """Mark every test with its tier, the folder under tests/ it is in; refuse one outside.

    Then order the tiers slowest first, system, integration, unit (each keeps its files' order):
    the workers of `-n 3` (`--dist loadfile`: a file's tests, and its module fixtures, on one
    worker) take the long end-to-end files first, so that none of them is left to run alone at
    the end while the other workers are idle."""
    for item in items:
        tier = _tier(item)
        if tier not in TIERS:
            raise pytest.UsageError(
                f"{item.nodeid}: a test belongs in tests/unit, "
                "tests/integration or tests/system (docs/testing.md)"
            )
        item.add_marker(getattr(pytest.mark, tier))
    items.sort(key=lambda item: -TIERS.index(_tier(item)))


# What the tests may leave in a checkout: the venv, caches, the package's metadata.
_ALLOWED_LEFTOVERS = (".venv/", ".pytest_cache/", ".ruff_cache/", ".hypothesis/")


def _working_tree_changes() -> set[str] | None:
    """Files changed or added in the checkout (git status, ignored files too); None outside one."""
    try:
        done = subprocess.run(
            ["git", "status", "--porcelain", "--ignored"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return {
        line[3:]
        for line in done.stdout.splitlines()
        if not line[3:].startswith(_ALLOWED_LEFTOVERS)
        and "__pycache__" not in line
        and not line[3:].rstrip("/").endswith(".egg-info")
    }


def pytest_sessionstart(session) -> None:
    """Note what the checkout holds before the tests run (on the controller only)."""
    if not hasattr(session.config, "workerinput"):
        session.config.stash[_BEFORE] = _working_tree_changes()


def pytest_sessionfinish(session, exitstatus) -> None:
    """Fail the run when a test wrote into the working tree (docs/testing.md)."""
    before = session.config.stash.get(_BEFORE, None)
    after = _working_tree_changes() if before is not None else None
    if before is None or after is None or not (new := sorted(after - before)):
        return
    session.config.get_terminal_writer().line(
        f"tests wrote into the working tree: {', '.join(new)}", red=True
    )
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


_BEFORE = pytest.StashKey[set[str] | None]()


@pytest.fixture(scope="session", autouse=True)
def definitions_without_units(tmp_path_factory) -> Path:
    """The tests' catalog: definitions/ without units.yaml, the default of every run in this
    test process and its children (tests/demo_homes.py says why)."""
    before = os.environ.get(DEFINITIONS_ENV)
    yield use_definitions_without_units(tmp_path_factory.mktemp("catalog") / "definitions")
    if before is None:
        os.environ.pop(DEFINITIONS_ENV, None)
    else:
        os.environ[DEFINITIONS_ENV] = before


@pytest.fixture
def shipped_definitions(monkeypatch) -> Path:
    """definitions/ as shipped, business units included, for the test's runs and commands: the
    tests about units and those of the product as shipped."""
    monkeypatch.setenv(DEFINITIONS_ENV, str(SHIPPED_DEFINITIONS))
    return SHIPPED_DEFINITIONS


@pytest.fixture
def paths(tmp_path: Path, monkeypatch) -> RuntimePaths:
    """Runtime paths under a temporary SCORECARD_HOME, with the tests' catalog."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("SCORECARD_HOME", str(home))
    return runtime_paths_at(home)


@pytest.fixture
def catalog(paths: RuntimePaths):
    """The tests' demo catalog (the shipped one without business units)."""
    return load_catalog(paths.definitions, paths.sql)


@pytest.fixture
def tiny_exports(paths: RuntimePaths) -> Path:
    """The hand-written exports of tests/data/tiny copied where the demo catalog reads them."""
    shutil.copytree(DATA / "tiny", paths.demo)
    return paths.demo


@pytest.fixture(scope="session")
def quarter_exports(tmp_path_factory) -> Path:
    """The demo exports of 2026-01..2026-03 at scale 0.03, written once (tests/demo_homes.py)."""
    return write_quarter_exports(tmp_path_factory.mktemp("quarter_exports"))


@pytest.fixture
def copied_catalog(tmp_path: Path, definitions_without_units: Path) -> Path:
    """A writable copy of the tests' catalog and sql/ to break on purpose; returns its root."""
    root = tmp_path / "project"
    shutil.copytree(definitions_without_units, root / "definitions")
    shutil.copytree(PROJECT_ROOT / "sql", root / "sql")
    return root


# The connector tests' servers (a PostgreSQL cluster, a JSON API) and an in-memory warehouse.
from connector_fixtures import (  # noqa: E402, F401 - fixtures, registered by importing them
    api,
    api_server,
    crm_db,
    duck,
    postgres,
)

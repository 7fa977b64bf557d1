"""Where things live at run time: the runtime folder and the project's catalog, SQL and report
assets.

Everything is read from the environment when asked, never at import, so tests and deployments
point the same code at other folders.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class RuntimePaths:
    """The runtime folder ($SCORECARD_HOME, ./var by default) and what lives under it."""

    home: Path
    definitions: Path
    sql: Path
    report_assets: Path

    @property
    def warehouse(self) -> Path:
        """The DuckDB warehouse file."""
        return self.home / "warehouse.duckdb"

    @property
    def reports(self) -> Path:
        """Rendered reports, one folder per period."""
        return self.home / "reports"

    @property
    def demo(self) -> Path:
        """The demo company's exports."""
        return self.home / "demo"

    @property
    def outbox(self) -> Path:
        """Email messages written as .eml files when no SMTP server is configured."""
        return self.home / "outbox"

    @property
    def dagster_home(self) -> Path:
        """The Dagster instance folder (runs, event logs, schedules)."""
        return self.home / "dagster"

    def report_dir(self, period: str) -> Path:
        """The folder of one period's rendered report."""
        return self.reports / period

    def unit_report_dir(self, period: str, unit: str) -> Path:
        """The folder of one business unit's rendered report of a period."""
        return self.report_dir(period) / "units" / unit


def runtime_paths() -> RuntimePaths:
    """Read the paths from the environment now."""
    home = Path(os.environ.get("SCORECARD_HOME") or Path.cwd() / "var")
    definitions = Path(os.environ.get("SCORECARD_DEFINITIONS") or PROJECT_ROOT / "definitions")
    sql = Path(os.environ.get("SCORECARD_SQL") or PROJECT_ROOT / "sql")
    return RuntimePaths(
        home=home.resolve(),
        definitions=definitions.resolve(),
        sql=sql.resolve(),
        report_assets=(PROJECT_ROOT / "reports").resolve(),
    )

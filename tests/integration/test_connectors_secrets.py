"""A database or API source whose secret is not set fails its own tables, in one line, naming the
variable; the rest of the run goes on.

Dagster resolves an EnvVar of a run's resources when the run starts, and an unset one stopped the
whole run there with a 43-line traceback: now a secret is an EnvVar only when its variable is set
as the definitions load, and the table load names the one that is not.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from dagster import DagsterInstance, materialize

from pipelines.catalog import load_catalog
from pipelines.cli import main
from pipelines.defs.connectors import connector_resources
from pipelines.defs.ingest import build_ingest_assets
from pipelines.defs.partitions import monthly_partitions
from pipelines.defs.resources import resources_for
from pipelines.settings import PROJECT_ROOT, RuntimePaths

MONTH = "2026-02"
VARIABLES = ("CRM_DATABASE_URL", "HR_API_TOKEN")


def _unset(table: str, variable: str, what: str) -> str:
    return (
        f"{table}: the environment variable {variable} ({what}) is not set where the pipeline "
        "runs; set it and run the month again (nothing of this table was loaded)"
    )


SWITCHED = [
    (
        "crm",
        ("account_snapshots", "opportunities", "nps_responses"),
        ("CRM_DATABASE_URL", "the connection URL"),
    ),
    ("hr", ("roster", "training_records", "engagement_responses"), ("HR_API_TOKEN", "the token")),
]
EXPECTED = [
    _unset("source crm, table opportunities", "CRM_DATABASE_URL", "the connection URL"),
    _unset("source hr, table roster", "HR_API_TOKEN", "the token"),
]


@pytest.fixture
def switched(quarter_exports, tmp_path, monkeypatch, definitions_without_units) -> RuntimePaths:
    """The demo with CRM in PostgreSQL and HR from an API (definitions/examples/), on the quarter's
    exports, neither variable set."""
    root = tmp_path / "project"
    shutil.copytree(definitions_without_units, root / "definitions")
    for name, example in (("crm", "crm_postgres.yaml"), ("hr", "hr_api.yaml")):
        shutil.copy(
            PROJECT_ROOT / "definitions/examples" / example,
            root / "definitions/sources" / f"{name}.yaml",
        )
    for variable in VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    home = root / "home"
    home.mkdir()
    (home / "demo").symlink_to(quarter_exports, target_is_directory=True)
    monkeypatch.setenv("SCORECARD_HOME", str(home))
    monkeypatch.setenv("SCORECARD_DEFINITIONS", str(root / "definitions"))
    return RuntimePaths(
        home=home,
        definitions=root / "definitions",
        sql=PROJECT_ROOT / "sql",
        report_assets=PROJECT_ROOT / "reports",
    )


def test_a_secret_is_an_envvar_only_when_its_variable_is_set(switched):
    catalog = load_catalog(switched.definitions, switched.sql)
    unset = connector_resources(catalog, {})
    assert unset["source_crm"].url is None and unset["source_hr"].token is None
    both = connector_resources(catalog, dict.fromkeys(VARIABLES, "x"))
    assert both["source_crm"].url.env_var_name == "CRM_DATABASE_URL"
    assert both["source_hr"].token.env_var_name == "HR_API_TOKEN"


def test_an_unset_secret_fails_only_its_sources_tables(switched):
    catalog = load_catalog(switched.definitions, switched.sql)
    assets = build_ingest_assets(catalog, monthly_partitions(catalog))
    with DagsterInstance.ephemeral() as instance:
        result = materialize(
            assets,
            partition_key=MONTH,
            instance=instance,
            resources={**resources_for(switched), **connector_resources(catalog)},
            raise_on_error=False,
        )
    status = {}
    for event in result.get_asset_materialization_events():
        metadata = event.materialization.metadata
        status[event.asset_key.path[0]] = (
            metadata["load_status"].value,
            metadata.get("load_error") and metadata["load_error"].value,
        )
    assert status["raw_finance_gl_entries"] == status["raw_operations_orders"] == ("loaded", None)
    failed = {key: value for key, value in status.items() if key.startswith(("raw_crm", "raw_hr"))}
    assert failed == {
        f"raw_{source}_{table}": ("failed", _unset(f"source {source}, table {table}", *secret))
        for source, tables, secret in SWITCHED
        for table in tables
    }


def test_scorecard_run_names_the_variable_without_a_traceback(switched, capsys):
    assert main(["run", "--period", MONTH]) == 1
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    for expected in EXPECTED:
        assert f"{MONTH}: load failed: {expected}" in err
    assert (Path(switched.home) / "reports" / MONTH / "scorecard.html").exists()

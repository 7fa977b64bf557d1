"""Connectors through Dagster: the demo switched to PostgreSQL and an API; isolation; no leaks.

The shipped example sources (definitions/examples/) replace the CRM and HR file sources in a copy
of the catalog; `scorecard demo-postgres` loads the CRM exports into the test cluster and the
demo API serves the HR exports. The raw assets are materialized through Dagster, against a
Dagster instance on disk, whose every file is then searched for the secrets.
"""

from __future__ import annotations

import shutil
import threading
from datetime import date
from pathlib import Path

import pytest
from connector_fixtures import READER, READER_PASSWORD
from dagster import DagsterInstance, materialize
from demo_homes import allow_exports, definitions_without_units
from pg_cluster import free_port

from pipelines.catalog import load_catalog
from pipelines.cli import main
from pipelines.defs.connectors import connector_resources
from pipelines.defs.ingest import build_ingest_assets
from pipelines.defs.partitions import monthly_partitions
from pipelines.defs.resources import resources_for
from pipelines.demo.api_server import demo_api, make_server
from pipelines.demo.commands import example_source
from pipelines.demo.generator import generate_demo
from pipelines.settings import PROJECT_ROOT, RuntimePaths
from pipelines.warehouse.connection import connect

MONTH = "2024-02"
TOKEN = "hr-SECRET-token-0a9f"  # noqa: S105 - test token
FAST = "retries: {attempts: 2, backoff_seconds: 0.01, max_backoff_seconds: 0.02}"
SWITCHED = ("crm", "hr")


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("exports")
    generate_demo(folder, start="2024-01", end="2024-03", scale=0.02, seed=11)
    return allow_exports(folder)  # runtime folders link to it


@pytest.fixture(scope="module")
def hr_api(exports):
    server = make_server(
        demo_api(exports / "hr", example_source("hr_api.yaml").tables, TOKEN), "127.0.0.1", 0
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def _paths(tmp_path: Path, exports: Path, switched: bool, api_url: str = "") -> RuntimePaths:
    """A runtime folder on the exports with a copy of the catalog, CRM and HR switched or not."""
    root = tmp_path / ("switched" if switched else "files")
    shutil.copytree(definitions_without_units(), root / "definitions")
    (root / "home").mkdir()
    (root / "home" / "demo").symlink_to(exports, target_is_directory=True)
    if switched:
        for name, example in (("crm", "crm_postgres.yaml"), ("hr", "hr_api.yaml")):
            text = (PROJECT_ROOT / "definitions" / "examples" / example).read_text()
            text = text.replace("http://127.0.0.1:8765/v1", api_url)
            text = "\n".join(
                "  " + FAST if line.strip().startswith("retries:") else line
                for line in text.splitlines()
            )
            (root / "definitions" / "sources" / f"{name}.yaml").write_text(text)
    return RuntimePaths(
        home=root / "home",
        definitions=root / "definitions",
        sql=PROJECT_ROOT / "sql",
        report_assets=PROJECT_ROOT / "reports",
    )


def _materialize(paths: RuntimePaths, instance: DagsterInstance):
    catalog = load_catalog(paths.definitions, paths.sql)
    assets = build_ingest_assets(catalog, monthly_partitions(catalog))
    resources = {**resources_for(paths), **connector_resources(catalog)}
    return materialize(
        assets, partition_key=MONTH, resources=resources, instance=instance, raise_on_error=False
    )


def _tables(paths: RuntimePaths) -> dict[str, tuple]:
    con = connect(paths.warehouse, read_only=True)
    try:
        names = [
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'raw' order by 1"
            ).fetchall()
        ]
        return {
            n: con.execute(f'select count(*), count(distinct _period) from raw."{n}"').fetchone()
            for n in names
        }
    finally:
        con.close()


@pytest.fixture
def switched_env(postgres, exports, monkeypatch, tmp_path):
    """CRM exports in PostgreSQL (through `scorecard demo-postgres`), the variables set."""
    url = postgres.url_for(READER, READER_PASSWORD, "crm")
    monkeypatch.setenv("CRM_DATABASE_URL", url)
    monkeypatch.setenv("HR_API_TOKEN", TOKEN)
    seed_home = tmp_path / "seed"
    seed_home.mkdir()
    (seed_home / "demo").symlink_to(exports, target_is_directory=True)
    monkeypatch.setenv("SCORECARD_HOME", str(seed_home))
    assert main(["demo-postgres"]) == 0
    return url


def test_the_demo_switched_to_postgres_and_an_api_loads_what_the_files_load(
    switched_env, exports, hr_api, tmp_path
):
    files = _paths(tmp_path, exports, switched=False)
    switched = _paths(tmp_path, exports, switched=True, api_url=hr_api)
    with DagsterInstance.ephemeral() as instance:
        assert _materialize(files, instance).success
        result = _materialize(switched, instance)
    assert result.success
    assert _tables(switched) == _tables(files)
    kinds = {
        m.asset_key.path[0]: m.metadata["source_path"].value
        for m in result.asset_materializations_for_node("raw_crm")
    }
    assert kinds["raw_crm_opportunities"].endswith("/crm query sql/sources/crm_opportunities.sql")


def _everything_written(instance_dir: Path, warehouse: Path, result, capfd, caplog) -> str:
    texts = [
        p.read_bytes().decode("utf-8", "replace") for p in instance_dir.rglob("*") if p.is_file()
    ]
    texts.append(warehouse.read_bytes().decode("utf-8", "replace"))
    texts += [str(event) for event in result.all_events]
    captured = capfd.readouterr()
    return "\n".join([*texts, captured.out, captured.err, caplog.text])


def test_a_down_source_fails_alone_and_no_secret_is_written_anywhere(
    switched_env, exports, hr_api, tmp_path, monkeypatch, capfd, caplog
):
    paths = _paths(tmp_path, exports, switched=True, api_url=hr_api)
    down = f"postgresql://{READER}:{READER_PASSWORD}@127.0.0.1:{free_port()}/crm"
    monkeypatch.setenv("CRM_DATABASE_URL", down)
    wrong_token = "hr-SECRET-wrong-77c1"
    monkeypatch.setenv("HR_API_TOKEN", wrong_token)
    instance_dir = tmp_path / "dagster"
    instance_dir.mkdir()
    with DagsterInstance.local_temp(str(instance_dir)) as instance:
        failed = _materialize(paths, instance)
    # the load step goes on: the down sources' tables are materialized as failed, the rest loads
    status = {
        e.asset_key.path[0]: e.materialization.metadata["load_status"].value
        for e in failed.get_asset_materialization_events()
    }
    assert {status["raw_finance_gl_entries"], status["raw_operations_orders"]} == {"loaded"}
    assert {v for k, v in status.items() if k.startswith(("raw_crm", "raw_hr"))} == {"failed"}
    con = connect(paths.warehouse, read_only=True)
    recorded = dict(
        con.execute(
            "select table_key, message from meta.load_failures where period = ?", [date(2024, 2, 1)]
        ).fetchall()
    )
    con.close()
    assert {k.split(".")[0] for k in recorded} == {"crm", "hr"}
    errors = " | ".join(recorded.values())
    assert "source crm, table account_snapshots: postgresql://127.0.0.1:" in errors
    assert "failed after 2 attempt(s): connection failed" in errors
    assert "source hr, table roster: GET " in errors and "401 Unauthorized" in errors
    written = _everything_written(instance_dir, paths.warehouse, failed, capfd, caplog)
    assert "401 Unauthorized" in written and "failed after 2 attempt(s)" in written  # searched
    for secret in (READER_PASSWORD, wrong_token, down):
        assert secret not in written

    monkeypatch.setenv("CRM_DATABASE_URL", switched_env)
    monkeypatch.setenv("HR_API_TOKEN", TOKEN)
    with DagsterInstance.local_temp(str(instance_dir)) as instance:
        ok = _materialize(paths, instance)
    assert ok.success
    written = _everything_written(instance_dir, paths.warehouse, ok, capfd, caplog)
    for secret in (READER_PASSWORD, TOKEN, switched_env):
        assert secret not in written

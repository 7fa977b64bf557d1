"""The warehouse as a DuckLake (SCORECARD_WAREHOUSE=ducklake): a month runs through the
`scorecard` command, Dagster and every step, on a DuckLake whose catalog is in a real
PostgreSQL server, and its figures equal those of the embedded warehouse for the same exports.

Runs in the environment with the `ducklake` extra (DuckDB 1.4.4 and its extension packages);
tests/conftest.py leaves this file out elsewhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import psycopg
import pytest
from warehouse_contents import every_table, fill_every_table

from pipelines import cli
from pipelines.warehouse.backup import take_backup
from pipelines.warehouse.connection import connect, ensure_tables
from pipelines.warehouse.integrity import backups_folder, list_backups
from pipelines.warehouse.lake import LakeSettingError, lake_settings
from pipelines.warehouse.transfer import export_warehouse, import_warehouse, read_manifest

PERIOD = "2026-02"
# what a month's run writes, less what names the run (run ids, times, the catalog's hash)
TABLES = {
    "kpi.kpi_values": "run_id, computed_at, catalog_version",
    "score.kpi_scores": "run_id",
    "score.rollup_scores": "run_id",
    "unit.kpi_values": "run_id, computed_at, catalog_version",
    "unit.rollup_scores": "run_id",
    "meta.loads": "run_id, loaded_at, source_path",
}


def _run(home, env) -> subprocess.Popen:
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "scorecard"), "run", "--period", PERIOD],
        env={**os.environ, "SCORECARD_HOME": str(home), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _rows(con) -> dict[str, list[tuple]]:
    return {
        table: con.execute(
            f"select * exclude ({dropped}) from {table} order by all"  # noqa: S608
        ).fetchall()
        for table, dropped in TABLES.items()
    }


def _use_lake(postgres, tmp_path, monkeypatch, database: str) -> None:
    """Make the warehouse a DuckLake whose catalog is a new database of the test PostgreSQL."""
    with psycopg.connect(postgres.url, autocommit=True) as conn:
        conn.execute(f"create database {database}")
    catalog = postgres.url_for("scorecard_admin", "admin-Pw-7c1d", database)
    monkeypatch.setenv("SCORECARD_WAREHOUSE", "ducklake")
    monkeypatch.setenv("SCORECARD_DUCKLAKE_CATALOG", catalog)
    monkeypatch.setenv("SCORECARD_DUCKLAKE_DATA", str(tmp_path / f"{database}-data"))


def test_a_warehouse_file_moves_to_a_ducklake_and_back_through_parquet(
    postgres, tmp_path, monkeypatch
):
    source = duckdb.connect(str(tmp_path / "source.duckdb"))
    ensure_tables(source)
    fill_every_table(source, 5)
    expected = every_table(source)
    export_warehouse(source, tmp_path / "to-lake")
    source.close()

    _use_lake(postgres, tmp_path, monkeypatch, "moved")
    lake = connect(tmp_path / "unused.duckdb")
    assert import_warehouse(lake, tmp_path / "to-lake") == {t: 5 for t in expected}
    assert every_table(lake) == expected
    export_warehouse(lake, tmp_path / "from-lake")  # and back: the lake exports as the file
    lake.close()
    monkeypatch.setenv("SCORECARD_WAREHOUSE", "duckdb")
    back = connect(tmp_path / "back.duckdb")
    import_warehouse(back, tmp_path / "from-lake")
    assert every_table(back) == expected
    back.close()


def test_a_ducklakes_backup_is_an_export_and_restore_imports_it(
    postgres, tmp_path, monkeypatch, capsys
):
    _use_lake(postgres, tmp_path, monkeypatch, "backed")
    monkeypatch.setenv("SCORECARD_HOME", str(tmp_path / "home"))
    warehouse = tmp_path / "home" / "warehouse.duckdb"  # its place: the lake's is elsewhere
    assert take_backup(warehouse) is None  # no table yet
    lake = connect(warehouse)
    ensure_tables(lake)
    fill_every_table(lake, 4)
    expected = every_table(lake)
    lake.close()
    backup = take_backup(warehouse)
    assert backup.is_export and backup.path.parent == tmp_path / "home" / "backups"
    assert read_manifest(backup.path).tables == {table: 4 for table in expected}
    assert take_backup(warehouse) is None  # the lake is at the snapshot the backup was read from

    lake = connect(warehouse)
    lake.execute("delete from delivery.ledger")  # what a restore brings back
    lake.close()
    assert cli.main(["restore"]) == 0
    said = capsys.readouterr()
    assert "admin-Pw-7c1d" not in said.out + said.err
    restored, kept = said.out.splitlines()[:2]
    assert restored.startswith("Restored the DuckLake scorecard_admin@127.0.0.1:")
    assert f"from the backup {backup.path} " in restored and "17 tables" in restored
    aside = next((tmp_path / "home").glob("warehouse.before-restore-*"))
    assert kept == f"The rows it replaced are kept in the export {aside} (not deleted)."
    assert read_manifest(aside).tables["delivery.ledger"] == 0
    lake = connect(warehouse)
    assert every_table(lake) == expected
    lake.close()

    newer = take_backup(warehouse, keep=1)  # the restore changed the lake: a new one
    assert list_backups(backups_folder(warehouse)) == [newer] and not backup.path.exists()


def test_a_month_on_ducklake_equals_the_embedded_warehouses(
    postgres, quarter_exports, shipped_definitions, tmp_path, monkeypatch
):
    with psycopg.connect(postgres.url, autocommit=True) as conn:
        conn.execute("create database lake")
    lake = {
        "SCORECARD_WAREHOUSE": "ducklake",
        "SCORECARD_DUCKLAKE_CATALOG": postgres.url_for("scorecard_admin", "admin-Pw-7c1d", "lake"),
        "SCORECARD_DUCKLAKE_DATA": str(tmp_path / "lake-data"),
    }
    homes = {"embedded": tmp_path / "embedded", "lake": tmp_path / "lake"}
    for home in homes.values():
        shutil.copytree(quarter_exports, home / "demo")
    runs = {"embedded": _run(homes["embedded"], {}), "lake": _run(homes["lake"], lake)}
    said = {name: run.communicate(timeout=600)[0] for name, run in runs.items()}
    for name, run in runs.items():
        assert run.returncode == 0, said[name]
        assert "Business units: 6 reports" in said[name], said[name]
    assert not (homes["lake"] / "warehouse.duckdb").exists()  # everything went to the lake
    assert list((tmp_path / "lake-data").rglob("*.parquet"))

    embedded = connect(homes["embedded"] / "warehouse.duckdb", read_only=True)
    expected = _rows(embedded)
    embedded.close()
    for name, value in lake.items():
        monkeypatch.setenv(name, value)
    on_lake = connect(tmp_path / "unused.duckdb", read_only=True, sandboxed=True)
    found = _rows(on_lake)
    # the catalog's password is in a secret, out of reach of SQL on the connection
    paths = str(on_lake.execute("select path from duckdb_databases()").fetchall())
    assert "admin-Pw-7c1d" not in paths
    secrets = on_lake.execute("select secret_string from duckdb_secrets()").fetchall()
    assert secrets and "admin-Pw-7c1d" not in str(secrets)
    on_lake.close()
    assert all(expected[t] for t in TABLES), {t: len(r) for t, r in expected.items()}
    for table in TABLES:
        assert found[table] == expected[table], table
    # the commands that read the warehouse read the lake
    status = subprocess.run(
        [
            str(Path(sys.executable).parent / "scorecard"),
            "status",
            "--from",
            PERIOD,
            "--to",
            PERIOD,
        ],
        env={**os.environ, "SCORECARD_HOME": str(homes["lake"])},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert status.returncode == 0, status.stderr
    month = status.stdout.splitlines()[1].split()
    assert month[0] == PERIOD and month[1] != "0", status.stdout  # its tables loaded


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"SCORECARD_WAREHOUSE": "lakehouse"}, "use duckdb \\(the default\\) or ducklake"),
        ({"SCORECARD_WAREHOUSE": "ducklake"}, "needs SCORECARD_DUCKLAKE_CATALOG"),
        (
            {
                "SCORECARD_WAREHOUSE": "ducklake",
                "SCORECARD_DUCKLAKE_CATALOG": "mysql://h/lake",
                "SCORECARD_DUCKLAKE_DATA": "/tmp/x",
            },
            "not a PostgreSQL URL",
        ),
    ],
)
def test_a_lake_setting_that_cannot_be_used_is_one_line(environ, message):
    with pytest.raises(LakeSettingError, match=message):
        lake_settings(environ)
    assert lake_settings({}) is None and lake_settings({"SCORECARD_WAREHOUSE": "duckdb"}) is None


def test_a_catalog_that_cannot_be_attached_is_one_line_without_its_password(
    postgres, tmp_path, monkeypatch
):
    wrong = postgres.url_for("scorecard_admin", "not-the-Pw-93", "postgres")
    monkeypatch.setenv("SCORECARD_WAREHOUSE", "ducklake")
    monkeypatch.setenv("SCORECARD_DUCKLAKE_CATALOG", wrong)
    monkeypatch.setenv("SCORECARD_DUCKLAKE_DATA", str(tmp_path / "data"))
    with pytest.raises(LakeSettingError, match="cannot be attached") as raised:
        connect(tmp_path / "unused.duckdb")
    message = str(raised.value)
    assert "\n" not in message and "not-the-Pw-93" not in message
    assert "SCORECARD_DUCKLAKE_CATALOG" in message

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
from demo_homes import DEFINITIONS_ENV, SHIPPED_DEFINITIONS
from warehouse_contents import every_table, fill_every_table

from pipelines import cli
from pipelines.warehouse.backup import take_backup
from pipelines.warehouse.connection import connect, ensure_tables
from pipelines.warehouse.integrity import backups_folder, list_backups
from pipelines.warehouse.lake import LakeSettingError, lake_settings
from pipelines.warehouse.transfer import export_warehouse, import_warehouse, read_manifest

FIRST, LAST = "2026-01", "2026-03"  # the quarter exports: Q1 2026, a review the last closes
# what the runs write, less what names the run (run ids, times, the catalog's hash)
TABLES = {
    "kpi.kpi_values": "run_id, computed_at, catalog_version",
    "score.kpi_scores": "run_id",
    "score.rollup_scores": "run_id",
    "unit.kpi_values": "run_id, computed_at, catalog_version",
    "unit.rollup_scores": "run_id",
    "review.kpi_results": "run_id, computed_at, catalog_version",
    "review.rollup_scores": "run_id, computed_at, catalog_version",
    "meta.loads": "run_id, loaded_at, source_path",
}
LAKE_PASSWORD = "admin-Pw-7c1d"


def _scorecard(home, env, *args) -> subprocess.Popen:
    """`scorecard` with the catalog as shipped, business units included."""
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "scorecard"), *args],
        env={
            **os.environ,
            "SCORECARD_HOME": str(home),
            DEFINITIONS_ENV: str(SHIPPED_DEFINITIONS),
            **env,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finish(*runs: subprocess.Popen) -> list[str]:
    said = [run.communicate(timeout=600)[0] for run in runs]
    for run, output in zip(runs, said, strict=True):
        assert run.returncode == 0, output
    return said


def _rounded(value):
    # a sum over rows in other files adds in another order: the last digits of a double differ
    return float(f"{value:.12g}") if isinstance(value, float) else value


def _rows(con) -> dict[str, list[tuple]]:
    return {
        table: [
            tuple(map(_rounded, row))
            for row in con.execute(
                f"select * exclude ({dropped}) from {table} order by all"  # noqa: S608
            ).fetchall()
        ]
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


def _sent(con) -> list[tuple]:
    return con.execute(
        "select list_id, recipient, count(*) from delivery.ledger where state = 'sent' "
        "and kind = 'scorecard' group by all order by all"
    ).fetchall()


@pytest.fixture(scope="module")
def lake_and_file(postgres, quarter_exports, tmp_path_factory):
    """The quarter on the embedded file, one run at a time: a backfill in one run, then its
    last month. On a DuckLake, many at once: the backfill in two runs side by side, then two
    runs of the last month at once."""
    tmp_path = tmp_path_factory.mktemp("ducklake")
    with psycopg.connect(postgres.url, autocommit=True) as conn:
        conn.execute("create database lake")
    lake = {
        "SCORECARD_WAREHOUSE": "ducklake",
        "SCORECARD_DUCKLAKE_CATALOG": postgres.url_for("scorecard_admin", LAKE_PASSWORD, "lake"),
        "SCORECARD_DUCKLAKE_DATA": str(tmp_path / "lake-data"),
    }
    homes = {"embedded": tmp_path / "embedded", "lake": tmp_path / "lake"}
    for home in homes.values():
        shutil.copytree(quarter_exports, home / "demo")
    backfills = _finish(
        _scorecard(homes["embedded"], {}, "backfill", "--from", FIRST, "--to", LAST),
        _scorecard(homes["lake"], lake, "backfill", "--from", FIRST, "--to", LAST, "--runs", "2"),
    )
    months = _finish(
        _scorecard(homes["embedded"], {}, "run", "--period", LAST),
        *(_scorecard(homes["lake"], lake, "run", "--period", LAST) for _ in range(2)),
    )
    return {"homes": homes, "lake": lake, "backfills": backfills, "months": months}


def _lake_connection(lake_and_file, monkeypatch, tmp_path):
    for name, value in lake_and_file["lake"].items():
        monkeypatch.setenv(name, value)
    return connect(tmp_path / "unused.duckdb", read_only=True, sandboxed=True)


def test_runs_side_by_side_on_ducklake_equal_the_embedded_warehouses(
    lake_and_file, tmp_path, monkeypatch
):
    homes = lake_and_file["homes"]
    assert "in 2 runs side by side" in lake_and_file["backfills"][1]
    assert "3 month(s) done, 0 failed" in lake_and_file["backfills"][1]
    assert all("Business units: 6 reports" in said for said in lake_and_file["months"])
    assert not (homes["lake"] / "warehouse.duckdb").exists()  # everything went to the lake
    embedded = connect(homes["embedded"] / "warehouse.duckdb", read_only=True)
    expected, sent = _rows(embedded), _sent(embedded)
    embedded.close()
    on_lake = _lake_connection(lake_and_file, monkeypatch, tmp_path)
    found, sent_on_lake = _rows(on_lake), _sent(on_lake)
    # the catalog's password is in a secret, out of reach of SQL on the connection
    paths = str(on_lake.execute("select path from duckdb_databases()").fetchall())
    assert LAKE_PASSWORD not in paths
    secrets = on_lake.execute("select secret_string from duckdb_secrets()").fetchall()
    assert secrets and LAKE_PASSWORD not in str(secrets)
    on_lake.close()
    assert all(expected[t] for t in TABLES), {t: len(r) for t, r in expected.items()}
    for table in TABLES:  # no month twice, though two runs of it wrote at once
        assert found[table] == expected[table], table
    # one email per recipient, though two runs of the month sent at once
    assert sent and all(count == 1 for *_, count in sent), sent
    assert sent_on_lake == sent
    outbox = {name: sorted((home / "outbox" / LAST).glob("*.eml")) for name, home in homes.items()}
    assert len(outbox["lake"]) == len(outbox["embedded"]) > 0


def test_scorecard_status_reads_the_lake(lake_and_file):
    status = subprocess.run(
        [str(Path(sys.executable).parent / "scorecard"), "status", "--from", FIRST, "--to", LAST],
        env={**os.environ, "SCORECARD_HOME": str(lake_and_file["homes"]["lake"])}
        | lake_and_file["lake"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert status.returncode == 0, status.stderr
    months = [line.split() for line in status.stdout.splitlines()[1:4]]
    assert [m[0] for m in months] == [FIRST, "2026-02", LAST], status.stdout
    assert all(m[1] != "0" for m in months), status.stdout  # their tables loaded


def test_backfill_runs_need_a_lake(quarter_exports, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(quarter_exports, home / "demo")
    said = _scorecard(home, {}, "backfill", "--from", FIRST, "--to", LAST, "--runs", "2")
    output = said.communicate(timeout=120)[0]
    assert said.returncode == 2, output
    assert "--runs 2 needs a warehouse that several runs can write at once" in output
    assert len(output.strip().splitlines()) == 1, output


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

"""`scorecard warehouse export` and `import` (issue 24): every table of a warehouse file as
Parquet and back into another file, row for row; a folder that is not a whole export, or a
warehouse that already holds rows, is refused in one line and the target is left as it was.

The warehouses are DuckDB files whose every table holds a few rows written here (no run).
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from warehouse_contents import every_table, fill_every_table

from pipelines import cli
from pipelines.warehouse.connection import connect, ensure_tables
from pipelines.warehouse.transfer import (
    TransferError,
    export_warehouse,
    import_warehouse,
    read_manifest,
)

ROWS = 7


def _warehouse(path: Path, rows: int) -> Path:
    con = duckdb.connect(str(path))
    ensure_tables(con)
    fill_every_table(con, rows)
    con.close()
    return path


def _contents(path: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return every_table(con)
    finally:
        con.close()


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[Path, Path]:
    """A warehouse file with ROWS rows in every table, and its export (not to be changed)."""
    folder = tmp_path_factory.mktemp("exported")
    source = _warehouse(folder / "source.duckdb", ROWS)
    con = duckdb.connect(str(source), read_only=True)
    export_warehouse(con, folder / "export")
    con.close()
    return source, folder / "export"


@pytest.fixture
def export(exported, tmp_path) -> Path:
    """A copy of the export, to break on purpose."""
    return Path(shutil.copytree(exported[1], tmp_path / "export"))


def test_an_export_imports_into_a_fresh_warehouse_row_for_row(exported, tmp_path):
    source, folder = exported
    manifest = read_manifest(folder)
    expected = _contents(source)
    assert len(expected) == 17 and all(len(rows) == ROWS for rows in expected.values())
    assert manifest.tables == {table: ROWS for table in expected}
    assert manifest.duckdb_version == duckdb.__version__
    assert (folder / "raw" / "crm_orders.parquet").is_file()
    assert not list(tmp_path.parent.glob("*/.*.partial"))

    target = tmp_path / "target.duckdb"
    con = connect(target)
    assert import_warehouse(con, folder) == manifest.tables
    con.close()
    assert _contents(target) == expected
    con = duckdb.connect(str(target), read_only=True)
    kinds = con.execute(
        "select data_type from duckdb_columns() where table_name = 'crm_orders' "
        "and column_name = 'amount'"
    ).fetchone()
    con.close()
    assert kinds == ("DECIMAL(18,4)",)


def test_replace_swaps_the_warehouses_rows_for_the_exports(exported, tmp_path):
    source, folder = exported
    target = _warehouse(tmp_path / "target.duckdb", 3)
    con = duckdb.connect(str(target))
    con.execute("create table raw.hr_people (person_id varchar)")  # not in the export
    con.execute("insert into raw.hr_people values ('p1')")
    import_warehouse(con, folder, replace=True)
    assert con.execute("select count(*) from raw.hr_people").fetchone() == (0,)
    con.close()
    found = _contents(target)
    assert found.pop("raw.hr_people") == []
    assert found == _contents(source)


def _drop_manifest(folder: Path) -> str:
    (folder / "manifest.json").unlink()
    return f"{folder / 'manifest.json'} is missing"


def _garble_manifest(folder: Path) -> str:
    (folder / "manifest.json").write_text("{not json")
    return f"{folder / 'manifest.json'} cannot be read"


def _drop_a_parquet(folder: Path) -> str:
    (folder / "kpi" / "kpi_values.parquet").unlink()
    return f"{folder / 'kpi' / 'kpi_values.parquet'} is missing"


def _miscount(folder: Path) -> str:
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["tables"]["score.kpi_scores"] = ROWS + 1
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return f"says score.kpi_scores has {ROWS + 1} rows, but .* holds {ROWS}: nothing was imported"


def _foreign_table(folder: Path) -> str:
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["tables"]["main.extra"] = ROWS
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / "main").mkdir()
    shutil.copy(folder / "kpi" / "kpi_values.parquet", folder / "main" / "extra.parquet")
    return "main.extra is not a table of the warehouse"


def _other_columns(folder: Path) -> str:
    con = duckdb.connect()
    parquet = folder / "meta" / "loads.parquet"
    con.execute(
        f"copy (select * exclude (run_id) from read_parquet('{parquet}')) to '{parquet}.new'"
        " (format parquet)"
    )
    Path(f"{parquet}.new").replace(parquet)
    return "its columns are not those of meta.loads \\(missing: run_id; not in the table: none\\)"


@pytest.mark.parametrize(
    "damage",
    [_drop_manifest, _garble_manifest, _drop_a_parquet, _miscount, _foreign_table, _other_columns],
)
def test_a_folder_that_is_no_whole_export_is_refused_and_the_warehouse_left_as_it_was(
    export, tmp_path, damage
):
    said = damage(export)
    target = _warehouse(tmp_path / "target.duckdb", 2)
    before = _contents(target)
    con = connect(target)
    with pytest.raises(TransferError, match=said) as raised:
        import_warehouse(con, export, replace=True)
    con.close()
    assert "\n" not in str(raised.value)
    assert _contents(target) == before


def test_a_warehouse_that_holds_rows_is_refused_without_replace(exported, tmp_path):
    target = _warehouse(tmp_path / "target.duckdb", 2)
    before = _contents(target)
    con = connect(target)
    with pytest.raises(TransferError, match="already holds rows .*replace them"):
        import_warehouse(con, exported[1])
    con.close()
    assert _contents(target) == before


def test_an_export_goes_only_into_a_new_or_empty_folder(exported, tmp_path):
    con = duckdb.connect(str(exported[0]), read_only=True)
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    with pytest.raises(TransferError, match="is not an empty folder"):
        export_warehouse(con, taken)
    assert [p.name for p in taken.iterdir()] == ["notes.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert export_warehouse(con, empty).rows == 17 * ROWS
    con.close()
    assert (empty / "manifest.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "taken"]  # no partial left


def test_the_commands_export_and_import_a_warehouse(exported, paths, tmp_path, capsys):
    shutil.copy(exported[0], paths.warehouse)
    folder = tmp_path / "moved"
    assert cli.main(["warehouse", "export", "--to", str(folder)]) == 0
    assert capsys.readouterr().out == f"Exported 17 tables, {17 * ROWS:,} rows to {folder}\n"

    assert cli.main(["warehouse", "import", "--from", str(folder)]) == 1  # it holds rows
    said = capsys.readouterr()
    assert said.out.startswith("Backed up the warehouse to ")  # before anything is written
    assert said.err.startswith("scorecard warehouse import: the warehouse already holds rows")
    assert said.err.count("\n") == 1
    assert cli.main(["warehouse", "import", "--from", str(folder), "--replace"]) == 0
    out = capsys.readouterr().out
    assert out.endswith(f"Imported 17 tables, {17 * ROWS:,} rows from {folder}\n")
    assert _contents(paths.warehouse) == _contents(exported[0])

    assert cli.main(["warehouse", "import", "--from", str(tmp_path / "nowhere")]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"scorecard warehouse import: {tmp_path / 'nowhere' / 'manifest.json'} is missing: "
        f"{tmp_path / 'nowhere'} is not a warehouse export\n"
    )


# An export in a process whose files may not grow past 1 MiB (RLIMIT_FSIZE): a write past it
# fails ("File too large"; Python ignores SIGXFSZ), or kills the process when SIGXFSZ is let be.
_LIMITED_EXPORT = """
import resource, signal, sys
from pathlib import Path
import duckdb
from pipelines.warehouse.transfer import TransferError, export_warehouse
if sys.argv[3] == "killed":
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
con = duckdb.connect(sys.argv[1], read_only=True)
resource.setrlimit(resource.RLIMIT_FSIZE, (2**20, 2**20))
try:
    export_warehouse(con, Path(sys.argv[2]))
except TransferError as exc:
    sys.exit(str(exc))
"""


@pytest.mark.parametrize("end", ["failed", "killed"])
def test_an_export_that_stops_half_way_leaves_no_folder(tmp_path, end):
    source = _warehouse(tmp_path / "source.duckdb", ROWS)
    con = duckdb.connect(str(source))
    con.execute(  # about 4 MiB that do not compress, in the last table written
        "create table unit.zz_noise as select md5(i::varchar) || md5((i + 1)::varchar) as noise "
        "from range(60000) t(i)"
    )
    con.close()
    target = tmp_path / "out" / "export"
    done = subprocess.run(
        [sys.executable, "-c", _LIMITED_EXPORT, str(source), str(target), end],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert not target.exists()
    partial = target.with_name(".export.partial")
    if end == "failed":
        assert done.returncode == 1
        assert done.stderr.startswith(f"could not export the warehouse to {target}: ")
        assert done.stderr.count("\n") == 1 and "File too large" in done.stderr
        assert not partial.exists()
    else:
        assert done.returncode == -signal.SIGXFSZ, done.stderr
        assert (partial / "kpi" / "kpi_values.parquet").is_file()  # the tables before it
        con = duckdb.connect(str(source), read_only=True)
        assert export_warehouse(con, target).rows == 17 * ROWS + 60000  # the next one sweeps it
        con.close()
        assert not partial.exists()

"""A full disk under the warehouse: the load fails loudly and the months committed before survive.

The warehouse lives on a small tmpfs mounted for the test (root only; CI runs as root, elsewhere
the tests are skipped), filled with a file until the next load cannot fit: once so that the
commit (the write-ahead log) fails, once so that the commit fits and the checkpoint after it
does not.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tmpfs import mounted_tmpfs

from pipelines.defs.resources import WarehouseResource
from pipelines.demo.generator import generate_demo
from pipelines.ingest.files import load_file_table
from pipelines.periods import Period
from pipelines.warehouse.connection import WarehouseFullError, connect, ensure_tables

JAN, FEB, MAR = Period(2026, 1), Period(2026, 2), Period(2026, 3)
TABLE = "finance.gl_entries"


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    """Exports big enough that two months of general ledger need most of a megabyte."""
    folder = tmp_path_factory.mktemp("home")
    generate_demo(folder / "demo", start=JAN.key, end=MAR.key, scale=0.3, seed=5)
    return folder


@pytest.fixture
def small_disk(tmp_path) -> Path:
    """An 8 MiB tmpfs, unmounted afterwards."""
    with mounted_tmpfs(tmp_path / "disk", 8) as mount_point:
        yield mount_point


def _load(warehouse: WarehouseResource, catalog, first, last, home, run_id) -> None:
    with warehouse.connection() as con:  # the raw assets' way: checkpointed after the load
        load_file_table(con, catalog.table(TABLE), first, last, home, run_id)


def _contents(path: Path) -> tuple[list, list]:
    con = connect(path, read_only=True)
    try:
        return (
            con.execute("select * from raw.finance_gl_entries order by all").fetchall(),
            con.execute("select * from meta.loads order by all").fetchall(),
        )
    finally:
        con.close()


def _fill(disk: Path, leave_bytes: int) -> Path:
    stat = os.statvfs(disk)
    filler = disk / "filler"
    filler.write_bytes(b"\0" * max(stat.f_bavail * stat.f_frsize - leave_bytes, 0))
    return filler


def _wal_bytes_of_feb_and_mar(tmp_path, catalog, home) -> int:
    """How much write-ahead log the February-March load writes (measured on the roomy disk)."""
    warehouse = tmp_path / "measure.duckdb"
    con = connect(warehouse)
    con.execute("set checkpoint_threshold = '1GB'")
    ensure_tables(con)
    load_file_table(con, catalog.table(TABLE), FEB, MAR, home, "measure")
    size = Path(f"{warehouse}.wal").stat().st_size
    con.close()
    return size


def test_a_commit_that_hits_a_full_disk_fails_loudly_and_keeps_january(small_disk, catalog, home):
    path = small_disk / "warehouse.duckdb"
    warehouse = WarehouseResource(path=str(path))
    _load(warehouse, catalog, JAN, JAN, home, "january")
    january = _contents(path)
    assert not Path(f"{path}.wal").exists() or Path(f"{path}.wal").stat().st_size == 0
    filler = _fill(small_disk, leave_bytes=16 * 1024)

    with pytest.raises(WarehouseFullError) as caught:
        _load(warehouse, catalog, FEB, MAR, home, "february-march")
    message = str(caught.value)
    assert f"the disk holding the warehouse {path} is full" in message
    assert f"the load of {TABLE} for {FEB}..{MAR} was not committed" in message
    assert "No space left on device" in message

    assert _contents(path) == january  # reopened from the file: January only, as committed
    filler.unlink()
    _load(warehouse, catalog, FEB, MAR, home, "february-march")  # with room again, it loads
    rows, loads = _contents(path)
    assert {run for *_, run, _ in loads} == {"january", "february-march"}
    assert set(january[0]) <= set(rows)


def test_a_checkpoint_that_hits_a_full_disk_fails_loudly_and_keeps_the_commit(
    small_disk, tmp_path, catalog, home
):
    wal_bytes = _wal_bytes_of_feb_and_mar(tmp_path, catalog, home)
    path = small_disk / "warehouse.duckdb"
    warehouse = WarehouseResource(path=str(path))
    _load(warehouse, catalog, JAN, JAN, home, "january")
    january_rows, _ = _contents(path)
    filler = _fill(small_disk, leave_bytes=wal_bytes + 64 * 1024)  # the log fits, no more

    with pytest.raises(WarehouseFullError) as caught:
        _load(warehouse, catalog, FEB, MAR, home, "february-march")
    message = str(caught.value)
    assert f"the disk holding the warehouse {path} is full" in message
    assert "committed in the write-ahead log" in message

    filler.unlink()
    rows, loads = _contents(path)  # the log is replayed: January and the committed load
    assert {run for *_, run, _ in loads} == {"january", "february-march"}
    assert set(january_rows) <= set(rows)
    assert {r for r in rows if r not in set(january_rows)}, "February and March are there"


def test_a_writer_after_the_load_reports_the_full_disk_not_a_failed_rollback(small_disk, catalog):
    """KPI values (like scores, verdicts, reports and the ledger) are written in the same kind of
    transaction: a full disk is named as such, and what was committed before stays."""
    from pipelines.kpis.evaluate import VALUE, KpiValue, write_kpi_values

    path = small_disk / "warehouse.duckdb"
    con = connect(path)
    ensure_tables(con)
    kpis = [k for k in catalog.kpis if not k.calculated]
    january = [KpiValue(k.id, VALUE, 1.0, 1.0, 1.0) for k in kpis]
    write_kpi_values(con, catalog, JAN, january, "january")
    con.execute("checkpoint")
    _fill(small_disk, leave_bytes=0)
    february = [KpiValue(k.id, VALUE, 2.0, 2.0, 2.0, "x" * 20_000) for k in kpis]
    with pytest.raises(WarehouseFullError) as caught:
        write_kpi_values(con, catalog, FEB, february, "february")
    assert f"the KPI values of {FEB} was not committed" in str(caught.value)
    assert "cannot rollback" not in str(caught.value)
    con.close()
    (small_disk / "filler").unlink()
    con = connect(path, read_only=True)
    try:
        kept = con.execute(
            "select strftime(period, '%Y-%m'), count(*) from kpi.kpi_values group by 1"
        ).fetchall()
    finally:
        con.close()
    assert kept == [(JAN.key, len(kpis))]

"""DuckDB's memory is bounded: every warehouse connection takes $SCORECARD_WAREHOUSE_MEMORY (1GB
by default, instead of DuckDB's 80 % of the machine) and spills beyond it; a value that is not
an amount of memory ends the command in one line."""

from __future__ import annotations

import pytest

from pipelines.cli import main
from pipelines.warehouse.connection import connect


def _bytes(path) -> float:
    con = connect(path)
    try:
        text = con.execute("select current_setting('memory_limit')").fetchone()[0]
    finally:
        con.close()
    number, unit = text.split()
    return float(number) * {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30}[unit]


def test_a_connection_holds_at_most_the_configured_memory(tmp_path, monkeypatch):
    warehouse = tmp_path / "warehouse.duckdb"
    monkeypatch.delenv("SCORECARD_WAREHOUSE_MEMORY", raising=False)
    assert 0.9 * 10**9 <= _bytes(warehouse) <= 10**9  # 1GB, not 80 % of the machine
    monkeypatch.setenv("SCORECARD_WAREHOUSE_MEMORY", "256MB")
    assert 0.9 * 256 * 10**6 <= _bytes(warehouse) <= 256 * 10**6


@pytest.mark.parametrize("value", ["lots", "1 gallon", "-5GB"])
def test_a_memory_setting_that_is_not_an_amount_ends_in_one_line(value, paths, monkeypatch, capsys):
    connect(paths.warehouse).close()
    monkeypatch.setenv("SCORECARD_HOME", str(paths.home))
    monkeypatch.setenv("SCORECARD_WAREHOUSE_MEMORY", value)
    assert main(["status"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"scorecard status: SCORECARD_WAREHOUSE_MEMORY={value!r} is not an amount of memory: "
        "write it as DuckDB does, for example 512MB, 2GB or 25%"
    )

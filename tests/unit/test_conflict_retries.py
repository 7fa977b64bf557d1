"""connection.transactions: a transaction that loses to a concurrent writer is tried again on
the warehouse as it now is (a DuckLake's writers, here two cursors of one DuckDB file)."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.warehouse import connection
from pipelines.warehouse.connection import transactions


@pytest.fixture
def warehouse(tmp_path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("create table t (k integer, v integer)")
    con.execute("insert into t values (1, 0)")
    yield con
    con.close()


def test_a_conflicting_transaction_is_tried_again_after_the_other_commits(warehouse):
    holder, writer = warehouse.cursor(), warehouse.cursor()
    holder.execute("begin transaction")
    holder.execute("update t set v = 1 where k = 1")
    tries = 0
    for attempt in transactions(writer, "the test's row"):
        with attempt:
            tries += 1
            try:
                writer.execute("update t set v = v + 10 where k = 1")
            except duckdb.TransactionException:
                holder.execute("commit")  # the other writer finishes meanwhile
                raise
    assert tries == 2
    assert warehouse.execute("select v from t").fetchall() == [(11,)]  # on the other's row


def test_any_other_error_ends_it_at_once_and_rolls_back(warehouse):
    tries = 0
    with pytest.raises(duckdb.CatalogException):
        for attempt in transactions(warehouse, "the test's row"):
            with attempt:
                tries += 1
                warehouse.execute("update t set v = 5")
                warehouse.execute("select * from no_such_table")
    assert tries == 1
    assert warehouse.execute("select v from t").fetchall() == [(0,)]


def test_it_gives_up_after_its_attempts(warehouse, monkeypatch):
    monkeypatch.setattr(connection, "CONFLICT_ATTEMPTS", 3)
    monkeypatch.setattr(connection, "CONFLICT_MAX_WAIT_SECONDS", 0.01)
    holder, writer = warehouse.cursor(), warehouse.cursor()
    holder.execute("begin transaction")
    holder.execute("update t set v = 1 where k = 1")
    tries = 0
    with pytest.raises(duckdb.TransactionException, match="[Cc]onflict"):
        for attempt in transactions(writer, "the test's row"):
            with attempt:
                tries += 1
                writer.execute("update t set v = 2 where k = 1")
    assert tries == 3


def test_a_transaction_that_cannot_begin_says_why(warehouse):
    warehouse.execute("begin transaction")
    with pytest.raises(duckdb.TransactionException, match="within a transaction"):
        for attempt in transactions(warehouse, "the test's row"):
            with attempt:
                pass

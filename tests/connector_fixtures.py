"""Fixtures of the connector tests: a PostgreSQL cluster and a JSON API on 127.0.0.1.

tests/conftest.py imports the fixtures, so every test module can use them. The cluster starts
once per test session (per xdist worker) and is removed at its end; without PostgreSQL installed
its tests are skipped, except under CI, where that is a failure.
"""

from __future__ import annotations

import os

import duckdb
import psycopg
import pytest
from api_server import ApiServer
from pg_cluster import find_bindir, start_postgres

from pipelines.catalog.catalog import SourceTable
from pipelines.catalog.models import SourceFile
from pipelines.warehouse.connection import ensure_tables

READER, READER_PASSWORD = "crm_reader", "pg-SECRET-5d0e77"  # noqa: S105 - test credentials


@pytest.fixture(scope="session")
def postgres():
    """A running temporary cluster with a `crm` database readable by READER."""
    bindir = find_bindir()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL (initdb, pg_ctl) is not installed; .ci/run installs it")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql-15)")
    cluster = start_postgres(bindir)
    try:
        with psycopg.connect(cluster.url, autocommit=True) as conn:
            conn.execute(f"create role {READER} login password '{READER_PASSWORD}'")
            conn.execute(f"create database crm owner {READER}")
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def crm_db(postgres):
    """A superuser connection to the `crm` database, schema `sales` emptied for the test."""
    with psycopg.connect(
        postgres.url_for("scorecard_admin", "admin-Pw-7c1d", "crm"), autocommit=True
    ) as conn:
        conn.execute("drop schema if exists sales cascade")
        conn.execute("create schema sales")
        conn.execute(f"grant usage on schema sales to {READER}")
        conn.execute(f"alter default privileges in schema sales grant select on tables to {READER}")
        yield conn


@pytest.fixture(scope="session")
def api_server():
    """A running JSON API (see api_server.py)."""
    server = ApiServer()
    yield server
    server.stop()


@pytest.fixture
def api(api_server):
    """The API, reset for the test."""
    api_server.reset()
    return api_server


@pytest.fixture
def duck():
    """An in-memory DuckDB with the warehouse tables."""
    con = duckdb.connect()
    ensure_tables(con)
    yield con
    con.close()


def source_table(source: dict, index: int = 0) -> SourceTable:
    """A SourceTable from a source definition written as a dict (as its YAML would be)."""
    parsed = SourceFile.model_validate(source)
    return SourceTable(parsed, parsed.tables[index])

"""The catalog reaches only what it declares (issue 18, item 1).

KPI SQL is bound (`scorecard check`, every catalog load) and run only on sandboxed DuckDB
connections; file sources are read only under the exports roots ($SCORECARD_HOME, and the
folders of SCORECARD_EXPORT_ROOTS); query files only under sql/. Nothing the catalog does not
declare is opened, so no message quotes it. "Never opened" is shown with a FIFO: opening one
for reading blocks until a writer comes, so a process that opens it hangs (a child process, cut
off by its timeout) or is seen by a watcher thread (in process).
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb
import pytest
from connector_fixtures import source_table
from fresh_python import run_python

from pipelines.catalog import CatalogError, load_catalog
from pipelines.catalog_check import check_catalog
from pipelines.cli import main
from pipelines.ingest.files import load_file_table
from pipelines.ingest.postgres import source_relation
from pipelines.ingest.raw_tables import SourceLoadError
from pipelines.periods import Period

SECRET = "root:x:0:0:SECRET-4b1d7:/root:/bin/bash"  # a line of a file the catalog never declares
JAN = Period(2026, 1)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder outside the runtime folder holding a secret file and a FIFO."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.csv").write_text(f"{SECRET}\n{SECRET}\n")
    os.mkfifo(folder / "fifo.csv")
    return folder


@pytest.fixture
def home(tmp_path: Path, monkeypatch) -> Path:
    """The runtime folder, $SCORECARD_HOME, with no extra exports roots."""
    folder = tmp_path / "home"
    (folder / "demo").mkdir(parents=True)
    monkeypatch.setenv("SCORECARD_HOME", str(folder))
    monkeypatch.delenv("SCORECARD_EXPORT_ROOTS", raising=False)
    return folder


@contextmanager
def _fifo_watch(fifo: Path) -> Iterator[threading.Event]:
    """An event set when anything opens `fifo` for reading (which then reads the secret)."""
    opened, stop = threading.Event(), threading.Event()

    def watch() -> None:
        while not stop.wait(0.02):
            try:  # succeeds only while a reader has the FIFO open (or waits in open())
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                continue
            opened.set()
            os.write(fd, f"{SECRET}\n".encode())
            os.close(fd)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield opened
    finally:
        stop.set()
        thread.join()


def _scorecard_child(args: list[str], root: Path, home: Path, timeout: float = 150):
    """`scorecard ARGS` in a fresh process on the catalog under `root`: (exit code, output)."""
    env = {
        **os.environ,
        "SCORECARD_HOME": str(home),
        "SCORECARD_SQL": str(root / "sql"),
        "SCORECARD_DEFINITIONS": str(root / "definitions"),
    }
    env.pop("SCORECARD_EXPORT_ROOTS", None)
    try:
        done = run_python(
            f"import sys; from pipelines.cli import main; sys.exit(main({args!r}))",
            timeout=timeout,
            env=env,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(
            f"scorecard {' '.join(args)} hung: it opened the FIFO, a file the catalog "
            "does not declare"
        )
    return done.returncode, done.stdout + done.stderr


def _use_env(monkeypatch, root: Path) -> None:
    monkeypatch.setenv("SCORECARD_DEFINITIONS", str(root / "definitions"))
    monkeypatch.setenv("SCORECARD_SQL", str(root / "sql"))


def _nps_sql(root: Path, extra_from: str) -> None:
    (root / "sql/kpis/nps.sql").write_text(
        "select (count(*) filter (where score >= 9))::double as value\n"
        f"from raw.crm_nps_responses, {extra_from}\n"
        "where response_date >= $window_start and response_date < $window_end\n"
    )


# --- KPI SQL -----------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["check"], ["run"]])
def test_kpi_sql_reading_a_file_never_opens_it(copied_catalog, home, outside, command):
    """Before: `check` and `run` bound the SQL on DuckDB's default connection, which opened the
    file (here a FIFO: the child hung)."""
    _nps_sql(copied_catalog, f"read_csv('{outside / 'fifo.csv'}')")
    code, output = _scorecard_child(command, copied_catalog, home)
    assert code != 0, output
    assert "sql/kpis/nps.sql" in output and "read_csv" in output, output
    assert "Traceback" not in output, output


@pytest.mark.parametrize("command", [["check"], ["run"]])
def test_kpi_sql_reading_a_file_quotes_nothing_of_it(
    copied_catalog, home, outside, monkeypatch, capsys, command
):
    """Before: DuckDB's CSV error ("Original Line: root:x:0:0...") reached the output."""
    _use_env(monkeypatch, copied_catalog)
    _nps_sql(copied_catalog, f"read_csv('{outside / 'secret.csv'}', max_line_size = 10)")
    assert main(command) != 0
    output = capsys.readouterr()
    assert "SECRET" not in output.out + output.err
    assert "sql/kpis/nps.sql" in output.err and "read_csv" in output.err


@pytest.mark.parametrize(
    "call",
    [
        "query('select * from delivery.ledger')",
        "read_parquet('exports/*.parquet')",
        "glob('*')",
        "read_text('notes.txt')",
    ],
)
def test_kpi_sql_calls_no_table_function(copied_catalog, home, call):
    """A table function reads outside the declared tables (`query` even the warehouse's own
    delivery ledger, past the check that SQL names only raw tables)."""
    _nps_sql(copied_catalog, call)
    with pytest.raises(CatalogError) as problems:
        load_catalog(copied_catalog / "definitions", copied_catalog / "sql")
    message = str(problems.value)
    assert f"sql/kpis/nps.sql: calls the table function {call.split('(')[0]}" in message, message


def test_the_sql_of_every_load_is_bound_on_a_sandboxed_connection(copied_catalog, monkeypatch):
    """No catalog load binds SQL on DuckDB's default (unsandboxed) connection."""

    def refuse(*args, **kwargs):
        raise AssertionError("SQL bound on DuckDB's default connection")

    monkeypatch.setattr(duckdb, "get_table_names", refuse)
    catalog = load_catalog(copied_catalog / "definitions", copied_catalog / "sql")
    assert check_catalog(catalog, date(2026, 11, 28)).errors == []
    assert catalog.kpi_tables["nps"] == ("crm.nps_responses",)


# --- file sources ------------------------------------------------------------------------------


def _nps_path(root: Path, path: str) -> None:
    file = root / "definitions/sources/crm.yaml"
    file.write_text(file.read_text().replace("path: demo/crm/nps_responses.csv", f"path: '{path}'"))


def _check_errors(root: Path) -> list[str]:
    catalog = load_catalog(root / "definitions", root / "sql")
    return check_catalog(catalog, date(2026, 11, 28)).errors


def _path_errors(errors: list[str]) -> list[str]:
    return [e for e in errors if e.startswith("sources/crm.yaml: tables (nps_responses).path:")]


@pytest.mark.parametrize(
    "path",
    [
        "../../../../etc/passwd",
        "demo/../../outside/secret.csv",
        "/etc/passwd",
        "OUTSIDE/secret.csv",
        "OUTSIDE/*.csv",
    ],
)
def test_check_refuses_a_file_path_outside_the_exports_root(copied_catalog, home, outside, path):
    _nps_path(copied_catalog, path.replace("OUTSIDE", str(outside)))
    errors = _path_errors(_check_errors(copied_catalog))
    assert len(errors) == 1, errors
    assert "outside the exports root" in errors[0] and "SCORECARD_EXPORT_ROOTS" in errors[0]
    assert "SECRET" not in errors[0]


def test_check_refuses_a_link_out_of_the_exports_root(copied_catalog, home, outside):
    (home / "demo/crm").mkdir()
    (home / "demo/crm/nps_responses.csv").symlink_to(outside / "secret.csv")
    errors = _path_errors(_check_errors(copied_catalog))
    assert len(errors) == 1 and "demo/crm/nps_responses.csv" in errors[0], errors
    assert "link" in errors[0] and "outside the exports root" in errors[0]


def test_export_roots_setting_admits_an_absolute_path(copied_catalog, home, outside, monkeypatch):
    _nps_path(copied_catalog, str(outside / "*.csv"))
    monkeypatch.setenv("SCORECARD_EXPORT_ROOTS", f"{outside}{os.pathsep}{home / 'elsewhere'}")
    assert _path_errors(_check_errors(copied_catalog)) == []


def test_export_roots_setting_takes_absolute_folders_only(copied_catalog, home, monkeypatch):
    monkeypatch.setenv("SCORECARD_EXPORT_ROOTS", "exports")
    errors = _check_errors(copied_catalog)
    assert any(
        "SCORECARD_EXPORT_ROOTS" in e and "'exports'" in e and "absolute" in e for e in errors
    ), errors


def _table(path: str):
    return source_table(
        {
            "source": "shop",
            "tables": [
                {
                    "name": "orders",
                    "path": path,
                    "date_column": "order_date",
                    "columns": [
                        {"name": "order_id", "type": "varchar"},
                        {"name": "order_date", "type": "date"},
                    ],
                }
            ],
        }
    )


@pytest.mark.parametrize(
    "path",
    [
        "../outside/fifo.csv",
        "demo/../../outside/fifo.csv",
        "OUTSIDE/fifo.csv",
        "OUTSIDE/*.csv",
        "demo/link.csv",
        "demo/*.csv",
    ],
)
def test_a_load_never_opens_a_file_outside_the_exports_root(duck, home, outside, path):
    (home / "demo/link.csv").symlink_to(outside / "fifo.csv")
    with _fifo_watch(outside / "fifo.csv") as opened, pytest.raises(SourceLoadError) as failed:
        load_file_table(duck, _table(path.replace("OUTSIDE", str(outside))), JAN, JAN, home, "r")
    assert not opened.is_set(), "the load opened the FIFO outside the exports root"
    message = str(failed.value)
    assert (
        message.startswith("source shop, table orders: ")
        and "outside the exports root" in message
        and "SECRET" not in message
    ), message


def test_a_load_reads_an_extra_export_root(duck, home, outside, monkeypatch):
    (outside / "orders.csv").write_text("order_id,order_date\nA-1,2026-01-05\n")
    monkeypatch.setenv("SCORECARD_EXPORT_ROOTS", str(outside))
    result = load_file_table(duck, _table(str(outside / "orders.csv")), JAN, JAN, home, "r")
    assert result.rows_by_period == {"2026-01": 1}


def test_run_never_opens_a_file_source_outside_the_exports_root(copied_catalog, home, outside):
    """Before: `check` passed and the run read the file (here it hung on the FIFO)."""
    _nps_path(copied_catalog, "../outside/fifo.csv")
    code, output = _scorecard_child(["run"], copied_catalog, home)
    assert code != 0, output
    assert "sources/crm.yaml: tables (nps_responses).path" in output, output
    assert "SECRET" not in output


# --- query files of database sources -----------------------------------------------------------


def test_check_refuses_a_query_file_linked_out_of_sql(copied_catalog, home, outside):
    example = copied_catalog / "definitions/examples/crm_postgres.yaml"
    (copied_catalog / "definitions/sources/crm.yaml").write_text(example.read_text())
    query = copied_catalog / "sql/sources/crm_opportunities.sql"
    query.unlink()
    query.symlink_to(outside / "secret.csv")
    errors = _check_errors(copied_catalog)
    assert any(
        e.startswith(
            "sources/crm.yaml: tables (opportunities).query: sql/sources/crm_opportunities.sql"
        )
        and "outside sql/" in e
        for e in errors
    ), errors
    assert not any("SECRET" in e for e in errors)


def test_a_load_never_reads_a_query_file_linked_out_of_sql(tmp_path, outside):
    sql_root = tmp_path / "sql"
    (sql_root / "sources").mkdir(parents=True)
    (sql_root / "sources/orders.sql").symlink_to(outside / "secret.csv")
    table = source_table(
        {
            "source": "shop",
            "connector": {"kind": "postgres", "url_env": "DB"},
            "tables": [
                {
                    "name": "orders",
                    "query": "sources/orders.sql",
                    "date_column": "order_date",
                    "columns": [{"name": "order_date", "type": "date"}],
                }
            ],
        }
    )
    with pytest.raises(PermissionError) as refused:
        source_relation(table, sql_root)
    assert "sql/sources/orders.sql is a link leading outside sql/" in str(refused.value)


def test_a_kpi_sql_file_linked_out_of_sql_is_refused(copied_catalog, outside):
    (outside / "nps.sql").write_text("select count(*)::double as value from raw.crm_nps_responses")
    (copied_catalog / "sql/kpis/nps.sql").unlink()
    (copied_catalog / "sql/kpis/nps.sql").symlink_to(outside / "nps.sql")
    with pytest.raises(CatalogError) as problems:
        load_catalog(copied_catalog / "definitions", copied_catalog / "sql")
    assert "sql/kpis/nps.sql: is a link leading outside sql/" in str(problems.value)

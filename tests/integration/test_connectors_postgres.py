"""The PostgreSQL connector on a real server: server-side month filter, batches, drift, failures."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from connector_fixtures import READER, READER_PASSWORD, source_table
from pg_cluster import free_port

from pipelines.defs.connectors import check_secrets_set, connector_resources
from pipelines.ingest import staging
from pipelines.ingest.drift import SchemaDriftError
from pipelines.ingest.postgres import PostgresSettings, load_postgres_table
from pipelines.ingest.raw_tables import SourceLoadError
from pipelines.ingest.retry import RetryPolicy
from pipelines.periods import Period

JAN, FEB = Period(2024, 1), Period(2024, 2)
FAST = RetryPolicy(attempts=3, backoff_seconds=0.01, max_backoff_seconds=0.02)
COLUMNS = [
    {"name": "opportunity_id", "type": "varchar", "nullable": False},
    {"name": "close_date", "type": "date", "nullable": False},
    {"name": "amount_usd", "type": "decimal"},
    {"name": "won", "type": "boolean"},
]


def _table(**read):
    return source_table(
        {
            "source": "crm",
            "connector": {"kind": "postgres", "url_env": "CRM_DATABASE_URL"},
            "tables": [
                {
                    "name": "opportunities",
                    "date_column": "close_date",
                    "columns": COLUMNS,
                    **(read or {"table": "sales.opportunities"}),
                }
            ],
        }
    )


def _settings(postgres, **extra) -> PostgresSettings:
    url = postgres.url_for(READER, READER_PASSWORD, "crm")
    return PostgresSettings(url=url, retry=FAST, origin="$CRM_DATABASE_URL", **extra)


def _seed(conn, rows_per_day: int = 10) -> None:
    conn.execute(
        "create table sales.opportunities (opportunity_id text, close_date date, "
        'amount_usd numeric(14, 2), won boolean, region text, "Odd Name" int)'
    )
    conn.execute(
        "insert into sales.opportunities select 'op-' || g, date '2023-12-01' + (g / %s), "
        "g * 1.25, g %% 2 = 0, 'emea', g from generate_series(0, %s) g",
        [rows_per_day, rows_per_day * 91 - 1],
    )


def _raw(duck, month: Period):
    return duck.execute(
        "select count(*), sum(amount_usd), min(_run_id) from raw.crm_opportunities "
        "where _period = ?",
        [month.start],
    ).fetchone()


def test_a_month_is_filtered_on_the_server_and_streamed_in_batches(
    postgres, crm_db, duck, monkeypatch
):
    _seed(crm_db)
    batches = []
    original = staging.Stage.append
    monkeypatch.setattr(
        staging.Stage,
        "append",
        lambda self, batch: (batches.append(batch.num_rows), original(self, batch)),
    )
    result = load_postgres_table(
        duck, _table(), JAN, JAN, "run-1", _settings(postgres, batch_rows=100), Path("sql")
    )
    assert result.rows_by_period == {"2024-01": 310}
    # only January's rows crossed the wire, at most one batch at a time
    assert sum(batches) == 310 and max(batches) == 100 and len(batches) == 4
    count, total, run = _raw(duck, JAN)
    assert (count, run) == (310, "run-1") and float(total) > 0
    assert "sales.opportunities" in result.source_path and READER_PASSWORD not in result.source_path
    loads = duck.execute("select rows_loaded, source_path from meta.loads").fetchall()
    assert loads == [(310, result.source_path)]


def test_an_added_column_is_kept_and_reported(postgres, crm_db, duck):
    _seed(crm_db)
    result = load_postgres_table(
        duck, _table(), JAN, FEB, "run-1", _settings(postgres), Path("sql")
    )
    assert result.extra_columns == ("region",) and result.unkept_columns == ("Odd Name",)
    assert duck.execute("select distinct region from raw.crm_opportunities").fetchall() == [
        ("emea",)
    ]
    assert result.rows_by_period == {"2024-01": 310, "2024-02": 290}


def test_a_query_file_is_read_with_the_month_filter_around_it(postgres, crm_db, duck, tmp_path):
    _seed(crm_db)
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "won.sql").write_text(
        "-- won deals only; a literal % must survive\nselect opportunity_id, close_date, "
        "amount_usd, won, 'x%' as note from sales.opportunities where won;\n"
    )
    result = load_postgres_table(
        duck, _table(query="sources/won.sql"), JAN, JAN, "run-1", _settings(postgres), tmp_path
    )
    assert result.rows_by_period == {"2024-01": 155} and result.extra_columns == ("note",)


def test_connection_parts_instead_of_a_url(postgres, crm_db, duck):
    _seed(crm_db)
    settings = PostgresSettings(
        host="127.0.0.1",
        port=postgres.port,
        database="crm",
        user=READER,
        password=READER_PASSWORD,
        retry=FAST,
    )
    result = load_postgres_table(duck, _table(), JAN, JAN, "run-1", settings, Path("sql"))
    assert result.total_rows == 310


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            "alter table sales.opportunities drop column won",
            "source crm, table opportunities: postgresql://127.0.0.1:{port}/crm table "
            "sales.opportunities lacks the declared column(s) won",
        ),
        (
            "alter table sales.opportunities alter column amount_usd type text",
            "source crm, table opportunities: column amount_usd changed type: declared decimal, "
            "the source now delivers text",
        ),
    ],
)
def test_drift_fails_clearly_and_keeps_the_good_month(postgres, crm_db, duck, change, message):
    _seed(crm_db)
    load_postgres_table(duck, _table(), JAN, JAN, "good", _settings(postgres), Path("sql"))
    crm_db.execute(change)
    with pytest.raises(SchemaDriftError) as error:
        load_postgres_table(duck, _table(), JAN, JAN, "bad", _settings(postgres), Path("sql"))
    assert message.format(port=postgres.port) in str(error.value)
    assert _raw(duck, JAN)[0] == 310 and _raw(duck, JAN)[2] == "good"


def test_a_failure_mid_stream_leaves_the_earlier_load(postgres, crm_db, duck, tmp_path):
    _seed(crm_db)
    load_postgres_table(duck, _table(), JAN, JAN, "good", _settings(postgres), Path("sql"))
    (tmp_path / "boom.sql").write_text(
        "select opportunity_id, close_date, amount_usd / (substr(opportunity_id, 4)::int - 550) "
        "as amount_usd, won from sales.opportunities"
    )
    with pytest.raises(SourceLoadError, match="division by zero"):
        load_postgres_table(
            duck,
            _table(query="boom.sql"),
            JAN,
            JAN,
            "bad",
            _settings(postgres, batch_rows=100),
            tmp_path,
        )
    assert _raw(duck, JAN)[0] == 310 and _raw(duck, JAN)[2] == "good"
    temporary = "select count(*) from duckdb_tables() where temporary"
    assert duck.execute(temporary).fetchone()[0] == 0


def test_a_database_that_is_down_is_retried_then_named(postgres, duck):
    port = free_port()
    url = f"postgresql://{READER}:{READER_PASSWORD}@127.0.0.1:{port}/crm"
    logged = []
    with pytest.raises(SourceLoadError) as error:
        load_postgres_table(
            duck,
            _table(),
            JAN,
            JAN,
            "run-1",
            PostgresSettings(url=url, retry=FAST),
            Path("sql"),
            log=logged.append,
        )
    text = str(error.value)
    assert text.startswith(
        f"source crm, table opportunities: postgresql://127.0.0.1:{port}/crm "
        "failed after 3 attempt(s): connection failed"
    )
    assert len(logged) == 2 and "retrying" in logged[0]
    assert READER_PASSWORD not in text + "".join(logged)


def test_wrong_credentials_are_not_retried_and_not_shown(postgres, crm_db, duck):
    _seed(crm_db)
    wrong = "wrong-SECRET-pw"
    settings = PostgresSettings(url=postgres.url_for(READER, wrong, "crm"), retry=FAST)
    logged = []
    with pytest.raises(SourceLoadError) as error:
        load_postgres_table(
            duck, _table(), JAN, JAN, "run-1", settings, Path("sql"), log=logged.append
        )
    assert "password authentication failed" in str(error.value) and not logged
    assert wrong not in str(error.value) and "after" not in str(error.value)


def test_a_missing_table_names_the_source(postgres, crm_db, duck):
    with pytest.raises(
        SourceLoadError,
        match=r"source crm, table opportunities: .*"
        r"relation \"sales.nothing\" does not exist",
    ):
        load_postgres_table(
            duck, _table(table="sales.nothing"), JAN, JAN, "run-1", _settings(postgres), Path("sql")
        )


def test_an_unencoded_at_sign_in_the_password_is_refused_and_never_shown(postgres, duck):
    """'P@ss' written raw in a URL would make libpq read part of the password as the host and
    echo it; the connector refuses the URL before connecting and says how to write it."""
    url = f"postgresql://{READER}:S3cr3t-P@ss!word@127.0.0.1:{postgres.port}/crm"
    settings = PostgresSettings(url=url, retry=FAST, origin="$CRM_DATABASE_URL")
    logged = []
    with pytest.raises(SourceLoadError) as error:
        load_postgres_table(
            duck, _table(), JAN, JAN, "run-1", settings, Path("sql"), log=logged.append
        )
    text = str(error.value)
    assert (
        text.startswith("source crm, table opportunities: $CRM_DATABASE_URL has more than one '@'")
        and "'@' as %40" in text
    )
    assert not logged  # a configuration mistake is not retried
    for piece in ("S3cr3t", "ss!word"):
        assert piece not in text
    # and should a client echo a piece of such a password, the redactor masks it
    assert (
        settings.redactor()('could not translate host name "ss!word@127.0.0.1"')
        == 'could not translate host name "***@127.0.0.1"'
    )


def test_a_timestamptz_lands_in_utc_whatever_the_session_zones(postgres, crm_db, duck):
    """10:00 in Berlin (+01:00 in January) is 09:00 UTC: not the warehouse session's New York
    time, nor the database session's Tokyo time."""
    crm_db.execute(
        "create table sales.touches (touch_id text, touch_date date, "
        "touched_at timestamptz, seen_at timestamptz)"
    )
    crm_db.execute(
        "insert into sales.touches values ('t1', '2024-01-10', "
        "'2024-01-10 10:00:00+01', '2024-01-31 23:30:00-02')"
    )
    crm_db.execute(f"alter role {READER} set timezone = 'Asia/Tokyo'")
    duck.execute("set TimeZone = 'America/New_York'")
    table = source_table(
        {
            "source": "crm",
            "connector": {"kind": "postgres", "url_env": "CRM_DATABASE_URL"},
            "tables": [
                {
                    "name": "touches",
                    "date_column": "touch_date",
                    "table": "sales.touches",
                    "columns": [
                        {"name": "touch_id", "type": "varchar"},
                        {"name": "touch_date", "type": "date"},
                        {"name": "touched_at", "type": "timestamp"},
                    ],
                }
            ],
        }
    )
    try:
        result = load_postgres_table(
            duck, table, JAN, JAN, "run-1", _settings(postgres), Path("sql")
        )
    finally:
        crm_db.execute(f"alter role {READER} reset timezone")
    assert result.extra_columns == ("seen_at",)
    assert duck.execute(
        "select touched_at, seen_at, typeof(seen_at) from raw.crm_touches"
    ).fetchone() == (datetime(2024, 1, 10, 9, 0), datetime(2024, 2, 1, 1, 30), "TIMESTAMP")


def test_an_unset_password_variable_is_one_line_naming_it_and_the_source():
    table = source_table(
        {
            "source": "crm",
            "connector": {
                "kind": "postgres",
                "host": "db.example",
                "user": "crm",
                "database": "crm",
                "password_env": "CRM_DB_PASSWORD",
            },
            "tables": [
                {
                    "name": "opportunities",
                    "date_column": "close_date",
                    "columns": COLUMNS,
                    "table": "sales.opportunities",
                }
            ],
        }
    )
    resources = connector_resources(SimpleNamespace(sources=[table.source]), {})
    with pytest.raises(SourceLoadError) as error:
        check_secrets_set(table, resources["source_crm"])
    assert str(error.value) == (
        "source crm, table opportunities: the environment variable CRM_DB_PASSWORD (the "
        "password) is not set where the pipeline runs; set it and run the month again (nothing "
        "of this table was loaded)"
    )


def test_a_url_that_is_not_set_is_never_a_connection_to_the_local_server(duck):
    """Without a URL or a host, libpq would try the local socket: the load stops first."""
    with pytest.raises(SourceLoadError) as error:
        load_postgres_table(
            duck,
            _table(),
            JAN,
            JAN,
            "run-1",
            PostgresSettings(url=None, origin="$CRM_DATABASE_URL", retry=FAST),
            Path("sql"),
        )
    assert str(error.value) == (
        "source crm, table opportunities: $CRM_DATABASE_URL is not set; nothing was loaded"
    )


def test_a_query_file_that_is_not_utf8_names_the_source(duck, tmp_path):
    (tmp_path / "latin1.sql").write_bytes("select 'Müller' as name".encode("latin-1"))
    with pytest.raises(SourceLoadError) as error:
        load_postgres_table(
            duck,
            _table(query="latin1.sql"),
            JAN,
            JAN,
            "run-1",
            PostgresSettings(url="postgresql://crm@127.0.0.1:1/crm"),
            tmp_path,
        )
    assert str(error.value).startswith(
        "source crm, table opportunities: cannot read the query file: 'utf-8' codec can't decode"
    )

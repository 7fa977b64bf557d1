"""The HTTP JSON API connector against a real server: pagination styles, auth, retries, drift."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from types import SimpleNamespace

import pytest
from api_server import API_KEY, BASIC, TOKEN
from connector_fixtures import source_table
from pg_cluster import free_port

from pipelines.defs.connectors import check_secrets_set, connector_resources
from pipelines.ingest.drift import SchemaDriftError
from pipelines.ingest.http_api import ApiSettings, load_api_table
from pipelines.ingest.raw_tables import SourceLoadError
from pipelines.ingest.retry import RetryPolicy
from pipelines.periods import Period

JAN, FEB = Period(2024, 1), Period(2024, 2)
FAST = RetryPolicy(
    attempts=3, backoff_seconds=0.01, max_backoff_seconds=0.02, max_retry_after_seconds=5
)
COLUMNS = [
    {"name": "record_id", "type": "varchar", "nullable": False},
    {"name": "completion_date", "type": "date", "nullable": False},
    {"name": "hours", "type": "decimal", "nullable": False},
    {"name": "passed", "type": "boolean"},
    {"name": "attempts", "type": "integer"},
]
STYLES = {
    "page": ({"style": "page_number", "page_size": 3}, "data"),
    "offset": ({"style": "offset", "limit": 50, "total_path": "total"}, "items"),
    "cursor": ({"style": "cursor", "cursor_path": "next_cursor"}, "results"),
    "link": ({"style": "next_link", "next_path": "links.next"}, "records"),
    "linkheader": ({"style": "next_link"}, ""),
    "all": ({"style": "none"}, ""),
}


def _rows(count: int = 20) -> list[dict]:
    return [
        {
            "record_id": f"r{i}",
            "completion_date": f"2024-0{1 + i % 2}-{10 + i % 9}",
            "hours": 1.5 + i,
            "passed": i % 3 != 0,
            "attempts": i % 4,
            "room": f"B{i}",
        }
        for i in range(count)
    ]


def _table(style: str = "page", auth: dict | None = None, **connector):
    pagination, path = STYLES[style]
    return source_table(
        {
            "source": "hr",
            "connector": {
                "kind": "http_api",
                "base_url": "http://127.0.0.1:1",
                "auth": auth or {"type": "bearer", "token_env": "HR_API_TOKEN"},
                "pagination": pagination,
                "records_path": path,
                "date_filter": {"start_param": "from", "end_param": "to"},
                **connector,
            },
            "tables": [
                {
                    "name": "training",
                    "endpoint": f"/{style}/training",
                    "date_column": "completion_date",
                    "columns": COLUMNS,
                }
            ],
        }
    )


def _load(duck, server, table, first=JAN, last=JAN, log=None, **settings):
    options = {"token": TOKEN, "retry": FAST, "timeout_seconds": 2.0, **settings}
    return load_api_table(
        duck,
        table,
        first,
        last,
        "run-1",
        table.source.connector,
        ApiSettings(base_url=server.base_url, **options),
        log=log,
    )


@pytest.mark.parametrize("style", sorted(STYLES))
def test_every_pagination_style_loads_the_month(api, duck, style):
    api.state.datasets["training"] = (_rows(), "completion_date")
    result = _load(duck, api, _table(style), JAN, FEB)
    assert result.rows_by_period == {"2024-01": 10, "2024-02": 10}
    assert result.extra_columns == ("room",)
    first = api.state.requests[0]["query"]
    assert (first["from"], first["to"]) == ("2024-01-01", "2024-03-01")
    expected_requests = {"page": 8, "offset": 7, "cursor": 7, "link": 7, "linkheader": 7, "all": 1}
    assert len(api.state.requests) == expected_requests[style]  # offset: the server caps limit at 3
    row = duck.execute(
        "select hours, passed, attempts, room from raw.hr_training where record_id = 'r3'"
    ).fetchone()
    assert (float(row[0]), row[1], row[2], row[3]) == (4.5, False, 3, "B3")


@pytest.mark.parametrize(
    ("mode", "auth", "settings"),
    [
        (
            "header_key",
            {"type": "api_key", "key_env": "K", "header": "X-API-Key"},
            {"api_key": API_KEY},
        ),
        (
            "query_key",
            {"type": "api_key", "key_env": "K", "query_param": "api_key"},
            {"api_key": API_KEY},
        ),
        (
            "basic",
            {"type": "basic", "username_env": "U", "password_env": "P"},
            {"username": BASIC[0], "password": BASIC[1]},
        ),
    ],
)
def test_api_key_and_basic_auth(api, duck, mode, auth, settings, caplog):
    api.state.auth = mode
    api.state.datasets["training"] = (_rows(), "completion_date")
    caplog.set_level(logging.DEBUG)
    result = _load(duck, api, _table("link", auth=auth), **settings)
    assert result.total_rows == 10
    assert API_KEY not in caplog.text and BASIC[1] not in caplog.text


def test_a_bad_token_fails_at_once_without_showing_it(api, duck):
    api.state.datasets["training"] = (_rows(), "completion_date")
    secret = "wrong-SECRET-token"
    with pytest.raises(SourceLoadError) as error:
        _load(duck, api, _table(), token=secret)
    assert str(error.value).startswith(
        f"source hr, table training: GET {api.base_url}/page/training returned 401 Unauthorized"
    )
    assert "not retried" in str(error.value) and secret not in str(error.value)
    assert len(api.state.requests) == 1


def test_other_client_errors_are_not_retried(api, duck):
    with pytest.raises(SourceLoadError, match="returned 404 Not Found"):
        _load(duck, api, _table())
    assert len(api.state.requests) == 1


def test_5xx_and_timeouts_are_retried_then_succeed(api, duck):
    api.state.datasets["training"] = (_rows(), "completion_date")
    api.state.faults = ["500", "sleep:1.5", "503"]
    logged = []
    result = _load(
        duck,
        api,
        _table("all"),
        log=logged.append,
        timeout_seconds=0.5,
        retry=RetryPolicy(attempts=4, backoff_seconds=0.01),
    )
    assert result.total_rows == 10
    assert [m.split(": ")[2].split(";")[0] for m in logged] == [
        "status 500 Internal Server Error",
        "timed out (ReadTimeout)",
        "status 503 Service Unavailable",
    ]


def test_429_waits_as_long_as_retry_after_says(api, duck):
    api.state.datasets["training"] = (_rows(), "completion_date")
    api.state.faults = ["429:1"]
    started = time.monotonic()
    assert _load(duck, api, _table("all")).total_rows == 10
    assert 1.0 <= time.monotonic() - started < 3


def test_a_source_that_stays_down_fails_after_its_retries(api, duck):
    _load(duck, api, _table("all"), first=JAN, last=JAN) if api.state.datasets.setdefault(
        "training", (_rows(), "completion_date")
    ) else None
    api.state.faults = ["500"] * 3
    with pytest.raises(SourceLoadError) as error:
        _load(duck, api, _table("all"))
    assert str(error.value) == (
        f"source hr, table training: GET {api.base_url}/all/training "
        "failed after 3 attempt(s): status 500 Internal Server Error"
    )
    # the earlier good month is still there
    assert duck.execute("select count(*) from raw.hr_training").fetchone()[0] == 10


def test_connection_refused_is_retried_and_named(duck):
    class Down:
        base_url = f"http://127.0.0.1:{free_port()}"

    with pytest.raises(SourceLoadError, match=r"failed after 3 attempt\(s\): ConnectError"):
        _load(duck, Down, _table("all"))


def test_an_api_key_in_the_query_never_reaches_messages_or_logs(api, duck, caplog):
    api.state.auth = "query_key"
    api.state.faults = ["500"] * 3
    caplog.set_level(logging.DEBUG)
    logged = []
    auth = {"type": "api_key", "key_env": "K", "query_param": "api_key"}
    with pytest.raises(SourceLoadError) as error:
        _load(duck, api, _table("all", auth=auth), log=logged.append, api_key=API_KEY)
    assert "api_key" not in str(error.value) and API_KEY not in str(error.value)
    assert API_KEY not in caplog.text + "".join(logged)
    assert "HTTP Request" in caplog.text  # httpx did log the request, masked


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.pop("hours"), "lacks the declared column(s) hours"),
        (
            lambda r: r.update(hours="lots"),
            "column hours changed type: declared decimal, but 10 value(s) do not read as decimal "
            "(e.g. 'lots')",
        ),
        (
            lambda r: r.update(record_id=7),
            "column record_id changed type: declared varchar, the source now delivers integer",
        ),
    ],
)
def test_drift_fails_clearly_and_keeps_the_good_month(api, duck, change, message):
    api.state.datasets["training"] = (_rows(), "completion_date")
    _load(duck, api, _table("all"))
    drifted = _rows()
    for row in drifted:
        change(row)
    api.state.datasets["training"] = (drifted, "completion_date")
    with pytest.raises(SchemaDriftError) as error:
        _load(duck, api, _table("all"))
    assert str(error.value).startswith("source hr, table training: ")
    assert message in str(error.value)
    assert duck.execute("select count(*), min(_run_id) from raw.hr_training").fetchone() == (
        10,
        "run-1",
    )


def test_nullable_fields_left_out_of_the_json_load_as_null(api, duck):
    rows = [{k: v for k, v in r.items() if k not in ("passed", "attempts")} for r in _rows()]
    api.state.datasets["training"] = (rows, "completion_date")
    assert _load(duck, api, _table("all")).total_rows == 10
    assert duck.execute("select count(passed) from raw.hr_training").fetchone()[0] == 0


def test_an_empty_month_loads_no_rows(api, duck):
    api.state.datasets["training"] = ([], "completion_date")
    assert _load(duck, api, _table("page")).rows_by_period == {"2024-01": 0}


def test_a_next_link_to_another_host_is_refused(api, duck, monkeypatch):
    api.state.datasets["training"] = (_rows(), "completion_date")
    table = _table("link")
    monkeypatch.setattr(
        "pipelines.ingest.pagination.value_at",
        lambda body, path: (
            "http://198.51.100.1/steal"
            if path == "links.next"
            else (body.get(path) if path else body)
        ),
    )
    with pytest.raises(SourceLoadError, match="next link leads to another host"):
        _load(duck, api, table)


def test_fields_differing_only_in_case_name_the_source(api, duck):
    api.state.datasets["training"] = ([{**r, "Room": "x"} for r in _rows()], "completion_date")
    with pytest.raises(SourceLoadError, match="source hr, table training: staging the records"):
        _load(duck, api, _table("all"))


def test_timestamps_with_an_offset_are_converted_to_utc(api, duck):
    """2024-01-31T23:30:00-02:00 happened at 01:30 UTC on 1 February: never 23:30 (the offset
    dropped). Without an offset a value is kept as written; a varchar keeps its text."""
    stamps = [
        "2024-01-31T23:30:00-02:00",
        "2024-01-10T10:00:00Z",
        "2024-01-10T10:00:00.250+05:30",
        "2024-01-10 10:00:00",
        None,
    ]
    rows = [
        {
            "record_id": f"r{i}",
            "completion_date": "2024-01-10",
            "completed_at": stamp,
            "note": stamp,
        }
        for i, stamp in enumerate(stamps)
    ]
    api.state.datasets["training"] = (rows, "completion_date")
    duck.execute("set TimeZone = 'America/New_York'")  # the session's zone plays no part
    table = source_table(
        {
            "source": "hr",
            "connector": {
                "kind": "http_api",
                "base_url": "http://127.0.0.1:1",
                "pagination": {"style": "none"},
            },
            "tables": [
                {
                    "name": "training",
                    "endpoint": "/all/training",
                    "date_column": "completion_date",
                    "columns": [
                        *COLUMNS[:2],
                        {"name": "completed_at", "type": "timestamp"},
                        {"name": "note", "type": "varchar"},
                    ],
                }
            ],
        }
    )
    api.state.auth = "none"
    assert _load(duck, api, table).total_rows == 5
    found = duck.execute(
        "select completed_at, note from raw.hr_training order by record_id"
    ).fetchall()
    assert [row[0] for row in found] == [
        datetime(2024, 2, 1, 1, 30),
        datetime(2024, 1, 10, 10, 0),
        datetime(2024, 1, 10, 4, 30, 0, 250000),
        datetime(2024, 1, 10, 10, 0),
        None,
    ]
    assert [row[1] for row in found] == stamps


def test_an_unset_secret_is_one_line_naming_the_variable_and_the_source():
    """The user name is set, its password and the base URL are not: both variables named, no
    value of the one that is set (the resource holds only its EnvVar, read when a run starts)."""
    table = _table(
        "all",
        auth={"type": "basic", "username_env": "HR_USER", "password_env": "HR_PASSWORD"},
        base_url=None,
        base_url_env="HR_API_URL",
    )
    resource = connector_resources(
        SimpleNamespace(sources=[table.source]), {"HR_USER": "reader-SECRET-name"}
    )["source_hr"]
    assert resource.username.env_var_name == "HR_USER" and resource.password is None
    with pytest.raises(SourceLoadError) as error:
        check_secrets_set(table, resource)
    assert str(error.value) == (
        "source hr, table training: the environment variables HR_API_URL (the base URL), "
        "HR_PASSWORD (the password) are not set where the pipeline runs; set them and run the "
        "month again (nothing of this table was loaded)"
    )
    assert error.value.periods is None


def test_a_base_url_from_the_environment_that_is_not_http_is_named_not_shown(duck):
    class Elsewhere:
        base_url = "ftp://user:pw-SECRET@files.example"

    table = _table("all", base_url=None, base_url_env="HR_API_URL")
    with pytest.raises(SourceLoadError) as error:
        _load(duck, Elsewhere, table, origin="$HR_API_URL")
    assert str(error.value) == (
        "source hr, table training: the base URL ($HR_API_URL) is not an "
        "http:// or https:// URL; nothing was loaded"
    )

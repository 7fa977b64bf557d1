"""An API's pagination that never ends: the catalog's page, record and time budgets stop it, and a
cursor or next link that comes back stops it at once; either way the load fails alone, in one line.

The API here (127.0.0.1) never runs out: every page holds records of January and a way on.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from connector_fixtures import source_table

from pipelines.catalog.connectors import CursorPages, NextLinkPages, OffsetPages, PageNumberPages
from pipelines.ingest.http_api import ApiSettings, load_api_table
from pipelines.ingest.raw_tables import SourceLoadError
from pipelines.ingest.retry import RetryPolicy
from pipelines.periods import Period

JAN = Period(2024, 1)
COLUMNS = [
    {"name": "record_id", "type": "varchar", "nullable": False},
    {"name": "completion_date", "type": "date", "nullable": False},
]


class _Endless(BaseHTTPRequestHandler):
    """/fresh: a new cursor on every page; /same: the cursor c1 again and again; /link: a new
    next link on every page; /self: a next link to the page itself; /pages: the same full page
    whatever `page` asks for."""

    requests: list[str]

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802 - http.server's name
        self.requests.append(self.path)
        style = urlsplit(self.path).path.strip("/").split("/")[0]
        records = [
            {"record_id": uuid.uuid4().hex, "completion_date": "2024-01-15"}
            for _ in range(4 if style == "pages" else 1)
        ]
        body = {
            "fresh": {"results": records, "next_cursor": uuid.uuid4().hex},
            "same": {"results": records, "next_cursor": "c1"},
            "link": {
                "records": records,
                "links": {"next": f"/link/training?start={len(self.requests)}"},
            },
            "self": {"records": records, "links": {"next": self.path}},
            "pages": {"data": records},
        }[style]
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def endless():
    handler = type("Handler", (_Endless,), {"requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server, handler.requests
    server.shutdown()
    server.server_close()


def _load(duck, server, style: str, pagination: dict, records_path: str):
    table = source_table(
        {
            "source": "hr",
            "connector": {
                "kind": "http_api",
                "base_url": "http://127.0.0.1:1",
                "pagination": pagination,
                "records_path": records_path,
                "date_filter": {"start_param": "from", "end_param": "to"},
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
    settings = ApiSettings(
        base_url=f"http://127.0.0.1:{server.server_address[1]}",
        retry=RetryPolicy(attempts=1),
        timeout_seconds=2.0,
    )
    return load_api_table(duck, table, JAN, JAN, "run-1", table.source.connector, settings)


def _nothing_loaded(duck) -> bool:
    return duck.execute("select count(*) from meta.loads").fetchone()[0] == 0


def test_the_budgets_default_to_minutes_not_hours():
    for style in (
        PageNumberPages(style="page_number"),
        OffsetPages(style="offset"),
        CursorPages(style="cursor", cursor_path="next"),
        NextLinkPages(style="next_link"),
    ):
        assert (style.max_seconds, style.max_pages, style.max_records) == (300, 10_000, 1_000_000)


def test_a_fresh_cursor_on_every_page_stops_at_the_time_budget(duck, endless):
    server, requests = endless
    started = time.monotonic()
    with pytest.raises(SourceLoadError) as error:
        _load(
            duck,
            server,
            "fresh",
            {"style": "cursor", "cursor_path": "next_cursor", "max_seconds": 1},
            "results",
        )
    assert time.monotonic() - started < 3
    pages = len(requests)
    assert str(error.value) == (
        f"source hr, table training: pagination stopped after {_took(error)} s / {pages} pages / "
        f"{pages} records, at its budget max_seconds: 1; the API kept returning a next cursor; "
        "nothing was loaded (raise pagination.max_seconds if these months really hold more)"
    )
    assert error.value.periods is None and _nothing_loaded(duck)


def _took(error) -> str:
    """The seconds the message says, between the budget and the test's own bound."""
    found = re.search(r"after (\d\.\d) s /", str(error.value))
    assert found and 1 <= float(found.group(1)) < 3, str(error.value)
    return found.group(1)


def test_a_fresh_next_link_on_every_page_stops_at_the_page_budget(duck, endless):
    server, requests = endless
    with pytest.raises(SourceLoadError) as error:
        _load(
            duck,
            server,
            "link",
            {"style": "next_link", "next_path": "links.next", "max_pages": 5},
            "records",
        )
    assert len(requests) == 5
    assert re.fullmatch(
        r"source hr, table training: pagination stopped after \d\.\d s / 5 pages / 5 records, "
        r"at its budget max_pages: 5; the API kept returning a next link; nothing was loaded "
        r"\(raise pagination\.max_pages if these months really hold more\)",
        str(error.value),
    )
    assert _nothing_loaded(duck)


def test_an_api_that_ignores_the_page_number_stops_at_the_record_budget(duck, endless):
    server, requests = endless
    with pytest.raises(SourceLoadError) as error:
        _load(duck, server, "pages", {"style": "page_number", "max_records": 10}, "data")
    assert len(requests) == 3
    assert re.fullmatch(
        r"source hr, table training: pagination stopped after \d\.\d s / 3 pages / 12 records, "
        r"at its budget max_records: 10; the API kept returning full pages; nothing was loaded "
        r"\(raise pagination\.max_records if these months really hold more\)",
        str(error.value),
    )


def test_a_cursor_that_comes_back_stops_at_once(duck, endless):
    server, requests = endless
    with pytest.raises(SourceLoadError) as error:
        _load(duck, server, "same", {"style": "cursor", "cursor_path": "next_cursor"}, "results")
    assert str(error.value) == (
        "source hr, table training: the API returned the cursor 'c1' a second time, on page 2: "
        "its pagination loops; stopped at once, nothing was loaded"
    )
    assert len(requests) == 2 and _nothing_loaded(duck)


def test_a_next_link_to_the_page_itself_stops_at_once(duck, endless):
    server, requests = endless
    with pytest.raises(SourceLoadError) as error:
        _load(duck, server, "self", {"style": "next_link", "next_path": "links.next"}, "records")
    assert str(error.value) == (
        "source hr, table training: the API returned the next link to /self/training (query "
        "left out) a second time, on page 1: its pagination loops; stopped at once, nothing was "
        "loaded"
    )
    assert len(requests) == 1 and _nothing_loaded(duck)

"""`scorecard demo-api`: the demo HR exports served as a paginated JSON API (standard library only).

GET /v1/<table>?from=YYYY-MM-DD&to=YYYY-MM-DD&page=N&page_size=M with `Authorization: Bearer
<token>` answers {"data": [...], "page": N, "page_size": M, "total_pages": T, "total": R}.
`from` is inclusive and `to` exclusive on the table's date column; values are typed as the
catalog declares them (numbers as JSON numbers, empty fields as null). It serves what the example
source definitions/examples/hr_api.yaml reads; it is a demo, not a production server.
"""

from __future__ import annotations

import csv
import hmac
import json
import math
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from pipelines.catalog.models import Table

MAX_PAGE_SIZE = 1000
_NUMBERS = {"integer": int, "bigint": int, "double": float, "decimal": float}


def _typed(value: str, kind: str):
    if value == "":
        return None
    if kind in _NUMBERS:
        return _NUMBERS[kind](value)
    if kind == "boolean":
        return value.lower() in ("true", "1", "t", "yes")
    return value


def read_export(path: Path, table: Table) -> list[dict]:
    """An export CSV as JSON-ready records, typed by the table's declared columns."""
    kinds = {c.name: c.type for c in table.columns}
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            {k: _typed(v, kinds.get(k, "varchar")) for k, v in row.items()}
            for row in csv.DictReader(handle)
        ]


class DemoApi:
    """The datasets served: endpoint name -> (records sorted by date, date column)."""

    def __init__(self, datasets: dict[str, tuple[list[dict], str]], token: str):
        self.datasets = datasets
        self.token = token

    def answer(self, path: str, authorization: str | None) -> tuple[int, dict]:
        """(status, body) for a GET of `path` (with its query string)."""
        if not hmac.compare_digest(authorization or "", f"Bearer {self.token}"):
            return 401, {"error": "missing or wrong bearer token"}
        url = urlsplit(path)
        name = url.path.removeprefix("/v1/").strip("/")
        if name not in self.datasets:
            return 404, {
                "error": f"unknown endpoint {url.path}",
                "endpoints": sorted(self.datasets),
            }
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        try:
            page = max(1, int(query.get("page", "1")))
            size = min(MAX_PAGE_SIZE, max(1, int(query.get("page_size", "100"))))
        except ValueError:
            return 400, {"error": "page and page_size must be whole numbers"}
        records, date_column = self.datasets[name]
        low, high = query.get("from", ""), query.get("to")
        rows = [
            r
            for r in records
            if (r[date_column] or "") >= low and (high is None or (r[date_column] or "") < high)
        ]
        return 200, {
            "data": rows[(page - 1) * size : page * size],
            "page": page,
            "page_size": size,
            "total_pages": max(1, math.ceil(len(rows) / size)),
            "total": len(rows),
        }


def _handler(api: DemoApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            status, body = api.answer(self.path, self.headers.get("Authorization"))
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, fmt, *args):  # one line per request, without headers
            print(f"{self.address_string()} {fmt % args}")

    return Handler


def demo_api(exports: Path, source_tables: list[Table], token: str) -> DemoApi:
    """The API over `exports/<table>.csv` for each table (endpoint: the name with dashes)."""
    datasets = {}
    for table in source_tables:
        path = exports / f"{table.name}.csv"
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing; run `scorecard demo --exports-only` first")
        datasets[table.name.replace("_", "-")] = (read_export(path, table), table.date_column)
    return DemoApi(datasets, token)


def make_server(api: DemoApi, host: str, port: int) -> ThreadingHTTPServer:
    """A threading HTTP server for `api` (call serve_forever on it)."""
    server = ThreadingHTTPServer((host, port), _handler(api))
    server.daemon_threads = True
    return server

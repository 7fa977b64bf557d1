"""A JSON API on 127.0.0.1 for the connector tests: every pagination style, and faults on demand.

Paths are /<style>/<dataset> with style one of page, offset, cursor, link (next link in the body),
linkheader (Link: rel=next) and all (one page). `from`/`to` filter the dataset's date field
(to exclusive). `faults` is a list consumed one per request: "500", "503", "429:<seconds>",
"sleep:<seconds>" (a slow answer), "drop" (close the connection), "401".
"""

from __future__ import annotations

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

TOKEN = "tok-SECRET-4f2a9c"  # noqa: S105 - a test token
API_KEY = "key-SECRET-81b7d0"
BASIC = ("reader", "basic-SECRET-33e1")


class ApiState:
    """What the server serves and what it was asked."""

    def __init__(self):
        self.datasets: dict[str, tuple[list[dict], str]] = {}
        self.auth = "bearer"  # bearer, header_key, query_key, basic, none
        self.faults: list[str] = []
        self.requests: list[dict] = []
        self.page_size = 3
        self.lock = threading.Lock()

    def authorized(self, headers, query: dict) -> bool:
        """Whether the request carries the right credentials for `auth`."""
        if self.auth == "bearer":
            return headers.get("Authorization") == f"Bearer {TOKEN}"
        if self.auth == "header_key":
            return headers.get("X-API-Key") == API_KEY
        if self.auth == "query_key":
            return query.get("api_key") == API_KEY
        if self.auth == "basic":
            expected = base64.b64encode(f"{BASIC[0]}:{BASIC[1]}".encode()).decode()
            return headers.get("Authorization") == f"Basic {expected}"
        return True


class Handler(BaseHTTPRequestHandler):
    """Serves ApiState.datasets."""

    state: ApiState

    def log_message(self, *args):  # keep pytest output clean
        pass

    def _send(self, status: int, body: object, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _fault(self) -> bool:
        with self.state.lock:
            fault = self.state.faults.pop(0) if self.state.faults else None
        if fault is None:
            return False
        kind, _, arg = fault.partition(":")
        if kind == "sleep":
            time.sleep(float(arg))
            return False
        if kind == "drop":
            self.close_connection = True
            self.connection.close()
            return True
        if kind == "429":
            self._send(429, {"error": "slow down"}, {"Retry-After": arg or "1"})
        else:
            self._send(int(kind), {"error": f"injected {kind}"})
        return True

    def do_GET(self):  # noqa: N802 - http.server's name
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        with self.state.lock:
            self.state.requests.append(
                {"path": url.path, "query": query, "headers": dict(self.headers)}
            )
        if self._fault():
            return
        if not self.state.authorized(self.headers, query):
            self._send(401, {"error": "bad credentials"})
            return
        parts = url.path.strip("/").split("/")
        if len(parts) != 2 or parts[1] not in self.state.datasets:
            self._send(404, {"error": "no such endpoint"})
            return
        style, name = parts
        rows, date_field = self.state.datasets[name]
        rows = [
            r
            for r in rows
            if query.get("from", "") <= str(r.get(date_field, ""))
            and ("to" not in query or str(r.get(date_field, "")) < query["to"])
        ]
        self._page(style, rows, query, url.path)

    def _page(self, style: str, rows: list[dict], query: dict, path: str) -> None:
        size = self.state.page_size
        if style == "all":
            self._send(200, rows)
        elif style == "page":
            page = int(query.get("page", 1))
            chunk = rows[(page - 1) * size : page * size]
            self._send(200, {"data": chunk, "meta": {"page": page}})
        elif style == "offset":
            offset, limit = int(query.get("offset", 0)), int(query.get("limit", size))
            self._send(200, {"items": rows[offset : offset + min(limit, size)], "total": len(rows)})
        elif style == "cursor":
            start = int(query.get("cursor", "0"))
            nxt = str(start + size) if start + size < len(rows) else None
            self._send(200, {"results": rows[start : start + size], "next_cursor": nxt})
        else:  # link, linkheader
            start = int(query.get("start", "0"))
            link = None
            if start + size < len(rows):
                link = f"{path}?{urlencode({**query, 'start': start + size})}"
            body = {"records": rows[start : start + size], "links": {"next": link}}
            headers = {"Link": f'<{link}>; rel="next"'} if link and style == "linkheader" else {}
            self._send(200, body if style == "link" else rows[start : start + size], headers)


class ApiServer:
    """A running server: its base URL and state."""

    def __init__(self):
        self.state = ApiState()
        handler = type("BoundHandler", (Handler,), {"state": self.state})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:<port>"""
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def reset(self) -> None:
        """Forget datasets, faults and requests; back to bearer auth."""
        self.state.datasets.clear()
        self.state.faults.clear()
        self.state.requests.clear()
        self.state.auth = "bearer"
        self.state.page_size = 3

    def stop(self) -> None:
        """Shut the server down."""
        self.httpd.shutdown()
        self.httpd.server_close()

"""Walking a paginated JSON API: page number, offset, cursor and next-link styles; JSON paths.

Pure of HTTP: each style calls `fetch(url, params)` -> (body, response) and yields the records of
every page. A load's paging is bounded by the style's budget (max_pages, max_records, max_seconds:
the first one reached stops it with an error naming it), and a cursor or next link that comes back
a second time stops it at once: either way nothing of the load is kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from pipelines.catalog.connectors import (
    CursorPages,
    NextLinkPages,
    OffsetPages,
    PageNumberPages,
    SinglePage,
)

Fetch = Callable[[str, dict | None], tuple[Any, httpx.Response]]


class PaginationError(ValueError):
    """The API's responses do not fit the configured pagination or records path."""


def value_at(body: Any, path: str | None) -> Any:
    """The value at a dotted JSON path ('' or '$' is the body itself); None when absent."""
    current = body
    for part in (path or "").removeprefix("$").removeprefix(".").split("."):
        if not part:
            continue
        if isinstance(current, dict):
            current = current.get(part)
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return None
    return current


def records_at(body: Any, path: str) -> list[dict]:
    """The list of record objects at `path`."""
    records = value_at(body, path)
    if not isinstance(records, list):
        found = "nothing" if records is None else type(records).__name__
        raise PaginationError(
            f"records_path {path or '$'!r} leads to {found}, not a list of records"
        )
    if any(not isinstance(r, dict) for r in records):
        raise PaginationError(
            f"records_path {path or '$'!r} holds values that are not JSON objects"
        )
    return records


class _Budget:
    """A load's pages, records and seconds so far, against its pagination's limits."""

    def __init__(self, style, more: str):
        self.style, self.more = style, more
        self.pages = self.records = 0
        self.started = time.monotonic()

    def page(self, records: list[dict]) -> list[dict]:
        """Count a fetched page."""
        self.pages += 1
        self.records += len(records)
        return records

    def next_page(self) -> None:
        """Before a further page is fetched: stop when a limit is reached."""
        style, elapsed = self.style, time.monotonic() - self.started
        limits = [
            ("max_seconds", elapsed, style.max_seconds),
            ("max_pages", self.pages, style.max_pages),
            ("max_records", self.records, style.max_records),
        ]
        hit = next(((name, limit) for name, used, limit in limits if used >= limit), None)
        if hit is None:
            return
        took = f"{elapsed:.0f}" if elapsed >= 10 else f"{elapsed:.1f}"
        raise PaginationError(
            f"pagination stopped after {took} s / {self.pages} pages / {self.records} records, "
            f"at its budget {hit[0]}: {hit[1]:g}; the API kept returning {self.more}; nothing "
            f"was loaded (raise pagination.{hit[0]} if these months really hold more)"
        )


def _count(body: Any, path: str | None, setting: str) -> int | None:
    """The whole number at `path` (a total), None when there is none."""
    value = value_at(body, path) if path else None
    if value is None:
        return None
    try:
        if isinstance(value, bool):
            raise TypeError
        return int(value)
    except (TypeError, ValueError):
        raise PaginationError(
            f"{setting} {path!r} holds {str(value)[:40]!r}, not a number"
        ) from None


def _page_numbers(
    fetch: Fetch, endpoint: str, params: dict, style: PageNumberPages, path: str
) -> Iterator[list[dict]]:
    page, budget = style.first_page, _Budget(style, "full pages")
    size = {style.page_size_param: style.page_size} if style.page_size_param else {}
    while True:
        body, _response = fetch(endpoint, {**params, **size, style.page_param: page})
        records = budget.page(records_at(body, path))
        if not records:
            return
        yield records
        total = _count(body, style.total_pages_path, "total_pages_path")
        if total is not None and page - style.first_page + 1 >= total:
            return
        page += 1
        budget.next_page()


def _offsets(
    fetch: Fetch, endpoint: str, params: dict, style: OffsetPages, path: str
) -> Iterator[list[dict]]:
    offset, budget = 0, _Budget(style, "more records")
    while True:
        body, _response = fetch(
            endpoint, {**params, style.offset_param: offset, style.limit_param: style.limit}
        )
        records = budget.page(records_at(body, path))
        if not records:
            return
        yield records
        offset += len(records)  # what the server sent, in case it caps the limit
        total = _count(body, style.total_path, "total_path")
        if total is not None and offset >= total:
            return
        budget.next_page()


def _loops(what: str, page: int) -> PaginationError:
    return PaginationError(
        f"the API returned {what} a second time, on page {page}: its "
        "pagination loops; stopped at once, nothing was loaded"
    )


def _cursors(
    fetch: Fetch, endpoint: str, params: dict, style: CursorPages, path: str
) -> Iterator[list[dict]]:
    cursor, seen, budget = None, set(), _Budget(style, "a next cursor")
    size = {style.page_size_param: style.page_size} if style.page_size_param else {}
    while True:
        query = {**params, **size, **({style.cursor_param: cursor} if cursor else {})}
        body, _response = fetch(endpoint, query)
        yield budget.page(records_at(body, path))
        cursor = value_at(body, style.cursor_path)
        if cursor in (None, "", False):
            return
        if not isinstance(cursor, str | int | float):
            raise PaginationError(
                f"cursor_path {style.cursor_path!r} holds a {type(cursor).__name__}, not a cursor"
            )
        if cursor in seen:
            raise _loops(f"the cursor {str(cursor)[:40]!r}", budget.pages)
        seen.add(cursor)
        budget.next_page()


def _next_link(body: Any, response: httpx.Response, style: NextLinkPages) -> str | None:
    if style.next_path:
        link = value_at(body, style.next_path)
        return link if isinstance(link, str) and link else None
    return response.links.get("next", {}).get("url")


def _next_links(
    fetch: Fetch, endpoint: str, params: dict, style: NextLinkPages, path: str, base_url: httpx.URL
) -> Iterator[list[dict]]:
    url, query, seen, budget = endpoint, params, set(), _Budget(style, "a next link")
    while True:
        body, response = fetch(url, query)
        seen.add(str(response.url))
        yield budget.page(records_at(body, path))
        link = _next_link(body, response, style)
        if not link:
            return
        target = response.url.join(link)
        # Credentials go only where base_url points: a link elsewhere is refused.
        if (target.scheme, target.host, target.port) != (
            base_url.scheme,
            base_url.host,
            base_url.port,
        ):
            raise PaginationError(
                f"the next link leads to another host ({target.host}); "
                "only links under base_url are followed"
            )
        if str(target) in seen:
            raise _loops(f"the next link to {target.path} (query left out)", budget.pages)
        seen.add(str(target))
        url, query = str(target), None  # the link carries its own query
        budget.next_page()


def pages(
    fetch: Fetch, endpoint: str, params: dict, style, records_path: str, base_url: httpx.URL
) -> Iterator[list[dict]]:
    """Every page's records, in order, for the pagination `style` of the catalog."""
    if isinstance(style, PageNumberPages):
        return _page_numbers(fetch, endpoint, params, style, records_path)
    if isinstance(style, OffsetPages):
        return _offsets(fetch, endpoint, params, style, records_path)
    if isinstance(style, CursorPages):
        return _cursors(fetch, endpoint, params, style, records_path)
    if isinstance(style, NextLinkPages):
        return _next_links(fetch, endpoint, params, style, records_path, base_url)
    assert isinstance(style, SinglePage)
    return iter([records_at(fetch(endpoint, params)[0], records_path)])

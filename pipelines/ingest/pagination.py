"""Walking a paginated JSON API: page number, offset, cursor and next-link styles; JSON paths.

Pure of HTTP: each style calls `fetch(url, params)` -> (body, response) and yields the records of
every page. Loops are bounded by the style's max_pages, and a cursor or link that repeats is an
error rather than an endless loop.
"""

from __future__ import annotations

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
        raise PaginationError(f"records_path {path or '$'!r} leads to {found}, "
                              "not a list of records")
    if any(not isinstance(r, dict) for r in records):
        raise PaginationError(f"records_path {path or '$'!r} holds values that are not "
                              "JSON objects")
    return records


def _page_numbers(fetch: Fetch, endpoint: str, params: dict, style: PageNumberPages,
                  path: str) -> Iterator[list[dict]]:
    page = style.first_page
    size = {style.page_size_param: style.page_size} if style.page_size_param else {}
    for _ in range(style.max_pages):
        body, _response = fetch(endpoint, {**params, **size, style.page_param: page})
        records = records_at(body, path)
        if not records:
            return
        yield records
        total = value_at(body, style.total_pages_path) if style.total_pages_path else None
        if total is not None and page - style.first_page + 1 >= int(total):
            return
        page += 1
    raise PaginationError(f"more than max_pages={style.max_pages} pages")


def _offsets(fetch: Fetch, endpoint: str, params: dict, style: OffsetPages,
             path: str) -> Iterator[list[dict]]:
    offset = 0
    for _ in range(style.max_pages):
        body, _response = fetch(endpoint, {**params, style.offset_param: offset,
                                           style.limit_param: style.limit})
        records = records_at(body, path)
        if not records:
            return
        yield records
        offset += len(records)  # what the server sent, in case it caps the limit
        total = value_at(body, style.total_path) if style.total_path else None
        if total is not None and offset >= int(total):
            return
    raise PaginationError(f"more than max_pages={style.max_pages} pages")


def _cursors(fetch: Fetch, endpoint: str, params: dict, style: CursorPages,
             path: str) -> Iterator[list[dict]]:
    cursor, seen = None, set()
    size = {style.page_size_param: style.page_size} if style.page_size_param else {}
    for _ in range(style.max_pages):
        query = {**params, **size, **({style.cursor_param: cursor} if cursor else {})}
        body, _response = fetch(endpoint, query)
        yield records_at(body, path)
        cursor = value_at(body, style.cursor_path)
        if cursor in (None, "", False):
            return
        if cursor in seen:
            raise PaginationError(f"the API returned the cursor {cursor!r} twice")
        seen.add(cursor)
    raise PaginationError(f"more than max_pages={style.max_pages} pages")


def _next_link(body: Any, response: httpx.Response, style: NextLinkPages) -> str | None:
    if style.next_path:
        link = value_at(body, style.next_path)
        return link if isinstance(link, str) and link else None
    return response.links.get("next", {}).get("url")


def _next_links(fetch: Fetch, endpoint: str, params: dict, style: NextLinkPages,
                path: str, base_url: httpx.URL) -> Iterator[list[dict]]:
    url, query, seen = endpoint, params, set()
    for _ in range(style.max_pages):
        body, response = fetch(url, query)
        yield records_at(body, path)
        link = _next_link(body, response, style)
        if not link:
            return
        target = response.url.join(link)
        # Credentials go only where base_url points: a link elsewhere is refused.
        if (target.scheme, target.host, target.port) != (base_url.scheme, base_url.host,
                                                         base_url.port):
            raise PaginationError(f"the next link leads to another host ({target.host}); "
                                  "only links under base_url are followed")
        if str(target) in seen:
            raise PaginationError("the API returned the same next link twice")
        seen.add(str(target))
        url, query = str(target), None  # the link carries its own query
    raise PaginationError(f"more than max_pages={style.max_pages} pages")


def pages(fetch: Fetch, endpoint: str, params: dict, style, records_path: str,
          base_url: httpx.URL) -> Iterator[list[dict]]:
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

"""The HTTP JSON API connector: paginated GETs filtered to the months, with retries and backoff.

httpx makes the requests and tenacity retries them: connection errors, timeouts, 429 (waiting as
long as Retry-After says, within a cap) and 5xx are retried with exponential backoff; any other
4xx fails at once. Errors name the source, table, the URL without its query string, and the status;
credentials are masked everywhere (see pipelines.ingest.redact).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import partial
from typing import Any

import duckdb
import httpx

from pipelines.catalog.catalog import SourceTable
from pipelines.catalog.connectors import HttpApiConnector
from pipelines.ingest.json_records import json_batch, json_raw_type
from pipelines.ingest.pagination import PaginationError, pages
from pipelines.ingest.raw_tables import LoadResult, SourceLoadError
from pipelines.ingest.redact import Redactor, redacted_client_logs
from pipelines.ingest.retry import RetryPolicy, retrying
from pipelines.ingest.staging import Stage, publish, where_of
from pipelines.periods import Period

Log = Callable[[str], None]
_BODY_CHARS = 200


@dataclass(frozen=True)
class ApiSettings:
    """Where the API is and its credentials (from the environment, through the resource);
    `origin` says where the base URL came from (for messages)."""

    base_url: str | None
    token: str | None = None
    api_key: str | None = None
    username: str | None = None
    password: str | None = None
    timeout_seconds: float = 30.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    origin: str = "base_url"

    def redactor(self) -> Redactor:
        """Masks every credential."""
        return Redactor([self.token, self.api_key, self.password])


class RetryableStatus(Exception):
    """A 429 or 5xx response, retried; `retry_after` is the server's wish in seconds."""

    def __init__(self, response: httpx.Response):
        super().__init__(f"{response.status_code} {response.reason_phrase}")
        self.status = response.status_code
        self.retry_after = _retry_after(response.headers.get("Retry-After"))


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, RetryableStatus | httpx.TransportError)


def safe_url(url: httpx.URL) -> str:
    """scheme://host[:port]/path: no user info, no query string (an API key may sit there)."""
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}{url.path}"


def _client(connector: HttpApiConnector, settings: ApiSettings) -> tuple[httpx.Client, dict]:
    """The client and the query parameters every request carries (an API key in the query)."""
    headers = {
        "Accept": "application/json",
        "User-Agent": "balanced-scorecard",
        **connector.headers,
    }
    params, auth, spec = {}, None, connector.auth
    needed = {
        "bearer": settings.token,
        "api_key": settings.api_key,
        "basic": settings.password if settings.username else None,
    }
    if spec is not None and not needed[spec.type]:
        raise SourceLoadError(f"the {spec.type} credentials are not set; nothing was loaded")
    if not (settings.base_url or "").startswith(("http://", "https://")):
        raise SourceLoadError(
            f"the base URL ({settings.origin}) is not an http:// or https:// "
            "URL; nothing was loaded"
        )
    if spec is not None and spec.type == "bearer":
        headers["Authorization"] = f"Bearer {settings.token}"
    elif spec is not None and spec.type == "api_key" and spec.header:
        headers[spec.header] = settings.api_key
    elif spec is not None and spec.type == "api_key":
        params[spec.query_param] = settings.api_key
    elif spec is not None:
        auth = httpx.BasicAuth(settings.username, settings.password)
    # Redirects are not followed: a custom key header would travel to wherever they point.
    client = httpx.Client(
        base_url=settings.base_url,
        headers=headers,
        auth=auth,
        timeout=settings.timeout_seconds,
        follow_redirects=False,
    )
    return client, params


def _check(response: httpx.Response, redact: Redactor) -> Any:
    status = response.status_code
    if status == 429 or status >= 500:
        raise RetryableStatus(response)
    where = f"GET {safe_url(response.request.url)}"
    if status >= 300:
        body = redact(response.text[:_BODY_CHARS].strip()) if status >= 400 else ""
        hint = " (check the credentials)" if status in (401, 403) else ""
        hint = (
            " (redirects are not followed: point base_url at the final address)"
            if status < 400
            else hint
        )
        raise SourceLoadError(
            f"{where} returned {status} {response.reason_phrase}{hint}, "
            f"not retried" + (f": {body}" if body else "")
        )
    try:
        return response.json()
    except ValueError:
        raise SourceLoadError(f"{where} returned a body that is not JSON") from None


def _fetch(
    client: httpx.Client,
    auth_params: dict,
    policy: RetryPolicy,
    redact: Redactor,
    log: Log | None,
    where: str,
    url: str,
    params: dict | None,
) -> tuple[Any, httpx.Response]:
    # Merged by hand: httpx would replace a next link's own query with `params`.
    target = httpx.URL(url).copy_merge_params({**(params or {}), **auth_params})
    request_url = client.build_request("GET", target).url

    def on_retry(exc: BaseException, attempt: int, wait: float) -> None:
        if log:
            log(
                f"{where}: GET {safe_url(request_url)}: {redact(_describe(exc))}; "
                f"attempt {attempt} of {policy.attempts}, retrying in {wait:.1f} s"
            )

    try:
        for attempt in retrying(policy, _retryable, on_retry):
            with attempt:
                response = client.get(target)
                body = _check(response, redact)
    except (RetryableStatus, httpx.TransportError) as exc:
        tries = attempt.retry_state.attempt_number
        raise SourceLoadError(
            f"GET {safe_url(request_url)} failed after {tries} attempt(s): {redact(_describe(exc))}"
        ) from None
    return body, response


def _describe(exc: BaseException) -> str:
    if isinstance(exc, RetryableStatus):
        return f"status {exc}"
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out ({type(exc).__name__})"
    return f"{type(exc).__name__}: {exc}"


def _query(connector: HttpApiConnector, table: SourceTable, first: Period, last: Period) -> dict:
    params = dict(table.table.params)
    dates = connector.date_filter
    if dates is not None:
        end = last.end if dates.end == "exclusive" else last.last_day
        params[dates.start_param] = first.start.strftime(dates.format)
        params[dates.end_param] = end.strftime(dates.format)
    return params


def _stage_pages(
    stage: Stage,
    client: httpx.Client,
    connector: HttpApiConnector,
    table: SourceTable,
    first: Period,
    last: Period,
    fetch,
) -> None:
    path = (
        table.table.records_path if table.table.records_path is not None else connector.records_path
    )
    endpoint = table.table.endpoint.lstrip("/")
    timestamps = {c.name for c in table.table.columns if c.type == "timestamp"}
    for records in pages(
        fetch,
        endpoint,
        _query(connector, table, first, last),
        connector.pagination,
        path,
        client.base_url,
    ):
        stage.append(json_batch(records, stage, timestamps))


def load_api_table(
    con,
    table: SourceTable,
    first: Period,
    last: Period,
    run_id: str,
    connector: HttpApiConnector,
    settings: ApiSettings,
    log: Log | None = None,
) -> LoadResult:
    """Load months first..last of an API-backed table into its raw table (replacing them)."""
    redact, where = settings.redactor(), where_of(table)
    stage = Stage(con)
    try:
        client, auth_params = _client(connector, settings)
        with redacted_client_logs(redact), client:
            label = f"GET {safe_url(client.base_url.join(table.table.endpoint.lstrip('/')))}"
            fetch = partial(_fetch, client, auth_params, settings.retry, redact, log, where)
            _stage_pages(stage, client, connector, table, first, last, fetch)
        for column in table.table.columns:  # JSON APIs often leave out null fields
            if column.name not in stage.types and (column.nullable or stage.rows == 0):
                stage.add_columns({column.name: "VARCHAR"})
        extra_types = {name: json_raw_type(kinds) for name, kinds in stage.families.items()}
        return publish(stage, table, first, last, run_id, label, extra_types, text_readable=True)
    except (SourceLoadError, PaginationError) as exc:
        message = redact(str(exc))
        kind = type(exc) if isinstance(exc, SourceLoadError) else SourceLoadError
        raise kind(message if message.startswith(where) else f"{where}: {message}") from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:  # e.g. an invalid URL
        raise SourceLoadError(f"{where}: {redact(_describe(exc))}") from None
    except duckdb.Error as exc:  # e.g. two fields whose names differ only in case
        raise SourceLoadError(f"{where}: staging the records failed: {redact(exc)}") from None
    finally:
        stage.drop()

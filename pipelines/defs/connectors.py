"""Connection resources of database and API sources; a table load dispatched by connector kind.

Each postgres or http_api source gets a resource keyed `source_<source>`, built from its catalog
`connector:` block: plain settings as values, every secret (and a URL that may hold one) as an
EnvVar, so a deployment swaps databases, hosts and credentials by environment, without code.
Definitions load with the variables unset; Dagster reads them when a run starts.
"""

from __future__ import annotations

from pathlib import Path

from dagster import AssetExecutionContext, ConfigurableResource, EnvVar

from pipelines.catalog import Catalog
from pipelines.catalog.catalog import SourceTable
from pipelines.catalog.connectors import HttpApiConnector, PostgresConnector
from pipelines.catalog.models import SourceFile
from pipelines.ingest.files import load_file_table
from pipelines.ingest.http_api import ApiSettings, load_api_table
from pipelines.ingest.postgres import PostgresSettings, load_postgres_table
from pipelines.ingest.raw_tables import LoadResult
from pipelines.ingest.retry import RetryPolicy
from pipelines.periods import Period
from pipelines.settings import RuntimePaths


class PostgresResource(ConfigurableResource):
    """A PostgreSQL source: a URL, or host/port/database/user and password (secrets via EnvVar)."""

    url: str | None = None
    host: str | None = None
    port: int = 5432
    database: str | None = None
    user: str | None = None
    password: str | None = None
    sslmode: str | None = None
    connect_timeout_seconds: int = 10
    statement_timeout_seconds: int = 1800
    batch_rows: int = 50_000
    attempts: int = 4
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 30.0

    def settings(self, origin: str = "the connection URL") -> PostgresSettings:
        """The connector's settings; `origin` says where the URL came from, for messages."""
        return PostgresSettings(
            url=self.url, host=self.host, port=self.port, database=self.database,
            user=self.user, password=self.password, sslmode=self.sslmode,
            connect_timeout_seconds=self.connect_timeout_seconds,
            statement_timeout_seconds=self.statement_timeout_seconds, batch_rows=self.batch_rows,
            retry=RetryPolicy(self.attempts, self.backoff_seconds, self.max_backoff_seconds),
            origin=origin,
        )


class HttpApiResource(ConfigurableResource):
    """An HTTP JSON API source: base URL, credentials (via EnvVar), timeout and retry pacing."""

    base_url: str
    token: str | None = None
    api_key: str | None = None
    username: str | None = None
    password: str | None = None
    timeout_seconds: float = 30.0
    attempts: int = 4
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 30.0
    max_retry_after_seconds: float = 120.0

    def settings(self) -> ApiSettings:
        """The connector's settings."""
        return ApiSettings(
            base_url=self.base_url, token=self.token, api_key=self.api_key,
            username=self.username, password=self.password, timeout_seconds=self.timeout_seconds,
            retry=RetryPolicy(self.attempts, self.backoff_seconds, self.max_backoff_seconds,
                              self.max_retry_after_seconds),
        )


def resource_key(source: SourceFile) -> str:
    """source_<source>: the resource key of a database or API source's connection."""
    return f"source_{source.source}"


def _env(name: str | None):
    return EnvVar(name) if name else None


def _postgres(c: PostgresConnector) -> PostgresResource:
    r = c.retries
    return PostgresResource(
        url=_env(c.url_env), host=c.host, port=c.port, database=c.database, user=c.user,
        password=_env(c.password_env), sslmode=c.sslmode,
        connect_timeout_seconds=c.connect_timeout_seconds,
        statement_timeout_seconds=c.statement_timeout_seconds, batch_rows=c.batch_rows,
        attempts=r.attempts, backoff_seconds=r.backoff_seconds,
        max_backoff_seconds=r.max_backoff_seconds,
    )


def _http_api(c: HttpApiConnector) -> HttpApiResource:
    r, auth = c.retries, c.auth
    return HttpApiResource(
        base_url=_env(c.base_url_env) or c.base_url,
        token=_env(getattr(auth, "token_env", None)), api_key=_env(getattr(auth, "key_env", None)),
        username=_env(getattr(auth, "username_env", None)),
        password=_env(getattr(auth, "password_env", None)),
        timeout_seconds=c.timeout_seconds, attempts=r.attempts, backoff_seconds=r.backoff_seconds,
        max_backoff_seconds=r.max_backoff_seconds,
        max_retry_after_seconds=r.max_retry_after_seconds,
    )


def connector_resources(catalog: Catalog) -> dict[str, ConfigurableResource]:
    """A connection resource per database or API source of the catalog."""
    resources = {}
    for source in catalog.sources:
        if isinstance(source.connector, PostgresConnector):
            resources[resource_key(source)] = _postgres(source.connector)
        elif isinstance(source.connector, HttpApiConnector):
            resources[resource_key(source)] = _http_api(source.connector)
    return resources


def required_resources(source: SourceFile) -> set[str]:
    """The resource keys a source's raw assets need."""
    keys = {"warehouse", "scorecard"}
    return keys if source.connector.kind == "file" else keys | {resource_key(source)}


def load_source_table(context: AssetExecutionContext, con, table: SourceTable, first: Period,
                      last: Period, paths: RuntimePaths) -> LoadResult:
    """Load months first..last of a table with its source's connector (retries are logged)."""
    connector, run_id = table.source.connector, context.run.run_id
    if connector.kind == "file":
        return load_file_table(con, table, first, last, paths.home, run_id)
    resource = getattr(context.resources, resource_key(table.source))
    if isinstance(connector, PostgresConnector):
        origin = f"${connector.url_env}" if connector.url_env else "the connection settings"
        return load_postgres_table(con, table, first, last, run_id, resource.settings(origin),
                                   Path(paths.sql), log=context.log.warning)
    return load_api_table(con, table, first, last, run_id, connector, resource.settings(),
                          log=context.log.warning)

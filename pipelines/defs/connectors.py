"""Connection resources of database and API sources; a table load dispatched by connector kind.

Each postgres or http_api source gets a resource keyed `source_<source>`, built from its catalog
`connector:` block: plain settings as values, every secret (and a URL that may hold one) as an
EnvVar, so a deployment swaps databases, hosts and credentials by environment, without code.

Dagster resolves every EnvVar of a run's resources when the run starts, and an unset one fails the
whole run before any step (for a run that loads every source, one missing token would stop them
all). So a field is an EnvVar only when its variable is set as the definitions load (the run's
own process loads them, in the run's environment), and is left empty otherwise; the table load
then fails that source's tables alone, with a SourceLoadError naming the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from dagster import AssetExecutionContext, ConfigurableResource, EnvVar

from pipelines.catalog import Catalog
from pipelines.catalog.catalog import SourceTable
from pipelines.catalog.connectors import HttpApiConnector, PostgresConnector, secret_fields
from pipelines.catalog.models import SourceFile
from pipelines.ingest.files import load_file_table
from pipelines.ingest.http_api import ApiSettings, load_api_table
from pipelines.ingest.postgres import PostgresSettings, load_postgres_table
from pipelines.ingest.raw_tables import LoadResult, SourceLoadError
from pipelines.ingest.retry import RetryPolicy
from pipelines.ingest.staging import where_of
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
            url=self.url,
            host=self.host,
            port=self.port,
            database=self.database,
            user=self.user,
            password=self.password,
            sslmode=self.sslmode,
            connect_timeout_seconds=self.connect_timeout_seconds,
            statement_timeout_seconds=self.statement_timeout_seconds,
            batch_rows=self.batch_rows,
            retry=RetryPolicy(self.attempts, self.backoff_seconds, self.max_backoff_seconds),
            origin=origin,
        )


class HttpApiResource(ConfigurableResource):
    """An HTTP JSON API source: base URL, credentials (via EnvVar), timeout and retry pacing."""

    base_url: str | None = None
    token: str | None = None
    api_key: str | None = None
    username: str | None = None
    password: str | None = None
    timeout_seconds: float = 30.0
    attempts: int = 4
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 30.0
    max_retry_after_seconds: float = 120.0

    def settings(self, origin: str = "base_url") -> ApiSettings:
        """The connector's settings; `origin` says where the base URL came from, for messages."""
        return ApiSettings(
            base_url=self.base_url,
            token=self.token,
            api_key=self.api_key,
            username=self.username,
            password=self.password,
            timeout_seconds=self.timeout_seconds,
            retry=RetryPolicy(
                self.attempts,
                self.backoff_seconds,
                self.max_backoff_seconds,
                self.max_retry_after_seconds,
            ),
            origin=origin,
        )


def resource_key(source: SourceFile) -> str:
    """source_<source>: the resource key of a database or API source's connection."""
    return f"source_{source.source}"


def _secrets(connector, environ: Mapping[str, str]) -> dict:
    """Each secret field of the connector's resource: an EnvVar when its variable is set."""
    return {
        field: EnvVar(name) if environ.get(name) else None
        for field, (name, _) in secret_fields(connector).items()
    }


def _postgres(c: PostgresConnector, environ: Mapping[str, str]) -> PostgresResource:
    r = c.retries
    return PostgresResource(
        **_secrets(c, environ),
        host=c.host,
        port=c.port,
        database=c.database,
        user=c.user,
        sslmode=c.sslmode,
        connect_timeout_seconds=c.connect_timeout_seconds,
        statement_timeout_seconds=c.statement_timeout_seconds,
        batch_rows=c.batch_rows,
        attempts=r.attempts,
        backoff_seconds=r.backoff_seconds,
        max_backoff_seconds=r.max_backoff_seconds,
    )


def _http_api(c: HttpApiConnector, environ: Mapping[str, str]) -> HttpApiResource:
    r = c.retries
    return HttpApiResource(
        **{"base_url": c.base_url, **_secrets(c, environ)},
        timeout_seconds=c.timeout_seconds,
        attempts=r.attempts,
        backoff_seconds=r.backoff_seconds,
        max_backoff_seconds=r.max_backoff_seconds,
        max_retry_after_seconds=r.max_retry_after_seconds,
    )


def connector_resources(
    catalog: Catalog, environ: Mapping[str, str] | None = None
) -> dict[str, ConfigurableResource]:
    """A connection resource per database or API source of the catalog; a secret is an EnvVar
    when its variable is set in `environ` (the process's environment by default)."""
    environ = os.environ if environ is None else environ
    resources = {}
    for source in catalog.sources:
        if isinstance(source.connector, PostgresConnector):
            resources[resource_key(source)] = _postgres(source.connector, environ)
        elif isinstance(source.connector, HttpApiConnector):
            resources[resource_key(source)] = _http_api(source.connector, environ)
    return resources


def check_secrets_set(table: SourceTable, resource: ConfigurableResource) -> None:
    """Raise a one-line SourceLoadError naming every variable of the table's source that is not
    set (its resource field is empty); never the value of one that is."""
    unset = [
        f"{name} ({what})"
        for field, (name, what) in secret_fields(table.source.connector).items()
        if not getattr(resource, field, None)
    ]
    if unset:
        many = len(unset) > 1
        raise SourceLoadError(
            f"{where_of(table)}: the environment variable{'s' if many else ''} "
            f"{', '.join(unset)} {'are' if many else 'is'} not set where the pipeline runs; set "
            f"{'them' if many else 'it'} and run the month again (nothing of this table was "
            "loaded)"
        )


def required_resources(source: SourceFile) -> set[str]:
    """The resource keys a source's raw assets need."""
    keys = {"warehouse", "scorecard"}
    return keys if source.connector.kind == "file" else keys | {resource_key(source)}


def load_source_table(
    context: AssetExecutionContext,
    con,
    table: SourceTable,
    first: Period,
    last: Period,
    paths: RuntimePaths,
) -> LoadResult:
    """Load months first..last of a table with its source's connector (retries are logged)."""
    connector, run_id = table.source.connector, context.run.run_id
    if connector.kind == "file":
        return load_file_table(con, table, first, last, paths.home, run_id)
    resource = getattr(context.resources, resource_key(table.source))
    check_secrets_set(table, resource)
    if isinstance(connector, PostgresConnector):
        origin = f"${connector.url_env}" if connector.url_env else "the connection settings"
        return load_postgres_table(
            con,
            table,
            first,
            last,
            run_id,
            resource.settings(origin),
            Path(paths.sql),
            log=context.log.warning,
        )
    origin = f"${connector.base_url_env}" if connector.base_url_env else "base_url"
    return load_api_table(
        con,
        table,
        first,
        last,
        run_id,
        connector,
        resource.settings(origin),
        log=context.log.warning,
    )

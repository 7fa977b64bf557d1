"""The catalog's connector settings of database and HTTP API sources (the `connector:` block).

Only names of environment variables appear here, never secrets: the values are read by the
connection resources (pipelines/defs/connectors.py) through Dagster's EnvVar at run time, and a
variable that is not set fails only its source's tables (see `secret_fields`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from pipelines.catalog.file_formats import FORMAT_SETTINGS, file_settings_problem

EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
JsonPath = Annotated[
    str,
    StringConstraints(pattern=r"^(\$|\$\.)?([A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*)?$"),
    Field(description="Dotted path into the JSON response, e.g. data.items ('' or $: the body)."),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Retries(_Strict):
    """How often and how patiently a failing connection or request is tried again."""

    attempts: int = Field(default=4, ge=1, le=20, description="Tries in all, the first included.")
    backoff_seconds: float = Field(
        default=1.0, ge=0, description="Wait before the second try; it doubles on each retry."
    )
    max_backoff_seconds: float = Field(default=30.0, ge=0, description="Cap of one wait.")
    max_retry_after_seconds: float = Field(
        default=120.0, ge=0, description="Cap on a server's Retry-After (HTTP APIs)."
    )


class PostgresConnector(_Strict):
    """A PostgreSQL database, by URL (from the environment) or by host, database and user."""

    kind: Literal["postgres"]
    url_env: EnvName | None = Field(
        default=None,
        description="Environment variable holding a postgresql:// URL (it may hold the password).",
    )
    host: str | None = None
    port: int = Field(default=5432, ge=1, le=65535)
    database: str | None = None
    user: str | None = None
    password_env: EnvName | None = Field(
        default=None, description="Environment variable holding the password."
    )
    sslmode: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] | None = (
        None
    )
    batch_rows: int = Field(
        default=50_000,
        ge=100,
        le=1_000_000,
        description="Rows fetched per round trip of the server-side cursor.",
    )
    connect_timeout_seconds: int = Field(default=10, ge=1, le=600)
    statement_timeout_seconds: int = Field(default=1800, ge=1)
    retries: Retries = Field(default_factory=Retries)

    @model_validator(mode="after")
    def _url_or_parts(self) -> PostgresConnector:
        parts = [self.host, self.database, self.user]
        if self.url_env is None and None in parts:
            raise ValueError("give url_env, or host, database and user (and password_env)")
        if self.url_env is not None and (any(p is not None for p in parts) or self.password_env):
            raise ValueError("give either url_env or host/database/user/password_env, not both")
        return self


class BearerAuth(_Strict):
    """Authorization: Bearer <token>."""

    type: Literal["bearer"]
    token_env: EnvName


class ApiKeyAuth(_Strict):
    """An API key sent in a header or a query parameter."""

    type: Literal["api_key"]
    key_env: EnvName
    header: str | None = Field(default=None, description="Header name, e.g. X-API-Key.")
    query_param: str | None = Field(default=None, description="Query parameter name, e.g. api_key.")

    @model_validator(mode="after")
    def _one_place(self) -> ApiKeyAuth:
        if (self.header is None) == (self.query_param is None):
            raise ValueError("an api_key goes in exactly one of header or query_param")
        return self


class BasicAuth(_Strict):
    """HTTP basic authentication, both parts from the environment."""

    type: Literal["basic"]
    username_env: EnvName
    password_env: EnvName


Auth = Annotated[BearerAuth | ApiKeyAuth | BasicAuth, Field(discriminator="type")]


class _Budgeted(_Strict):
    """The budget of one load's pagination: it stops (and fails) at the first limit reached."""

    max_pages: int = Field(default=10_000, ge=1, description="Most pages one load fetches.")
    max_records: int = Field(default=1_000_000, ge=1, description="Most records one load fetches.")
    max_seconds: float = Field(
        default=300,
        gt=0,
        description="Most seconds one load spends paging (checked before each further page).",
    )


class PageNumberPages(_Budgeted):
    """?page=1,2,3... until a page comes back empty (or total_pages_path says it was the last)."""

    style: Literal["page_number"]
    page_param: str = "page"
    page_size_param: str | None = "page_size"
    page_size: int = Field(default=100, ge=1)
    first_page: int = Field(default=1, ge=0)
    total_pages_path: JsonPath | None = None


class OffsetPages(_Budgeted):
    """?offset=0&limit=N, then offset+N... until a page comes back empty (or past total_path)."""

    style: Literal["offset"]
    offset_param: str = "offset"
    limit_param: str = "limit"
    limit: int = Field(default=100, ge=1)
    total_path: JsonPath | None = None


class CursorPages(_Budgeted):
    """The response names the next cursor (at cursor_path), sent back as cursor_param."""

    style: Literal["cursor"]
    cursor_param: str = "cursor"
    cursor_path: JsonPath
    page_size_param: str | None = None
    page_size: int = Field(default=100, ge=1)


class NextLinkPages(_Budgeted):
    """The response links the next page: at next_path in the body, or in a Link: rel=next header."""

    style: Literal["next_link"]
    next_path: JsonPath | None = Field(
        default=None, description="Where the next page's URL is in the body; none: the Link header."
    )


class SinglePage(_Strict):
    """One request returns everything."""

    style: Literal["none"]
    max_pages: int = 1


Pagination = Annotated[
    PageNumberPages | OffsetPages | CursorPages | NextLinkPages | SinglePage,
    Field(discriminator="style"),
]


class DateFilter(_Strict):
    """The pair of query parameters that restrict a request to the month(s) being loaded."""

    start_param: str = Field(description="Gets the first day of the first month.")
    end_param: str = Field(description="Gets the end of the last month (see `end`).")
    end: Literal["exclusive", "inclusive"] = Field(
        default="exclusive",
        description="exclusive: the first day of the next month; inclusive: the month's last day.",
    )
    format: str = Field(default="%Y-%m-%d", description="strftime format of the dates.")


class HttpApiConnector(_Strict):
    """An HTTP JSON API: one endpoint per table, paginated, filtered to the month."""

    kind: Literal["http_api"]
    base_url: str | None = Field(default=None, pattern=r"^https?://[^\s?#@]+$")
    base_url_env: EnvName | None = Field(
        default=None, description="Environment variable holding the base URL instead."
    )
    auth: Auth | None = None
    pagination: Pagination = Field(default_factory=lambda: SinglePage(style="none"))
    date_filter: DateFilter | None = None
    records_path: JsonPath = ""
    headers: dict[str, str] = Field(default_factory=dict, description="Fixed, non-secret headers.")
    timeout_seconds: float = Field(default=30.0, gt=0)
    retries: Retries = Field(default_factory=Retries)

    @model_validator(mode="after")
    def _one_base_url(self) -> HttpApiConnector:
        if (self.base_url is None) == (self.base_url_env is None):
            raise ValueError("give exactly one of base_url or base_url_env")
        return self


# The connection resource's field, the connector's setting naming its variable, what it holds.
_SECRET_FIELDS = {
    "postgres": [
        ("url", "url_env", "the connection URL"),
        ("password", "password_env", "the password"),
    ],
    "http_api": [
        ("base_url", "base_url_env", "the base URL"),
        ("token", "token_env", "the token"),
        ("api_key", "key_env", "the API key"),
        ("username", "username_env", "the user name"),
        ("password", "password_env", "the password"),
    ],
}


def secret_fields(connector) -> dict[str, tuple[str, str]]:
    """The environment variables a connector reads, by the resource field each one fills:
    field -> (variable, what it holds), in the order they are documented."""
    places = [connector, getattr(connector, "auth", None)]
    found = {}
    for field, setting, what in _SECRET_FIELDS.get(connector.kind, ()):
        name = next((getattr(p, setting) for p in places if getattr(p, setting, None)), None)
        if name:
            found[field] = (name, what)
    return found


def secret_env_names(connector) -> list[str]:
    """The environment variables a connector reads, in the order they are documented."""
    return [name for name, _ in secret_fields(connector).values()]


_TABLE_SETTINGS = {
    "file": {"path", "format", *FORMAT_SETTINGS},
    "postgres": {"relation", "query"},
    "http_api": {"endpoint", "records_path", "params"},
}
_SETTING_NAMES = {"relation": "table"}


def table_settings_problem(kind: str, table) -> str | None:
    """What is wrong with a table's read settings for a connector of `kind`, or None."""
    own = _TABLE_SETTINGS[kind]
    foreign = sorted(
        _SETTING_NAMES.get(name, name)
        for names in _TABLE_SETTINGS.values()
        for name in names
        if name not in own and name in table.model_fields_set
    )
    if foreign:
        return f"{', '.join(foreign)} do(es) not apply to a {kind} source"
    if kind == "file" and table.path is None:
        return "a file source's table needs path (a file or glob)"
    if kind == "file" and (problem := file_settings_problem(table)):
        return problem
    if kind == "postgres" and (table.relation is None) == (table.query is None):
        return "a postgres source's table needs exactly one of table (a table or view) or query"
    if kind == "postgres" and table.query is not None:
        query = table.query
        if query.startswith("/") or ".." in query.split("/") or not query.endswith(".sql"):
            return "query must be a relative path under sql/ ending in .sql"
    if kind == "http_api" and table.endpoint is None:
        return "an http_api source's table needs endpoint (a path under base_url)"
    return None


def connector_problems(sources, sql_root, environ) -> tuple[list[str], list[str]]:
    """(errors, warnings) of the sources' connectors: missing query files, unset variables.

    An unset variable is a warning, not an error: `scorecard check` may run where the secrets are
    not (CI); in a run, the source's tables fail to load, naming the variable, and the rest goes on.
    """
    errors, warnings = [], []
    for source in sources:
        where = f"sources/{source.source}.yaml"
        for table in source.tables:
            if table.query is not None and not (sql_root / table.query).is_file():
                errors.append(f"{where}: tables ({table.name}).query: sql/{table.query} is missing")
        for name in secret_env_names(source.connector):
            if not environ.get(name):
                warnings.append(
                    f"{where}: connector: the environment variable {name} is not set; "
                    "this source's tables will fail to load until it is"
                )
    return errors, warnings

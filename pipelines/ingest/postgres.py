"""The PostgreSQL connector: a table or query, month-filtered on the server, streamed in batches.

The month filter is a WHERE on the table's date column with bound parameters, so the server does
the filtering (and can use an index). Rows come through a server-side cursor, `batch_rows` at a
time, each batch turned into Arrow and appended to a DuckDB staging table, so memory stays bounded
by one batch whatever the table's size. Connection errors are retried with backoff; the password
never appears in a message (see pipelines.ingest.redact).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import psycopg
import pyarrow as pa
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.string import TextLoader

from pipelines.catalog.boundaries import sql_file_outside
from pipelines.catalog.catalog import SourceTable
from pipelines.ingest.drift import changed_types, extra_columns
from pipelines.ingest.raw_tables import LoadResult, SourceLoadError
from pipelines.ingest.redact import Redactor
from pipelines.ingest.retry import RetryPolicy, retrying
from pipelines.ingest.staging import Stage, publish, where_of
from pipelines.periods import Period

# PostgreSQL type OID -> (DuckDB staging type, Arrow type, type family). Anything else (numeric,
# uuid, json, enums, ...) is read as text and staged as VARCHAR; numeric keeps its family. A
# timestamptz is staged as a timestamp in UTC (pyarrow turns aware datetimes into UTC), whatever
# the session's time zone here or there: the warehouse's timestamps are UTC without a zone.
NATIVE = {
    16: ("BOOLEAN", pa.bool_(), "boolean"),
    20: ("BIGINT", pa.int64(), "integer"),
    21: ("SMALLINT", pa.int16(), "integer"),
    23: ("INTEGER", pa.int32(), "integer"),
    700: ("FLOAT", pa.float32(), "float"),
    701: ("DOUBLE", pa.float64(), "float"),
    1082: ("DATE", pa.date32(), "date"),
    1114: ("TIMESTAMP", pa.timestamp("us"), "timestamp"),
    1184: ("TIMESTAMP", pa.timestamp("us"), "timestamp"),
    25: ("VARCHAR", pa.string(), "text"),
    1043: ("VARCHAR", pa.string(), "text"),
    1042: ("VARCHAR", pa.string(), "text"),
}
NUMERIC_OID = 1700
_NOT_RETRIED = (
    "authentication failed",
    "does not exist",
    "no pg_hba.conf entry",
    "permission denied",
    "invalid",
    "syntax error",
)
_RETRIED_STATES = ("08", "40", "53", "57")


@dataclass(frozen=True)
class PostgresSettings:
    """How to reach the database; `origin` says where the URL came from (for messages)."""

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
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    origin: str = "the connection URL"

    def redactor(self) -> Redactor:
        """Masks the password, the URL, the password inside the URL, and the pieces a URL with
        an unencoded '@', '/' or ':' in its password would be misread into."""
        secrets = [self.password, self.url, *_userinfo_pieces(self.url)]
        try:
            secrets.append(conninfo_to_dict(self.url).get("password") if self.url else None)
        except psycopg.Error:
            pass
        return Redactor(secrets)

    def url_problem(self) -> str | None:
        """Why the URL cannot be meant as written (checked before connecting), or None."""
        if not self.url and not self.host:
            return f"{self.origin} is not set"
        if self.url and "://" in self.url and self.url.split("://", 1)[1].count("@") > 1:
            return (
                f"{self.origin} has more than one '@': a password (or user name) holding "
                "'@', '/', ':' or '#' must be percent-encoded in a URL ('@' as %40, '/' as "
                "%2F, ':' as %3A, '#' as %23)"
            )
        return None

    def label(self) -> str:
        """postgresql://host:port/database, never with user or password."""
        parts = {"host": self.host, "port": self.port, "dbname": self.database}
        if self.url:
            try:
                parts = conninfo_to_dict(self.url)
            except psycopg.Error:
                return f"PostgreSQL at {self.origin} (not a valid URL)"
        return (
            f"postgresql://{parts.get('host') or 'localhost'}:{parts.get('port') or 5432}/"
            f"{parts.get('dbname') or ''}"
        )

    def connect(self) -> psycopg.Connection:
        """A read-only connection with a statement timeout."""
        options = {
            "connect_timeout": self.connect_timeout_seconds,
            "application_name": "balanced-scorecard",
            "options": f"-c statement_timeout={self.statement_timeout_seconds * 1000}",
        }
        if self.sslmode:
            options["sslmode"] = self.sslmode
        if self.url:
            conn = psycopg.connect(self.url, **options)
        else:
            conn = psycopg.connect(
                host=self.host,
                port=self.port,
                dbname=self.database,
                user=self.user,
                password=self.password or None,
                **options,
            )
        conn.read_only = True
        return conn


def _userinfo_pieces(url: str | None) -> list[str]:
    """The password of a URL as written, and its pieces between '@', '/', ':', '#' and '?'
    (at least 4 characters): whatever part a misparsing client might echo."""
    if not url or "://" not in url or "@" not in url:
        return []
    userinfo = url.split("://", 1)[1].rpartition("@")[0]
    password = userinfo.partition(":")[2]  # the user name stays readable in messages
    pieces = [password] if password else []
    for separator in "@/:#?":
        pieces = [part for piece in pieces for part in piece.split(separator)] + pieces
    return [piece for piece in dict.fromkeys(pieces) if len(piece) >= 4]


def retryable(exc: BaseException) -> bool:
    """Connection trouble and server overload are retried; wrong credentials or SQL are not."""
    if not isinstance(exc, psycopg.OperationalError):
        return False
    if any(word in str(exc) for word in _NOT_RETRIED):
        return False
    return exc.sqlstate is None or exc.sqlstate[:2] in _RETRIED_STATES


def source_relation(table: SourceTable, sql_root: Path) -> tuple[sql.Composable, str]:
    """The table's SELECT (its table or its query file) and a short description of it."""
    if table.table.relation:
        parts = [sql.Identifier(p) for p in table.table.relation.split(".")]
        return sql.SQL("select * from {}").format(
            sql.SQL(".").join(parts)
        ), f"table {table.table.relation}"
    if sql_file_outside(sql_root, table.table.query):  # caught as an unreadable query file
        raise PermissionError(
            f"sql/{table.table.query} is a link leading outside sql/; query files live under sql/"
        )
    text = (sql_root / table.table.query).read_text(encoding="utf-8").strip().rstrip(";")
    # The file is a query, not a template: a literal % must not read as a placeholder.
    return sql.SQL(text.replace("%", "%%")), f"query sql/{table.table.query}"


def _describe(conn, relation: sql.Composable) -> list:
    with conn.cursor() as cur:
        cur.execute(sql.SQL("select * from ({}) as src limit 0").format(relation))
        return list(cur.description)


def _stage_columns(stage: Stage, description: list, conn) -> list:
    """Create the stage from the result's columns; return each column's Arrow type."""
    types, arrow = {}, []
    for column in description:
        native = NATIVE.get(column.type_code)
        if native is None:  # read as text: register the text loader for this type
            conn.adapters.register_loader(column.type_code, TextLoader)
            family = "decimal" if column.type_code == NUMERIC_OID else "text"
            native = ("VARCHAR", pa.string(), family)
        types[column.name] = native[0]
        stage.note_families({column.name: {native[2]}})
        arrow.append(native[1])
    stage.add_columns(types)
    return arrow


def _extra_type(column) -> str:
    native = NATIVE.get(column.type_code)
    if native:
        return native[0]
    if column.type_code == NUMERIC_OID:
        if column.precision and column.precision <= 38:
            return f"DECIMAL({column.precision}, {column.scale or 0})"
        return "DOUBLE"
    return "VARCHAR"


def _stream(
    conn,
    stage: Stage,
    relation: sql.Composable,
    table: SourceTable,
    first: Period,
    last: Period,
    settings: PostgresSettings,
    arrow_types: list,
) -> None:
    query = sql.SQL(
        "select * from ({}) as src where {col} >= %(first_day)s and {col} < %(end_day)s"
    )
    query = query.format(relation, col=sql.Identifier(table.table.date_column))
    names = list(stage.types)
    with conn.cursor(name=f"scorecard_{stage.name}") as cur:
        cur.itersize = settings.batch_rows
        cur.execute(query, {"first_day": first.start, "end_day": last.end})
        while rows := cur.fetchmany(settings.batch_rows):
            values = zip(*rows, strict=True)
            columns = [pa.array(v, type=kind) for v, kind in zip(values, arrow_types, strict=True)]
            stage.append(pa.Table.from_arrays(columns, names=names))


def _fetch(
    con,
    table: SourceTable,
    first: Period,
    last: Period,
    settings: PostgresSettings,
    relation: sql.Composable,
    what: str,
) -> tuple[Stage, dict[str, str]]:
    stage = Stage(con)
    try:
        with settings.connect() as conn:
            description = _describe(conn, relation)
            names = [c.name for c in description]
            # Fail fast on drift, before a single row is streamed.
            extras = extra_columns(where_of(table), table.table.columns, names, what)
            arrow_types = _stage_columns(stage, description, conn)
            changed_types(where_of(table), table.table.columns, stage.families)
            _stream(conn, stage, relation, table, first, last, settings, arrow_types)
    except BaseException:
        stage.drop()
        raise
    return stage, {c.name: _extra_type(c) for c in description if c.name in extras}


def load_postgres_table(
    con,
    table: SourceTable,
    first: Period,
    last: Period,
    run_id: str,
    settings: PostgresSettings,
    sql_root: Path,
    log: Callable[[str], None] | None = None,
) -> LoadResult:
    """Load months first..last of a PostgreSQL-backed table into its raw table (replacing them)."""
    redact, where = settings.redactor(), where_of(table)
    if problem := settings.url_problem():
        raise SourceLoadError(f"{where}: {problem}; nothing was loaded")
    try:
        relation, what = source_relation(table, sql_root)
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceLoadError(f"{where}: cannot read the query file: {exc}") from None
    label = f"{settings.label()} {what}"

    def on_retry(exc: BaseException, attempt: int, wait: float) -> None:
        if log:
            log(
                f"{where}: {settings.label()} failed ({redact(_first_line(exc))}); "
                f"attempt {attempt} of {settings.retry.attempts}, retrying in {wait:.1f} s"
            )

    try:
        for attempt in retrying(settings.retry, retryable, on_retry):
            with attempt:
                stage, extra_types = _fetch(con, table, first, last, settings, relation, label)
    except duckdb.Error as exc:
        raise SourceLoadError(f"{where}: staging the rows failed: {redact(exc)}") from None
    except pa.ArrowException as exc:
        raise SourceLoadError(
            f"{where}: {label} returned values that could not be read: {redact(_first_line(exc))}"
        ) from None
    except psycopg.Error as exc:
        tries = attempt.retry_state.attempt_number
        after = f" after {tries} attempt(s)" if retryable(exc) else ""
        raise SourceLoadError(
            f"{where}: {settings.label()} failed{after}: {redact(_first_line(exc))}"
        ) from None
    try:
        return publish(stage, table, first, last, run_id, label, extra_types, text_readable=False)
    finally:
        stage.drop()


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__

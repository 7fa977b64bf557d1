"""Connector settings in the catalog: validation, resources from EnvVar, checks, documentation."""

from __future__ import annotations

import shutil

import pytest
from documentation import documentation
from pydantic import ValidationError
from tenacity import RetryCallState

from pipelines.catalog import CatalogError, load_catalog
from pipelines.catalog.connectors import (
    ApiKeyAuth,
    BasicAuth,
    BearerAuth,
    CursorPages,
    DateFilter,
    HttpApiConnector,
    NextLinkPages,
    OffsetPages,
    PageNumberPages,
    PostgresConnector,
    Retries,
)
from pipelines.catalog.models import SourceFile
from pipelines.catalog_check import check_catalog
from pipelines.definitions import build_definitions
from pipelines.ingest.http_api import RetryableStatus
from pipelines.ingest.pagination import records_at, value_at
from pipelines.ingest.redact import Redactor
from pipelines.ingest.retry import RetryPolicy
from pipelines.settings import PROJECT_ROOT, RuntimePaths

COLUMNS = [{"name": "day", "type": "date"}]


def _source(connector: dict, **table) -> dict:
    return {
        "source": "s",
        "connector": connector,
        "tables": [{"name": "t", "date_column": "day", "columns": COLUMNS, **table}],
    }


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (_source({"kind": "postgres", "host": "db"}, table="x"), "give url_env, or host, database"),
        (_source({"kind": "postgres", "url_env": "U", "host": "db"}, table="x"), "not both"),
        (
            _source({"kind": "postgres", "url_env": "U"}, path="a.csv"),
            "path do(es) not apply to a postgres source",
        ),
        (_source({"kind": "postgres", "url_env": "U"}), "needs exactly one of table"),
        (
            _source({"kind": "postgres", "url_env": "U"}, query="../x.sql"),
            "relative path under sql/",
        ),
        (_source({"kind": "http_api", "base_url": "http://h"}), "needs endpoint"),
        (
            _source(
                {"kind": "http_api", "base_url": "http://h", "base_url_env": "B"}, endpoint="/x"
            ),
            "exactly one of base_url or base_url_env",
        ),
        (
            _source(
                {
                    "kind": "http_api",
                    "base_url": "http://h",
                    "auth": {"type": "api_key", "key_env": "K"},
                },
                endpoint="/x",
            ),
            "exactly one of header",
        ),
        (
            _source({"kind": "file"}, table="x", path="a.csv"),
            "table do(es) not apply to a file source",
        ),
        (_source({"kind": "ftp"}, path="a.csv"), "does not match any of the expected tags"),
    ],
)
def test_connector_settings_are_validated(source, message):
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        SourceFile.model_validate(source)


def test_a_wrong_setting_names_the_file_and_key(copied_catalog):
    (copied_catalog / "definitions/sources/hr.yaml").write_text(
        (PROJECT_ROOT / "definitions/examples/hr_api.yaml")
        .read_text()
        .replace("records_path: data", "records_pth: data")
    )
    with pytest.raises(CatalogError, match=r"sources/hr.yaml:\d+: connector.http_api.records_pth"):
        load_catalog(copied_catalog / "definitions", copied_catalog / "sql")


@pytest.fixture
def switched(copied_catalog, monkeypatch) -> RuntimePaths:
    """The catalog copy with the example CRM (postgres) and HR (API) sources; variables unset."""
    for name, example in (("crm", "crm_postgres.yaml"), ("hr", "hr_api.yaml")):
        shutil.copy(
            PROJECT_ROOT / "definitions/examples" / example,
            copied_catalog / "definitions/sources" / f"{name}.yaml",
        )
    for var in ("CRM_DATABASE_URL", "HR_API_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    return RuntimePaths(
        home=copied_catalog / "var",
        definitions=copied_catalog / "definitions",
        sql=copied_catalog / "sql",
        report_assets=PROJECT_ROOT / "reports",
    )


def test_definitions_load_with_the_connection_variables_unset(switched, monkeypatch):
    defs = build_definitions(switched)
    graph = defs.resolve_asset_graph()
    assert graph.get(
        next(k for k in graph.get_all_asset_keys() if k.path[0] == "raw_crm_opportunities")
    ).kinds == {"duckdb", "postgres"}
    # unset: no EnvVar (Dagster would refuse the whole run); the load names the variable
    assert defs.resources["source_crm"].url is None
    assert defs.resources["source_hr"].token is None
    monkeypatch.setenv("CRM_DATABASE_URL", "postgresql://example/crm")
    monkeypatch.setenv("HR_API_TOKEN", "token")
    defs = build_definitions(switched)
    assert defs.resources["source_crm"].url.env_var_name == "CRM_DATABASE_URL"
    assert defs.resources["source_hr"].token.env_var_name == "HR_API_TOKEN"


def test_check_warns_of_unset_variables_and_missing_query_files(switched):
    (switched.sql / "sources/crm_opportunities.sql").unlink()
    report = check_catalog(
        load_catalog(switched.definitions, switched.sql), __import__("datetime").date(2026, 1, 10)
    )
    assert any("sql/sources/crm_opportunities.sql is missing" in e for e in report.errors)
    assert any("CRM_DATABASE_URL is not set" in w for w in report.warnings)
    assert any("HR_API_TOKEN is not set" in w for w in report.warnings)


def test_json_paths_and_records():
    body = {"data": {"items": [{"a": 1}]}, "meta": {"next": "c2"}, "list": [{"x": 5}]}
    assert value_at(body, "$.meta.next") == value_at(body, "meta.next") == "c2"
    assert value_at(body, "list.0.x") == 5 and value_at(body, "nope.x") is None
    assert records_at(body, "data.items") == [{"a": 1}]
    assert records_at([{"a": 1}], "") == [{"a": 1}]
    with pytest.raises(ValueError, match="leads to dict, not a list"):
        records_at(body, "data")


def test_backoff_doubles_and_retry_after_is_capped():
    policy = RetryPolicy(
        attempts=5, backoff_seconds=0.5, max_backoff_seconds=3, max_retry_after_seconds=10
    )
    state = RetryCallState(None, None, (), {})
    waits = []
    for attempt in (1, 2, 3, 4):
        state.attempt_number = attempt
        state.set_exception((ConnectionError, ConnectionError(), None))
        waits.append(policy.wait(state))
    assert waits == [0.5, 1.0, 2.0, 3.0]
    response = __import__("httpx").Response(429, headers={"Retry-After": "3600"})
    state.set_exception((RetryableStatus, RetryableStatus(response), None))
    assert policy.wait(state) == 10


def test_redaction_masks_plain_and_url_encoded_secrets():
    redact = Redactor(["p@ss word", None, ""])
    assert (
        redact("postgresql://u:p%40ss%20word@h/db and p@ss word")
        == "postgresql://u:***@h/db and ***"
    )


def test_the_docs_document_every_connector_setting_and_demo_command():
    readme = documentation()
    models = (
        PostgresConnector,
        HttpApiConnector,
        BearerAuth,
        ApiKeyAuth,
        BasicAuth,
        PageNumberPages,
        OffsetPages,
        CursorPages,
        NextLinkPages,
        DateFilter,
        Retries,
    )
    for model in models:
        for name in model.model_fields:
            assert f"`{name}`" in readme, f"{model.__name__}.{name} is documented nowhere"
    for text in (
        "`table`",
        "`query`",
        "`endpoint`",
        "`params`",
        "scorecard demo-postgres",
        "scorecard demo-api",
        "definitions/examples/crm_postgres.yaml",
        "definitions/examples/hr_api.yaml",
    ):
        assert text in readme, text


@pytest.mark.parametrize(
    ("example", "source"), [("crm_postgres.yaml", "crm"), ("hr_api.yaml", "hr")]
)
def test_the_example_sources_mirror_the_file_sources(example, source):
    """The demo switch must load the same tables: names, kinds, keys and columns."""
    catalog = load_catalog(PROJECT_ROOT / "definitions", PROJECT_ROOT / "sql")
    files = next(s for s in catalog.sources if s.source == source)
    switched = SourceFile.model_validate(
        __import__("yaml").safe_load((PROJECT_ROOT / "definitions/examples" / example).read_text())
    )
    shape = {"name", "kind", "date_column", "key", "columns"}  # what the load must match
    assert [t.model_dump(include=shape) for t in switched.tables] == [
        t.model_dump(include=shape) for t in files.tables
    ], f"definitions/examples/{example} no longer matches sources/{source}.yaml: copy its tables"

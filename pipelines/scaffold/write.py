"""Write the templates of a new KPI or source, refusing to overwrite anything."""

from __future__ import annotations

import re
from pathlib import Path

from pipelines.catalog import load_catalog
from pipelines.catalog.loader import CatalogError
from pipelines.settings import RuntimePaths

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
TEMPLATES = Path(__file__).parent


class ScaffoldError(ValueError):
    """The template cannot be written (bad name, or the file exists)."""


def _check_identifier(kind: str, name: str) -> None:
    if not _IDENTIFIER.match(name):
        raise ScaffoldError(
            f"{kind} {name!r} is not a valid id: use lowercase letters, digits "
            "and underscores, starting with a letter"
        )


def _write(path: Path, text: str) -> Path:
    if path.exists():
        raise ScaffoldError(f"{path} already exists; choose another name or edit that file")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _objectives(paths: RuntimePaths) -> str:
    try:
        catalog = load_catalog(paths.definitions, paths.sql)
    except CatalogError:
        return "(see definitions/scorecard.yaml)"
    return ", ".join(o.id for o in catalog.objectives)


def new_kpi(paths: RuntimePaths, kpi_id: str) -> list[Path]:
    """definitions/kpis/<id>.yaml and sql/kpis/<id>.sql."""
    _check_identifier("KPI", kpi_id)
    yaml_path = paths.definitions / "kpis" / f"{kpi_id}.yaml"
    sql_path = paths.sql / "kpis" / f"{kpi_id}.sql"
    for path in (yaml_path, sql_path):
        if path.exists():
            raise ScaffoldError(f"{path} already exists; choose another id or edit that file")
    values = {"id": kpi_id, "objectives": _objectives(paths)}
    return [
        _write(yaml_path, (TEMPLATES / "kpi.yaml.tmpl").read_text().format(**values)),
        _write(sql_path, (TEMPLATES / "kpi.sql.tmpl").read_text().format(**values)),
    ]


KIND_ALIASES = {"postgres": "sql", "http_api": "api"}


# The default expectations of a new source's example table, the same for every connector kind:
# appended to the connector's template, whose example table ends with its columns.
DEFAULT_EXPECTATIONS = TEMPLATES / "source_expectations.yaml.tmpl"


def source_text(name: str, kind: str) -> str:
    """The text of a new source file: the connector kind's template, with the default
    expectations of its example table (it passes `scorecard check` as written)."""
    kind = KIND_ALIASES.get(kind, kind)  # the connector's own kind names work too
    template = TEMPLATES / f"source_{kind}.yaml.tmpl"
    if not template.exists():
        raise ScaffoldError(f"no template for connector kind {kind!r}")
    return template.read_text().format(name=name) + DEFAULT_EXPECTATIONS.read_text()


def new_source(paths: RuntimePaths, name: str, kind: str) -> list[Path]:
    """definitions/sources/<name>.yaml for a connector kind, with default expectations."""
    _check_identifier("source", name)
    return [_write(paths.definitions / "sources" / f"{name}.yaml", source_text(name, kind))]

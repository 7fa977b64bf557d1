"""The one loader of the catalog: reads definitions/, reports every problem at once.

Each problem names the file, the key path inside it and what is wrong, so a data engineer can
fix the YAML without reading Python.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from pipelines.catalog.catalog import Catalog
from pipelines.catalog.limits import CatalogFileError
from pipelines.catalog.locations import compose, line_of
from pipelines.catalog.models import (
    ActionsFile,
    CommentaryFile,
    InitiativesFile,
    KpiFile,
    RecipientsFile,
    ScorecardFile,
    SourceFile,
    TargetsFile,
    UnitsFile,
)
from pipelines.catalog.references import (
    check_references,
    empty_means_zero_problems,
    kpi_tables,
)

M = TypeVar("M", bound=BaseModel)


class CatalogError(ValueError):
    """The catalog has problems; `problems` lists each one as 'file: where: what'."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"the catalog has {len(problems)} problem(s):\n{lines}")


def _location(loc: tuple) -> str:
    parts = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "(top level)"


_PATTERN_HINTS = {
    "^[a-z][a-z0-9_]{0,62}$": "an id: lowercase letters, digits and underscores, starting with "
    "a letter",
    r"^\d{4}-(0[1-9]|1[0-2])$": 'a month written YYYY-MM, in quotes (e.g. "2026-01")',
}


def _short(value, limit: int = 60) -> str:
    """A value as a message quotes it: repr, at most `limit` characters."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}\u2026"


def _pattern_message(err: dict) -> str:
    pattern = err.get("ctx", {}).get("pattern", "")
    hint = _PATTERN_HINTS.get(pattern, f"text matching {pattern}")
    return f"{_short(err.get('input'))} is not valid here; expected {hint}"


def _construct(tree: yaml.Node | None):
    """The Python data of a composed document, as yaml.safe_load would give it."""
    if tree is None:
        return None
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_document(tree)
    finally:
        loader.dispose()


def _duplicate_keys(root: yaml.Node | None) -> list[tuple[str, int, int]]:
    """Keys given twice in one mapping, anywhere in the document: (key, first line, line).

    Each mapping is looked at once, however many aliases repeat it."""
    found: list[tuple[str, int, int]] = []
    seen_nodes: set[int] = set()
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    line = key.start_mark.line + 1
                    if key.value in seen:
                        found.append((key.value, seen[key.value], line))
                    seen.setdefault(key.value, line)
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return sorted(found, key=lambda item: item[2])


def _kpi_id_problems(paths: list[Path], files: list[KpiFile | None], root: Path) -> list[str]:
    """A KPI id defined twice, with the file and line of each definition."""
    places: dict[str, list[tuple[Path, int]]] = {}
    for path, kpi_file in zip(paths, files, strict=True):
        for i, kpi in enumerate(kpi_file.kpis if kpi_file else ()):
            places.setdefault(kpi.id, []).append((path, i))
    problems = []
    for ident, where in places.items():
        if len(where) > 1:
            lines = [
                f"{path.relative_to(root).as_posix()}:{line_of(compose(path), ('kpis', i, 'id'))}"
                for path, i in where
            ]
            problems.append(
                f"{lines[-1]}: KPI id {ident!r} is defined {len(where)} times "
                f"({', '.join(lines)}); ids must be unique"
            )
    return problems


def _parse(path: Path, model: type[M], root: Path, problems: list[str]) -> M | None:
    name = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    try:
        tree = compose(path)
        data = _construct(tree)
    except FileNotFoundError:
        problems.append(f"{name}: the file is missing")
        return None
    except CatalogFileError as exc:
        problems.append(f"{name}:{exc.line}: {exc}" if exc.line else f"{name}: {exc}")
        return None
    except UnicodeDecodeError as exc:
        problems.append(f"{name}: not UTF-8 text (byte {exc.start + 1})")
        return None
    except (yaml.YAMLError, RecursionError) as exc:
        problems.append(f"{name}: not valid YAML: {' '.join(str(exc).split())}")
        return None
    if not isinstance(data, dict):
        problems.append(f"{name}: expected a mapping of keys at the top level")
        return None
    duplicated = _duplicate_keys(tree)
    if duplicated:
        problems += [
            f"{name}:{line}: {key!r} is given twice (first on line {first}); YAML would "
            "keep only the last one, so merge the two"
            for key, first, line in duplicated
        ]
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            message = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                message = "unknown field (check its spelling against the docs)"
            elif err["type"] == "missing":
                message = "required field is missing"
            elif err["type"] == "string_pattern_mismatch":
                message = _pattern_message(err)
            elif err["type"] == "string_too_long":
                message = (
                    f"{len(err['input'])} characters; at most "
                    f"{err['ctx']['max_length']} are allowed here"
                )
            line = line_of(tree, err["loc"])
            where = f"{name}:{line}" if line else name
            problems.append(f"{where}: {_location(err['loc'])}: {message}")
        return None


def _revision_sql_problems(
    path: Path, kpi_file: KpiFile | None, root: Path, sql_root: Path
) -> list[str]:
    """A revision's SQL file that does not exist, with the file and line that name it."""
    if kpi_file is None:
        return []
    problems, tree = [], None
    for i, kpi in enumerate(kpi_file.kpis):
        for j, revision in enumerate(kpi.revisions):
            if revision.sql and not (sql_root / revision.sql).is_file():
                tree = tree or compose(path)
                loc = ("kpis", i, "revisions", j, "sql")
                problems.append(
                    f"{path.relative_to(root).as_posix()}:{line_of(tree, loc)}: {_location(loc)}: "
                    f"the SQL file sql/{revision.sql} does not exist (the path is relative "
                    "to sql/)"
                )
    return problems


def _version(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def load_catalog(root: Path, sql_root: Path) -> Catalog:
    """Load and validate the catalog under `root`; raise CatalogError listing every problem."""
    problems: list[str] = []
    scorecard = _parse(root / "scorecard.yaml", ScorecardFile, root, problems)
    sources = [_parse(p, SourceFile, root, problems) for p in sorted(root.glob("sources/*.yaml"))]
    kpi_paths = sorted(root.glob("kpis/*.yaml"))
    kpi_files = [_parse(p, KpiFile, root, problems) for p in kpi_paths]
    for path, kpi_file in zip(kpi_paths, kpi_files, strict=True):
        problems += _revision_sql_problems(path, kpi_file, root, sql_root)
    problems += _kpi_id_problems(kpi_paths, kpi_files, root)
    targets = _parse(root / "targets.yaml", TargetsFile, root, problems)
    initiatives = _parse(root / "initiatives.yaml", InitiativesFile, root, problems)
    actions = (
        _parse(root / "actions.yaml", ActionsFile, root, problems)
        if (root / "actions.yaml").exists()
        else None
    )
    recipients = _parse(root / "recipients.yaml", RecipientsFile, root, problems)
    units = (
        _parse(root / "units.yaml", UnitsFile, root, problems)
        if (root / "units.yaml").exists()
        else None
    )
    commentary = [
        _parse(p, CommentaryFile, root, problems) for p in sorted(root.glob("commentary/*.yaml"))
    ]
    if not sources and not problems:
        problems.append("sources/: no source files (sources/*.yaml) were found")
    if not kpi_files and not problems:
        problems.append("kpis/: no KPI files (kpis/*.yaml) were found")
    if problems and scorecard is None:
        raise CatalogError(problems)  # every reference is to the scorecard's objectives

    # With problems in some files, the references between the files that did parse are checked
    # too, so one pass reports every problem; a file that did not parse counts as empty.
    catalog = Catalog(
        root=root,
        sql_root=sql_root,
        version=_version([p for p in root.rglob("*.yaml")] + list(sql_root.rglob("*.sql"))),
        organization=scorecard.organization,
        perspectives=tuple(scorecard.perspectives),
        links=tuple(scorecard.links),
        sources=tuple(s for s in sources if s is not None),
        kpis=tuple(k for f in kpi_files if f is not None for k in f.kpis),
        targets={
            k: tuple(sorted(v, key=lambda t: t.period))
            for k, v in (targets.targets.items() if targets else ())
        },
        initiatives=tuple(initiatives.initiatives if initiatives else ()),
        actions=tuple(actions.actions if actions else ()),
        units=tuple(units.units if units else ()),
        recipient_lists=tuple(recipients.lists if recipients else ()),
        commentary=tuple(c for c in commentary if c is not None),
        schedule=scorecard.schedule,
        report=scorecard.report,
    )
    problems.extend(
        check_references(
            catalog,
            kpis_complete=None not in kpi_files,
            sources_complete=None not in sources,
            units_complete=units is not None or not (root / "units.yaml").exists(),
        )
    )
    if problems:
        raise CatalogError(problems)
    tables = kpi_tables(catalog)  # every KPI's SQL read and parsed once
    problems = empty_means_zero_problems(catalog, tables)
    if problems:
        raise CatalogError(problems)
    return Catalog(**{**catalog.__dict__, "kpi_tables": tables})

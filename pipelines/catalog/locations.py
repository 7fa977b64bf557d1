"""Where a catalog entry is written: 'file:line: path', for messages about references.

Problems found within one file carry their line from pydantic's error path; problems between
files (a KPI's unknown objective, a weight, a red-flag ratio) are found on the loaded catalog,
which keeps no YAML nodes, so the file is read again here to name the line.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from pipelines.catalog.limits import CatalogFileError, compose_bounded, read_bounded


def compose(path: Path) -> yaml.Node | None:
    """The file's node tree (kept for line numbers), read and parsed within the bounds."""
    return compose_bounded(read_bounded(path))


def line_of(node: yaml.Node | None, loc: tuple) -> int | None:
    """The line (1-based) of the deepest YAML node on the key path `loc`."""
    line = node.start_mark.line + 1 if node is not None else None
    for item in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == item), None)
            if match is None:
                match = next((k for k, _ in node.value if k.value == item), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(item, int):
            match = node.value[item] if item < len(node.value) else None
        else:
            match = None
        if match is None:
            break
        node, line = match, match.start_mark.line + 1
    return line


def location(root: Path, name: str, loc: tuple) -> str:
    """'<name>:<line>: <path>' for the key path `loc` in the catalog file `name` under `root`
    ('<name>: <path>' where the file does not read)."""
    path_text = "".join(
        f"[{item}]" if isinstance(item, int) else (f".{item}" if i else str(item))
        for i, item in enumerate(loc)
    )
    try:
        line = line_of(compose(root / name), loc)
    except (OSError, CatalogFileError, yaml.YAMLError):
        line = None
    return f"{name}:{line}: {path_text}" if line else f"{name}: {path_text}"


def kpi_location(root: Path, kpi_id: str, field: str | None = None) -> str:
    """'kpis/<file>.yaml:<line>: kpis[<i>].<field>' for the KPI `kpi_id` under `root`, or
    'kpis: <id>.<field>' where no file declares it."""
    suffix = f".{field}" if field else ""
    for path in sorted(root.glob("kpis/*.yaml")):
        try:
            tree = compose(path)
        except (OSError, CatalogFileError, yaml.YAMLError):
            continue
        entries = _kpi_entries(tree)
        for index, entry in enumerate(entries):
            if _scalar(entry, "id") == kpi_id:
                loc = ("kpis", index, field) if field else ("kpis", index)
                return f"kpis/{path.name}:{line_of(tree, loc)}: kpis[{index}]{suffix}"
    return f"kpis: {kpi_id}{suffix}"


def _kpi_entries(tree: yaml.Node | None) -> list[yaml.Node]:
    if not isinstance(tree, yaml.MappingNode):
        return []
    kpis = next((v for k, v in tree.value if k.value == "kpis"), None)
    return list(kpis.value) if isinstance(kpis, yaml.SequenceNode) else []


def _scalar(node: yaml.Node, key: str) -> str | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    value = next((v for k, v in node.value if k.value == key), None)
    return value.value if isinstance(value, yaml.ScalarNode) else None

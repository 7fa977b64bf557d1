"""Bounds on what a catalog file may hold, so that a hostile or broken file is refused at once.

A catalog file is read only up to MAX_FILE_BYTES; its YAML, aliases expanded, may hold at most
MAX_NODES values (a "billion laughs" bomb expands to hundreds of millions); no key may be longer
than MAX_KEY characters and no value longer than MAX_TEXT. The models then hold names to
MAX_NAME and descriptions to MAX_DESCRIPTION characters (`Name`, `Description`), so whatever the
report shows is short enough to lay out. Each refusal is one line naming the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import yaml
from pydantic import StringConstraints

MAX_FILE_BYTES = 1_000_000  # the demo's largest catalog file is under 4 kB
MAX_NODES = 100_000  # values (mapping keys, items, scalars) once every alias is expanded
MAX_KEY = 200
MAX_TEXT = 10_000  # any value (a regex, a path, a formula)
MAX_NAME = 200  # names, owners, authors: the demo's longest is 58
MAX_DESCRIPTION = 2_000  # descriptions, vision, mission, notes, comments: the demo's, 249

Name = Annotated[str, StringConstraints(max_length=MAX_NAME)]
Description = Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION)]

# libyaml's parser where PyYAML was built with it (several times faster, and it refuses nesting
# deeper than 1,000 levels), the same node tree
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CatalogFileError(ValueError):
    """A catalog file past a bound: one line, without the file's name; `line` where it is."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


def read_bounded(path: Path) -> str:
    """The file's text, refused past MAX_FILE_BYTES (without reading more than that)."""
    with path.open("rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        size = max(path.stat().st_size, len(data)) / 1_000_000
        raise CatalogFileError(
            f"the file is {size:.1f} MB; a catalog file may be at most "
            f"{MAX_FILE_BYTES // 1_000_000} MB"
        )
    return data.decode("utf-8")


def _children(node: yaml.Node) -> list[tuple[yaml.Node, bool]]:
    """A collection's nodes, each with whether it is a mapping's key."""
    if isinstance(node, yaml.MappingNode):
        return [pair for key, value in node.value for pair in ((key, True), (value, False))]
    return [(item, False) for item in node.value]


def _scalar_problem(node: yaml.ScalarNode, is_key: bool) -> str | None:
    limit = MAX_KEY if is_key else MAX_TEXT
    if len(node.value) <= limit:
        return None
    what = "a key" if is_key else "a value"
    return f"{what} of {len(node.value)} characters; at most {limit} are allowed"


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _too_many(distinct: int) -> str:
    what = "the file holds" if distinct > MAX_NODES else "its aliases expand to"
    return f"{what} more than {MAX_NODES:,} values; a catalog file may hold at most that many"


def check_bounds(root: yaml.Node | None) -> None:
    """Raise CatalogFileError when the tree, aliases expanded, holds more than MAX_NODES values,
    refers to itself, or has a key or value too long. Each distinct node is visited once, so a
    bomb costs no more than its text."""
    expanded: dict[int, int] = {}  # id(node) -> its values, aliases expanded
    entered: set[int] = set()
    stack: list[tuple] = [(root, False, None)] if root is not None else []
    while stack:
        node, is_key, children = stack.pop()
        if children is not None:  # its children are done
            size = expanded[id(node)] = 1 + sum(expanded[id(child)] for child, _ in children)
            if size > MAX_NODES:
                raise CatalogFileError(_too_many(len(expanded)), _line(node))
        elif id(node) in expanded:
            continue
        elif id(node) in entered:  # its own descendant: a recursive alias
            raise CatalogFileError(
                "an alias refers to the value that holds it (aliases may not nest in themselves)",
                _line(node),
            )
        elif isinstance(node, yaml.ScalarNode):
            if problem := _scalar_problem(node, is_key):
                raise CatalogFileError(problem, _line(node))
            expanded[id(node)] = 1
        else:
            entered.add(id(node))
            children = _children(node)
            stack.append((node, is_key, children))
            stack.extend((child, key, None) for child, key in children if id(child) not in expanded)


def compose_bounded(text: str) -> yaml.Node | None:
    """The document's node tree (kept for line numbers), within every bound."""
    loader = _SafeLoader(text)
    try:
        tree = loader.get_single_node()
    finally:
        loader.dispose()
    check_bounds(tree)
    return tree

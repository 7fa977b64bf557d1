"""Imports between the packages of pipelines/ point one way, down the data path.

Every module under pipelines/ is parsed (not imported) and every import in it is read: at the
top, inside functions, under TYPE_CHECKING, relative ones resolved. Each module belongs to a
package (`pipelines.catalog.models` to `catalog`, `pipelines.cli` to `cli`), each package to a
layer (docs/architecture.md). A module may import from its own layer or lower ones, and the
packages' graph has no cycle, within a layer either.
"""

from __future__ import annotations

import ast
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipelines.settings import PROJECT_ROOT

PIPELINES = PROJECT_ROOT / "pipelines"

# Lowest first: the data path, with the Dagster wiring and the command line above it all.
LAYERS: dict[str, int] = {
    "settings": 0,
    "periods": 0,
    "warehouse": 0,
    "stock_fallback": 0,  # foundation
    "catalog": 1,
    "ingest": 2,
    "quality": 3,
    "kpis": 4,
    "scoring": 5,
    "report": 6,
    "delivery": 7,
    # wiring and application: Dagster definitions, the runner, the CLI and what only it uses
    "defs": 8,
    "definitions": 8,
    "runner": 8,
    "run_origin": 8,
    "instance_full": 8,
    "event_log_storage": 8,
    "pool_wait": 8,
    "progress": 8,
    "status": 8,
    "submit": 8,
    "backfill_runs": 8,
    "cli": 8,
    "scaffold": 8,
    "demo": 8,
    "catalog_check": 8,
}

# Imports allowed against the rules above, as (importing module, imported module). Each one
# says why and when it goes.
KNOWN_EXCEPTIONS: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class Import:
    """One import of a pipelines module by another, where it is written."""

    file: str  # relative to the project root
    line: int
    source: str  # the importing module
    target: str  # the imported module (or package)

    def __str__(self) -> str:
        return f"{self.file}:{self.line} imports {self.target}"


def module_name(path: Path, root: Path = PROJECT_ROOT) -> str:
    """pipelines/catalog/models.py -> pipelines.catalog.models; a package's __init__ -> it."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_in(
    source: str, module: str, is_package: bool, file: str, known_modules: set[str]
) -> list[Import]:
    """Every import of a pipelines module in `source` (the text of `module`), wherever it is."""
    found = []
    for node in ast.walk(ast.parse(source, file)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's package, up level - 1 packages
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join(package + ([node.module] if node.module else []))
            # `from pipelines import pool_wait` imports the module pipelines.pool_wait
            targets = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in known_modules else base
                for a in node.names
            ]
        else:
            continue
        found += [
            Import(file, node.lineno, module, target)
            for target in dict.fromkeys(targets)
            if target.startswith("pipelines.")
        ]
    return found


def package_of(module: str) -> str:
    """The package of pipelines a module belongs to: pipelines.catalog.models -> catalog."""
    return module.split(".")[1]


def all_imports(
    root: Path = PROJECT_ROOT, exceptions: set[tuple[str, str]] = KNOWN_EXCEPTIONS
) -> list[Import]:
    """The imports of every module under root/pipelines, but the `exceptions`."""
    files = sorted((root / "pipelines").rglob("*.py"))
    modules = {module_name(f, root) for f in files}
    modules |= {m.rsplit(".", 1)[0] for m in modules if m.count(".") > 1}
    found = []
    for path in files:
        found += imports_in(
            path.read_text(encoding="utf-8"),
            module_name(path, root),
            path.name == "__init__.py",
            str(path.relative_to(root)),
            modules,
        )
    return [i for i in found if (i.source, i.target) not in exceptions]


def upward(imports: list[Import], layers: dict[str, int] = LAYERS) -> list[str]:
    """The imports of a higher layer's package by a lower layer's module, one line each."""
    return [
        f"{i}: {package_of(i.source)} (layer {layers[package_of(i.source)]}) may not import "
        f"{package_of(i.target)} (layer {layers[package_of(i.target)]})"
        for i in imports
        if layers[package_of(i.target)] > layers[package_of(i.source)]
    ]


def cycles(imports: list[Import]) -> list[str]:
    """Each import cycle between packages (one per strongly connected group of packages), as
    the packages around it and, per hop, the file and line of one import making it."""
    edges: dict[tuple[str, str], Import] = {}
    for i in imports:
        edges.setdefault((package_of(i.source), package_of(i.target)), i)
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        if a != b:
            graph.setdefault(a, set()).add(b)
            graph.setdefault(b, set())

    def reach(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in graph[todo.pop()] - seen:
                seen.add(nxt)
                todo.append(nxt)
        return seen

    reachable = {node: reach(node) for node in graph}
    found, done = [], set()
    for node in sorted(graph):
        if node in done or node not in reachable[node]:
            continue
        group = {n for n in reachable[node] if node in reachable[n]}
        done |= group
        path = _shortest_cycle(node, graph, group)
        hops = "\n".join(f"    {edges[(a, b)]}" for a, b in zip(path, path[1:], strict=False))
        found.append(
            f"import cycle {' -> '.join(path)} (packages in it: "
            f"{', '.join(sorted(group))}):\n{hops}"
        )
    return found


def _shortest_cycle(start: str, graph: dict[str, set[str]], group: set[str]) -> list[str]:
    """The shortest way from `start` back to itself inside `group`, as the packages on it."""
    parent: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in sorted(graph[node] & group):
            if nxt == start:
                path = [node]
                while parent[path[-1]] is not None:
                    path.append(parent[path[-1]])
                return [*reversed(path), start]
            if nxt not in parent:
                parent[nxt] = node
                queue.append(nxt)
    raise AssertionError(f"{start} is not on a cycle")


IMPORTS = all_imports()


def test_every_package_of_pipelines_has_a_layer():
    packages = {package_of(i.source) for i in IMPORTS}
    packages |= {
        package_of(module_name(p))
        for p in PIPELINES.rglob("*.py")
        if p.parent != PIPELINES or p.name != "__init__.py"
    }
    missing = sorted(packages - set(LAYERS))
    assert not missing, (
        f"packages of pipelines/ without a layer: {', '.join(missing)}; add "
        "each to LAYERS here and to docs/architecture.md"
    )
    gone = sorted(set(LAYERS) - packages)
    assert not gone, f"LAYERS names packages that no longer exist: {', '.join(gone)}"


def test_no_module_imports_from_a_higher_layer():
    problems = upward(IMPORTS)
    assert not problems, "imports against the data path:\n" + "\n".join(problems)


def test_no_import_cycle_between_packages():
    problems = cycles(IMPORTS)
    assert not problems, "\n".join(problems)


def test_the_known_exceptions_are_still_in_the_code():
    """An exception whose import is gone is removed here too, so none lingers unnoticed."""
    every = {(i.source, i.target) for i in all_imports(exceptions=set())}
    stale = sorted(KNOWN_EXCEPTIONS - every)
    assert not stale, f"KNOWN_EXCEPTIONS lists imports that no longer exist: {stale}"


# The checks themselves, on small made-up modules: they must see what hides.


def _tree(tmp_path: Path, files: dict[str, str]) -> list[Import]:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return all_imports(tmp_path)


@pytest.mark.parametrize(
    "text",
    [
        "from pipelines.report.model import KpiLine\n",
        "def f():\n    from pipelines.report import model\n",
        "import pipelines.report.model as m\n",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..report.model import X\n",
        "class C:\n    def m(self):\n        from .. import report\n",
    ],
)
def test_an_upward_import_is_found_wherever_it_is_written(tmp_path, text):
    imports = _tree(
        tmp_path,
        {
            "pipelines/__init__.py": "",
            "pipelines/scoring/__init__.py": "",
            "pipelines/report/__init__.py": "",
            "pipelines/report/model.py": "",
            "pipelines/scoring/score.py": text,
        },
    )
    problems = upward(imports)
    assert len(problems) == 1
    assert problems[0].startswith("pipelines/scoring/score.py:")
    assert "imports pipelines.report" in problems[0]
    assert "scoring (layer 5) may not import report (layer 6)" in problems[0]


def test_from_pipelines_import_a_module_resolves_to_that_module(tmp_path):
    imports = _tree(
        tmp_path,
        {
            "pipelines/__init__.py": "",
            "pipelines/runner.py": "",
            "pipelines/catalog/__init__.py": "",
            "pipelines/catalog/x.py": "from pipelines import runner\n",
        },
    )
    assert [p.split(": ")[0] for p in upward(imports)] == [
        "pipelines/catalog/x.py:1 imports pipelines.runner"
    ]


def test_a_cycle_within_the_top_layer_is_found(tmp_path):
    imports = _tree(
        tmp_path,
        {
            "pipelines/__init__.py": "",
            "pipelines/runner.py": "from pipelines.definitions import build\n",
            "pipelines/definitions.py": "def build():\n    from pipelines.defs import jobs\n",
            "pipelines/defs/__init__.py": "",
            "pipelines/defs/jobs.py": "def run():\n    from pipelines import runner\n",
        },
    )
    assert not upward(imports)
    (problem,) = cycles(imports)
    assert problem.startswith("import cycle definitions -> defs -> runner -> definitions")
    assert "pipelines/defs/jobs.py:2 imports pipelines.runner" in problem

"""docs/architecture.md names every package and top-level module of pipelines/, and no other."""

from __future__ import annotations

import re

from pipelines.settings import PROJECT_ROOT

PIPELINES = PROJECT_ROOT / "pipelines"
DOC = (PROJECT_ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
# `pipelines/catalog/` names a package, `pipelines/cli.py` a top-level module.
_NAMED = re.compile(r"`pipelines/(\w+)(/|\.py)`")


def _on_disk() -> set[str]:
    packages = {f"{p.name}/" for p in PIPELINES.iterdir() if (p / "__init__.py").is_file()}
    modules = {p.name for p in PIPELINES.glob("*.py") if p.name != "__init__.py"}
    return packages | modules


def _named() -> set[str]:
    return {name + ("/" if end == "/" else ".py") for name, end in _NAMED.findall(DOC)}


def test_every_package_and_module_is_named():
    missing = sorted(_on_disk() - _named())
    assert missing == [], f"docs/architecture.md does not name: {missing}"


def test_nothing_named_is_gone():
    gone = sorted(_named() - _on_disk())
    assert gone == [], f"docs/architecture.md names what pipelines/ no longer has: {gone}"

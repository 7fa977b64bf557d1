"""The project's documentation, for the tests that fail when something is documented nowhere.

README.md is the front door; the reference lives in docs/*.md. docs/decisions/ records why
things are as they are and does not count: a setting named only there is undocumented.
"""

from __future__ import annotations

from pathlib import Path

from pipelines.settings import PROJECT_ROOT

DOCS = PROJECT_ROOT / "docs"


def documentation_files() -> list[Path]:
    """README.md, then every reference document under docs/ (not docs/decisions/)."""
    return [PROJECT_ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def documentation() -> str:
    """The README and the reference documents as one text."""
    return "\n".join(path.read_text(encoding="utf-8") for path in documentation_files())


def document(name: str) -> str:
    """One reference document under docs/, by file name."""
    return (DOCS / name).read_text(encoding="utf-8")

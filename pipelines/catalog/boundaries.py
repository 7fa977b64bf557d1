"""What a catalog may read on disk: file sources under the exports roots, query files under sql/.

The exports roots are the runtime folder ($SCORECARD_HOME) and, only when the operator says so,
the absolute folders listed in SCORECARD_EXPORT_ROOTS (separated by the system's path separator,
':' on Linux). The catalog itself cannot widen them: it is what they guard against. A file
source's path (or glob) is outside when it climbs with '..', is absolute elsewhere, names a
folder that is a link leading out, or matches a file that is such a link. `scorecard check` and
every load refuse it before anything is opened, so no message quotes what such a file holds
(docs/decisions/catalog-boundaries.md).
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePath

EXPORT_ROOTS_ENV = "SCORECARD_EXPORT_ROOTS"
_MAGIC = ("*", "?", "[")


def export_roots(home: Path, environ: Mapping[str, str] | None = None) -> tuple[Path, ...]:
    """The runtime folder and the folders of SCORECARD_EXPORT_ROOTS, links resolved;
    ValueError naming the setting when an entry is not absolute."""
    listed = (os.environ if environ is None else environ).get(EXPORT_ROOTS_ENV, "")
    roots = [home]
    for entry in (e.strip() for e in listed.split(os.pathsep)):
        if entry and not os.path.isabs(entry):
            raise ValueError(
                f"{EXPORT_ROOTS_ENV}: {entry!r} is not an absolute path; list "
                f"absolute folders separated by {os.pathsep!r}"
            )
        if entry:
            roots.append(Path(entry))
    return tuple(dict.fromkeys(root.resolve() for root in roots))


def full_pattern(pattern: str, home: Path) -> Path:
    """A file source's path or glob as the loader reads it: relative ones under `home`."""
    path = Path(pattern)
    return path if path.is_absolute() else home / path


def _within(path: Path, roots: Iterable[Path]) -> bool:
    return any(path.is_relative_to(root) for root in roots)


def _fixed_folder(path: Path) -> Path:
    """The folders of a path or glob before its file name or first wildcard."""
    parts = path.parts
    cut = next(
        (i for i, part in enumerate(parts) if any(c in part for c in _MAGIC)), len(parts) - 1
    )
    return Path(*parts[:cut]) if cut > 0 else Path(path.anchor or ".")


def _shown(file: str, home: Path) -> str:
    path = Path(file)
    return path.relative_to(home).as_posix() if path.is_relative_to(home) else file


def _why_outside(pattern: str, home: Path, roots: tuple[Path, ...]) -> str | None:
    """Why the path or glob, or a file it matches now, is outside the roots; None when inside.
    Only names are looked at: nothing is opened."""
    if ".." in PurePath(pattern).parts:
        return "it climbs out with '..'"
    full = full_pattern(pattern, home)
    if not _within(_fixed_folder(full).resolve(), roots):
        return (
            "it is an absolute path elsewhere"
            if Path(pattern).is_absolute()
            else "a folder on its way is a link leading out of it"
        )
    for file in sorted(glob.glob(str(full))):
        if not _within(Path(file).resolve(), roots):
            return f"{_shown(file, home)} is a link leading out of it"
    return None


def _roots_named(roots: tuple[Path, ...]) -> str:
    """The roots in words, without server paths (the message may reach the report's readers)."""
    if len(roots) == 1:
        return "the exports root (the runtime folder, $SCORECARD_HOME)"
    return (
        f"the exports roots (the runtime folder and {len(roots) - 1} folder(s) of "
        f"{EXPORT_ROOTS_ENV})"
    )


def outside_problem(pattern: str, home: Path, roots: tuple[Path, ...]) -> str | None:
    """One line on a file source's path outside the exports roots (what to do included), or
    None when it and every file it matches are inside."""
    why = _why_outside(pattern, home, roots)
    if why is None:
        return None
    return (
        f"{pattern!r} is outside {_roots_named(roots)}: {why}. File sources are read only "
        f"there: move the exports there, or have the operator add their folder to "
        f"{EXPORT_ROOTS_ENV}"
    )


def files_outside(files: Iterable[str], home: Path, roots: tuple[Path, ...]) -> str | None:
    """One line on the first of `files` that resolves outside the roots (a link), or None."""
    for file in files:
        if not _within(Path(file).resolve(), roots):
            return (
                f"{_shown(file, home)} is outside {_roots_named(roots)}: it is a link "
                f"leading out of it. File sources are read only there"
            )
    return None


def sql_file_outside(sql_root: Path, relative: str) -> bool:
    """Whether sql/<relative> resolves outside sql/ (a link out of it)."""
    return not (sql_root / relative).resolve().is_relative_to(sql_root.resolve())


def boundary_problems(sources, home: Path, sql_root: Path) -> list[str]:
    """`scorecard check`'s errors: file sources outside the exports roots, query files outside
    sql/, a wrong SCORECARD_EXPORT_ROOTS; each names the catalog file and table."""
    problems: list[str] = []
    try:
        roots = export_roots(home)
    except ValueError as exc:
        return [str(exc)]
    for source in sources:
        for table in source.tables:
            where = f"sources/{source.source}.yaml: tables ({table.name})"
            if source.connector.kind == "file" and table.path is not None:
                if problem := outside_problem(table.path, home, roots):
                    problems.append(f"{where}.path: {problem}")
            if table.query is not None and sql_file_outside(sql_root, table.query):
                problems.append(
                    f"{where}.query: sql/{table.query} is a link leading outside "
                    "sql/; query files live under sql/"
                )
    return problems

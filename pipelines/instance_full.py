"""A full disk under the local Dagster instance ($SCORECARD_HOME/dagster, SQLite storage): one line.

When the disk fills, SQLite fails in several ways (SQLITE_FULL "database or disk is full"; an
I/O error when its shared-memory file cannot grow) and Dagster lets them out of the run as a
long SQLAlchemy traceback, after writing its own notes about events it could not store.
`instance_full_error` recognizes the disk running out the way the warehouse's `is_disk_full`
does: by the operating system's error (ENOSPC, EDQUOT, EFBIG) or SQLite's, an I/O error counting
only when the disk really has next to no room left. Light on imports: the CLI imports it.
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any, TextIO

_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
LOW_SPACE_BYTES = 16 * 2**20  # an SQLite I/O error with less room than this: the disk is full
# What Dagster writes to stderr itself when it cannot store a run's events.
_STORAGE_NOTES = (
    "Exception while storing event batch",
    "Falling back to storing multiple",
    "Exception while writing logger call to event log",
)


class InstanceFullError(RuntimeError):
    """The disk holding the Dagster instance has no room: the message names the folder."""


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and what caused it, each once (explicit causes, then implicit context)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _free_bytes(folder: Path) -> int | None:
    """Room left on the disk holding `folder` (or its nearest existing parent)."""
    for candidate in (folder, *folder.parents):
        with suppress(OSError):
            return shutil.disk_usage(candidate).free
    return None


def _says_full(exc: BaseException, free: int | None) -> bool:
    if isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS:
        return True
    if not isinstance(exc, sqlite3.Error):
        return False
    name = getattr(exc, "sqlite_errorname", "")
    if name == "SQLITE_FULL" or "disk is full" in str(exc):
        return True
    low = free is not None and free < LOW_SPACE_BYTES
    return low and (name.startswith("SQLITE_IOERR") or "disk I/O error" in str(exc))


def instance_full_error(folder: Path, exc: BaseException) -> InstanceFullError | None:
    """The one-line error for `exc` if it is the disk holding the instance `folder` running
    out of room, else None."""
    if isinstance(exc, InstanceFullError):
        return exc
    free = _free_bytes(folder)
    if not any(_says_full(e, free) for e in _chain(exc)):
        return None
    room = f" ({free / 2**20:.1f} MiB free)" if free is not None else ""
    return InstanceFullError(
        f"the disk holding the Dagster instance {folder} is full{room}, so Dagster could not "
        "record the run; free space on that disk, then run again"
    )


class HeldStorageNotes:
    """sys.stderr while a run executes: Dagster's notes about events it could not store are
    held back (a full disk is then told in one line); everything else passes through."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.held: list[str] = []

    def write(self, text: str) -> int:
        """Hold Dagster's storage notes, pass anything else on."""
        if text.startswith(_STORAGE_NOTES) or (self.held and text.startswith("(Background")):
            self.held.append(text)
            return len(text)
        return self.stream.write(text)

    def replay(self) -> None:
        """Write the held notes after all (the trouble was not a full disk)."""
        for text in self.held:
            self.stream.write(text)
        self.held.clear()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)  # flush, fileno, isatty, encoding...

"""Saying that a patch of a library's internals does not apply here: one line, once.

Three modules build on a library's private parts (docs/decisions/patched-internals.md); each
checks at import that they are still there and otherwise leaves the library as it is and calls
`fall_back`. The line goes to standard error itself, not through Python's `warnings`: Great
Expectations, once imported, sends every warning of the process to a logger that discards it
(`logging.captureWarnings` with a NullHandler), and these checks run after that import.
"""

from __future__ import annotations

import sys

_said: set[str] = set()


def fall_back(message: str) -> None:
    """Print `scorecard: warning: <message>` on standard error, once per process."""
    if message not in _said:
        _said.add(message)
        print(f"scorecard: warning: {message}", file=sys.stderr, flush=True)

"""The one patch of Great Expectations' internals: `Expectation.configuration` memoised per run.

GE rebuilds an expectation's configuration (a pydantic `.dict()`, a class-name conversion, a new
object) on every access, some 70 times per expectation and suite run: about 40 % of a month's
validation. `memoised_configurations()` puts a memo in place of GE's property for the length of
one suite run and restores GE's afterwards, so nothing outside a run sees it; runs take turns
across threads. GE has no extension point for this (docs/decisions/quality-validation.md has the
figures that keep it).

It relies on `Expectation.configuration` being a plain property. `PATCHABLE` says whether it
still is, checked once at import: if an upgrade of GE changes that, validation runs with GE's
own property (stock behaviour, slower) and one warning says so;
tests/unit/test_ge_configuration_memo.py fails loudly on such an upgrade.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from great_expectations.expectations.expectation import Expectation

from pipelines.stock_fallback import fall_back


def _patchable() -> bool:
    prop = Expectation.__dict__.get("configuration")
    return isinstance(prop, property) and prop.fget is not None and prop.fset is None


PATCHABLE = _patchable()
if not PATCHABLE:
    fall_back(
        "Great Expectations' Expectation.configuration is no longer a plain property: "
        "validating without the configuration memo (slower, same verdicts)",
    )


class MemoisedConfiguration:
    """`Expectation.configuration`, computed once per expectation during one suite run.

    Entries are keyed by the expectation object (held, so its id is not reused) and the identity
    of each of its fields, so a field set anew is recomputed. GE substitutes a run's parameters
    into the configuration it is handed, in place: sound here because every run builds its
    expectations anew and the memo ends with the run.
    """

    def __init__(self, original: property):
        self.original = original
        self.memo: dict[int, tuple] = {}

    def __get__(self, expectation, owner=None):
        if expectation is None:
            return self
        fields = tuple(map(id, expectation.__dict__.values()))
        held = self.memo.get(id(expectation))
        if held is None or held[0] is not expectation or held[1] != fields:
            held = (expectation, fields, self.original.fget(expectation))
            self.memo[id(expectation)] = held
        return held[2]

    def __set__(self, expectation, value):
        raise AttributeError("configuration is read-only")


# One suite run at a time per process: the memo replaces a class attribute, and two runs on two
# threads would each install and restore it.
_ONE_RUN_AT_A_TIME = threading.Lock()


@contextmanager
def memoised_configurations() -> Iterator[None]:
    """GE's Expectation.configuration memoised for the length of the block (GE's own where the
    patch no longer applies)."""
    with _ONE_RUN_AT_A_TIME:
        if not PATCHABLE:
            yield
            return
        original = Expectation.__dict__["configuration"]
        Expectation.configuration = MemoisedConfiguration(original)
        try:
            yield
        finally:
            Expectation.configuration = original

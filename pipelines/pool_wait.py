"""A run waiting for the warehouse pool sleeps between claims instead of spinning a core.

Dagster 1.13's executor asks its concurrency context how long to sleep before the next claim,
and the context answers `min([0, *time left])`: never more than zero, so a run whose step waits
for the "warehouse" slot (a month run while a backfill writes) loops without sleeping, a whole
core busy for as long as the other run lasts (100 % of a core on this 2-core machine). The
fix proposed upstream (dagster-io/dagster#20367, closed unmerged) is the time left until the
next claim, never negative; `apply()` installs it. The claims themselves and their back-off
(1 s, growing to 15 s) are Dagster's own.

Dagster has no extension point for this, so it reaches into `dagster._core`
(docs/decisions/patched-internals.md). `PATCHABLE` says whether the method and the state it
reads are still there, checked once at import: if an upgrade removed them, `apply()` leaves
Dagster as it is (stock behaviour: a waiting run spins) after one warning.
tests/unit/test_dagster_internals.py fails loudly on such an upgrade.
"""

from __future__ import annotations

import time

from pipelines.stock_fallback import fall_back

try:
    from dagster._core.execution.plan import instance_concurrency_context as _concurrency
except ImportError:  # moved or gone in this Dagster: PATCHABLE is False
    _concurrency = None

_METHOD = "interval_to_next_pending_claim_check"
_STATE = ("_pending_claims", "_pending_timeouts")


def interval_to_next_pending_claim_check(self) -> float:
    """Seconds until the earliest pending claim may be tried again (0 when one is due)."""
    if not self._pending_claims:
        return 0.0
    now = time.time()
    due = [
        self._pending_timeouts[step]
        for step in self._pending_claims
        if step in self._pending_timeouts
    ]
    return max(0.0, min(due, default=now) - now)


def _patchable() -> bool:
    context_class = getattr(_concurrency, "InstanceConcurrencyContext", None)
    if context_class is None:
        return False
    init_names = context_class.__init__.__code__.co_names
    return hasattr(context_class, _METHOD) and all(name in init_names for name in _STATE)


PATCHABLE = _patchable()
if not PATCHABLE:
    fall_back(
        "Dagster's concurrency context has changed: a run waiting for the warehouse slot "
        "keeps a core busy while it waits (Dagster's own wait)"
    )


def apply() -> bool:
    """Install the sleeping interval on Dagster's InstanceConcurrencyContext (idempotent);
    False if this Dagster does not have the method or its state (`PATCHABLE`)."""
    if PATCHABLE:
        setattr(
            _concurrency.InstanceConcurrencyContext, _METHOD, interval_to_next_pending_claim_check
        )
    return PATCHABLE

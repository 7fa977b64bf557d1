"""A run waiting for the warehouse pool sleeps between claims instead of spinning a core.

Dagster 1.13's executor asks its concurrency context how long to sleep before the next claim,
and the context answers `min([0, *time left])`: never more than zero, so a run whose step waits
for the "warehouse" slot (a month run while a backfill writes) loops without sleeping, a whole
core busy for as long as the other run lasts (100 % of a core on this 2-core machine). The
fix proposed upstream (dagster-io/dagster#20367, closed unmerged) is the time left until the
next claim, never negative; `apply()` installs it. The claims themselves and their back-off
(1 s, growing to 15 s) are Dagster's own.

This reaches into `dagster._core` (docs/decisions/deployment.md says why): `apply()` checks
that the method and the state it reads are still there, and otherwise leaves Dagster as it is
with a warning.
"""

from __future__ import annotations

import time
import warnings

from dagster._core.execution.plan import instance_concurrency_context as _concurrency

_METHOD = "interval_to_next_pending_claim_check"
_STATE = ("_pending_claims", "_pending_timeouts")


def interval_to_next_pending_claim_check(self) -> float:
    """Seconds until the earliest pending claim may be tried again (0 when one is due)."""
    if not self._pending_claims:
        return 0.0
    now = time.time()
    due = [self._pending_timeouts[step] for step in self._pending_claims
           if step in self._pending_timeouts]
    return max(0.0, min(due, default=now) - now)


def apply() -> bool:
    """Install the sleeping interval on Dagster's InstanceConcurrencyContext (idempotent);
    False, with a warning, if this Dagster does not have the method or its state."""
    context_class = _concurrency.InstanceConcurrencyContext
    init_names = context_class.__init__.__code__.co_names
    if not hasattr(context_class, _METHOD) or not all(name in init_names for name in _STATE):
        warnings.warn("pipelines.pool_wait: this Dagster's concurrency context has changed; "
                      "a run waiting for the warehouse slot may keep a core busy",
                      RuntimeWarning, stacklevel=2)
        return False
    setattr(context_class, _METHOD, interval_to_next_pending_claim_check)
    return True

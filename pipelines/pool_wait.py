"""A run waiting for the warehouse pool sleeps between claims instead of spinning a core.

Dagster 1.13's executor asks its concurrency context how long to sleep before the next claim,
and the context answers `min([0, *time left])`: never more than zero, so a run whose step waits
for the "warehouse" slot (a month run while a backfill writes) loops without sleeping, a whole
core busy for as long as the other run lasts (seen at 97 % CPU on this 2-core machine). The
fix proposed upstream (dagster-io/dagster#20367, closed unmerged) is the time left until the
next claim, never negative; `apply()` installs it. The claims themselves and their back-off
(1 s, growing to 15 s) are Dagster's own.
"""

from __future__ import annotations

import time

from dagster._core.execution.plan import instance_concurrency_context as _concurrency


def _interval_to_next_pending_claim_check(self) -> float:
    """Seconds until the earliest pending claim may be tried again (0 when one is due)."""
    if not self._pending_claims:
        return 0.0
    now = time.time()
    return max(0.0, min((ready - now for ready in self._pending_timeouts.values()), default=0.0))


def apply() -> None:
    """Install the sleeping interval on Dagster's InstanceConcurrencyContext (idempotent)."""
    _concurrency.InstanceConcurrencyContext.interval_to_next_pending_claim_check = (
        _interval_to_next_pending_claim_check)

"""Retries with exponential backoff (tenacity), shared by the database and HTTP API connectors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt


@dataclass(frozen=True)
class RetryPolicy:
    """How often to try and how long to wait: backoff_seconds doubling up to max_backoff_seconds.

    A server's own Retry-After wins over the backoff, capped at max_retry_after_seconds.
    """

    attempts: int = 4
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 30.0
    max_retry_after_seconds: float = 120.0

    def wait(self, state: RetryCallState) -> float:
        """Seconds to sleep before the next attempt."""
        exc = state.outcome.exception() if state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            return min(float(retry_after), self.max_retry_after_seconds)
        return min(self.backoff_seconds * 2 ** (state.attempt_number - 1), self.max_backoff_seconds)


def retrying(
    policy: RetryPolicy,
    retryable: Callable[[BaseException], bool],
    on_retry: Callable[[BaseException, int, float], None] | None = None,
) -> Retrying:
    """A tenacity Retrying that retries `retryable` errors and re-raises the last one.

    `on_retry(error, attempt, wait_seconds)` is told before each wait (to log it).
    """

    def before_sleep(state: RetryCallState) -> None:
        if on_retry is not None:
            on_retry(state.outcome.exception(), state.attempt_number, state.next_action.sleep)

    return Retrying(
        stop=stop_after_attempt(policy.attempts),
        wait=policy.wait,
        retry=retry_if_exception(retryable),
        before_sleep=before_sleep,
        reraise=True,
    )

"""Keeping credentials out of messages: each error, log line and label of a connector."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from urllib.parse import quote, quote_plus

MASK = "***"
# Client libraries that log request URLs (an API key may sit in the query string).
_CHATTY_LOGGERS = ("httpx", "httpcore")


class Redactor:
    """Replaces known secret values (and their URL-encoded forms) in text."""

    def __init__(self, secrets: Iterable[str | None]):
        forms = set()
        for secret in secrets:
            if secret:
                forms |= {secret, quote(secret, safe=""), quote_plus(secret)}
        # Longest first, so a secret containing another is masked whole.
        self._forms = sorted(forms, key=len, reverse=True)

    def __call__(self, text: object) -> str:
        """`text` as a string with every secret masked."""
        result = str(text)
        for form in self._forms:
            result = result.replace(form, MASK)
        return result


class _RedactingFilter(logging.Filter):
    def __init__(self, redactor: Redactor):
        super().__init__()
        self._redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._redactor(record.getMessage())
        record.args = None
        return True


@contextmanager
def redacted_client_logs(redactor: Redactor) -> Iterator[None]:
    """While a connector runs, mask secrets in what its HTTP client libraries log."""
    log_filter = _RedactingFilter(redactor)
    loggers = [logging.getLogger(name) for name in _CHATTY_LOGGERS]
    for logger in loggers:
        logger.addFilter(log_filter)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(log_filter)

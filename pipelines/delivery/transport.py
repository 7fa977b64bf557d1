"""Where messages go: an SMTP server (with timeouts, TLS and retries) or the .eml outbox.

A temporary failure (connection refused or reset, a timeout, a 4xx reply) is retried with
exponential backoff; a permanent one (a 5xx reply, a certificate that does not verify, a bad
login) is not. Once the message data has gone to the server, a broken connection leaves the
outcome unknown: that is never retried, because the server may have accepted the message.
The password never appears in an error raised from here.
"""

from __future__ import annotations

import base64
import logging
import os
import smtplib
import socket
import ssl
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

log = logging.getLogger(__name__)
SECURITY_MODES = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
# Setting -> the environment variable it is read from (SmtpResource, and the CLI's notices).
SMTP_ENVIRONMENT = {
    "host": "SCORECARD_SMTP_HOST",
    "port": "SCORECARD_SMTP_PORT",
    "security": "SCORECARD_SMTP_SECURITY",
    "user": "SCORECARD_SMTP_USER",
    "password": "SCORECARD_SMTP_PASSWORD",
    "sender": "SCORECARD_SMTP_FROM",
    "ca_file": "SCORECARD_SMTP_CA_FILE",
}


class DeliveryError(RuntimeError):
    """A message could not be delivered. `permanent`: retrying will not help."""

    def __init__(self, reason: str, *, permanent: bool, attempts: int = 1) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.attempts = attempts


class UnknownOutcome(DeliveryError):
    """The connection broke after the message data was sent: it may have been delivered."""


class SmtpConfigError(ValueError):
    """SMTP settings that cannot work (unknown security mode, a password over plain text…)."""


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach the SMTP server; an empty host means: write to the outbox instead."""

    host: str = ""
    port: int = 0  # 0: the security mode's default port
    security: str = "starttls"
    user: str = ""
    password: str = field(default="", repr=False)
    sender: str = "scorecard@localhost"  # the display name defaults to the organization's
    ca_file: str = ""
    timeout_seconds: float = 30.0
    max_attempts: int = 4
    backoff_seconds: float = 2.0
    backoff_max_seconds: float = 60.0

    def checked(self) -> SmtpSettings:
        """These settings, or SmtpConfigError naming the setting to fix."""
        if self.security not in SECURITY_MODES:
            raise SmtpConfigError(
                f"SCORECARD_SMTP_SECURITY is {self.security!r}; use one of "
                f"{', '.join(SECURITY_MODES)}"
            )
        if self.user and self.security == "none":
            raise SmtpConfigError(
                "SCORECARD_SMTP_USER is set but SCORECARD_SMTP_SECURITY is "
                "none: refusing to send the password unencrypted"
            )
        if self.ca_file and not Path(self.ca_file).is_file():
            raise SmtpConfigError(f"SCORECARD_SMTP_CA_FILE {self.ca_file!r} is not a file")
        if self.timeout_seconds <= 0 or self.max_attempts < 1:
            raise SmtpConfigError("the SMTP timeout must be positive and attempts at least 1")
        return self

    @property
    def effective_port(self) -> int:
        """The configured port, or the security mode's default."""
        return self.port or DEFAULT_PORTS.get(self.security, 25)


def settings_from_environ(environ: Mapping[str, str]) -> SmtpSettings:
    """SMTP settings from the SCORECARD_SMTP_* variables that are set (the rest default)."""
    values = {
        name: environ[var].strip() for name, var in SMTP_ENVIRONMENT.items() if environ.get(var)
    }
    if "password" in values:
        values["password"] = environ[SMTP_ENVIRONMENT["password"]]  # verbatim
    if "port" in values:
        try:
            values["port"] = int(values["port"])
        except ValueError:
            raise SmtpConfigError("SCORECARD_SMTP_PORT must be a number") from None
    if "security" in values:
        values["security"] = values["security"].lower()
    return SmtpSettings(**values)


@dataclass(frozen=True)
class SendResult:
    """What the server accepted: who got the message, who was refused (and the reply)."""

    accepted: tuple[str, ...]
    refused: dict[str, str]
    attempts: int
    where: str  # 'smtp://host:port' or the .eml file written


def redact(text: str, settings: SmtpSettings) -> str:
    """`text` with the password (plain and as the AUTH exchange encodes it) masked."""
    if not settings.password:
        return text
    secrets = {settings.password}
    for raw in (settings.password, f"\0{settings.user}\0{settings.password}"):
        secrets.add(base64.b64encode(raw.encode()).decode())
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    return f"{code} {' '.join(text.split())}"


def describe(exc: BaseException) -> str:
    """A one-line reason for a failure, from the server's reply where there is one."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "every recipient was refused: " + "; ".join(
            f"{addr}: {_reply(*reply)}" for addr, reply in exc.recipients.items()
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"the server replied {_reply(exc.smtp_code, exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPNotSupportedError) and "STARTTLS" in str(exc):
        return (
            "the SMTP server does not offer STARTTLS; use SCORECARD_SMTP_SECURITY=ssl for "
            "implicit TLS, or =none for a server that has no TLS (without a password)"
        )
    if isinstance(exc, TimeoutError | socket.timeout):
        return "the SMTP server did not answer in time (timeout)"
    return f"{type(exc).__name__}: {exc}"


def is_temporary(exc: BaseException) -> bool:
    """Whether trying again later could succeed (4xx replies, network trouble)."""
    if isinstance(exc, UnknownOutcome | SmtpConfigError | ssl.SSLCertVerificationError):
        return False
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPNotSupportedError | smtplib.SMTPHeloError):
        return False
    return isinstance(exc, smtplib.SMTPServerDisconnected | OSError)


class SmtpTransport:
    """Sends messages through the configured SMTP server."""

    name = "smtp"

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings.checked()
        try:  # certificate verification and host name checks stay on; a private CA may be added
            self.context = ssl.create_default_context(cafile=settings.ca_file or None)
        except (OSError, ValueError) as exc:
            raise SmtpConfigError(f"SCORECARD_SMTP_CA_FILE cannot be loaded: {exc}") from None

    @property
    def where(self) -> str:
        """The server, for logs and metadata (never the credentials)."""
        return f"smtp://{self.settings.host}:{self.settings.effective_port}"

    def _connect(self) -> smtplib.SMTP:
        s, context = self.settings, self.context
        if s.security == "ssl":
            client = smtplib.SMTP_SSL(
                s.host, s.effective_port, timeout=s.timeout_seconds, context=context
            )
        else:
            client = smtplib.SMTP(s.host, s.effective_port, timeout=s.timeout_seconds)
        try:
            client.ehlo()
            if s.security == "starttls":
                client.starttls(context=context)
                client.ehlo()
            if s.user:
                client.login(s.user, s.password)
        except BaseException:
            client.close()
            raise
        return client

    def _transact(
        self, client: smtplib.SMTP, sender: str, recipients: list[str], data: bytes
    ) -> dict[str, str]:
        code, reply = client.mail(sender)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, sender)
        refused = {}
        for recipient in recipients:
            code, reply = client.rcpt(recipient)
            if code not in (250, 251):
                refused[recipient] = (code, reply)
        if len(refused) == len(recipients):
            raise smtplib.SMTPRecipientsRefused(refused)
        try:
            code, reply = client.data(data)
        except smtplib.SMTPResponseException:
            raise  # an explicit refusal of the DATA command: nothing was accepted
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            raise UnknownOutcome(
                f"the connection broke after the message was sent ({describe(exc)}); the server "
                "may have accepted it",
                permanent=True,
            ) from None
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)
        return {addr: _reply(*r) for addr, r in refused.items()}

    def _send_once(self, sender: str, recipients: list[str], data: bytes) -> dict[str, str]:
        client = self._connect()
        try:
            return self._transact(client, sender, recipients, data)
        finally:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()

    def _log_retry(self, state) -> None:
        reason = redact(describe(state.outcome.exception()), self.settings)
        log.warning(
            "SMTP attempt %d via %s failed temporarily (%s); retrying in %.2f s",
            state.attempt_number,
            self.where,
            reason,
            state.next_action.sleep,
        )

    def send(
        self, message: EmailMessage, recipients: list[str], *, period: str = "", stem: str = ""
    ) -> SendResult:
        """Send to the envelope `recipients`, retrying temporary failures with backoff."""
        s = self.settings
        sender = message["From"].addresses[0].addr_spec
        data = message.as_bytes()
        retrying = Retrying(
            stop=stop_after_attempt(s.max_attempts),
            wait=wait_exponential(multiplier=s.backoff_seconds, max=s.backoff_max_seconds),
            retry=retry_if_exception(is_temporary),
            reraise=True,
            before_sleep=self._log_retry,
        )
        attempts = 0
        try:
            for attempt in retrying:
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    refused = self._send_once(sender, recipients, data)
        except UnknownOutcome as exc:
            raise UnknownOutcome(redact(exc.reason, s), permanent=True, attempts=attempts) from None
        except (OSError, smtplib.SMTPException) as exc:
            kind = "temporary" if is_temporary(exc) else "permanent"
            reason = f"{kind} failure after {attempts} attempt(s) via {self.where}: {describe(exc)}"
            raise DeliveryError(
                redact(reason, s), permanent=kind == "permanent", attempts=attempts
            ) from None
        accepted = tuple(r for r in recipients if r not in refused)
        return SendResult(
            accepted, {k: redact(v, s) for k, v in refused.items()}, attempts, self.where
        )


class OutboxTransport:
    """Writes each message as an .eml file under outbox/YYYY-MM/ (no SMTP server configured)."""

    name = "outbox"

    def __init__(self, outbox: Path) -> None:
        self.outbox = outbox

    @property
    def where(self) -> str:
        """The outbox folder."""
        return str(self.outbox)

    def send(
        self, message: EmailMessage, recipients: list[str], *, period: str, stem: str
    ) -> SendResult:
        """Write the message to outbox/<period>/<stem>.eml, atomically."""
        folder = self.outbox / period
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{stem}.eml"
        handle, temp = tempfile.mkstemp(prefix=f".{stem}.", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(message.as_bytes())
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return SendResult(tuple(recipients), {}, 1, str(target))

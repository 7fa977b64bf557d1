"""A real SMTP server on 127.0.0.1 for the delivery tests (aiosmtpd), with scripted failures.

`SmtpServer` records every accepted message (envelope and raw bytes). It can refuse chosen
recipients, answer DATA with a temporary or permanent error a number of times, drop the
connection after accepting a message (the reply is lost), stall before replying to it, require
STARTTLS with a throwaway certificate (trustme) and require AUTH with one user and password.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER, PASSWORD = "scorecard", "s3cret-Pa55!word"


@dataclass
class Received:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    authenticated: bool

    @property
    def message(self) -> EmailMessage:
        """The message parsed back."""
        return message_from_bytes(self.content, policy=policy.default)


@dataclass
class Script:
    """What the server does: refusals, failures to answer DATA with, a dropped reply."""

    refuse: dict[str, str] = field(default_factory=dict)  # address -> reply
    data_replies: list[str] = field(default_factory=list)  # replies to the next DATAs
    drop_after_data: bool = False
    stall_after_data: float = 0.0  # seconds to wait, the message taken, before any reply


class Handler:
    """aiosmtpd handler recording accepted messages and following the script."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.script = Script()
        self.data_commands = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.script.refuse:
            return self.script.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.data_commands += 1
        if self.script.data_replies:
            return self.script.data_replies.pop(0)
        self.received.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                envelope.content,
                bool(session.authenticated),
            )
        )
        if self.script.drop_after_data:
            server.transport.close()  # accepted, but the client never hears so
        if self.script.stall_after_data:
            await asyncio.sleep(self.script.stall_after_data)  # the client times out first
        return "250 OK"


def _authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login.decode() == USER
        and auth_data.password.decode() == PASSWORD
    )
    return AuthResult(success=ok, handled=False)


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """An aiosmtpd server in a thread: STARTTLS or implicit TLS (a throwaway CA), AUTH."""

    def __init__(
        self,
        *,
        starttls: bool = False,
        implicit_tls: bool = False,
        auth: bool = False,
        ca: trustme.CA | None = None,
    ) -> None:
        self.handler = Handler()
        self.port = free_port()
        kwargs = {}
        if starttls or implicit_tls:
            self.ca = ca or trustme.CA()
            server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_context)
            if implicit_tls:
                kwargs.update(ssl_context=server_context)
            else:
                kwargs.update(tls_context=server_context, require_starttls=True)
        if auth:
            # aiosmtpd only counts STARTTLS as TLS; an implicit-TLS session is encrypted anyway
            kwargs.update(
                authenticator=_authenticate, auth_required=True, auth_require_tls=starttls
            )
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **kwargs)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    @property
    def received(self) -> list[Received]:
        """Messages accepted so far."""
        return self.handler.received

    @property
    def script(self) -> Script:
        """What the server will do next."""
        return self.handler.script


class SilentServer:
    """Accepts TCP connections and never says a word (a hanging SMTP server)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.connections: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections.append(conn)

    def __enter__(self) -> SilentServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.sock.close()
        for conn in self.connections:
            conn.close()

"""A stall after the message data (the server takes it and never answers) is an unknown
outcome, like a dropped connection: not retried, so the message is sent once and the ledger keeps
the claim as unconfirmed (tests/system/test_delivery_ledger.py follows one through the CLI)."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from delivery_support import FAST
from smtp_server import SmtpServer

from pipelines.delivery.transport import SmtpSettings, SmtpTransport, UnknownOutcome


def test_a_stall_after_the_data_is_an_unknown_outcome_sent_once():
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.com", "b@example.com", "x"
    message.set_content("x")
    with SmtpServer() as server:
        server.script.stall_after_data = 3.0
        transport = SmtpTransport(
            SmtpSettings(
                host="127.0.0.1",
                port=server.port,
                security="none",
                **{**FAST, "timeout_seconds": 0.5},
            )
        )
        with pytest.raises(UnknownOutcome, match="may have accepted"):
            transport.send(message, ["b@example.com"])
        assert server.handler.data_commands == 1

"""The SMTP transport against a real server on 127.0.0.1: TLS, AUTH, retries, timeouts, secrets."""

from __future__ import annotations

import logging
import time
from email.message import EmailMessage

import pytest
import trustme
from smtp_server import PASSWORD, USER, SilentServer, SmtpServer, free_port

from pipelines.delivery.transport import (
    DeliveryError,
    SmtpConfigError,
    SmtpSettings,
    SmtpTransport,
    UnknownOutcome,
    settings_from_environ,
)

FAST = {"backoff_seconds": 0.01, "backoff_max_seconds": 0.05, "timeout_seconds": 5.0}
TO = ["alex@example.com", "tom@example.com", "lena@example.com"]


def _message() -> EmailMessage:
    from email import policy

    message = EmailMessage(policy=policy.SMTP)
    message["From"] = "Scorecard <scorecard@northwind.example>"
    message["To"] = ", ".join(TO)
    message["Subject"] = "test"
    message.set_content("hello")
    return message


def _plain(port: int, **extra) -> SmtpTransport:
    return SmtpTransport(
        SmtpSettings(host="127.0.0.1", port=port, security="none", **{**FAST, **extra})
    )


@pytest.fixture
def ca_file(tmp_path):
    ca = trustme.CA()
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return ca, str(path)


def test_plain_delivery_to_every_recipient():
    with SmtpServer() as server:
        result = _plain(server.port).send(_message(), TO)
    assert result.accepted == tuple(TO) and result.refused == {} and result.attempts == 1
    assert server.received[0].rcpt_tos == TO
    assert server.received[0].mail_from == "scorecard@northwind.example"


def test_starttls_with_a_private_ca_and_auth(ca_file, caplog):
    ca, path = ca_file
    caplog.set_level(logging.DEBUG)
    with SmtpServer(starttls=True, auth=True, ca=ca) as server:
        transport = SmtpTransport(
            SmtpSettings(
                host="127.0.0.1",
                port=server.port,
                security="starttls",
                user=USER,
                password=PASSWORD,
                ca_file=path,
                **FAST,
            )
        )
        result = transport.send(_message(), TO)
    assert result.accepted == tuple(TO)
    assert server.received[0].authenticated
    assert PASSWORD not in caplog.text and PASSWORD not in repr(transport.settings)


def test_implicit_tls_with_auth(ca_file):
    ca, path = ca_file
    with SmtpServer(implicit_tls=True, auth=True, ca=ca) as server:
        transport = SmtpTransport(
            SmtpSettings(
                host="127.0.0.1",
                port=server.port,
                security="ssl",
                user=USER,
                password=PASSWORD,
                ca_file=path,
                **FAST,
            )
        )
        assert transport.send(_message(), TO).accepted == tuple(TO)
    assert server.received[0].authenticated


def test_certificate_verification_is_on_by_default(ca_file):
    ca, _ = ca_file
    with SmtpServer(starttls=True, ca=ca) as server:
        transport = SmtpTransport(
            SmtpSettings(host="127.0.0.1", port=server.port, security="starttls", **FAST)
        )
        with pytest.raises(DeliveryError) as failed:
            transport.send(_message(), TO)
    assert failed.value.permanent and failed.value.attempts == 1
    assert "certificate" in failed.value.reason.lower()
    assert server.received == []


def test_wrong_password_is_permanent_and_never_leaks(ca_file):
    ca, path = ca_file
    wrong = "wr0ng-" + PASSWORD
    with SmtpServer(starttls=True, auth=True, ca=ca) as server:
        transport = SmtpTransport(
            SmtpSettings(
                host="127.0.0.1",
                port=server.port,
                security="starttls",
                user=USER,
                password=wrong,
                ca_file=path,
                **FAST,
            )
        )
        with pytest.raises(DeliveryError) as failed:
            transport.send(_message(), TO)
    assert failed.value.permanent and failed.value.attempts == 1
    assert "535" in failed.value.reason
    for text in (str(failed.value), repr(failed.value), failed.value.reason):
        assert wrong not in text and PASSWORD not in text
    assert failed.value.__cause__ is None and failed.value.__suppress_context__


def test_password_is_never_sent_unencrypted():
    with pytest.raises(SmtpConfigError, match="unencrypted"):
        SmtpTransport(
            SmtpSettings(host="127.0.0.1", port=25, security="none", user=USER, password=PASSWORD)
        )


def test_temporary_failure_is_retried_with_backoff(caplog):
    with SmtpServer() as server:
        server.script.data_replies = ["451 4.3.0 Try again later"]
        result = _plain(server.port).send(_message(), TO)
    assert result.attempts == 2 and len(server.received) == 1
    assert "451 4.3.0 Try again later); retrying" in caplog.text


def test_permanent_failure_is_not_retried():
    with SmtpServer() as server:
        server.script.data_replies = ["554 5.6.0 Message rejected"] * 3
        with pytest.raises(DeliveryError) as failed:
            _plain(server.port).send(_message(), TO)
    assert failed.value.permanent and failed.value.attempts == 1
    assert "554" in failed.value.reason and server.handler.data_commands == 1


def test_connection_refused_is_retried_then_reported():
    with pytest.raises(DeliveryError) as failed:
        _plain(free_port(), max_attempts=3).send(_message(), TO)
    assert not failed.value.permanent and failed.value.attempts == 3
    assert "ConnectionRefusedError" in failed.value.reason


def test_a_hanging_server_times_out():
    started = time.monotonic()
    with SilentServer() as server, pytest.raises(DeliveryError) as failed:
        _plain(server.port, timeout_seconds=0.3, max_attempts=2).send(_message(), TO)
    assert time.monotonic() - started < 5
    assert failed.value.attempts == 2 and "timed out" in failed.value.reason.lower()


def test_one_refused_recipient_among_several():
    with SmtpServer() as server:
        server.script.refuse = {"tom@example.com": "550 5.1.1 No such user"}
        result = _plain(server.port).send(_message(), TO)
    assert result.accepted == ("alex@example.com", "lena@example.com")
    assert result.refused == {"tom@example.com": "550 5.1.1 No such user"}
    assert server.received[0].rcpt_tos == ["alex@example.com", "lena@example.com"]


def test_a_lost_reply_after_the_data_is_unknown_and_not_retried():
    with SmtpServer() as server:
        server.script.drop_after_data = True
        with pytest.raises(UnknownOutcome):
            _plain(server.port).send(_message(), TO)
    assert len(server.received) == 1  # it arrived once and was not sent again


def test_settings_from_the_environment():
    settings = settings_from_environ(
        {
            "SCORECARD_SMTP_HOST": "mail.example.com",
            "SCORECARD_SMTP_PORT": "2525",
            "SCORECARD_SMTP_SECURITY": "SSL",
            "SCORECARD_SMTP_PASSWORD": " pw with spaces ",
        }
    )
    assert (settings.host, settings.port, settings.security) == ("mail.example.com", 2525, "ssl")
    assert settings.password == " pw with spaces " and "pw with" not in repr(settings)
    assert settings_from_environ({}).host == ""
    with pytest.raises(SmtpConfigError):
        SmtpTransport(SmtpSettings(host="x", security="tls"))

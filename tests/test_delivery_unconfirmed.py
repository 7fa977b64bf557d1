"""Email whose outcome is unknown (the connection dropped after DATA, a stall) is unconfirmed:
every run says so and fails naming the recipients, `scorecard status` shows them per list, and
`scorecard send --unconfirmed` sends to exactly them, once, against a real SMTP server."""

from __future__ import annotations

import pytest
from delivery_support import FAST, fill_missing_exports, set_smtp_environment
from smtp_server import SmtpServer

from pipelines.cli import main
from pipelines.delivery.transport import SmtpSettings, SmtpTransport, UnknownOutcome
from pipelines.status import WIDTH
from pipelines.warehouse.connection import connect

PERIOD = "2026-02"


def _latest(paths) -> dict[tuple[str, str], tuple[str, bool]]:
    """(list, recipient) -> (state, resend) of each recipient's latest scorecard or data notice."""
    con = connect(paths.warehouse, read_only=True)
    try:
        rows = con.execute(
            "select list_id, recipient, state, resend from delivery.ledger "
            "where kind in ('scorecard', 'data_notice') qualify row_number() over "
            "(partition by kind, list_id, recipient order by claimed_at desc) = 1").fetchall()
    finally:
        con.close()
    return {(list_id, recipient): (state, resend) for list_id, recipient, state, resend in rows}


def _emails(server) -> list[tuple[str, list[str]]]:
    """(list, envelope recipients) of each scorecard email and incomplete-data notice received."""
    found = []
    for received in server.received:
        message = received.message
        if message["X-Scorecard-List"]:
            found.append((message["X-Scorecard-List"], received.rcpt_tos))
        elif "incomplete" in message["Subject"]:
            found.append(("data_team", received.rcpt_tos))
    return found


def test_a_dropped_reply_is_unconfirmed_until_send_unconfirmed_sends_it(
        paths, catalog, tiny_exports, monkeypatch, capsys):
    fill_missing_exports(catalog, paths.home)
    lists = {r.id: [p.email for p in r.recipients] for r in catalog.recipient_lists}
    with SmtpServer() as server:
        set_smtp_environment(monkeypatch, host="127.0.0.1", port=str(server.port),
                             security="none", sender="scorecard@northwind.example")
        server.script.drop_after_data = True  # each message arrives, its 250 reply never does
        main(["run", "--period", PERIOD])
        err = capsys.readouterr().err
        assert f"unconfirmed for {', '.join(lists['leadership'])}" in err
        first = _emails(server)
        assert sorted(first) == sorted(lists.items())  # every list got it once, unconfirmed
        server.script.drop_after_data = False

        assert main(["send", "--period", PERIOD]) == 1  # the rerun: still unconfirmed, says so
        err = capsys.readouterr().err
        for people in lists.values():
            assert f"unconfirmed for {', '.join(people)}" in err, err
        assert f"scorecard send --period {PERIOD} --unconfirmed" in err
        assert _emails(server) == first  # nothing sent twice

        assert main(["status", "--from", PERIOD, "--to", PERIOD]) == 0
        status = capsys.readouterr().out.splitlines()
        assert max(len(line) for line in status) <= WIDTH
        assert "  2026-02 quality_owners: sent 0, unconfirmed 1 (ahmed.karim@example.com)" in status
        assert any(line.startswith("  2026-02 leadership: sent 0, unconfirmed 6 (alex.morgan@")
                   for line in status), status
        assert (f"  resend {PERIOD} to its unconfirmed: scorecard send --period {PERIOD} "
                "--unconfirmed") in status

        assert main(["send", "--period", PERIOD, "--unconfirmed"]) == 0
        assert sorted(_emails(server)[len(first):]) == sorted(lists.items())  # exactly them
        assert set(_latest(paths).values()) == {("sent", True)}  # delivered, as resends

        assert main(["send", "--period", PERIOD]) == 0  # and now nothing is pending
        assert len(_emails(server)) == 2 * len(first)
        assert main(["status", "--from", PERIOD, "--to", PERIOD]) == 0
        assert "Email not delivered" not in capsys.readouterr().out


def test_a_stall_after_the_data_is_an_unknown_outcome_sent_once():
    """The server takes the message and never answers: no retry, the outcome is unknown."""
    with SmtpServer() as server:
        server.script.stall_after_data = 3.0
        transport = SmtpTransport(SmtpSettings(host="127.0.0.1", port=server.port,
                                               security="none", **{**FAST, "timeout_seconds": 0.5}))
        from email.message import EmailMessage
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = ("a@example.com", "b@example.com",
                                                              "x")
        message.set_content("x")
        with pytest.raises(UnknownOutcome, match="may have accepted"):
            transport.send(message, ["b@example.com"])
        assert server.handler.data_commands == 1

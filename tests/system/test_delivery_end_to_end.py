"""`scorecard run` and `scorecard send` on tests/data/tiny, through a STARTTLS server with AUTH.

(A second `scorecard run` of the month is covered by the ledger tests: the ledger, not the
report's hash, decides who has the email.)
"""

from __future__ import annotations

import trustme
from delivery_support import fill_missing_exports, set_smtp_environment
from smtp_server import PASSWORD, USER, SmtpServer

from pipelines.cli import main
from pipelines.warehouse.connection import connect

PERIOD = "2026-02"


def _scorecards(server):
    return [m for m in server.received if m.message["X-Scorecard-List"]]


def _notices(server, word):
    return [
        m
        for m in server.received
        if not m.message["X-Scorecard-List"] and word in m.message["Subject"]
    ]


def _run(capsys) -> tuple[int, str, str]:
    """`scorecard run` for the month. Most tables have no rows in February, so the quality gate
    may fail the run; the report and the email go out all the same, and the data team hears."""
    code = main(["run", "--period", PERIOD])
    out, err = capsys.readouterr()
    assert code == 0 or (code == 1 and "data team (list data_team) was notified" in out + err)
    return code, out, err


def test_run_sends_once_over_starttls_and_send_resends(
    paths, catalog, tiny_exports, tmp_path, monkeypatch, capsys, shipped_definitions
):
    # the product as shipped: its business units' lists get their units' PDFs
    fill_missing_exports(catalog, paths.home)
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    with SmtpServer(starttls=True, auth=True, ca=ca) as server:
        set_smtp_environment(
            monkeypatch,
            host="127.0.0.1",
            port=str(server.port),
            security="starttls",
            user=USER,
            password=PASSWORD,
            sender="Scorecard <scorecard@northwind.example>",
            ca_file=str(tmp_path / "ca.pem"),
        )
        code, out, err = _run(capsys)
        sent = _scorecards(server)
        by_list = {m.message["X-Scorecard-List"]: m for m in sent}
        units = {"emea_leadership", "americas_leadership", "apac_leadership"}
        assert set(by_list) == {"leadership", "quality_owners"} | units
        leadership = by_list["leadership"]
        assert len(leadership.rcpt_tos) == 6 and leadership.authenticated
        pdf = (paths.report_dir(PERIOD) / "scorecard.pdf").read_bytes()
        assert next(leadership.message.iter_attachments()).get_content() == pdf
        # a unit's leadership gets the unit's own PDF, the executive team the company's
        emea = paths.unit_report_dir(PERIOD, "emea") / "scorecard.pdf"
        assert next(by_list["emea_leadership"].message.iter_attachments()).get_content() == (
            emea.read_bytes()
        )
        assert by_list["emea_leadership"].rcpt_tos == [
            "sofia.lindqvist@example.com",
            "jonas.weber@example.com",
        ]
        assert f"Email: sent via smtp://127.0.0.1:{server.port} to list leadership" in out
        units = paths.report_dir(PERIOD) / "units"
        assert f"Business units: 6 reports, {units}/<unit>/scorecard.pdf" in out
        assert [m.rcpt_tos for m in _notices(server, "incomplete")] == [["data-team@example.com"]]
        failed_runs = int(code == 1)

        assert main(["send", "--period", PERIOD]) == 0  # the month again: nothing twice
        out = capsys.readouterr().out
        assert len(_scorecards(server)) == 5 and len(_notices(server, "incomplete")) == 1
        assert len(_notices(server, "failed")) == failed_runs  # one notice per failed run
        assert "list leadership already has it" in out

        assert (
            main(["send", "--period", PERIOD, "--to", "alex.morgan@example.com", "--resend"]) == 0
        )
        assert _scorecards(server)[-1].rcpt_tos == ["alex.morgan@example.com"]
        assert len(_scorecards(server)) == 6
    assert PASSWORD not in out + err
    con = connect(paths.warehouse, read_only=True)
    try:
        resent = con.execute("select recipient from delivery.ledger where resend").fetchall()
    finally:
        con.close()
    assert resent == [("alex.morgan@example.com",)]


def test_send_rejects_a_bad_address_and_a_missing_report(paths, monkeypatch, capsys):
    assert main(["send", "--period", PERIOD, "--to", "eve@example.com\nBcc: x@evil.example"]) == 2
    assert "--to" in capsys.readouterr().err
    assert main(["send", "--period", PERIOD]) == 2
    assert "run it first" in capsys.readouterr().err

"""The month that closes a quarter sends its board pack: `scorecard run` of March 2026 over the
demo's first quarter through a real SMTP server, then `scorecard send --period 2026-Q1` by hand.
Each list that takes packs gets the pack once; the board gets the pack, never the monthly email."""

from __future__ import annotations

from delivery_support import set_smtp_environment
from demo_homes import home_on
from smtp_server import SmtpServer

from pipelines.cli import main
from pipelines.warehouse.connection import connect


def _kinds(server) -> list[tuple[str, str]]:
    """(list, 'pack' or 'month') of every message the server received, in order."""
    return [
        (m.message["X-Scorecard-List"], "pack" if "board pack" in m.message["Subject"] else "month")
        for m in server.received
        if m.message["X-Scorecard-List"]
    ]


def test_the_quarters_last_month_sends_its_pack_once(
    tmp_path, quarter_exports, shipped_definitions, monkeypatch, capsys
):
    # the catalog as shipped: the month's report has its business units' page
    paths = home_on(tmp_path, quarter_exports, "home", shipped_definitions)
    monkeypatch.setenv("SCORECARD_HOME", str(paths.home))
    with SmtpServer() as server:
        set_smtp_environment(
            monkeypatch,
            host="127.0.0.1",
            port=str(server.port),
            security="none",
            sender="Scorecard <scorecard@northwind.example>",
        )
        assert main(["backfill", "--from", "2026-01", "--to", "2026-02"]) == 0
        code = main(["run", "--period", "2026-03"])
        out, err = capsys.readouterr()
        assert code in (0, 1), err  # a failed quality check fails the run, not the month
        # the month's report waits for the units' scores: its units page is there
        month = (paths.report_dir("2026-03") / "scorecard.html").read_text()
        assert "Units at a glance" in month and 'id="unit-germany"' in month
        pdf = paths.report_dir("2026-Q1") / "board_pack.pdf"
        assert f"Board pack Q1 2026:\nHTML: {pdf.with_suffix('.html')}\nPDF:  {pdf}" in out
        kinds = _kinds(server)
        assert sorted(k for k in kinds if k[1] == "pack") == [
            ("board", "pack"),
            ("leadership", "pack"),
        ]
        assert ("board", "month") not in kinds and ("leadership", "month") in kinds
        pack = next(m for m in server.received if m.message["X-Scorecard-List"] == "board")
        assert sorted(pack.rcpt_tos) == ["helen.ashworth@example.com", "rafael.ortiz@example.com"]
        assert "Q1 2026 (January to March 2026)" in pack.message["Subject"]
        assert next(pack.message.iter_attachments()).get_content() == pdf.read_bytes()

        # by hand: sent to no one twice, then once more to one board member on purpose
        assert main(["send", "--period", "2026-Q1"]) == 0
        out = capsys.readouterr().out
        assert "Board pack email (2026-Q1): list board already has it (2 recipient(s))" in out
        assert len(_kinds(server)) == len(kinds)
        resend = ["send", "--period", "2026-Q1", "--to", "rafael.ortiz@example.com", "--resend"]
        assert main(resend) == 0
        capsys.readouterr()
        assert server.received[-1].rcpt_tos == ["rafael.ortiz@example.com"]
        assert len(_kinds(server)) == len(kinds) + 1

        # a quarter whose months were never scored: one line naming them, nothing sent
        assert main(["run", "--period", "2025-Q4"]) == 1
        err = capsys.readouterr().err
        assert "Q4 2025 needs every month from 2025-10 to 2025-12 scored" in err
        assert "Traceback" not in err
    con = connect(paths.warehouse, read_only=True)
    try:
        stored = con.execute(
            "select review_key, count(*) from review.kpi_results group by review_key"
        ).fetchall()
        ledger = con.execute(
            "select kind, count(*) from delivery.ledger where kind like '%pack' and state = 'sent' "
            "group by kind"
        ).fetchall()
    finally:
        con.close()
    assert stored == [("2026-Q1", 19)]
    assert ledger == [("quarter_pack", 9)]  # 6 + 2, then one resend

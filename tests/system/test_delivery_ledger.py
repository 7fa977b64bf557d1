"""Delivery through the ledger, on a month of tests/data/tiny scored and rendered by Dagster.

Once per recipient, --resend, refused recipients retried alone, unconfirmed claims reported,
the hold policy, a perspective list's own PDF; and through Dagster: backfills send nothing, a
failed delivery fails the step, the password appears nowhere, and a send whose reply was lost
fails every run until `scorecard send --unconfirmed` sends it to exactly its recipients.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import replace
from email import message_from_bytes, policy

import pytest
import trustme
from conftest import DATA
from delivery_support import (
    FAST,
    clear_smtp_environment,
    fill_missing_exports,
    set_smtp_environment,
)
from demo_homes import runtime_paths_at
from smtp_server import PASSWORD, USER, SmtpServer

from pipelines.catalog import load_catalog
from pipelines.catalog.models import Recipient, RecipientList
from pipelines.defs.jobs import DELIVERY_JOB, MONTHLY_JOB
from pipelines.defs.resources import WarehouseResource
from pipelines.delivery import ledger
from pipelines.delivery.deliver import deliver_period, delivery_context
from pipelines.delivery.notices import notify_run_failure
from pipelines.delivery.transport import SmtpSettings
from pipelines.periods import Period
from pipelines.runner import instance_for, run_job

JAN, FEB = Period(2026, 1), Period(2026, 2)
LEADERS = RecipientList(
    id="leadership",
    recipients=[
        Recipient(name="Alex Morgan", email="alex@example.com"),
        Recipient(name="Tom Becker", email="tom@example.com"),
        Recipient(name="Lena Sørensen", email="lena@example.com"),
    ],
)
DATA_TEAM = RecipientList(
    id="data_team",
    receives="notices",
    recipients=[Recipient(name="Data", email="data@example.com")],
)


@pytest.fixture(scope="module")
def month(tmp_path_factory) -> dict:
    """February 2026 of the tiny data set loaded, scored, rendered and sent to the outbox."""
    home = tmp_path_factory.mktemp("delivery")
    paths = runtime_paths_at(home)
    shutil.copytree(DATA / "tiny", paths.demo)
    catalog = load_catalog(paths.definitions, paths.sql)
    fill_missing_exports(catalog, home)
    with pytest.MonkeyPatch.context() as patch:
        clear_smtp_environment(patch)
        outcome = run_job(paths, MONTHLY_JOB, FEB, FEB)
    # Most tables have no rows in February, so the quality gate may fail the run; the report
    # and the email go out all the same (they do not depend on the gate).
    assert outcome.success or all("quality" in e for e in outcome.errors), outcome.errors
    con = WarehouseResource(path=str(paths.warehouse)).connection
    with con() as c:
        rows = ledger.rows_of_run(c, outcome.run_id)
    return {
        "paths": paths,
        "catalog": catalog,
        "outbox_rows": rows,
        "outbox": sorted((home / "outbox" / FEB.key).glob("*.eml")),
    }


@pytest.fixture
def paths(month):
    with WarehouseResource(path=str(month["paths"].warehouse)).connection() as con:
        con.execute("delete from delivery.ledger")
    return month["paths"]


def _ctx(month, server, lists=(LEADERS, DATA_TEAM), run_id="run-1", **settings):
    catalog = replace(month["catalog"], recipient_lists=tuple(lists))
    smtp = SmtpSettings(
        host="127.0.0.1",
        port=server.port,
        security="none",
        sender="scorecard@northwind.example",
        **{**FAST, **settings},
    )
    connection = WarehouseResource(path=str(month["paths"].warehouse)).connection
    return delivery_context(catalog, month["paths"], smtp, connection, run_id)


def _ledger(
    paths,
    sql="select recipient, state, resend from delivery.ledger "
    "where kind = 'scorecard' order by claimed_at, recipient",
):
    with WarehouseResource(path=str(paths.warehouse)).connection() as con:
        return con.execute(sql).fetchall()


def test_without_a_host_the_run_writes_the_outbox(month):
    assert {r.transport for r in month["outbox_rows"]} == {"outbox"}
    assert {r.list_id for r in month["outbox_rows"]} >= {
        "leadership",
        "quality_owners",
        "data_team",
    }
    leadership = next(p for p in month["outbox"] if p.name.startswith("leadership-scorecard"))
    parsed = message_from_bytes(leadership.read_bytes(), policy=policy.default)
    assert len(parsed["To"].addresses) == 6
    pdf = month["paths"].report_dir(FEB.key) / "scorecard.pdf"
    attached = next(parsed.iter_attachments()).get_content()
    assert hashlib.sha256(attached).hexdigest() == hashlib.sha256(pdf.read_bytes()).hexdigest()


def test_a_second_delivery_sends_nothing_and_resend_is_recorded(month, paths):
    with SmtpServer() as server:
        first = deliver_period(_ctx(month, server), FEB)
        assert first.failures == []
        assert first.lists[0].sent == ["alex@example.com", "tom@example.com", "lena@example.com"]
        assert len(server.received) == 2  # the scorecard, and the data team's notice
        again = deliver_period(_ctx(month, server, run_id="run-2"), FEB)
        assert len(server.received) == 2
        assert again.lists[0].already_sent == first.lists[0].sent and again.notices[0].sent == []
        deliver_period(_ctx(month, server, run_id="run-3"), FEB, resend=True)
        assert len(server.received) == 4
    rows = _ledger(paths)
    assert [r[1:] for r in rows] == [("sent", False)] * 3 + [("sent", True)] * 3


def test_refused_recipient_is_recorded_and_only_it_is_retried(month, paths):
    with SmtpServer() as server:
        server.script.refuse = {"tom@example.com": "550 5.1.1 No such user"}
        first = deliver_period(_ctx(month, server), FEB)
        assert first.lists[0].sent == ["alex@example.com", "lena@example.com"]
        assert first.failures == [
            "scorecard to tom@example.com (list leadership) refused: 550 5.1.1 No such user"
        ]
        server.script.refuse = {}
        second = deliver_period(_ctx(month, server, run_id="run-2"), FEB)
    assert second.lists[0].sent == ["tom@example.com"]
    assert server.received[-1].rcpt_tos == ["tom@example.com"]
    assert _ledger(
        paths,
        "select recipient, state, attempts from delivery.ledger where "
        "recipient = 'tom@example.com' order by claimed_at",
    ) == [("tom@example.com", "failed", 1), ("tom@example.com", "sent", 2)]


def test_an_unconfirmed_claim_is_reported_not_resent(month, paths):
    with SmtpServer() as server:
        server.script.drop_after_data = True  # accepted, but the reply never arrives
        first = deliver_period(_ctx(month, server, lists=[LEADERS]), FEB)
        assert first.lists[0].unconfirmed == [r.email for r in LEADERS.recipients]
        assert "may have accepted" in first.unconfirmed[0] and first.failures == []
        server.script.drop_after_data = False
        second = deliver_period(_ctx(month, server, lists=[LEADERS], run_id="run-2"), FEB)
        assert second.lists[0].unconfirmed == first.lists[0].unconfirmed
        assert second.lists[0].sent == [] and len(server.received) == 1
        assert second.unconfirmed == [  # still reported, by every run, until resent
            "scorecard to list leadership unconfirmed for alex@example.com, tom@example.com, "
            "lena@example.com (an earlier send was claimed and never confirmed)"
        ]
        third = deliver_period(
            _ctx(month, server, lists=[LEADERS], run_id="run-3"), FEB, resend=True
        )
    assert len(third.lists[0].sent) == 3 and len(server.received) == 2


def test_a_permanent_failure_is_recorded_and_the_report_stays(month, paths):
    with SmtpServer() as server:
        server.script.data_replies = ["554 5.6.0 Rejected"] * 5
        outcome = deliver_period(_ctx(month, server, lists=[LEADERS]), FEB)
    assert "554 5.6.0 Rejected" in outcome.failures[0]
    assert {r[1] for r in _ledger(paths)} == {"failed"}
    assert (paths.report_dir(FEB.key) / "scorecard.pdf").is_file()


def test_hold_policy_holds_the_list_and_notifies_the_data_team(month, paths):
    held = RecipientList(
        id="board",
        incomplete="hold",
        recipients=[Recipient(name="Board", email="board@example.com")],
    )
    with SmtpServer() as server:
        outcome = deliver_period(_ctx(month, server, lists=[held, DATA_TEAM]), FEB)
    assert outcome.lists[0].held and outcome.completeness.incomplete
    assert [m.rcpt_tos for m in server.received] == [["data@example.com"]]
    notice = server.received[0].message.get_content()
    assert "'board' was held" in notice and "Source tables without rows" in notice


def test_a_perspective_list_gets_its_own_pdf(month, paths):
    owners = RecipientList(
        id="quality",
        perspectives=["internal_process"],
        recipients=[Recipient(name="Ahmed", email="ahmed@example.com")],
    )
    with SmtpServer() as server:
        deliver_period(_ctx(month, server, lists=[owners]), FEB)
    pdf = paths.report_dir(FEB.key) / "lists" / "quality" / "scorecard.pdf"
    attached = next(server.received[0].message.iter_attachments())
    assert attached.get_content() == pdf.read_bytes()
    assert attached.get_filename().endswith("-2026-02-quality.pdf")
    text = server.received[0].message.get_body(("plain",)).get_content()
    assert "Internal Process" in text and "Financial" not in text
    assert _ledger(paths, "select report_sha256 from delivery.ledger") == [
        (hashlib.sha256(pdf.read_bytes()).hexdigest(),)
    ]


def test_a_failure_notice_goes_once_per_failed_run(month, paths):
    with SmtpServer() as server:
        for _ in range(2):  # the CLI and the sensor both report the same run
            notify_run_failure(
                _ctx(month, server),
                failed_run_id="failed-run-7",
                job_name=MONTHLY_JOB,
                period=FEB,
                failures=[("raw_finance", "no file matches finance/gl.csv")],
            )
    assert len(server.received) == 1
    text = server.received[0].message.get_content()
    assert "failed-run-7" in text and "raw_finance: no file matches" in text
    assert server.received[0].message["Subject"].endswith(f"The {MONTHLY_JOB} run for {FEB} failed")


@pytest.mark.parametrize(
    "tags, first",
    [({"dagster/backfill": "bf-1"}, FEB), ({}, JAN)],
    ids=["backfill-tag", "multi-month"],
)
def test_a_backfill_sends_nothing(month, paths, monkeypatch, tags, first):
    with SmtpServer() as server:
        set_smtp_environment(monkeypatch, host="127.0.0.1", port=str(server.port), security="none")
        outcome = run_job(paths, DELIVERY_JOB, first, FEB, tags=tags)
    assert outcome.success, outcome.errors
    assert server.received == [] and _ledger(paths) == []


def test_a_failed_delivery_fails_the_step_and_never_shows_the_password(
    month, paths, monkeypatch, tmp_path
):
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    wrong = "wr0ng-" + PASSWORD
    with SmtpServer(starttls=True, auth=True, ca=ca) as server:
        set_smtp_environment(
            monkeypatch,
            host="127.0.0.1",
            port=str(server.port),
            user=USER,
            password=wrong,
            ca_file=str(tmp_path / "ca.pem"),
        )
        outcome = run_job(paths, DELIVERY_JOB, FEB, FEB, tags={"scorecard/send_email": "true"})
    assert not outcome.success and server.received == []
    assert any(e.startswith("delivery_email") and "535" in e for e in outcome.errors)
    with instance_for(paths) as instance:
        events = instance.all_logs(outcome.run_id)
        run = instance.get_run_by_id(outcome.run_id)
    stored = " ".join(str(e) for e in events) + str(run.run_config) + str(run.tags)
    ledger_text = str(_ledger(paths, "select * from delivery.ledger"))
    for text in (stored, ledger_text, " ".join(outcome.errors)):
        assert wrong not in text and PASSWORD not in text
    assert "failed" in ledger_text and (paths.report_dir(FEB.key) / "scorecard.pdf").is_file()


def test_the_failure_sensor_emails_the_data_team_and_says_what_it_did(month, paths, monkeypatch):
    from dagster import build_sensor_context

    from pipelines.definitions import build_definitions
    from pipelines.defs.resources import SmtpResource, resources_for

    sensor = build_definitions(paths).resolve_sensor_def("scorecard_failure_notice")
    with SmtpServer() as server:
        resources = resources_for(paths) | {
            "smtp": SmtpResource(host="127.0.0.1", port=server.port, security="none"),
        }
        with instance_for(paths) as instance:
            context = build_sensor_context(instance=instance, resources=resources)
            first = sensor(context)  # the first tick: from now on, not the instance's history
            assert first.skip_message == f"watching for failed {MONTHLY_JOB} runs from now on"
            watched = context.cursor

            # a monthly run fails at its email (the server rejects it)
            server.script.data_replies = ["554 5.6.0 Rejected"]
            set_smtp_environment(
                monkeypatch, host="127.0.0.1", port=str(server.port), security="none"
            )
            failed = run_job(paths, MONTHLY_JOB, FEB, FEB, tags={"scorecard/send_email": "true"})
            assert not failed.success
            server.script.data_replies = []
            context = build_sensor_context(
                instance=instance, resources=resources, cursor=context.cursor
            )
            sent = sensor(context)
            assert sent.skip_message == f"failure notice sent for run(s) {failed.run_id}"
            context = build_sensor_context(
                instance=instance, resources=resources, cursor=context.cursor
            )
            quiet = sensor(context)
            assert quiet.skip_message == f"no {MONTHLY_JOB} run has failed since the last tick"
            # the same failure seen again (as after the CLI told the data team): not resent
            context = build_sensor_context(instance=instance, resources=resources, cursor=watched)
            again = sensor(context)
            assert again.skip_message == (
                f"run(s) {failed.run_id} failed; their notice was already sent"
            )
    notices = [m for m in server.received if "failed" in m.message["Subject"]]
    assert [m.rcpt_tos for m in notices] == [["data-team@example.com"]]
    text = notices[0].message.get_content()
    assert failed.run_id in text and "delivery_email" in text and "554" in text


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
    month, paths, monkeypatch, capsys
):
    """Against a real SMTP server that drops the connection once it has the message: every run
    fails naming the recipients, status shows them, --unconfirmed sends to exactly them."""
    from pipelines.cli import main
    from pipelines.status import WIDTH

    monkeypatch.setenv("SCORECARD_HOME", str(paths.home))
    monkeypatch.setenv("SCORECARD_DEFINITIONS", str(paths.definitions))  # the month's catalog
    monkeypatch.delenv("SCORECARD_SQL", raising=False)
    lists = {
        r.id: [p.email for p in r.recipients] for r in month["catalog"].recipient_lists if r.monthly
    }
    send = ["send", "--period", FEB.key]
    with SmtpServer() as server:
        set_smtp_environment(
            monkeypatch,
            host="127.0.0.1",
            port=str(server.port),
            security="none",
            sender="scorecard@northwind.example",
        )
        server.script.drop_after_data = True  # each message arrives, its 250 reply never does
        assert main(send) == 1
        assert f"unconfirmed for {', '.join(lists['leadership'])}" in capsys.readouterr().err
        first = _emails(server)
        assert sorted(first) == sorted(lists.items())  # every list got it once, unconfirmed
        server.script.drop_after_data = False

        assert main(send) == 1  # the rerun: nothing sent twice, and it says so
        err = capsys.readouterr().err
        for people in lists.values():
            assert f"unconfirmed for {', '.join(people)}" in err, err
        assert f"scorecard send --period {FEB} --unconfirmed" in err
        assert _emails(server) == first

        assert main(["status", "--from", FEB.key, "--to", FEB.key]) == 0
        status = capsys.readouterr().out.splitlines()
        assert max(len(line) for line in status) <= WIDTH
        assert "  2026-02 quality_owners: sent 0, unconfirmed 1 (ahmed.karim@example.com)" in status
        assert any(
            line.startswith("  2026-02 leadership: sent 0, unconfirmed 6 (alex.morgan@")
            for line in status
        ), status
        assert (
            f"  resend {FEB} to its unconfirmed: scorecard send --period {FEB} --unconfirmed"
        ) in status

        assert main([*send, "--unconfirmed"]) == 0
        assert sorted(_emails(server)[len(first) :]) == sorted(lists.items())  # exactly them
        assert set(
            _ledger(
                paths,
                "select state, resend from delivery.ledger where kind in "
                "('scorecard', 'data_notice') qualify row_number() over ("
                "partition by kind, list_id, recipient order by claimed_at "
                "desc) = 1",
            )
        ) == {("sent", True)}  # delivered, as resends

        assert main(send) == 0  # now nothing is pending
        assert len(_emails(server)) == 2 * len(first)
        assert main(["status", "--from", FEB.key, "--to", FEB.key]) == 0
        assert "Email not delivered" not in capsys.readouterr().out

"""Partial months are normal: one source table that fails to load (its export missing or
garbled, its database down, its API unreachable) fails alone. Its KPIs are withheld with the
cause, every other KPI equals a clean run's, the report renders and the email goes out marked
provisional, the data team is told once per failure, the run ends failed, and the month keeps
the rows of its last good load until a load of it succeeds."""

from __future__ import annotations

import email
import email.policy
import email.utils
import re
import shutil
from pathlib import Path

import pytest
from dagster import DagsterEventType, DagsterInstance
from demo_homes import FIRST, LAST, definitions_without_units, home_on
from pg_cluster import free_port

from pipelines.catalog import load_catalog
from pipelines.defs.jobs import HISTORY_JOB, MONTHLY_JOB
from pipelines.periods import Period, months_between
from pipelines.runner import run_job
from pipelines.settings import PROJECT_ROOT, RuntimePaths
from pipelines.warehouse.connection import connect

FEB = Period(2026, 2)
TICKETS = "operations.support_tickets"
FAST = "retries: {attempts: 2, backoff_seconds: 0.01, max_backoff_seconds: 0.02}"


def _kpis(paths: RuntimePaths, period: Period) -> dict[str, tuple]:
    con = connect(paths.warehouse, read_only=True)
    try:
        return {
            r[0]: r[1:]
            for r in con.execute(
                "select kpi_id, state, value, ytd_value, ttm_value, withheld_reason "
                "from kpi.kpi_values where period = ?",
                [period.start],
            ).fetchall()
        }
    finally:
        con.close()


def _query(paths: RuntimePaths, sql: str, params=()) -> list[tuple]:
    con = connect(paths.warehouse, read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def _reading(paths: RuntimePaths, prefix: str) -> set[str]:
    catalog = load_catalog(paths.definitions, paths.sql)
    return {
        k for k, tables in catalog.kpi_tables.items() if any(t.startswith(prefix) for t in tables)
    }


def _materialized(paths: RuntimePaths, run_id: str) -> dict[str, dict]:
    with DagsterInstance.from_config(str(paths.dagster_home)) as instance:
        records = instance.all_logs(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION)
    return {
        r.asset_materialization.asset_key.to_user_string(): {
            k: v.value for k, v in r.asset_materialization.metadata.items()
        }
        for r in records
    }


def _checks(paths: RuntimePaths, run_id: str, name: str) -> dict[str, object]:
    """Each asset's evaluation of the check `name` in the run."""
    with DagsterInstance.from_config(str(paths.dagster_home)) as instance:
        records = instance.all_logs(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)
    evaluations = [r.dagster_event.event_specific_data for r in records]
    return {e.asset_key.to_user_string(): e for e in evaluations if e.check_name == name}


def _exports_without(tmp_path: Path, exports: Path, *removed: str) -> Path:
    """A copy of the exports with some files missing."""
    folder = tmp_path / "broken_exports"
    shutil.copytree(exports, folder)
    for name in removed:
        (folder / name).unlink()
    return folder


@pytest.fixture(scope="module")
def clean(quarter_exports, tmp_path_factory) -> RuntimePaths:
    """The quarter run month by month from clean exports: what every other run is held to."""
    paths = home_on(tmp_path_factory.mktemp("clean"), quarter_exports, "home")
    outcome = run_job(paths, HISTORY_JOB, FIRST, LAST)
    assert outcome.success, outcome.errors
    return paths


def test_a_missing_export_withholds_only_its_kpis_and_the_month_goes_out(
    clean, quarter_exports, tmp_path
):
    exports = _exports_without(tmp_path, quarter_exports, "operations/support_tickets.csv")
    paths = home_on(tmp_path, exports, "home")
    assert not run_job(paths, HISTORY_JOB, FIRST, FEB).success  # the export is missing there too
    outcome = run_job(paths, MONTHLY_JOB, LAST, LAST)

    # the run fails for the data team, with one line naming the table and the file
    assert not outcome.success
    [error] = outcome.errors
    assert error.startswith(
        "scorecard_scores_quality_gate: 1 source load(s) failed; 2 KPI value(s) withheld"
    )
    assert (
        "2026-03: load failed: source operations, table support_tickets: no file matches" in error
        and "support_tickets.csv" in error
    )

    # the failed table is materialized as failed; every other table loaded
    assets = _materialized(paths, outcome.run_id)
    assert assets["raw_operations_support_tickets"]["load_status"] == "failed"
    assert assets["raw_operations_support_tickets"]["months_failed"] == ["2026-03"]
    assert {
        m["load_status"]
        for k, m in assets.items()
        if k.startswith("raw_") and k != "raw_operations_support_tickets"
    } == {"loaded"}
    # Dagster's standard row count, and a preview of the rows as DuckDB stores them
    gl = assets["raw_finance_gl_entries"]
    assert gl["dagster/row_count"] == gl["rows_loaded"] > 0
    header, _, first, *_ = gl["preview"].splitlines()
    assert "_period" not in header and "entry_date" in header
    assert "00:00:00" not in gl["preview"] and "NaT" not in gl["preview"]
    assert re.search(r"\| 2026-03-\d\d +\|", first), first  # a date, not a timestamp
    assert re.search(r"\| -?\d+\.\d{2,} +\|", first), first  # the amount unrounded
    assert _query(
        paths, "select table_key, strftime(period, '%Y-%m') from meta.load_failures order by 2"
    ) == [(TICKETS, p.key) for p in months_between(FIRST, LAST)]

    # exactly the KPIs reading it are withheld, with the cause; the others equal a clean run's
    broken, reference = _kpis(paths, LAST), _kpis(clean, LAST)
    withheld = {k for k, v in broken.items() if v[0] == "withheld"}
    assert withheld == _reading(paths, TICKETS) == {"csat_pct", "ticket_resolution_hours"}
    assert broken["csat_pct"][4] == (
        "source load failed: source operations, table support_tickets: no file matches "
        "demo/operations/support_tickets.csv (is the export missing?)"
    )  # as the catalog says
    assert {k: v for k, v in broken.items() if k not in withheld} == {
        k: v for k, v in reference.items() if k not in withheld
    }

    # in Dagster: a withheld KPI has no value and its on_target check failed as an error; the
    # others carry their numbers, and their check passed exactly when they are on track
    checks = _checks(paths, outcome.run_id, "on_target")
    scores = dict(
        _query(paths, "select kpi_id, status from score.kpi_scores where period = ?", [LAST.start])
    )
    for kpi_id, (state, value, *_) in broken.items():
        metadata, check = assets[f"kpi_{kpi_id}"], checks[f"kpi_{kpi_id}"]
        assert (metadata["month"], metadata["state"], metadata["status"]) == (
            LAST.key,
            state,
            scores[kpi_id],
        )
        assert check.passed == (scores[kpi_id] == "on_track"), kpi_id
        assert check.partition == LAST.key  # on the month's partition in the UI
        if kpi_id in withheld:
            assert "value" not in metadata and "score" not in metadata
            assert check.severity.value == "ERROR"
            assert metadata["withheld_reason"] == broken[kpi_id][4]
        else:
            assert metadata["value"] == pytest.approx(value)
            targets = [metadata.get(k) for k in ("target", "target_lower", "target_upper")]
            assert any(isinstance(t, float) for t in targets) or scores[kpi_id] == "no_target"
            assert check.severity.value == "WARN"
    assert set(scores.values()) >= {"on_track", "withheld"}

    # each raw table's quality verdict is on the month's partition; the missing table's failed
    quality = _checks(paths, outcome.run_id, "quality")
    assert {c.partition for c in quality.values()} == {LAST.key}
    assert not quality["raw_operations_support_tickets"].passed

    # the gate's verdict is on its check, with the failed tables and the withheld KPIs' reasons
    gate = _checks(paths, outcome.run_id, "quality_gate")["scorecard_scores"]
    assert (gate.passed, gate.severity.value) == (False, "ERROR")
    assert gate.metadata["failed_tables"].value == [f"2026-03: {TICKETS}"]
    assert gate.metadata["withheld_kpis"].value == {
        f"2026-03: {k}": broken[k][4] for k in sorted(withheld)
    }

    # the report is rendered and the scorecard emailed, marked provisional
    assert (paths.report_dir(LAST.key) / "scorecard.pdf").exists()
    outbox = paths.home / "outbox" / LAST.key
    leadership = [email.message_from_bytes(p.read_bytes()) for p in outbox.glob("leadership-*")]
    assert len(leadership) == 1 and "Provisional" in leadership[0]["Subject"]
    assert str(paths.home) not in (outbox / next(outbox.glob("leadership-*")).name).read_text()
    [notice] = [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in outbox.glob("data_team-data_notice-*")
    ]
    text = notice.get_body(("plain",)).get_content()
    assert (
        "Support satisfaction, Ticket resolution time are withheld: a table they read failed "
        "to load (below)"
        in text
        or "Ticket resolution time, Support satisfaction are" in text
    )
    assert text.count("no file matches demo/operations/support_tickets.csv") == 1  # said once


def test_a_garbled_export_keeps_the_months_earlier_rows_until_a_good_load(
    clean, quarter_exports, tmp_path
):
    exports = tmp_path / "exports"
    shutil.copytree(quarter_exports, exports)
    paths = home_on(tmp_path, exports, "home")
    shutil.copy(clean.warehouse, paths.warehouse)  # the quarter, loaded from the good exports
    rows = _query(paths, "select count(*) from raw.operations_support_tickets")
    assert rows[0][0] > 0
    good = (exports / "operations" / "support_tickets.csv").read_bytes()
    (exports / "operations" / "support_tickets.csv").write_bytes(b"\x00\x01garbage\n" * 50)

    outcome = run_job(paths, HISTORY_JOB, FEB, FEB)
    assert not outcome.success
    assert _query(paths, "select count(*) from raw.operations_support_tickets") == rows
    assert _kpis(paths, FEB)["csat_pct"][0] == "withheld"
    assert _kpis(paths, FEB)["revenue_usd"] == _kpis(clean, FEB)["revenue_usd"]

    (exports / "operations" / "support_tickets.csv").write_bytes(good)
    assert run_job(paths, HISTORY_JOB, FEB, FEB).success
    assert _query(paths, "select count(*) from meta.load_failures") == [(0,)]
    assert _kpis(paths, FEB) == _kpis(clean, FEB)


def _switched_crm(tmp_path: Path, exports: Path) -> RuntimePaths:
    """A runtime folder whose catalog reads the CRM from PostgreSQL (definitions/examples)."""
    root = tmp_path / "project"
    shutil.copytree(definitions_without_units(), root / "definitions")
    text = (PROJECT_ROOT / "definitions" / "examples" / "crm_postgres.yaml").read_text()
    text = "\n".join(
        "  " + FAST if line.strip().startswith("retries:") else line for line in text.splitlines()
    )
    (root / "definitions" / "sources" / "crm.yaml").write_text(text)
    paths = home_on(tmp_path, exports, "home")
    return RuntimePaths(
        home=paths.home,
        definitions=root / "definitions",
        sql=PROJECT_ROOT / "sql",
        report_assets=PROJECT_ROOT / "reports",
    )


def test_a_database_that_is_down_through_a_backfill_withholds_its_kpis_every_month(
    clean, quarter_exports, tmp_path, monkeypatch
):
    monkeypatch.setenv(
        "CRM_DATABASE_URL", f"postgresql://reader:secret@127.0.0.1:{free_port()}/crm"
    )
    paths = _switched_crm(tmp_path, quarter_exports)
    outcome = run_job(paths, HISTORY_JOB, FIRST, LAST)
    assert not outcome.success
    failed = _query(paths, "select distinct table_key from meta.load_failures order by 1")
    assert failed == [("crm.account_snapshots",), ("crm.nps_responses",), ("crm.opportunities",)]
    crm = _reading(paths, "crm.")
    assert crm
    for period in months_between(FIRST, LAST):
        broken, reference = _kpis(paths, period), _kpis(clean, period)
        assert {k for k, v in broken.items() if v[0] == "withheld"} == crm
        assert all("failed after 2 attempt(s)" in broken[k][4] for k in crm)
        assert "secret" not in " ".join(broken[k][4] for k in crm)
        assert {k: v for k, v in broken.items() if k not in crm} == {
            k: v for k, v in reference.items() if k not in crm
        }
        [(status,)] = _query(
            paths,
            "select status from score.rollup_scores where period = ? and level = 'overall'",
            [period.start],
        )
        assert status not in ("withheld", "no_data")


def test_a_broken_monthly_file_behind_a_glob_blocks_only_its_month(
    clean, quarter_exports, tmp_path
):
    """One export per month behind a glob: February's file has an unterminated quote."""
    root = tmp_path / "project"
    shutil.copytree(definitions_without_units(), root / "definitions")
    sources = root / "definitions" / "sources" / "operations.yaml"
    sources.write_text(
        sources.read_text().replace(
            "path: demo/operations/support_tickets.csv", "path: tickets/tickets_*.csv"
        )
    )
    lines = (quarter_exports / "operations" / "support_tickets.csv").read_text().splitlines()
    home = home_on(tmp_path, quarter_exports, "home").home
    (home / "tickets").mkdir()
    for period in months_between(FIRST, LAST):
        rows = [line for line in lines[1:] if line.split(",")[2].startswith(period.key)]
        if period == FEB:
            fields = rows[3].split(",")
            rows[3] = ",".join([*fields[:4], '"' + fields[4], *fields[5:]])
        (home / "tickets" / f"tickets_{period.key}.csv").write_text(
            "\n".join([lines[0], *rows]) + "\n"
        )
    paths = RuntimePaths(
        home=home,
        definitions=root / "definitions",
        sql=PROJECT_ROOT / "sql",
        report_assets=PROJECT_ROOT / "reports",
    )

    outcome = run_job(paths, HISTORY_JOB, FIRST, LAST)
    assert not outcome.success
    [(month, message)] = _query(
        paths, "select strftime(period, '%Y-%m'), message from meta.load_failures"
    )
    assert month == "2026-02" and "tickets_2026-02.csv" in message
    assert "tickets_2026-01.csv" not in message and "tickets_*" not in message
    tickets = _reading(paths, TICKETS)
    assert {k for k, v in _kpis(paths, FEB).items() if v[0] == "withheld"} == tickets
    for period in (FIRST, LAST):
        # January and March load from their own files; March's YTD holds February's failed
        # month (no rows), so only the month values are compared there
        assert {k: v[:2] for k, v in _kpis(paths, period).items()} == {
            k: v[:2] for k, v in _kpis(clean, period).items()
        }


def test_the_complete_scorecard_follows_a_provisional_one_once(quarter_exports, tmp_path):
    """Leadership got March provisional; once the late export arrives and the month is run again,
    they get the complete scorecard, once, saying what it replaces."""
    exports = _exports_without(tmp_path, quarter_exports, "operations/support_tickets.csv")
    root = tmp_path / "project"  # the small demo has no invoice falling due in March: retired
    shutil.copytree(definitions_without_units(), root / "definitions")
    kpis = root / "definitions" / "kpis" / "financial.yaml"
    kpis.write_text(
        kpis.read_text().replace(
            "    sql: kpis/overdue_invoices_pct.sql\n",
            "    sql: kpis/overdue_invoices_pct.sql\n    retired: 2026-03\n",
        )
    )
    home = home_on(tmp_path, exports, "home").home
    paths = RuntimePaths(
        home=home,
        definitions=root / "definitions",
        sql=PROJECT_ROOT / "sql",
        report_assets=PROJECT_ROOT / "reports",
    )
    outbox = paths.home / "outbox" / LAST.key

    def leadership() -> list[email.message.EmailMessage]:
        return sorted(
            (
                email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
                for p in outbox.glob("leadership-scorecard-*")
            ),
            key=lambda m: email.utils.parsedate_to_datetime(m["Date"]),
        )

    assert not run_job(paths, MONTHLY_JOB, LAST, LAST).success
    [first] = leadership()
    assert first["Subject"].startswith("Provisional (")

    shutil.copy(
        quarter_exports / "operations" / "support_tickets.csv",
        exports / "operations" / "support_tickets.csv",
    )
    assert run_job(paths, MONTHLY_JOB, LAST, LAST).success
    [_, complete] = leadership()
    assert " ".join(complete["Subject"].split()).startswith(
        "Complete: Northwind Instruments Balanced Scorecard"
    )
    assert "Provisional" not in complete["Subject"]
    text = complete.get_body(("plain",)).get_content()
    assert (
        "This is the complete scorecard of March 2026: it replaces the provisional one "
        "sent on" in " ".join(text.split())
    )

    assert run_job(paths, MONTHLY_JOB, LAST, LAST).success
    assert len(leadership()) == 2  # once: the complete one is not sent again
    [(states,)] = _query(
        paths, "select list(distinct state) from delivery.ledger where list_id = 'leadership'"
    )
    assert states == ["sent"]

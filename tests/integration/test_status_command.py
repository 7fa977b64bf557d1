"""`scorecard status`: per month, the failed loads (count, tables and causes), the withheld
KPIs and the outcome (complete, provisional, failed loads), one screen wide; a warehouse made
before meta.load_failures existed still reads."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from pipelines.periods import Period


def _warehouse(path: Path, *, with_failures: bool = True):
    from pipelines.warehouse.connection import connect, ensure_tables

    con = connect(path)
    ensure_tables(con)
    now = datetime(2026, 7, 3, 6, 0)
    for period, table, rows in (
        ("2026-05-01", "finance.gl_entries", 1200),
        ("2026-06-01", "finance.gl_entries", 1250),
        ("2026-06-01", "facilities.energy", 30),
    ):
        con.execute(
            "insert into meta.loads values (?, ?, ?, 'x.csv', 'run-1', ?)",
            [period, table, rows, now],
        )
    states = {
        "2026-05-01": ("value", "value", "value"),
        "2026-06-01": ("value", "withheld", "no_data"),
    }
    for period, kpi_states in states.items():
        for i, state in enumerate(kpi_states):
            con.execute(
                "insert into kpi.kpi_values (period, kpi_id, state, value, tables_read, "
                "catalog_version, run_id, computed_at) values (?, ?, ?, ?, '', 'v', "
                "'run-1', ?)",
                [period, f"k{i}", state, 1.0 if state == "value" else None, now],
            )
        con.execute(
            "insert into score.rollup_scores values (?, 'overall', 'overall', null, "
            "'on_track', 7.2, 1, 1, 1.0, 1.0, 'run-1')",
            [period],
        )
    con.execute(
        "insert into meta.reports values ('2026-06-01', 'a.html', 'a.pdf', 'abc', 'v', 'run-1', ?)",
        [now],
    )
    if with_failures:
        con.execute(
            "insert into meta.load_failures values ('2026-06-01', 'facilities.energy', "
            "'energy.csv line 4: amount_kwh ''n/a'' is not a number', "
            "'run-2', ?)",
            [now],
        )
    else:
        con.execute("drop table meta.load_failures")
    con.close()


STATUS_HEADER = (
    "month   tables      rows    KPIs withheld overall        outcome        rendered    sent"
)


def test_scorecard_status_shows_failed_loads_withheld_kpis_and_the_outcome(
    tmp_path, capsys, monkeypatch
):
    from pipelines import cli
    from pipelines.settings import runtime_paths

    monkeypatch.setenv("SCORECARD_HOME", str(tmp_path))
    paths = runtime_paths()
    _warehouse(paths.warehouse)
    monkeypatch.setattr(cli, "_period_in_range", lambda text, _: cli.Period.parse(text))
    assert cli.cmd_status(argparse.Namespace(start="2026-04", end="2026-06"), paths) == 0
    assert capsys.readouterr().out.splitlines() == [
        STATUS_HEADER,
        "2026-04      0         0       \u2014        0 \u2014              \u2014              "
        "\u2014              0",
        "2026-05      1     1,200     3/3        0 7.20 on_track  complete       \u2014         "
        "     0",
        # the failed table's kept rows are not counted: they are not this month's data
        "2026-06      1     1,250     1/3        1 7.20 on_track  1 failed load  07-03 06:00    0",
        "",
        "Failed loads (the month keeps its earlier rows; the KPIs reading the table are withheld)",
        "  2026-06 facilities.energy: energy.csv line 4: amount_kwh 'n/a' is not a number",
    ]


def test_scorecard_status_without_a_load_failures_table(tmp_path):
    from pipelines.status import month_statuses, status_lines
    from pipelines.warehouse.connection import connect

    path = tmp_path / "warehouse.duckdb"
    _warehouse(path, with_failures=False)
    con = connect(path, read_only=True)
    try:
        rows = month_statuses(con, Period(2026, 5), Period(2026, 6))
    finally:
        con.close()
    assert [r.outcome for r in rows] == ["complete", "provisional"]
    assert status_lines(rows)[2] == (
        "2026-06      2     1,280     1/3        1 7.20 on_track  provisional    07-03 06:00    0"
    )


def test_scorecard_status_stays_one_screen_wide(tmp_path):
    from pipelines.status import month_statuses, status_lines
    from pipelines.warehouse.connection import connect

    path = tmp_path / "warehouse.duckdb"
    _warehouse(path)
    con = connect(path)
    con.execute("update meta.load_failures set message = ?", ["drifted column " * 20])
    rows = month_statuses(con, Period(2026, 1), Period(2026, 12))
    con.close()
    lines = status_lines(rows)
    assert max(len(line) for line in lines) == 88
    cause = lines[
        lines.index(
            "Failed loads (the month keeps its earlier rows; the KPIs reading "
            "the table are withheld)"
        )
        + 1 :
    ]
    assert cause[0].startswith("  2026-06 facilities.energy: drifted column")
    assert all(line.startswith("    ") and len(line) <= 88 for line in cause[1:])
    assert " ".join(line.strip() for line in cause) == (  # the whole cause, wrapped, never cut
        "2026-06 facilities.energy: " + ("drifted column " * 20).strip()
    )

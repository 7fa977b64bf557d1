"""The demo generator: the file contract of docs/demo-data.md, determinism, invariants, scale."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from pipelines.demo import generator
from pipelines.demo.generator import generate_demo
from pipelines.periods import Period

START, END, SCALE = "2025-11", "2026-02", 0.05

COLUMNS = {
    "finance/gl_entries": [
        "entry_id",
        "entry_date",
        "account_code",
        "account_name",
        "account_type",
        "department",
        "amount_usd",
        "country",
    ],
    "finance/invoices": [
        "invoice_id",
        "customer_id",
        "issue_date",
        "due_date",
        "paid_date",
        "amount_usd",
        "country",
    ],
    "crm/account_snapshots": [
        "snapshot_date",
        "customer_id",
        "segment",
        "region",
        "mrr_usd",
        "status",
        "country",
    ],
    "crm/opportunities": [
        "opportunity_id",
        "customer_id",
        "created_date",
        "close_date",
        "stage",
        "amount_usd",
        "sales_rep",
        "country",
    ],
    "crm/nps_responses": ["response_id", "customer_id", "response_date", "score", "country"],
    "hr/roster": [
        "snapshot_date",
        "employee_id",
        "department",
        "job_level",
        "hire_date",
        "termination_date",
        "termination_type",
        "fte",
        "country",
    ],
    "hr/training_records": [
        "record_id",
        "employee_id",
        "course",
        "completion_date",
        "hours",
        "country",
    ],
    "hr/engagement_responses": [
        "response_id",
        "employee_id",
        "response_date",
        "question",
        "score",
        "country",
    ],
    "operations/orders": [
        "order_id",
        "customer_id",
        "order_date",
        "promised_date",
        "delivered_date",
        "quantity",
        "amount_usd",
        "country",
    ],
    "operations/defects": [
        "defect_id",
        "order_id",
        "reported_date",
        "severity",
        "category",
        "country",
    ],
    "operations/support_tickets": [
        "ticket_id",
        "customer_id",
        "opened_at",
        "resolved_at",
        "priority",
        "channel",
        "satisfaction_score",
        "country",
    ],
}
DATE_COLUMN = {
    "finance/gl_entries": "entry_date",
    "finance/invoices": "issue_date",
    "crm/account_snapshots": "snapshot_date",
    "crm/opportunities": "close_date",
    "crm/nps_responses": "response_date",
    "hr/roster": "snapshot_date",
    "hr/training_records": "completion_date",
    "hr/engagement_responses": "response_date",
    "operations/orders": "order_date",
    "operations/defects": "reported_date",
    "operations/support_tickets": "opened_at",
}
UNIQUE = {
    "finance/gl_entries": "entry_id",
    "finance/invoices": "invoice_id",
    "crm/account_snapshots": "snapshot_date, customer_id",
    "crm/opportunities": "opportunity_id",
    "crm/nps_responses": "response_id",
    "hr/roster": "snapshot_date, employee_id",
    "hr/training_records": "record_id",
    "hr/engagement_responses": "response_id",
    "operations/orders": "order_id",
    "operations/defects": "defect_id",
    "operations/support_tickets": "ticket_id",
}
# auto-detected DuckDB types of the non-text columns (account_code is a varchar of digits)
DECLARED = {
    **dict.fromkeys(
        [
            "entry_date",
            "issue_date",
            "due_date",
            "paid_date",
            "snapshot_date",
            "created_date",
            "close_date",
            "response_date",
            "hire_date",
            "termination_date",
            "completion_date",
            "order_date",
            "promised_date",
            "delivered_date",
            "reported_date",
        ],
        "DATE",
    ),
    **dict.fromkeys(["opened_at", "resolved_at"], "TIMESTAMP"),
    **dict.fromkeys(["score", "quantity", "satisfaction_score", "account_code"], "BIGINT"),
    **dict.fromkeys(["amount_usd", "mrr_usd", "fte", "hours"], "DOUBLE"),
}
FORMATS = [
    ("finance/gl_entries", "amount_usd", r"\d+\.\d{2}"),
    ("finance/gl_entries", "account_code", r"[4-6]\d{3}"),
    ("finance/invoices", "paid_date", r"\d{4}-\d{2}-\d{2}"),
    ("crm/account_snapshots", "mrr_usd", r"\d+\.\d{2}"),
    ("hr/roster", "fte", r"(0\.50|1\.00)"),
    ("hr/training_records", "hours", r"\d+\.\d"),
    ("operations/support_tickets", "opened_at", r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"),
    ("operations/support_tickets", "resolved_at", r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"),
]
# (table, condition that must hold for no row)
VIOLATIONS = [
    ("invoices", "paid_date < issue_date or paid_date > date '2026-02-28'"),
    ("invoices", "date_diff('day', issue_date, due_date) not in (30, 45, 60)"),
    ("orders", "delivered_date < order_date or delivered_date > date '2026-02-28'"),
    ("orders", "promised_date <= order_date or quantity <= 0 or amount_usd <= 0"),
    ("support_tickets", "resolved_at < opened_at or resolved_at >= timestamp '2026-03-01'"),
    ("support_tickets", "resolved_at is null and satisfaction_score is not null"),
    ("support_tickets", "satisfaction_score not between 1 and 5"),
    ("opportunities", "created_date > close_date or stage not in ('closed_won', 'closed_lost')"),
    ("nps_responses", "score not between 0 and 10"),
    ("engagement_responses", "score not between 1 and 5"),
    ("training_records", "hours <= 0"),
    (
        "gl_entries",
        "amount_usd <= 0 or account_type not in ('revenue', 'cost_of_sales', 'operating_expense')",
    ),
    ("gl_entries", "(account_type = 'revenue') <> (account_code::varchar like '4%')"),
    ("account_snapshots", "snapshot_date <> last_day(snapshot_date) or mrr_usd < 0"),
    ("roster", "snapshot_date <> last_day(snapshot_date) or hire_date > snapshot_date"),
    ("roster", "termination_date < hire_date or fte not in (0.5, 1.0)"),
    ("roster", "(termination_date is null) <> (termination_type is null)"),
    ("roster", "termination_date is not null and last_day(termination_date) <> snapshot_date"),
]


def _generate(root: Path, **kwargs) -> tuple[Path, dict[str, int]]:
    out = root / "demo"
    options = {"start": START, "end": END, "scale": SCALE, "seed": 7, **kwargs}
    return out, generate_demo(out, **options)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    """One small generated export set shared by the read-only tests."""
    return _generate(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def con(demo):
    """DuckDB views named after the tables, over the generated CSV files."""
    out, _ = demo
    connection = duckdb.connect()
    for key in COLUMNS:
        name = key.split("/")[1]
        connection.execute(f"create view {name} as select * from read_csv('{out / key}.csv')")
    yield connection
    connection.close()


def _file_bytes(out: Path) -> dict[str, bytes]:
    return {key: (out / f"{key}.csv").read_bytes() for key in COLUMNS}


def test_writes_every_file_with_the_contract_header(demo):
    out, rows = demo
    assert set(rows) == set(COLUMNS)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == sorted(
        f"{key}.csv" for key in COLUMNS
    )
    for key, columns in COLUMNS.items():
        with open(out / f"{key}.csv", newline="", encoding="utf-8") as handle:
            lines = list(csv.reader(handle))
        assert lines[0] == columns, key
        assert len(lines) - 1 == rows[key] > 0, key


@pytest.mark.parametrize("key", list(COLUMNS))
def test_auto_detected_types_agree_with_the_contract(con, key):
    detected = dict(
        row[:2] for row in con.execute(f"describe select * from {key.split('/')[1]}").fetchall()
    )
    for column in COLUMNS[key]:
        expected = DECLARED.get(column, "VARCHAR")
        assert detected[column] == expected, (key, column, detected[column])


@pytest.mark.parametrize(("key", "column", "pattern"), FORMATS)
def test_text_formats(demo, con, key, column, pattern):
    out, _ = demo
    bad = con.execute(
        f"select count(*) from read_csv('{out / key}.csv', all_varchar = true) "
        f"where {column} is not null and not regexp_full_match({column}, '{pattern}')"
    ).fetchone()[0]
    assert bad == 0


def test_same_seed_same_bytes_other_seed_differs(tmp_path, demo):
    out, _ = demo
    again, _ = _generate(tmp_path / "again")
    other, _ = _generate(tmp_path / "other", seed=8)
    assert _file_bytes(again) == _file_bytes(out)
    differing = [key for key, data in _file_bytes(other).items() if data != _file_bytes(out)[key]]
    assert differing == list(COLUMNS)


@pytest.mark.parametrize("key", list(UNIQUE))
def test_ids_are_unique(con, key):
    name = key.split("/")[1]
    total, distinct = con.execute(
        f"select count(*), count(distinct ({UNIQUE[key]})) from {name}"
    ).fetchone()
    assert total == distinct > 0


@pytest.mark.parametrize("key", list(DATE_COLUMN))
def test_no_rows_outside_the_months(con, key):
    first, last = con.execute(
        f"select min({DATE_COLUMN[key]})::date, max({DATE_COLUMN[key]})::date "
        f"from {key.split('/')[1]}"
    ).fetchone()
    assert str(first) >= f"{START}-01" and str(last) <= "2026-02-28"
    months = con.execute(
        f"select count(distinct date_trunc('month', {DATE_COLUMN[key]})) from {key.split('/')[1]}"
    ).fetchone()[0]
    assert months == 4


@pytest.mark.parametrize(("table", "condition"), VIOLATIONS)
def test_date_and_value_invariants(con, table, condition):
    assert con.execute(f"select count(*) from {table} where {condition}").fetchone()[0] == 0


def test_references_resolve(con):
    assert (
        con.execute("select count(*) from defects anti join orders using (order_id)").fetchone()[0]
        == 0
    )
    late_reports = con.execute(
        "select count(*) from defects join orders using (order_id) "
        "where delivered_date is null or reported_date < delivered_date"
    ).fetchone()[0]
    assert late_reports == 0
    on_roster = con.execute(
        "select count(*) from training_records as t anti join roster as r "
        "on r.employee_id = t.employee_id and r.snapshot_date = last_day(t.completion_date)"
    ).fetchone()[0]
    assert on_roster == 0


def test_churned_customers_appear_once_then_never(con):
    broken = con.execute(
        "select count(*) from (select customer_id, count(*) filter (where status = 'churned') "
        "as churned, max(snapshot_date) filter (where status = 'churned') as churned_on, "
        "max(snapshot_date) as last_seen from account_snapshots group by customer_id) "
        "where churned > 1 or last_seen > churned_on"
    ).fetchone()[0]
    assert broken == 0


def _without_country(path: Path) -> list[bytes]:
    return [line.rsplit(b",", 1)[0] for line in path.read_bytes().splitlines()]


def test_revenue_does_not_depend_on_scale(tmp_path, demo, con):
    out, _ = _generate(tmp_path, scale=2 * SCALE)
    for entities in ("crm/account_snapshots", "hr/roster"):  # entity counts do not scale
        # (a customer's country leans on its orders, tickets and deals, which do scale)
        assert _without_country(out / f"{entities}.csv") == _without_country(
            demo[0] / f"{entities}.csv"
        )
    assert (out / "hr/roster.csv").read_bytes() == (demo[0] / "hr/roster.csv").read_bytes()
    doubled = duckdb.connect()
    path = out / "finance/gl_entries.csv"
    doubled.execute(f"create view gl_entries as select * from read_csv('{path}')")
    query = "select sum(amount_usd), count(*) from gl_entries where account_type = 'revenue'"
    revenue, lines = con.execute(query).fetchone()
    revenue_doubled, lines_doubled = doubled.execute(query).fetchone()
    assert revenue > 0 and abs(revenue_doubled / revenue - 1) < 0.15
    assert lines_doubled > 1.5 * lines


def test_replaces_the_folder_and_leaves_nothing_behind(tmp_path):
    out, _ = _generate(tmp_path, end=START)
    (out / "stale.txt").write_text("from an earlier run")
    _generate(tmp_path, end=START)
    assert [p.name for p in tmp_path.iterdir()] == ["demo"]
    assert not (out / "stale.txt").exists()


def test_failed_run_keeps_the_previous_exports(tmp_path, monkeypatch):
    out, _ = _generate(tmp_path, end=START)
    before = _file_bytes(out)

    def fail(self, writers, month):
        raise RuntimeError("boom")

    monkeypatch.setattr(generator._Company, "write_month", fail)
    with pytest.raises(RuntimeError, match="boom"):
        _generate(tmp_path, end=START)
    assert [p.name for p in tmp_path.iterdir()] == ["demo"]
    assert _file_bytes(out) == before


@pytest.mark.parametrize(
    ("start", "end", "scale"),
    [
        ("2026-02", "2025-11", 1.0),
        ("2026-13", "2026-14", 1.0),
        ("2025-11", "2026-02", 0.0),
    ],
)
def test_rejects_bad_arguments(tmp_path, start, end, scale):
    with pytest.raises(ValueError):
        generate_demo(tmp_path / "demo", start=start, end=end, scale=scale)
    assert list(tmp_path.iterdir()) == []


def test_the_demo_starts_where_the_partitions_start(paths, capsys):
    """A fresh demo leaves no month of Dagster's partitions without data: by default its exports
    begin at the catalog's first_period, where the partitions begin."""
    from pipelines.catalog import load_catalog
    from pipelines.cli import main
    from pipelines.defs.partitions import monthly_partitions

    catalog = load_catalog(paths.definitions, paths.sql)
    first = monthly_partitions(catalog).get_first_partition_key()
    assert first == catalog.organization.first_period
    end = Period.parse(first).shift(1).key
    assert main(["demo", "--exports-only", "--end", end, "--scale", "0.01"]) == 0
    assert f"Writing the demo exports for {first} to {end}" in capsys.readouterr().out
    months = {
        row["snapshot_date"][:7]
        for row in csv.DictReader((paths.demo / "hr" / "roster.csv").open())
    }
    assert months == {first, end}

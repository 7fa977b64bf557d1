"""The demo's business units: the `country` column of every export (docs/demo-data.md)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.demo.generator import generate_demo

START, END, SCALE, SEED = "2026-01", "2026-06", 0.2, 7
TABLES = (
    "crm/account_snapshots",
    "crm/opportunities",
    "crm/nps_responses",
    "finance/gl_entries",
    "finance/invoices",
    "hr/roster",
    "hr/training_records",
    "hr/engagement_responses",
    "operations/orders",
    "operations/defects",
    "operations/support_tickets",
)
REGION = {
    **dict.fromkeys(["DE", "FR", "GB", "NL", "ES"], "emea"),
    **dict.fromkeys(["US", "CA", "MX"], "americas"),
    **dict.fromkeys(["JP", "AU", "SG"], "apac"),
}
MIX = {"emea": 45, "americas": 35, "apac": 20}
CUSTOMER_TABLES = [
    "crm/account_snapshots",
    "crm/opportunities",
    "crm/nps_responses",
    "finance/invoices",
    "operations/orders",
    "operations/support_tickets",
]
EMPLOYEE_TABLES = ["hr/roster", "hr/training_records", "hr/engagement_responses"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("units") / "demo"
    generate_demo(out, start=START, end=END, scale=SCALE, seed=SEED)
    return out


@pytest.fixture(scope="module")
def con(demo):
    connection = duckdb.connect()
    cases = " ".join(f"when '{code}' then '{region}'" for code, region in REGION.items())
    for key in TABLES:
        connection.execute(
            f"create view {key.split('/')[1]} as select *, case country {cases} end as unit_region "
            f"from read_csv('{demo / key}.csv')"
        )
    yield connection
    connection.close()


def _one(con, sql: str):
    return con.execute(sql).fetchone()[0]


def _by_region(con, sql: str) -> dict[str, float]:
    return dict(con.execute(sql).fetchall())


def test_country_is_the_last_column_of_every_export(demo):
    for key in TABLES:
        header = (demo / f"{key}.csv").open(encoding="utf-8").readline().strip().split(",")
        assert header[-1] == "country", key
        assert header.count("country") == 1, key


def test_same_seed_same_countries(tmp_path, demo):
    again = tmp_path / "demo"
    generate_demo(again, start=START, end=END, scale=SCALE, seed=SEED)
    for key in TABLES:
        assert (again / f"{key}.csv").read_bytes() == (demo / f"{key}.csv").read_bytes(), key


@pytest.mark.parametrize("key", TABLES)
def test_every_row_has_one_of_the_eleven_codes(con, key):
    name = key.split("/")[1]
    codes = {r[0] for r in con.execute(f"select distinct country from {name}").fetchall()}
    assert codes <= set(REGION), codes
    assert _one(con, f"select count(*) from {name} where unit_region is null") == 0


def test_a_customer_has_one_country_in_every_table(con):
    rows = " union all ".join(
        f"select customer_id, country from {key.split('/')[1]}" for key in CUSTOMER_TABLES
    )
    assert _one(con, f"select count(*) from ({rows})") > 0
    assert (
        _one(
            con,
            f"select count(*) from (select customer_id from ({rows}) group by customer_id "
            "having count(distinct country) > 1)",
        )
        == 0
    )


def test_an_employee_has_one_country_in_every_hr_table(con):
    rows = " union all ".join(
        f"select employee_id, country from {key.split('/')[1]}" for key in EMPLOYEE_TABLES
    )
    assert (
        _one(
            con,
            f"select count(*) from (select employee_id from ({rows}) group by employee_id "
            "having count(distinct country) > 1)",
        )
        == 0
    )


def test_a_defect_has_its_orders_country(con):
    assert _one(con, "select count(*) from defects") > 0
    assert (
        _one(
            con,
            "select count(*) from defects d join orders o using (order_id) "
            "where d.country <> o.country",
        )
        == 0
    )


@pytest.mark.parametrize("key", [t for t in TABLES if t != "operations/defects"])  # ~90 rows
def test_the_mix_by_region_is_near_the_plan(con, key):
    shares = _by_region(
        con,
        f"select unit_region, 100 * count(*) / sum(count(*)) over () from {key.split('/')[1]} "
        "group by unit_region",
    )
    for region, planned in MIX.items():
        assert abs(shares[region] - planned) < 3.5, (key, shares)


def test_the_regions_perform_differently(con):
    on_time = _by_region(
        con,
        "select unit_region, 100 * avg((delivered_date <= promised_date)::int) from orders "
        "where delivered_date is not null group by unit_region",
    )
    assert on_time["apac"] < min(on_time["emea"], on_time["americas"]) - 2, on_time
    hours = _by_region(
        con,
        "select unit_region, avg(date_diff('second', opened_at, resolved_at) / 3600) "
        "from support_tickets where resolved_at is not null group by unit_region",
    )
    assert hours["apac"] > 1.1 * max(hours["emea"], hours["americas"]), hours
    win = _by_region(
        con,
        "select unit_region, 100 * avg((stage = 'closed_won')::int) from opportunities "
        "group by unit_region",
    )
    assert win["americas"] > max(win["emea"], win["apac"]) + 3, win
    margin = _by_region(
        con,
        "select unit_region, 100 - 100 * sum(amount_usd) filter "
        "(where account_type = 'cost_of_sales') / sum(amount_usd) filter "
        "(where account_type = 'revenue') from gl_entries "
        "group by unit_region",
    )
    assert margin["emea"] > max(margin["americas"], margin["apac"]) + 2, margin
    leavers = dict(
        con.execute(
            "select country = 'GB', count(*) filter (where termination_type = 'voluntary') "
            "/ count(*) from roster group by 1"
        ).fetchall()
    )
    assert leavers[True] > 1.5 * leavers[False], leavers

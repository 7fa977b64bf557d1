"""The code location loads, with the asset keys, groups, jobs and schedule the catalog implies."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter
from dagster import AssetKey, build_schedule_context

from pipelines.definitions import build_definitions


def test_definitions_follow_the_catalog(paths, catalog):
    defs = build_definitions(paths)
    graph = defs.resolve_asset_graph()
    keys = set(graph.get_all_asset_keys())
    expected = {AssetKey(f"raw_{t.raw_name}") for t in catalog.tables}
    expected |= {AssetKey(f"kpi_{k.id}") for k in catalog.kpis}
    expected |= {
        AssetKey("scorecard_scores"),
        AssetKey("report_scorecard"),
        AssetKey("delivery_email"),
        AssetKey("review_scores"),
        AssetKey("board_pack"),
        AssetKey("board_pack_email"),
        AssetKey("unit_scores"),
        AssetKey("unit_reports"),
    }
    assert keys == expected
    # lineage: each KPI depends on exactly the raw tables its SQL reads
    defects = graph.get(AssetKey("kpi_defects_per_1000_orders"))
    assert defects.parent_keys == {
        AssetKey("raw_operations_orders"),
        AssetKey("raw_operations_defects"),
    }
    assert graph.get(AssetKey("kpi_nps")).group_name == "customer"
    assert graph.get(AssetKey("raw_hr_roster")).group_name == "raw"
    assert {j.name for j in defs.resolve_all_job_defs()} >= {
        "monthly_scorecard",
        "scorecard_history",
        "board_packs",
        "board_pack_delivery",
    }
    schedule = defs.resolve_schedule_def("monthly_scorecard_schedule")
    assert schedule.cron_schedule == "0 6 4 * *"
    assert schedule.execution_timezone == "Europe/Berlin"


@pytest.mark.parametrize(
    ("fires_at", "period"),
    [
        (datetime(2026, 11, 4, 6, 0, tzinfo=ZoneInfo("Europe/Berlin")), "2026-10"),
        (datetime(2027, 1, 4, 6, 0, tzinfo=ZoneInfo("Europe/Berlin")), "2026-12"),  # year end
        # 23:30 UTC on Nov 30 is already Dec 1 in Berlin: the local date decides the month
        (
            datetime(2026, 11, 30, 23, 30, tzinfo=ZoneInfo("UTC")).astimezone(
                ZoneInfo("Europe/Berlin")
            ),
            "2026-11",
        ),
    ],
)
def test_schedule_runs_the_month_that_just_closed(paths, fires_at, period):
    schedule = build_definitions(paths).resolve_schedule_def("monthly_scorecard_schedule")
    run = schedule(build_schedule_context(scheduled_execution_time=fires_at))
    assert run.partition_key == period
    assert run.run_key == f"scorecard-{period}"


def test_schedule_fires_on_the_configured_day(paths):
    schedule = build_definitions(paths).resolve_schedule_def("monthly_scorecard_schedule")
    start = datetime(2026, 12, 31, 12, tzinfo=ZoneInfo("Europe/Berlin"))
    fires = croniter(schedule.cron_schedule, start).get_next(datetime)
    assert (fires.year, fires.month, fires.day, fires.hour) == (2027, 1, 4, 6)


def test_every_asset_has_a_description(paths):
    graph = build_definitions(paths).resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        assert graph.get(key).description, key


def test_raw_assets_publish_their_column_schema_and_kpis_their_owners(paths, catalog):
    graph = build_definitions(paths).resolve_asset_graph()
    for table in catalog.tables:
        metadata = graph.get(AssetKey(f"raw_{table.raw_name}")).metadata
        schema = metadata["dagster/column_schema"].schema
        assert [(c.name, c.type) for c in schema.columns] == [
            (c.name, c.type) for c in table.table.columns
        ]
        nullable = {c.name: c.constraints.nullable for c in schema.columns}
        assert nullable == {c.name: c.nullable for c in table.table.columns}
        assert metadata["dagster/table_name"].value == f"raw.{table.raw_name}"
    for kpi in catalog.kpis:
        node = graph.get(AssetKey(f"kpi_{kpi.id}"))
        assert node.owners == [f"team:{kpi.owner}"]

"""The code location loads, with the asset keys, groups, jobs and schedule the catalog implies."""

from __future__ import annotations

from dagster import AssetKey

from pipelines.definitions import build_definitions


def test_definitions_follow_the_catalog(paths, catalog):
    defs = build_definitions(paths)
    graph = defs.resolve_asset_graph()
    keys = set(graph.get_all_asset_keys())
    expected = {AssetKey(f"raw_{t.raw_name}") for t in catalog.tables}
    expected |= {AssetKey(f"kpi_{k.id}") for k in catalog.kpis}
    expected |= {AssetKey("scorecard_scores"), AssetKey("report_scorecard")}
    assert keys == expected
    # lineage: each KPI depends on exactly the raw tables its SQL reads
    defects = graph.get(AssetKey("kpi_defects_per_1000_orders"))
    assert defects.parent_keys == {AssetKey("raw_operations_orders"),
                                   AssetKey("raw_operations_defects")}
    assert graph.get(AssetKey("kpi_nps")).group_name == "customer"
    assert graph.get(AssetKey("raw_hr_roster")).group_name == "raw"
    assert {j.name for j in defs.resolve_all_job_defs()} >= {"monthly_scorecard",
                                                             "scorecard_history"}
    schedule = defs.resolve_schedule_def("monthly_scorecard_schedule")
    assert schedule.cron_schedule == "0 6 5 * *"


def test_every_asset_has_a_description(paths):
    graph = build_definitions(paths).resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        assert graph.get(key).description, key

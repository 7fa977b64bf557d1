"""Every fact the README states is checked here against the code, the catalog and CI.

The README is the front door (style habit 18): what it is, the two commands, a short tour and
links. When one of its facts stops being true, a test here fails, so it cannot go stale.
"""

from __future__ import annotations

import re
import tomllib

from dagster import AssetCheckKey, AssetKey, MonthlyPartitionsDefinition

from pipelines.catalog import load_catalog
from pipelines.cli import build_parser
from pipelines.definitions import build_definitions
from pipelines.report.view import contents
from pipelines.settings import PROJECT_ROOT, runtime_paths

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
SH_BLOCKS = re.findall(r"```sh\n(.*?)```", README, re.S)


def _section(title: str) -> str:
    start = README.index(f"## {title}")
    end = README.find("\n## ", start + 1)
    return README[start:] if end < 0 else README[start:end]


def test_the_two_commands_are_the_ones_ci_and_the_demo_run():
    demo, tests = (block.strip() for block in SH_BLOCKS[:2])
    assert demo == (
        "python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/scorecard demo"
    )
    ci = (PROJECT_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert tests in ci.splitlines(), ".ci/run must run the README's test command as written"
    scripts = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["scorecard"] == "pipelines.cli:run"


def test_the_system_packages_named_are_the_ones_ci_installs():
    named = re.search(r"`apt-get install python3-venv ([^`]+)`", README).group(1).split()
    ci = (PROJECT_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    installed = re.search(r"for pkg in ([^;]+);", ci).group(1).split()
    assert set(named) <= set(installed)


def test_every_link_resolves():
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README)
    local = [link for link in links if not link.startswith("http")]
    assert local, "no links found"
    missing = [link for link in local if not (PROJECT_ROOT / link).exists()]
    assert not missing


def test_every_reference_document_is_listed():
    listed = set(re.findall(r"\[docs/([\w-]+\.md)\]", _section("Documentation")))
    present = {path.name for path in (PROJECT_ROOT / "docs").glob("*.md")}
    assert listed == present


def test_every_command_named_is_a_scorecard_command():
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # argparse has no public listing
    named = set(re.findall(r"(?:`|\.venv/bin/)scorecard (\w[\w-]*)", README))
    assert named and named <= set(commands), named - set(commands)
    assert "kpi" in commands["new"]._subparsers._group_actions[0].choices


def test_where_the_demo_writes(tmp_path, monkeypatch):
    monkeypatch.delenv("SCORECARD_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    paths = runtime_paths()
    assert paths.home == (tmp_path / "var").resolve()
    tour = _section("A five-minute tour")
    for path in (paths.warehouse, paths.reports, paths.outbox, paths.dagster_home):
        assert f"`var/{path.relative_to(paths.home).as_posix()}" in tour, path
    assert "`var/dagster/`" in tour and "DAGSTER_HOME=$PWD/var/dagster" in tour
    start_help = next(
        a.help
        for a in build_parser()._subparsers._group_actions[0].choices["demo"]._actions
        if a.dest == "start"
    )
    assert "first_period" in start_help and "exports since its first month" in README


def test_the_report_parts_named_are_the_reports_contents(paths):
    from report_factory import report_from_catalog

    report = report_from_catalog(load_catalog(paths.definitions, paths.sql))
    titles = {entry["title"] for entry in contents(report, report.kpis()[:1])}
    tour = _section("A five-minute tour").lower()
    for fixed in (
        "Summary",
        "Strategy map",
        "Initiatives",
        "Decisions and actions",
        "Data appendix",
    ):
        assert fixed in titles
    for words in (
        "overall score",
        "strategy map",
        "one page per perspective",
        "initiatives",
        "decisions and actions",
        "data-quality appendix",
    ):
        assert words in tour


def test_the_assets_named_are_the_code_locations(paths):
    defs = build_definitions(paths)
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    tour = _section("A five-minute tour")
    for name in re.findall(r"`((?:scorecard|report|delivery)_\w+)`", tour):
        assert name in keys, name
    catalog = load_catalog(paths.definitions, paths.sql)
    table = catalog.tables[0]
    assert f"raw_{table.raw_name}" in keys
    assert AssetCheckKey(AssetKey(f"raw_{table.raw_name}"), "quality") in graph.asset_check_keys
    kpi = catalog.kpis[0]
    perspective = catalog.perspective_of(kpi.objective).id
    assert graph.get(AssetKey(f"kpi_{kpi.id}")).group_name == perspective
    assert "`on_target` check" in tour
    assert AssetCheckKey(AssetKey(f"kpi_{kpi.id}"), "on_target") in graph.asset_check_keys
    assert isinstance(
        graph.get(AssetKey("scorecard_scores")).partitions_def, MonthlyPartitionsDefinition
    )
    assert AssetCheckKey(AssetKey("scorecard_scores"), "quality_gate") in graph.asset_check_keys
    code = {
        path.read_text()
        for path in (PROJECT_ROOT / "pipelines" / "defs").glob("*.py")
        if path.name in ("scorecard.py", "ingest.py", "quality.py")
    }
    for key in ("html_path", "pdf_path", "kpi_table", "load_status", "load_error"):
        assert f"`{key}`" in tour and any(f'"{key}"' in text for text in code), key
    schedule = re.search(r"schedule `(\w+)`", tour).group(1)
    assert defs.resolve_schedule_def(schedule)

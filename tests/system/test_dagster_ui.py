"""What a data engineer sees in the Dagster UI after the CLI ran a backfill and a broken month:
the real webserver, asked through the GraphQL API its pages use.

The runs are listed on their job's page (the UI filters by the code location's repository tag)
and re-execute without a warning (their origin and job snapshot are the loaded job's); the
months show on the assets' partitions; a KPI's value, target and score are numbers; the KPI
withheld by the broken month has its check failed on that month, and so has the source's
quality check."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from demo_homes import FIRST, LAST, home_on
from pg_cluster import free_port

from pipelines.defs.jobs import HISTORY_JOB, MONTHLY_JOB
from pipelines.periods import Period
from pipelines.runner import run_job
from pipelines.settings import PROJECT_ROOT

FEB = Period(2026, 2)
LOCATION = "balanced_scorecard"
REPOSITORY_TAG = {"key": ".dagster/repository", "value": f"__repository__@{LOCATION}"}
BROKEN = "operations/support_tickets.csv"
BROKEN_ASSET = ["raw_operations_support_tickets"]
WITHHELD_KPI = ["kpi_csat_pct"]  # reads support_tickets
PLAIN_KPI = ["kpi_revenue_usd"]


class Webserver:
    def __init__(self, url: str):
        self.url = url

    def query(self, text: str, **variables) -> dict:
        request = urllib.request.Request(
            f"{self.url}/graphql",
            data=json.dumps({"query": text, "variables": variables}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.load(response)
        assert "errors" not in answer, answer["errors"]
        return answer["data"]


@pytest.fixture(scope="module")
def ui(quarter_exports, tmp_path_factory):
    """January and February by `scorecard backfill`'s job, then March with the support-ticket
    export gone; then the webserver over that instance, as `dagster dev` starts it."""
    root = tmp_path_factory.mktemp("ui")
    exports = root / "exports"
    shutil.copytree(quarter_exports, exports)
    paths = home_on(root, exports, "home")
    backfill = run_job(paths, HISTORY_JOB, FIRST, FEB)
    assert backfill.success, backfill.errors
    (exports / BROKEN).unlink()
    month = run_job(paths, MONTHLY_JOB, LAST, LAST)
    assert not month.success  # the month went out; the run fails for the data team

    port = free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(paths.dagster_home),
        "SCORECARD_HOME": str(paths.home),
    }
    log = (root / "webserver.log").open("w")
    server = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "dagster_webserver",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-w",
            str(PROJECT_ROOT / "workspace.yaml"),
        ],
        env=env,
        cwd=root,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    web = Webserver(f"http://127.0.0.1:{port}")
    try:
        _wait_until_loaded(web, server, root / "webserver.log")
        yield web, backfill.run_id, month.run_id
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _wait_until_loaded(web: Webserver, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text()
        try:
            data = web.query(
                "{ workspaceOrError { ... on Workspace { locationEntries { name "
                "loadStatus locationOrLoadError { __typename } } } } }"
            )
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.5)
            continue
        [entry] = data["workspaceOrError"]["locationEntries"]
        if entry["loadStatus"] == "LOADED":
            assert entry["locationOrLoadError"]["__typename"] == "RepositoryLocation", (
                log.read_text()
            )
            return
        time.sleep(0.5)
    raise AssertionError(f"the webserver did not load the code location:\n{log.read_text()}")


RUNS = """
query ($job: String!, $tags: [ExecutionTag!]) {
  runsOrError(filter: {pipelineName: $job, tags: $tags}) {
    ... on Runs { results { runId status pipelineSnapshotId
      repositoryOrigin { repositoryLocationName repositoryName } } }
  }
}"""

JOB_SNAPSHOT = """
query ($job: String!) {
  pipelineOrError(params: {pipelineName: $job, repositoryName: "__repository__",
                           repositoryLocationName: "balanced_scorecard"}) {
    ... on Pipeline { pipelineSnapshotId }
  }
}"""


def test_cli_runs_are_on_their_jobs_page_and_reexecute_without_a_warning(ui):
    web, backfill_run, month_run = ui
    for job, run_id, status in [
        (HISTORY_JOB, backfill_run, "SUCCESS"),
        (MONTHLY_JOB, month_run, "FAILURE"),
    ]:
        # the job's Runs tab and the timeline: the job's runs in this code location
        runs = web.query(RUNS, job=job, tags=[REPOSITORY_TAG])["runsOrError"]["results"]
        [run] = [r for r in runs if r["runId"] == run_id]
        assert run["status"] == status
        # re-execution finds the run's job in its location at the same snapshot: no warning
        assert run["repositoryOrigin"] == {
            "repositoryLocationName": LOCATION,
            "repositoryName": "__repository__",
        }
        loaded = web.query(JOB_SNAPSHOT, job=job)["pipelineOrError"]["pipelineSnapshotId"]
        assert run["pipelineSnapshotId"] == loaded


PARTITIONS = """
query ($key: AssetKeyInput!) {
  assetNodeOrError(assetKey: $key) {
    ... on AssetNode {
      assetPartitionStatuses {
        ... on TimePartitionStatuses { ranges { status startKey endKey } }
      }
      assetChecksOrError { ... on AssetChecks { checks { name
        partitionStatuses { ... on AssetCheckTimePartitionStatuses {
          ranges { status startKey endKey } } } } } }
    }
  }
}"""


def _partitions(web: Webserver, key: list[str]) -> tuple[list, dict]:
    node = web.query(PARTITIONS, key={"path": key})["assetNodeOrError"]
    materialized = [
        (r["status"], r["startKey"], r["endKey"]) for r in node["assetPartitionStatuses"]["ranges"]
    ]
    checks = {
        c["name"]: [
            (r["status"], r["startKey"], r["endKey"]) for r in c["partitionStatuses"]["ranges"]
        ]
        for c in node["assetChecksOrError"]["checks"]
        if c["partitionStatuses"]  # the quality gate judges a run, not a month
    }
    return materialized, checks


EXECUTION = """
query ($key: AssetKeyInput!, $check: String!, $partition: String!) {
  assetCheckExecutions(assetKey: $key, checkName: $check, partition: $partition, limit: 1) {
    runId partition evaluation { success severity description }
  }
}"""


def _evaluation(web: Webserver, key: list[str], check: str, period: Period) -> dict:
    data = web.query(EXECUTION, key={"path": key}, check=check, partition=period.key)
    [execution] = data["assetCheckExecutions"]
    assert execution["partition"] == period.key
    return execution["evaluation"]


def test_the_months_are_on_the_partitions_and_the_broken_month_fails_on_its_own(ui):
    web, backfill_run, month_run = ui
    # the backfill's months and the broken month are materialized; the source's quality check
    # passed on each backfilled month (not "skipped") and failed on the broken one
    materialized, checks = _partitions(web, BROKEN_ASSET)
    assert materialized == [("MATERIALIZED", FIRST.key, LAST.key)]
    assert checks["quality"] == [
        ("SUCCEEDED", FIRST.key, FEB.key),
        ("FAILED", LAST.key, LAST.key),
    ]
    failed = _evaluation(web, BROKEN_ASSET, "quality", LAST)
    assert failed["success"] is False and failed["severity"] == "ERROR"
    # the month still went out: scored with the others, and its report rendered
    assert _partitions(web, ["scorecard_scores"])[0] == [("MATERIALIZED", FIRST.key, LAST.key)]
    assert _partitions(web, ["report_scorecard"])[0] == [("MATERIALIZED", LAST.key, LAST.key)]

    # the KPI reading it: its on_target check has a verdict on every month, an error on the
    # month it was withheld
    materialized, checks = _partitions(web, WITHHELD_KPI)
    assert materialized == [("MATERIALIZED", FIRST.key, LAST.key)]
    assert checks["on_target"][0][1] == FIRST.key and checks["on_target"][-1][2] == LAST.key
    assert "SKIPPED" not in {status for status, _, _ in checks["on_target"]}
    withheld = _evaluation(web, WITHHELD_KPI, "on_target", LAST)
    assert withheld["success"] is False and withheld["severity"] == "ERROR"
    assert "withheld" in withheld["description"] and "support_tickets" in withheld["description"]


METADATA = """
query ($key: AssetKeyInput!, $partition: String!) {
  assetOrError(assetKey: $key) {
    ... on Asset { assetMaterializations(partitions: [$partition], limit: 1) {
      partition
      metadataEntries { label __typename
        ... on FloatMetadataEntry { floatValue }
        ... on TextMetadataEntry { text } } } }
  }
}"""


def _metadata(web: Webserver, key: list[str], period: Period) -> dict:
    data = web.query(METADATA, key={"path": key}, partition=period.key)
    [materialization] = data["assetOrError"]["assetMaterializations"]
    return {e["label"]: e for e in materialization["metadataEntries"]}


def test_a_kpis_value_target_and_score_are_numbers_the_ui_can_plot(ui):
    web, _, _ = ui
    entries = _metadata(web, PLAIN_KPI, LAST)
    for label in ("value", "ytd", "target", "red_flag", "score"):
        assert entries[label]["__typename"] == "FloatMetadataEntry", label
    assert {entries[label]["text"] for label in ("month", "state")} == {LAST.key, "value"}
    assert entries["status"]["__typename"] == "TextMetadataEntry"
    # withheld: no value and no score to plot, said as such
    withheld = _metadata(web, WITHHELD_KPI, LAST)
    assert "value" not in withheld and "score" not in withheld
    assert withheld["state"]["text"] == withheld["status"]["text"] == "withheld"


LATEST_EVENTS = """
query ($key: AssetKeyInput!, $partitions: [String!]) {
  assetOrError(assetKey: $key) {
    ... on Asset { assetMaterializations(partitions: $partitions, limit: 20) {
      partition runId metadataEntries { label
        ... on FloatMetadataEntry { floatValue } ... on TextMetadataEntry { text } } } }
  }
}"""


def test_a_backfilled_month_shows_its_own_figures_not_the_last_months(ui):
    """A backfill's one materialization stands for all its months: each month is materialized
    once more with its own figures, and that is the latest of its partition (what the UI shows
    and plots by partition), never the last month's figures on every month."""
    web, backfill_run, _ = ui
    months = [FIRST.key, FEB.key]
    events = web.query(LATEST_EVENTS, key={"path": PLAIN_KPI}, partitions=months)
    materializations = events["assetOrError"]["assetMaterializations"]  # newest first
    latest = {}
    for m in materializations:
        assert m["runId"] == backfill_run
        latest.setdefault(m["partition"], m)
    figures = {
        p: {e["label"]: e.get("floatValue", e.get("text")) for e in m["metadataEntries"]}
        for p, m in latest.items()
    }
    assert figures[FIRST.key]["month"] == FIRST.key and figures[FEB.key]["month"] == FEB.key
    assert figures[FIRST.key]["value"] != figures[FEB.key]["value"]
    assert {"value", "ytd", "target", "score"} <= set(figures[FIRST.key])
    # the range's own materialization, on each month too, carries no month's figures
    for m in materializations[len(months) :]:
        labels = {e["label"] for e in m["metadataEntries"]}
        assert "values_by_month" in labels and "value" not in labels

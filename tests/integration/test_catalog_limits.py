"""Catalog files are read with bounds (issue 18, item 2): size, alias expansion, text lengths.

A YAML bomb, an oversized file or an absurdly long name is refused, in one line naming the file
(and field); what `check` accepts renders inside the report's cap. How fast each is refused:
`python -m benchmarks.catalog_limits` (timings are never asserted here).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest
import yaml
from fresh_python import run_python
from report_factory import report_from_catalog

from pipelines.catalog import CatalogError, load_catalog
from pipelines.catalog_check import check_catalog
from pipelines.cli import main
from pipelines.report import render
from pipelines.report.textfit import text_width, wrap
from pipelines.settings import PROJECT_ROOT

BOMB = (
    "\n".join(
        ["bomb:", "  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        + [f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    )
    + "\n"
)


def _load(root):
    return load_catalog(root / "definitions", root / "sql")


def _edit(path, change):
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10**9))


def _load_in_child(root, timeout: float = 60) -> dict:
    """load_catalog in a fresh process: its seconds and its problems (the child is killed past
    `timeout`: before the bound, the bomb's aliases were walked for hours). The shipped catalog
    is loaded first, so the seconds are not those of importing Great Expectations."""
    script = (
        "import json, time, pathlib\n"
        "from pipelines.catalog import CatalogError, load_catalog\n"
        "from pipelines.settings import PROJECT_ROOT\n"
        "load_catalog(PROJECT_ROOT / 'definitions', PROJECT_ROOT / 'sql')\n"
        f"root = pathlib.Path({str(root)!r})\n"
        "started = time.perf_counter()\n"
        "try:\n"
        "    load_catalog(root / 'definitions', root / 'sql'); problems = []\n"
        "except CatalogError as exc:\n"
        "    problems = exc.problems\n"
        "print(json.dumps({'seconds': time.perf_counter() - started, 'problems': problems}))\n"
    )
    done = run_python(script, timeout=timeout)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_a_yaml_bomb_is_refused(copied_catalog):
    scorecard = copied_catalog / "definitions/scorecard.yaml"
    scorecard.write_text(scorecard.read_text() + BOMB)
    result = _load_in_child(copied_catalog)  # killed, and failed, if it takes a minute
    assert len(result["problems"]) == 1, result
    problem = result["problems"][0]
    assert problem.startswith("scorecard.yaml:") and "aliases" in problem, problem
    assert "\n" not in problem


def test_a_file_over_the_size_limit_is_refused(copied_catalog):
    kpis = copied_catalog / "definitions/kpis/customer.yaml"
    kpis.write_text(kpis.read_text() + ("# padding " + "x" * 1000 + "\n") * 2000)  # 2 MB
    with pytest.raises(CatalogError) as problems:
        _load(copied_catalog)
    assert problems.value.problems == [
        "kpis/customer.yaml: the file is 2.0 MB; a catalog file may be at most 1 MB"
    ]


def test_a_long_description_is_refused_before_any_run(copied_catalog):
    """Before: a 50 MB description passed `check` and failed the run; now 2,001 characters are
    refused, naming the file, line and field, without quoting the text."""
    _edit(
        copied_catalog / "definitions/kpis/customer.yaml",
        lambda d: d["kpis"][0].__setitem__("description", "d" * 2001),
    )
    with pytest.raises(CatalogError) as problems:
        _load(copied_catalog)
    [problem] = problems.value.problems
    assert (
        problem.startswith("kpis/customer.yaml:")
        and "kpis[0].description: 2001 characters; at most 2000 are allowed here" in problem
        and "ddd" not in problem
    ), problem


def test_a_ten_thousand_character_name_is_refused_by_check(copied_catalog, monkeypatch, capsys):
    _edit(
        copied_catalog / "definitions/scorecard.yaml",
        lambda d: d["perspectives"][0]["objectives"][0].__setitem__("name", "N" * 10_000),
    )
    monkeypatch.setenv("SCORECARD_DEFINITIONS", str(copied_catalog / "definitions"))
    monkeypatch.setenv("SCORECARD_SQL", str(copied_catalog / "sql"))
    assert main(["check"]) != 0
    err = capsys.readouterr().err
    assert (
        "scorecard.yaml:" in err
        and "perspectives[0].objectives[0].name: 10000 characters; at most 200 are allowed here"
        in err
    ), err
    assert "NNNN" not in err


def test_a_very_long_text_anywhere_is_refused(copied_catalog):
    _edit(
        copied_catalog / "definitions/sources/crm.yaml",
        lambda d: d["tables"][0].__setitem__("path", "demo/" + "p" * 20_000 + ".csv"),
    )
    with pytest.raises(CatalogError) as problems:
        _load(copied_catalog)
    [problem] = problems.value.problems
    assert problem.startswith("sources/crm.yaml:") and "20009 characters" in problem, problem
    assert len(problem) < 300


def _longest_accepted(root):
    """The shipped catalog with every name at the limit (one unbroken word of wide letters or
    many words) and every description, vision and mission at theirs."""

    def scorecard(d):
        org = d["organization"]
        org.update(name="W" * 200, vision="Vision " * 285, mission="M" * 2000)
        for p in d["perspectives"]:
            p["name"] = "Perspective " * 16 + "P" * 8
            for i, o in enumerate(p["objectives"]):
                o.update(
                    name="W" * 200 if i % 2 else "Objective word " * 13 + "O" * 5,
                    owner="O" * 200,
                    description="D" * 2000,
                )

    def kpis(d):
        for i, k in enumerate(d["kpis"]):
            k.update(
                name="K" * 200 if i % 2 else "KPI name " * 22 + "KK",
                owner="Owner " * 33 + "OO",
                description="Describes " * 200,
            )

    _edit(root / "definitions/scorecard.yaml", scorecard)
    for path in (root / "definitions/kpis").glob("*.yaml"):
        _edit(path, kpis)


def test_the_longest_accepted_texts_render_well_inside_the_cap(copied_catalog, tmp_path):
    _longest_accepted(copied_catalog)
    catalog = _load(copied_catalog)
    assert check_catalog(catalog, date(2026, 11, 28)).errors == []
    org = catalog.organization
    report = report_from_catalog(
        catalog, organization=org.name, vision=org.vision, mission=org.mission
    )
    report = replace(
        report, initiatives=tuple(replace(i, name="I" * 200) for i in report.initiatives)
    )
    render.write_report(report, PROJECT_ROOT / "reports", tmp_path / "out", timeout=60)
    assert (tmp_path / "out/scorecard.pdf").stat().st_size > 0


@pytest.mark.parametrize("text", ["W" * 20_000, "word " * 4_000])
def test_strategy_map_text_fitting_is_linear(text):
    """Before: the ellipsis was found by cutting one character at a time and measuring the
    whole rest each time (a 10,000-character name took seconds per box)."""
    lines = wrap(text, 120, 7.6, 3, bold=True)
    assert len(lines) <= 3 and lines[-1].endswith("\u2026")
    assert all(text_width(line, 7.6, bold=True) <= 120 for line in lines)

"""Follow docs/tutorial.md's "Add a source" and "Add a KPI" literally, in a copy of the catalog.

Every fenced block of the two sections is used as written: `# file:` blocks replace a file,
`# append to:` blocks extend one, and every `scorecard` line of the sh blocks is run.
"""

from __future__ import annotations

import re
import shlex

import pytest
from pypdf import PdfReader

from pipelines.cli import main
from pipelines.demo.generator import generate_demo
from pipelines.settings import PROJECT_ROOT
from pipelines.warehouse.connection import connect

BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.S)
TARGET = re.compile(r"^(?:#|--) (file|append to): (\S+)\n")


def _tutorial_blocks() -> list[tuple[str, str]]:
    tutorial = (PROJECT_ROOT / "docs" / "tutorial.md").read_text()
    section = tutorial[tutorial.index("## Add a source") :]
    section = section[: section.index("\n## ", section.index("## Add a KPI"))]
    return [(lang, re.sub(r"(?m)^   ", "", body)) for lang, body in BLOCK.findall(section)]


def _place(root, home, path: str):
    first, _, rest = path.partition("/")
    return {"definitions": root / "definitions", "sql": root / "sql", "var": home}[first] / rest


@pytest.fixture
def project(copied_catalog, tmp_path, monkeypatch):
    home = tmp_path / "var"
    generate_demo(home / "demo", start="2026-09", end="2026-10", scale=0.02, seed=3)
    monkeypatch.setenv("SCORECARD_HOME", str(home))
    monkeypatch.setenv("SCORECARD_DEFINITIONS", str(copied_catalog / "definitions"))
    monkeypatch.setenv("SCORECARD_SQL", str(copied_catalog / "sql"))
    return copied_catalog, home


def test_readme_tutorial_adds_a_source_and_a_kpi_that_reach_the_report(project):
    root, home = project
    blocks = _tutorial_blocks()
    assert len(blocks) >= 7, "the tutorial's blocks were not found"
    for lang, body in blocks:
        if lang == "sh":
            for line in body.strip().splitlines():
                assert line.startswith("scorecard "), line
                assert main(shlex.split(line)[1:]) == 0, line
            continue
        mode, path = TARGET.match(body).groups()
        target = _place(root, home, path)
        content = TARGET.sub("", body, count=1)
        target.parent.mkdir(parents=True, exist_ok=True)
        if mode == "file":
            target.write_text(content)
        else:
            target.write_text(target.read_text() + content)

    con = connect(home / "warehouse.duckdb", read_only=True)
    value, status = con.execute(
        "select v.value, s.status from kpi.kpi_values v join score.kpi_scores s "
        "using (period, kpi_id) where kpi_id = 'lead_conversion_pct' and period = '2026-10-01'"
    ).fetchone()
    con.close()
    assert value == pytest.approx(400 / 9)
    assert status == "on_track"
    pages = PdfReader(home / "reports/2026-10/scorecard.pdf").pages
    text = " ".join(" ".join(p.extract_text() for p in pages).split())
    assert "Lead conversion" in text and "44.4 %" in text

"""`scorecard check` on KPI SQL DuckDB cannot bind (an unknown function, an unknown column): one
error line naming the KPI and its SQL file, a non-zero exit, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.cli import main

NPS_SQL = """-- nps, broken on purpose
select ({expression})::double as value
from raw.crm_nps_responses
where response_date >= $window_start and response_date < $window_end
"""


MESSAGE_STARTS = ("error: ", "warning: ", "The catalog has", "scorecard check: ", "  - ")


def _check(
    copied_catalog: Path, tmp_path: Path, monkeypatch, capsys, expression: str
) -> tuple[int, list[str]]:
    monkeypatch.setenv("SCORECARD_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SCORECARD_DEFINITIONS", str(copied_catalog / "definitions"))
    monkeypatch.setenv("SCORECARD_SQL", str(copied_catalog / "sql"))
    (copied_catalog / "sql/kpis/nps.sql").write_text(NPS_SQL.format(expression=expression))
    code = main(["check"])  # a traceback would be an exception raised here
    err = capsys.readouterr().err.splitlines()
    # every line is a message of its own: no continuation, no caret, no traceback
    assert all(line.startswith(MESSAGE_STARTS) for line in err), err
    return code, [line for line in err if "nps" in line]


@pytest.mark.parametrize(
    "expression, words",
    [
        ("length(getenv('HOME'))", ["getenv", "does not exist"]),
        ("count(*) + no_such_column", ["no_such_column", "not found"]),
    ],
    ids=["unknown-function", "unknown-column"],
)
def test_sql_that_does_not_bind_is_one_line_naming_the_kpi_and_file(
    copied_catalog, tmp_path, monkeypatch, capsys, expression, words
):
    code, lines = _check(copied_catalog, tmp_path, monkeypatch, capsys, expression)
    assert code != 0
    assert len(lines) == 1, lines
    [line] = lines
    assert "sql/kpis/nps.sql" in line and ("(nps)" in line or "(KPI nps)" in line), line
    assert "does not bind" in line and all(word in line for word in words), line
    assert "^" not in line and "Traceback" not in line

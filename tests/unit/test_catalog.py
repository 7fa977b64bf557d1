"""Catalog validation: every problem names the file, the place and what is wrong."""

from __future__ import annotations

import re

import pytest
import yaml

from pipelines.catalog import CatalogError, load_catalog


def _edit(path, change):
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def _problems(root) -> list[str]:
    with pytest.raises(CatalogError) as caught:
        load_catalog(root / "definitions", root / "sql")
    return caught.value.problems


def test_shipped_catalog_is_complete(catalog):
    assert len(catalog.kpis) >= 16
    for perspective in catalog.perspectives:
        kpis = [k for o in perspective.objectives for k in catalog.kpis_of(o.id)]
        assert len(kpis) >= 4, perspective.id
    for kpi in catalog.kpis:
        assert kpi.description and kpi.owner
        assert catalog.targets.get(kpi.id), f"{kpi.id} has no targets"
        assert catalog.kpi_tables[kpi.id], f"{kpi.id} reads no table"
        assert kpi.calculated or (catalog.sql_root / kpi.sql).is_file()
    used = {k.sql for k in catalog.kpis if not k.calculated}
    shipped = {
        p.relative_to(catalog.sql_root).as_posix()
        for p in (catalog.sql_root / "kpis").glob("*.sql")
    }
    assert shipped == used, "every KPI SQL file is used, and only those exist"


def test_unknown_field_names_file_and_key(copied_catalog):
    _edit(
        copied_catalog / "definitions/kpis/financial.yaml",
        lambda d: d["kpis"][0].update(colour="red"),
    )
    problems = _problems(copied_catalog)
    assert any(
        p.startswith("kpis/financial.yaml:") and "kpis[0].colour: unknown field" in p
        for p in problems
    ), problems


def test_missing_required_field(copied_catalog):
    _edit(copied_catalog / "definitions/kpis/customer.yaml", lambda d: d["kpis"][1].pop("owner"))
    # the line is that of the KPI entry missing the field
    assert any(
        p.startswith("kpis/customer.yaml:")
        and p.endswith("kpis[1].owner: required field is missing")
        for p in _problems(copied_catalog)
    )


def test_bad_direction_value(copied_catalog):
    _edit(
        copied_catalog / "definitions/kpis/customer.yaml",
        lambda d: d["kpis"][0].update(direction="up"),
    )
    problem = next(p for p in _problems(copied_catalog) if "kpis[0].direction" in p)
    assert "higher_is_better" in problem


def test_unknown_objective_reference(copied_catalog):
    _edit(
        copied_catalog / "definitions/kpis/financial.yaml",
        lambda d: d["kpis"][0].update(objective="grow_revenu"),
    )
    problems = _problems(copied_catalog)
    assert any(
        re.match(
            r"kpis/financial\.yaml:\d+: kpis\[0\]\.objective: unknown objective 'grow_revenu'", p
        )
        for p in problems
    ), problems


def test_duplicate_kpi_id(copied_catalog):
    _edit(
        copied_catalog / "definitions/kpis/customer.yaml", lambda d: d["kpis"][1].update(id="nps")
    )
    [problem] = [p for p in _problems(copied_catalog) if "KPI id 'nps'" in p]
    assert re.fullmatch(
        r"kpis/customer\.yaml:\d+: KPI id 'nps' is defined 2 times "
        r"\(kpis/customer\.yaml:\d+, kpis/customer\.yaml:\d+\); "
        r"ids must be unique",
        problem,
    ), problem


def test_a_key_given_twice_in_a_file_is_an_error_not_a_silent_override(copied_catalog):
    """YAML keeps the last of two equal keys: a second target list would replace the first."""
    targets = copied_catalog / "definitions/targets.yaml"
    text = targets.read_text(encoding="utf-8")
    first = next(
        i
        for i, line in enumerate(text.splitlines(), 1)
        if line.strip().startswith("ticket_resolution_hours:")
    )
    targets.write_text(
        text.rstrip("\n") + "\n  ticket_resolution_hours:\n"
        '    - {from: "2026-01", value: 16, red_flag: 24}\n',
        encoding="utf-8",
    )
    last = len(targets.read_text(encoding="utf-8").splitlines()) - 1
    assert (
        f"targets.yaml:{last}: 'ticket_resolution_hours' is given twice (first on line "
        f"{first}); YAML would keep only the last one, so merge the two"
        in _problems(copied_catalog)
    )


def test_missing_sql_file(copied_catalog):
    (copied_catalog / "sql/kpis/nps.sql").unlink()
    assert any("sql/kpis/nps.sql does not exist" in p for p in _problems(copied_catalog))


def test_sql_reading_an_undeclared_table(copied_catalog):
    (copied_catalog / "sql/kpis/nps.sql").write_text(
        "select count(*) as value from raw.crm_surveys"
    )
    assert any("sql/kpis/nps.sql: reads raw.crm_surveys" in p for p in _problems(copied_catalog))


def test_band_target_for_a_one_sided_kpi(copied_catalog):
    _edit(
        copied_catalog / "definitions/targets.yaml",
        lambda d: d["targets"]["nps"].append({"from": "2026-01", "lower": 1, "upper": 2}),
    )
    assert any(
        "targets.nps (from 2026-01): a higher_is_better KPI needs value" in p
        for p in _problems(copied_catalog)
    )


def test_invalid_yaml_names_the_file(copied_catalog):
    (copied_catalog / "definitions/initiatives.yaml").write_text("initiatives: [unclosed")
    assert any(p.startswith("initiatives.yaml: not valid YAML") for p in _problems(copied_catalog))


def test_every_problem_is_reported_at_once(copied_catalog):
    _edit(
        copied_catalog / "definitions/kpis/financial.yaml",
        lambda d: d["kpis"][0].update(colour="red"),
    )
    _edit(copied_catalog / "definitions/kpis/customer.yaml", lambda d: d["kpis"][1].pop("owner"))
    problems = _problems(copied_catalog)
    assert any("financial.yaml" in p for p in problems)
    assert any("customer.yaml" in p for p in problems)

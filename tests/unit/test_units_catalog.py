"""The business units' tree as the catalog checks it, and which KPIs cascade to units."""

from __future__ import annotations

import pytest
import yaml

from benchmarks.units import drop_unit_references
from pipelines.catalog import CatalogError, load_catalog
from pipelines.periods import Period
from pipelines.settings import PROJECT_ROOT


def _with_units(root, units: list[dict]):
    (root / "definitions/units.yaml").write_text(yaml.safe_dump({"units": units}))
    drop_unit_references(root / "definitions", keep={u["id"] for u in units})
    return load_catalog(root / "definitions", root / "sql")


UNIT = {"id": "emea", "name": "EMEA", "leader": "S. Lindqvist"}


@pytest.mark.parametrize(
    ("units", "message"),
    [
        ([UNIT, {**UNIT, "id": "de", "parent": "europe"}], "de.parent: unknown unit 'europe'"),
        (
            [{**UNIT, "parent": "de"}, {**UNIT, "id": "de", "parent": "emea"}],
            "de, emea: their parents run in a circle",
        ),
        (
            [{**UNIT, "codes": ["DE"]}, {**UNIT, "id": "de", "codes": ["DE"]}],
            "de.codes: 'DE' is already emea's code",
        ),
        ([UNIT, UNIT], "unit id 'emea' is used 2 times"),
        (
            [{**UNIT, "targets": {"headcount": [{"from": "2026-01", "value": 100}]}}],
            "emea.targets.headcount \\(from 2026-01\\): a within_range KPI needs lower and upper",
        ),
        ([{**UNIT, "targets": {"sales": [{"from": "2026-01", "value": 1}]}}], "unknown KPI"),
    ],
)
def test_the_catalog_rejects_a_tree_that_cannot_be(copied_catalog, units, message):
    with pytest.raises(CatalogError, match=message):
        _with_units(copied_catalog, units)


def test_targets_inherit_up_the_tree_except_amounts(copied_catalog):
    catalog = _with_units(
        copied_catalog,
        [
            {**UNIT, "targets": {"gross_margin_pct": [{"from": "2026-01", "value": 45}]}},
            {**UNIT, "id": "de", "parent": "emea"},
        ],
    )
    march = Period(2026, 3)
    assert catalog.target_for("gross_margin_pct", march, "de").value == 45  # EMEA's
    assert catalog.target_for("csat_pct", march, "de").value == 90  # the company's
    assert catalog.target_for("revenue_usd", march, "de") is None  # an amount: its own only
    assert catalog.unit_codes("emea") == ["emea", "de"]
    assert [u.id for u in catalog.unit_chain("de")] == ["de", "emea"]


def test_without_a_unit_column_a_kpi_is_the_companys_only(shipped_definitions):
    # the shipped catalog: every demo table names its rows' country
    catalog = load_catalog(shipped_definitions, PROJECT_ROOT / "sql")
    assert catalog.units
    assert all(t.table.unit_column for t in catalog.tables)
    cascaded = {k.id for k in catalog.unit_kpis()}
    assert cascaded == {k.id for k in catalog.kpis if not k.company_only}
    assert "revenue_per_employee_usd" in cascaded  # calculated, from two unit KPIs


def test_a_units_weights_are_checked_with_those_it_inherits(copied_catalog):
    from datetime import date

    from pipelines.catalog_check import check_catalog

    sound = _with_units(copied_catalog, [{**UNIT, "weights": {"financial": 0.35, "customer": 0.2}}])
    assert not [e for e in check_catalog(sound, date(2026, 11, 28)).errors if "units" in e]
    skewed = _with_units(copied_catalog, [{**UNIT, "weights": {"financial": 0.5}}])
    errors = [e for e in check_catalog(skewed, date(2026, 11, 28)).errors if "units" in e]
    assert errors == [
        "units.yaml: emea.weights, with the weights it inherits (perspectives): the fractional "
        "weights add up to 1.2; they must add up to 1"
    ]
    with pytest.raises(CatalogError, match="emea.weights.sales: no perspective, objective or KPI"):
        _with_units(copied_catalog, [{**UNIT, "weights": {"sales": 1}}])


def test_a_units_red_flag_on_the_wrong_side_of_its_goal_is_an_error(copied_catalog):
    from datetime import date

    from pipelines.catalog_check import check_catalog

    wrong = {"from": "2026-01", "value": 98, "red_flag": 99}  # on-time delivery: higher is better
    catalog = _with_units(copied_catalog, [{**UNIT, "targets": {"on_time_delivery_pct": [wrong]}}])
    errors = [e for e in check_catalog(catalog, date(2026, 11, 28)).errors if "units" in e]
    assert errors == [
        "units.yaml: emea.targets.on_time_delivery_pct (from 2026-01): red_flag 99.0 is above "
        "the goal 98.0, but higher is better"
    ]


def test_a_tree_that_does_not_parse_is_one_error_not_every_reference_to_it(
    shipped_definitions, tmp_path
):
    import shutil

    definitions = tmp_path / "definitions"  # the demo's lists, comments, initiatives name units
    shutil.copytree(shipped_definitions, definitions)
    units = yaml.safe_load((definitions / "units.yaml").read_text())
    del units["units"][0]["leader"]
    (definitions / "units.yaml").write_text(yaml.safe_dump(units))
    with pytest.raises(CatalogError) as raised:
        load_catalog(definitions, PROJECT_ROOT / "sql")
    problems = raised.value.problems
    assert any("units.yaml" in p and "leader" in p for p in problems), problems
    assert not [p for p in problems if "unknown unit" in p]


def test_a_circle_of_parents_is_said_once_by_its_members(copied_catalog):
    units = [
        {**UNIT, "id": "europe", "parent": "de"},
        {**UNIT, "id": "de", "parent": "europe"},
        {**UNIT, "id": "fr", "parent": "europe"},
    ]
    with pytest.raises(CatalogError) as raised:
        _with_units(copied_catalog, units)
    circles = [p for p in raised.value.problems if "circle" in p]
    assert circles == ["units.yaml: de, europe: their parents run in a circle"]

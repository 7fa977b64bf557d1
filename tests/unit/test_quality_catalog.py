"""Expectations in the catalog: checked against Great Expectations' registry and each class's
arguments by the loader, every problem naming the file and table; the shipped defaults cover
every table; docs/data-quality.md documents the vocabulary."""

from __future__ import annotations

import pytest
import yaml
from documentation import documentation

from pipelines.catalog import CatalogError, load_catalog
from pipelines.catalog.expectations import PARAMETERS, PROJECT_CHECKS


def _problems_after(root, change) -> list[str]:
    path = root / "definitions/sources/finance.yaml"
    data = yaml.safe_load(path.read_text())
    change(data["tables"][0]["expectations"])  # finance.gl_entries
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(CatalogError) as caught:
        load_catalog(root / "definitions", root / "sql")
    return caught.value.problems


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            {
                "expectation": "expect_column_values_to_not_be_nul",
                "kwargs": {"column": "entry_id"},
                "severity": "error",
            },
            "(expect_column_values_to_not_be_nul): unknown expectation "
            "'expect_column_values_to_not_be_nul': Great Expectations has no expectation of that "
            "name; did you mean expect_column_values_to_not_be_null?",
        ),
        (
            {
                "expectation": "expect_column_values_to_be_between",
                "kwargs": {"colum": "amount_usd"},
                "severity": "error",
            },
            "bad kwargs: column: field required; colum: extra fields not permitted",
        ),
        (
            {
                "expectation": "expect_column_values_to_be_in_set",
                "kwargs": {"column": "currency", "value_set": ["USD"]},
                "severity": "error",
            },
            "column 'currency' is not declared under columns",
        ),
        (
            {
                "expectation": "expect_column_values_to_be_between",
                "kwargs": {"column": "entry_date", "min_value": {"$PARAMETER": "perod_start"}},
                "severity": "error",
            },
            "unknown $PARAMETER perod_start; "
            "known: period_start, period_end, next_period_start, as_of",
        ),
        (
            {"check": "row_count_vs_previous", "kwargs": {"min_ratio": 2}, "severity": "error"},
            "(row_count_vs_previous): bad kwargs: min_ratio: "
            "Input should be less than or equal to 1",
        ),
    ],
)
def test_a_bad_expectation_names_file_table_and_entry(copied_catalog, entry, expected):
    problems = _problems_after(copied_catalog, lambda entries: entries.append(entry))
    [problem] = problems
    assert problem.startswith("sources/finance.yaml:")
    assert "tables[0]: table gl_entries: expectations[13]" in problem
    assert expected in problem, problem


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            {"kwargs": {"column": "entry_id"}, "severity": "error"},
            "give exactly one of expectation (a Great Expectations name) or check",
        ),
        (
            {"expectation": "expect_column_values_to_be_unique", "kwargs": {"column": "entry_id"}},
            "tables[0].expectations[13].severity: required field is missing",
        ),
        ({"check": "row_counts", "severity": "error"}, "expectations[13].check: Input should be"),
    ],
)
def test_an_entry_of_the_wrong_shape_is_a_catalog_error(copied_catalog, entry, expected):
    problems = _problems_after(copied_catalog, lambda entries: entries.append(entry))
    assert any(p.startswith("sources/finance.yaml:") and expected in p for p in problems), problems


def test_every_shipped_table_has_the_default_expectations(catalog):
    for table in catalog.tables:
        entries = table.table.expectations
        names = {e.name for e in entries}
        assert "column_types" in names, table.key
        assert all(e.severity in ("error", "warning") for e in entries)
        key = [k for k in table.table.key if k != table.table.date_column]
        unique = {
            e.kwargs.get("column")
            for e in entries
            if e.expectation == "expect_column_values_to_be_unique"
        }
        compound = [
            e.kwargs["column_list"]
            for e in entries
            if e.expectation == "expect_compound_columns_to_be_unique"
        ]
        assert unique == set(table.table.key) or table.table.key in compound, table.key
        not_null = {
            e.kwargs.get("column")
            for e in entries
            if e.expectation == "expect_column_values_to_not_be_null"
        }
        assert set(key) <= not_null, table.key
        if table.key != "operations.defects":  # a month without defects is a good month
            assert "expect_table_row_count_to_be_between" in names, table.key


def test_the_docs_document_how_expectations_are_declared():
    readme = documentation()
    for word in (
        "`expectations`",
        "`severity`",
        "`kwargs`",
        "`max_reject_rate`",
        "$PARAMETER",
        *(f"`{c}`" for c in PROJECT_CHECKS),
        *(f"`{p}`" for p in PARAMETERS),
    ):
        assert word in readme, word
    for check, model in PROJECT_CHECKS.items():
        for name in model.model_fields:
            assert f"`{name}`" in readme, f"{check}.{name}"

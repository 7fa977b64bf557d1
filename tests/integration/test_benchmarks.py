"""The benchmark's pandas reference computes the same five KPI values as the pipeline.

Correctness only: timings are printed by `python -m benchmarks`, never asserted in tests.
"""

from __future__ import annotations

from benchmarks.pandas_reference import KPIS, compare, kpis, pipeline_values
from pipelines.defs.jobs import HISTORY_JOB
from pipelines.demo.generator import generate_demo
from pipelines.periods import Period
from pipelines.runner import run_job
from pipelines.warehouse.connection import connect

# Across a fiscal year end (January fiscal year), so the year to date restarts in the range.
FIRST, LAST = Period(2025, 11), Period(2026, 2)


def test_pandas_reference_equals_the_pipeline_on_a_tiny_demo(paths):
    generate_demo(paths.demo, start=FIRST.key, end=LAST.key, scale=0.05, seed=11)
    outcome = run_job(paths, HISTORY_JOB, FIRST, LAST)
    assert outcome.success, outcome.errors
    con = connect(paths.warehouse, read_only=True)
    try:
        pipeline = pipeline_values(con, FIRST.key, LAST.key)
    finally:
        con.close()

    reference = kpis(paths.demo, FIRST.key, LAST.key)

    check = compare(reference, pipeline)
    assert check["mismatches"] == []
    assert check["compared"] == len(KPIS) * 4
    assert all(value is not None for months in reference.values() for value in months.values())
    # the year to date restarts with the fiscal year: January's YTD margin is January's margin
    january = kpis(paths.demo, "2026-01", "2026-01")
    assert january["gross_margin_pct"]["2026-01"] == reference["gross_margin_pct"]["2026-01"]


def test_the_units_benchmarks_trees_are_valid_catalogs_over_the_spread_exports(tmp_path):
    import csv

    from benchmarks.units import CODES, _definitions, spread_units
    from pipelines.catalog import load_catalog
    from pipelines.settings import PROJECT_ROOT

    exports = tmp_path / "exports"
    generate_demo(exports, start="2026-01", end="2026-01", scale=0.01, seed=3)
    spread_units(exports)
    with open(exports / "operations/orders.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and {r["country"] for r in rows} <= set(CODES)
    assert len({r["country"] for r in rows}) == min(len(rows), len(CODES))
    for count, units, leaves in ((0, 0, 0), (1, 1, 1), (3, 3, 3), (50, 50, 45)):
        catalog = load_catalog(_definitions(tmp_path / f"t{count}", count), PROJECT_ROOT / "sql")
        assert len(catalog.units) == units
        with_rows = [u for u in catalog.units if set(u.own_codes) & set(CODES)]
        assert len(with_rows) == leaves
        tops = [u.id for u in catalog.units if u.parent is None]
        covered = {c for u in tops for c in catalog.unit_codes(u)} & set(CODES)
        assert covered == (set(CODES) if count else set())  # every row in one top unit

"""Data-quality wiring: an asset check per raw asset, and the quality gate on the scores.

The raw assets' checks run inside the load step (check_specs of the source's multi-asset), each
as soon as its table is loaded, before the step loads the next table. The KPI
step depends on the raw assets, so it always sees the checks of the data it reads, and a KPI
whose table failed an error-level check is withheld there (pipelines.quality.gate). The
`quality_gate` check on scorecard_scores then fails its step when any table of the run's months
failed to load (meta.load_failures) or failed an error-level check, one line per failure: the
run is marked failed for the data team (and the failure notice goes out), while the scores,
the report and the email, which do not depend on that step, still go out with the withheld KPIs
marked. A table whose load failed is still materialized (with `load_status: failed`), so that
nothing downstream is skipped; see docs/decisions/partial-months.md.
"""

from collections.abc import Iterator

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckKey,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    Failure,
    MetadataValue,
    PartitionsDefinition,
    asset_check,
)

from pipelines.catalog.catalog import SourceTable
from pipelines.defs.partitions import checks_by_month, one_month
from pipelines.ingest.load_failures import failed_loads
from pipelines.ingest.raw_tables import LoadResult
from pipelines.periods import Period, months_between
from pipelines.quality.ge_runner import GeValidator
from pipelines.quality.outcomes import TableVerdict
from pipelines.quality.store import failures
from pipelines.quality.validate import Validated, validate_and_record
from pipelines.warehouse.connection import memory_lent

CHECK_NAME = "quality"
GATE_NAME = "quality_gate"
MAX_LISTED = 20
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def quality_check_specs(
    tables: list[tuple[AssetKey, SourceTable]], partitions: PartitionsDefinition
) -> list[AssetCheckSpec]:
    """The `quality` check of each raw asset whose table declares expectations, partitioned by
    month like its asset: a month's run records the verdict on that month's partition."""
    return [
        AssetCheckSpec(
            CHECK_NAME,
            asset=key,
            partitions_def=partitions,
            description=f"The {len(t.table.expectations)} expectations of {t.key} in the catalog "
            "(Great Expectations), on each loaded month; ERROR when an error-level one fails.",
        )
        for key, t in tables
        if t.table.expectations
    ]


def _failing(verdicts: list[TableVerdict]) -> list[dict]:
    return [
        {
            "month": o.period,
            "expectation": o.entry.label(),
            "severity": o.entry.severity,
            "outcome": o.outcome,
            "observed": o.observed,
            "unexpected_count": o.unexpected_count,
            "message": o.message,
        }
        for v in verdicts
        for o in v.outcomes
        if o.failing
    ][:MAX_LISTED]


def _samples_md(verdicts: list[TableVerdict]) -> str:
    parts = []
    for outcome in [o for v in verdicts for o in v.outcomes if o.failing and o.sample][:5]:
        columns = list(outcome.sample[0])
        rows = ["| " + " | ".join(str(r.get(c)) for c in columns) + " |" for r in outcome.sample]
        parts.append(
            f"**{outcome.period} · {outcome.entry.label()}** ({outcome.entry.severity}, "
            f"{outcome.outcome})\n\n| {' | '.join(columns)} |\n|"
            + "---|" * len(columns)
            + "\n"
            + "\n".join(rows)
        )
    return "\n\n".join(parts) or "(no offending rows to show)"


def check_result(key: AssetKey, verdicts: list[TableVerdict], seconds: float) -> AssetCheckResult:
    """One table's verdicts over the run's months as its asset check result."""
    blocking = any(v.failed for v in verdicts)
    failing = _failing(verdicts)
    status = {v.period: v.status for v in verdicts}
    summary = ", ".join(f"{m}: {s}" for m, s in status.items() if s != "passed") or "all passed"
    return AssetCheckResult(
        asset_key=key,
        check_name=CHECK_NAME,
        passed=not failing,
        severity=AssetCheckSeverity.WARN if failing and not blocking else AssetCheckSeverity.ERROR,
        description=summary,
        metadata={
            "months": MetadataValue.json(status),
            "rows_checked": MetadataValue.int(sum(v.rows for v in verdicts)),
            "rows_rejected_at_load": MetadataValue.int(sum(v.rows_rejected for v in verdicts)),
            "checks_run": MetadataValue.int(sum(len(v.outcomes) for v in verdicts)),
            "checks_passed": MetadataValue.int(sum(v.passed for v in verdicts)),
            "checks_warned": MetadataValue.int(sum(v.warned for v in verdicts)),
            "checks_failed": MetadataValue.int(sum(v.failed for v in verdicts)),
            "checks_errored": MetadataValue.int(sum(v.errored for v in verdicts)),
            "failing_expectations": MetadataValue.json(failing),
            "sample_rows": MetadataValue.md(_samples_md(verdicts)),
            "validation_seconds": MetadataValue.float(round(seconds, 3)),
        },
    )


def load_failed_result(key: AssetKey, message: str) -> AssetCheckResult:
    """The check of a table whose load failed: nothing new was checked; the month kept its rows."""
    return AssetCheckResult(
        asset_key=key,
        check_name=CHECK_NAME,
        passed=False,
        severity=AssetCheckSeverity.ERROR,
        description="the load failed; the months keep their earlier rows and checks",
        metadata={"load_error": MetadataValue.text(message)},
    )


class QualityChecks:
    """The quality checks of one load step: which are selected, each table validated and its
    verdicts recorded as soon as it is loaded (pipelines.quality.validate). The results are
    yielded once the loads are done, in load order, each after its table's materialization.
    One Great Expectations context serves every table of the step."""

    def __init__(self, context):
        self._context = context
        self._selected = context.selected_asset_check_keys
        self._validator: GeValidator | None = None
        self._done: list[tuple[AssetKey, Validated]] = []

    def _wanted(self, key: AssetKey) -> bool:
        return AssetCheckKey(key, CHECK_NAME) in self._selected

    def after_load(
        self, con, key: AssetKey, table: SourceTable, periods: list[Period], loaded: LoadResult
    ) -> None:
        """Check a table just loaded and record its verdicts (not when its check is not
        selected); a check that could not record its verdicts raises."""
        if self._wanted(key):
            self._validator = self._validator or GeValidator()
            with memory_lent(con):  # pandas and GE's peak, not on top of DuckDB's cache
                validated = validate_and_record(
                    con, table, periods, self._context.run.run_id, self._validator, loaded
                )
            self._done.append((key, validated))

    def results(self) -> Iterator[AssetCheckResult]:
        """The checks done, in load order."""
        for key, validated in self._done:
            result = check_result(key, validated.verdicts, validated.seconds)
            if not result.passed:
                log = (
                    self._context.log.error
                    if result.severity == AssetCheckSeverity.ERROR
                    else self._context.log.warning
                )
                log(f"{validated.table.key}: data-quality check {result.description}")
            if one_month(self._context):
                yield result
                continue
            share = validated.seconds / max(1, len(validated.verdicts))
            yield from checks_by_month(
                self._context,
                [
                    (Period.parse(v.period), check_result(key, [v], share))
                    for v in validated.verdicts
                ],
            )

    def load_failed(
        self, key: AssetKey, message: str, months: list[Period]
    ) -> Iterator[AssetCheckResult]:
        """The check of a table whose load failed, on each month it failed for."""
        if self._wanted(key):
            result = load_failed_result(key, message)
            yield from checks_by_month(self._context, [(p, result) for p in months])


def _run_periods(context: AssetCheckExecutionContext) -> list[Period]:
    tags = context.run.tags
    if RANGE_START_TAG in tags:
        return months_between(
            Period.parse(tags[RANGE_START_TAG]), Period.parse(tags[RANGE_END_TAG])
        )
    keys = context.partition_key_range
    return months_between(Period.parse(keys.start), Period.parse(keys.end))


def _gate_summary(loads: int, checks: int, withheld: int) -> str:
    """'1 source load(s) failed and 2 error-level data-quality check(s) failed; 4 KPI ...'."""
    parts = ([f"{loads} source load(s) failed"] if loads else []) + (
        [f"{checks} error-level data-quality check(s) failed"] if checks else []
    )
    return f"{' and '.join(parts)}; {withheld} KPI value(s) withheld (the report marks them):"


def _failed_check_tables(found: dict[str, list]) -> set[str]:
    """'YYYY-MM: source.table' for each table with an error-level check failed in a month."""
    return {f"{month}: {f.table_key}" for month, items in found.items() for f in items}


def build_quality_gate(scores_key: AssetKey):
    """The check that fails the run when a source table failed to load or failed an
    error-level check in one of the run's months."""

    @asset_check(
        asset=scores_key,
        name=GATE_NAME,
        required_resource_keys={"warehouse"},
        description="Fails (and so fails the run, for the data team) when a source table of the "
        "run's months failed to load or failed an error-level data-quality check; the KPIs "
        "reading it are withheld, everything else is computed, reported and sent.",
    )
    def quality_gate(context: AssetCheckExecutionContext) -> Iterator[AssetCheckResult]:
        periods = _run_periods(context)
        with context.resources.warehouse.connection() as con:
            loads = failed_loads(con, periods[0], periods[-1])
            found = {p.key: failures(con, p) for p in periods}
            withheld = con.execute(
                "select strftime(period, '%Y-%m'), kpi_id, withheld_reason from kpi.kpi_values "
                "where state = 'withheld' and period >= ? and period <= ? order by all",
                [periods[0].start, periods[-1].start],
            ).fetchall()
        failed_tables = {(f.period, f.table_key) for f in loads}
        lines = [f"{f.period}: load failed: {f.message}" for f in loads] + [
            f"{month}: {f.line()}"
            for month, items in found.items()
            for f in items
            if (month, f.table_key) not in failed_tables
        ]
        months = MetadataValue.json([p.key for p in periods])
        if not lines:
            yield AssetCheckResult(passed=True, metadata={"months": months})
            return
        summary = _gate_summary(len(loads), len(lines) - len(loads), len(withheld))
        metadata = {
            "months": months,
            "failed_tables": MetadataValue.json(
                sorted({f"{f.period}: {f.table_key}" for f in loads} | _failed_check_tables(found))
            ),
            "failed_loads": MetadataValue.json([f.line() for f in loads][:100]),
            "failed_checks": MetadataValue.json(lines[len(loads) :][:100]),
            "withheld_kpis": MetadataValue.json(
                {f"{m}: {k}": reason or "" for m, k, reason in withheld[:500]}
            ),
        }
        # the verdict with its metadata on the check (what the UI shows), then the run fails
        yield AssetCheckResult(
            passed=False,
            severity=AssetCheckSeverity.ERROR,
            description=summary.rstrip(":"),
            metadata=metadata,
        )
        raise Failure(
            description=summary
            + "\n"
            + "\n".join(lines[:MAX_LISTED])
            + (f"\nand {len(lines) - MAX_LISTED} more" if len(lines) > MAX_LISTED else ""),
            metadata=metadata,
        )

    return quality_gate

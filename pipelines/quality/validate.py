"""Validate a source table's months: every expectation of the catalog, one verdict per month.

Month by month, the month's rows are fetched (pipelines.quality.frames) and Great Expectations
judges every expectation of the catalog on them as one suite: a cheap pass/fail first, then the
details (counts, a few offending rows) of those that failed. The project's own checks
(pipelines.quality.project_checks) read the month's statistics from DuckDB. One month's rows are
in memory at a time, whatever the range. `validate_and_record` is what a load step calls: the
verdicts of the months just loaded, written to quality.*.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import pyarrow as pa

from pipelines.catalog.catalog import SourceTable
from pipelines.catalog.expectations import ExpectationEntry, parameters, referenced_columns
from pipelines.ingest.raw_tables import LoadResult
from pipelines.periods import Period, months_between
from pipelines.quality.frames import fetch_month, needed_columns
from pipelines.quality.ge_runner import BOOLEAN, SAMPLE_SIZE, SUMMARY, GeResult, GeValidator
from pipelines.quality.outcomes import (
    ERRORED,
    FAILED,
    PASSED,
    CheckOutcome,
    TableVerdict,
    json_safe,
)
from pipelines.quality.project_checks import month_stats, project_outcome, raw_column_types
from pipelines.quality.store import write_verdicts


def _sample(
    table: SourceTable, entry: ExpectationEntry, part: pd.DataFrame, indexes: list
) -> tuple[dict, ...]:
    shown = [*table.table.key, table.table.date_column, *referenced_columns(entry)]
    shown = [c for c in dict.fromkeys(shown) if c in part.columns]
    rows = part.loc[[i for i in indexes[:SAMPLE_SIZE] if i in part.index], shown]
    return tuple(json_safe(r) for r in rows.to_dict("records"))


def ge_outcome(
    table: SourceTable,
    position: int,
    entry: ExpectationEntry,
    period: str,
    answer: GeResult,
    part: pd.DataFrame,
) -> CheckOutcome:
    """A GE answer for one month as a CheckOutcome, with offending rows and a message."""
    if answer.error:
        return CheckOutcome(period, position, entry, ERRORED, message=answer.error)
    result = answer.result
    unexpected, elements = result.get("unexpected_count"), result.get("element_count")
    observed = result.get("observed_value")
    if observed is None and unexpected:
        observed = result.get("partial_unexpected_list", [])[:SAMPLE_SIZE]
    if answer.success:
        return CheckOutcome(
            period, position, entry, PASSED, json_safe(observed), unexpected, elements
        )
    indexes = result.get("partial_unexpected_index_list") or []
    indexes = [i for i in indexes if isinstance(i, int | float)]
    message = (
        f"{unexpected:,} of {elements:,} rows unexpected"
        if unexpected is not None and elements is not None
        else f"observed {json_safe(observed)}"
    )
    return CheckOutcome(
        period,
        position,
        entry,
        FAILED,
        json_safe(observed),
        unexpected,
        elements,
        _sample(table, entry, part, indexes),
        message,
    )


def _in_month(
    ge: GeValidator,
    table: SourceTable,
    entries: dict[int, ExpectationEntry],
    period: Period,
    part: pd.DataFrame,
    as_of: datetime,
) -> dict[int, CheckOutcome]:
    """GE's verdict on each entry for one month: pass/fail first, details for the failures."""
    if not entries:
        return {}
    params = parameters(period, as_of)
    answers = ge.run(part, entries, params, BOOLEAN)
    failing = {p: entries[p] for p, a in answers.items() if not a.success}
    if failing:
        answers |= ge.run(part, failing, params, SUMMARY)
    return {p: ge_outcome(table, p, entries[p], period.key, a, part) for p, a in answers.items()}


def validate_table(
    con,
    table: SourceTable,
    first: Period,
    last: Period,
    as_of: datetime,
    ge: GeValidator,
    rejected: dict[str, int] | None = None,
) -> list[TableVerdict]:
    """Run every expectation of `table` on each month first..last; one verdict per month."""
    types = raw_column_types(con, table)
    stats = month_stats(con, table, first, last)
    entries = dict(enumerate(table.table.expectations))
    by_ge = {i: e for i, e in entries.items() if e.expectation}
    columns = needed_columns(table)
    verdicts = []
    for period in months_between(first, last):
        part = fetch_month(con, table, columns, period)
        latest = stats[period.key].latest if period.key in stats else None
        outcomes = _in_month(ge, table, by_ge, period, part, as_of)
        for position, entry in entries.items():
            if entry.check:
                column = entry.kwargs.get("column")
                seen = (part[column].max() if len(part) else None) if column else latest
                outcomes[position] = project_outcome(
                    entry,
                    position,
                    table,
                    period,
                    stats,
                    types,
                    None if pd.isna(seen) else pd.Timestamp(seen).to_pydatetime(),
                )
        del part
        # the month's rows came through Arrow, whose pool keeps what it freed: handed back, so
        # the next month's peak does not come on top of this one's
        pa.default_memory_pool().release_unused()
        lag = (period.last_day - latest.date()).days if latest else None
        verdicts.append(
            TableVerdict(
                period.key,
                table.key,
                stats[period.key].rows if period.key in stats else 0,
                tuple(outcomes[i] for i in sorted(outcomes)),
                (rejected or {}).get(period.key, 0),
                latest,
                lag,
            )
        )
    return verdicts


@dataclass(frozen=True)
class Validated:
    """A table's verdicts for the loaded months, as recorded, and the seconds it took."""

    table: SourceTable
    verdicts: list[TableVerdict]
    seconds: float


def validate_and_record(
    con,
    table: SourceTable,
    periods: list[Period],
    run_id: str,
    validator: GeValidator,
    loaded: LoadResult,
) -> Validated:
    """Validate a freshly loaded table's months and record the verdicts under `run_id`.

    Should the validation itself break, every expectation of the table is recorded as errored,
    so its KPIs are withheld rather than computed from unchecked data. A failure to record
    raises.
    """
    started = time.perf_counter()
    try:
        verdicts = validate_table(
            con,
            table,
            periods[0],
            periods[-1],
            datetime.now(),
            validator,
            loaded.rejected_by_period,
        )
    except Exception as exc:  # noqa: BLE001 - recorded as errored checks, never as a pass
        verdicts = errored_verdicts(
            table,
            periods,
            loaded.rows_by_period,
            f"the validation raised {type(exc).__name__}: {exc}",
        )
    write_verdicts(con, verdicts, run_id)
    return Validated(table, verdicts, time.perf_counter() - started)


def errored_verdicts(
    table: SourceTable, periods: list[Period], rows: dict[str, int], message: str
) -> list[TableVerdict]:
    """Every expectation of the table errored in each month (the validation could not run)."""
    return [
        TableVerdict(
            p.key,
            table.key,
            rows.get(p.key, 0),
            tuple(
                CheckOutcome(p.key, i, e, ERRORED, message=message)
                for i, e in enumerate(table.table.expectations)
            ),
        )
        for p in periods
    ]

"""Validation beside loading: a worker thread checks each table just loaded while the caller
loads the next.

Validation is Python (pandas and Great Expectations, one core at a time) and a load is mostly
DuckDB reading and writing on its own threads, so on two cores the two overlap. The worker
validates one table at a time, in the order submitted, each on a DuckDB cursor of its own: it
reads the table's committed months and writes only quality.*. One GE context serves every table
of the worker. Leaving the `with` block waits for the table being validated (and drops the ones
not started, should the caller have failed).
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from pipelines.catalog.catalog import SourceTable
from pipelines.ingest.raw_tables import LoadResult
from pipelines.periods import Period
from pipelines.quality.ge_runner import GeValidator
from pipelines.quality.outcomes import TableVerdict
from pipelines.quality.store import write_verdicts
from pipelines.quality.validate import errored_verdicts, validate_table


@dataclass(frozen=True)
class Validated:
    """A table's verdicts for the loaded months, as recorded, and the seconds it took."""

    table: SourceTable
    verdicts: list[TableVerdict]
    seconds: float


def validate_and_record(con, table: SourceTable, periods: list[Period], run_id: str,
                        validator: GeValidator, loaded: LoadResult) -> Validated:
    """Validate a freshly loaded table's months and record the verdicts under `run_id`.

    Should the validation itself break, every expectation of the table is recorded as errored,
    so its KPIs are withheld rather than computed from unchecked data. A failure to record
    raises.
    """
    started = time.perf_counter()
    try:
        verdicts = validate_table(con, table, periods[0], periods[-1], datetime.now(), validator,
                                  loaded.rejected_by_period)
    except Exception as exc:  # noqa: BLE001 - recorded as errored checks, never as a pass
        verdicts = errored_verdicts(table, periods, loaded.rows_by_period,
                                    f"the validation raised {type(exc).__name__}: {exc}")
    write_verdicts(con, verdicts, run_id)
    return Validated(table, verdicts, time.perf_counter() - started)


class ValidationWorker:
    """One worker thread validating the tables submitted to it, in order (see the module)."""

    def __init__(self, run_id: str):
        self._run_id = run_id
        self._validator: GeValidator | None = None
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="quality")

    def __enter__(self) -> ValidationWorker:
        return self

    def __exit__(self, *exc_info) -> None:
        self._thread.shutdown(wait=True, cancel_futures=True)

    def _validate(self, cursor, table: SourceTable, periods: list[Period],
                  loaded: LoadResult) -> Validated:
        try:
            self._validator = self._validator or GeValidator()
            return validate_and_record(cursor, table, periods, self._run_id, self._validator,
                                       loaded)
        finally:
            cursor.close()

    def submit(self, con, table: SourceTable, periods: list[Period],
               loaded: LoadResult) -> Future[Validated]:
        """Validate and record `table`'s loaded months once the tables before it are done, on
        a cursor of `con` opened here, by the caller's thread."""
        cursor = con.cursor()
        try:
            return self._thread.submit(self._validate, cursor, table, periods, loaded)
        except BaseException:
            cursor.close()
            raise

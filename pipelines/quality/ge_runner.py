"""Great Expectations, used directly: an ephemeral context, one pandas data source, one suite run.

GE's SQL engine does not work against DuckDB (every expectation ends in an IndexError inside GE),
so the rows are validated as a pandas DataFrame (pipelines.quality.frames). Progress bars are off.
Results come back per expectation as a plain `GeResult`; an expectation that raised inside GE,
or a whole run that raised, is `errored` with the exception's message.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pandas as pd

from pipelines.catalog.expectations import (
    MONTH_DATES,
    ExpectationEntry,
    parameter_names,
    referenced_columns,
)
from pipelines.quality.ge_import import import_great_expectations

# Map expectations whose verdict on a row depends on other rows in a way a superset can hide.
_NOT_ROW_LOCAL = {
    "expect_column_values_to_be_increasing", "expect_column_values_to_be_decreasing",
    "expect_column_value_z_scores_to_be_less_than", "expect_column_values_to_not_be_outliers",
}
SAMPLE_SIZE = 5
BOOLEAN, SUMMARY, COMPLETE = "BOOLEAN_ONLY", "SUMMARY", "COMPLETE"


@dataclass(frozen=True)
class GeResult:
    """One expectation's answer: success, GE's result dict, and the exception if it raised."""

    success: bool
    result: dict = field(default_factory=dict)
    error: str | None = None


def _exception(info) -> str | None:
    """The message of an exception GE caught while computing an expectation's metrics."""
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception"):
        return info.get("exception_message") or "the expectation raised an exception"
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return value.get("exception_message") or "the expectation raised an exception"
    return None


def _columns(frame: pd.DataFrame, entries: dict[int, ExpectationEntry]) -> pd.DataFrame:
    """The frame with only the columns the entries name (all, for table-level column checks)."""
    if any(e.expectation.startswith(("expect_table_column", "expect_table_columns"))
           for e in entries.values()):
        return frame
    wanted = {c for e in entries.values() for c in referenced_columns(e)}
    return frame[[c for c in frame.columns if c in wanted]]


class MemoisedConfiguration:
    """`Expectation.configuration`, computed once per expectation during one suite run.

    GE rebuilds it (a pydantic `.dict()`, a class-name conversion, a new object) on every
    access: 6,912 times for the 94 expectations of one month of the demo, some 70 per
    expectation. `memoised_configurations()` installs this in place of GE's property for the
    length of one run and restores GE's afterwards, so nothing outside a run sees it. Entries
    are keyed by the expectation object (held, so its id is not reused) and the identity of each
    of its fields, so a field set anew is recomputed. GE substitutes a run's parameters into
    the configuration it is handed, in place: sound here because every run builds its
    expectations anew and the memo ends with the run.
    """

    def __init__(self, original: property):
        self.original = original
        self.memo: dict[int, tuple] = {}

    def __get__(self, expectation, owner=None):
        if expectation is None:
            return self
        fields = tuple(map(id, expectation.__dict__.values()))
        held = self.memo.get(id(expectation))
        if held is None or held[0] is not expectation or held[1] != fields:
            held = (expectation, fields, self.original.fget(expectation))
            self.memo[id(expectation)] = held
        return held[2]

    def __set__(self, expectation, value):
        raise AttributeError("configuration is read-only")


# One suite run at a time per process: the memo replaces a class attribute, and two runs on
# two threads would each install and restore it (the second wrapping the first's memo). Runs
# are Python-bound, so taking turns costs no parallelism.
_ONE_RUN_AT_A_TIME = threading.Lock()


@contextmanager
def memoised_configurations() -> Iterator[None]:
    """GE's Expectation.configuration memoised for the length of the block, one block at a time
    across threads."""
    from great_expectations.expectations.expectation import Expectation

    with _ONE_RUN_AT_A_TIME:
        original = Expectation.__dict__["configuration"]
        Expectation.configuration = MemoisedConfiguration(original)
        try:
            yield
        finally:
            Expectation.configuration = original


class GeValidator:
    """A GE ephemeral context with a pandas data source, reused for every suite of a step."""

    def __init__(self):
        gx = import_great_expectations()
        from great_expectations.data_context.types.base import ProgressBarsConfig
        from great_expectations.execution_engine import pandas_execution_engine

        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        # GE fingerprints every DataFrame batch (an md5 over pandas' row hashes, twice per
        # validation) for a batch marker nothing here reads; on a few million rows that costs
        # more than all the expectations. Frames above the threshold are not fingerprinted.
        pandas_execution_engine.HASH_THRESHOLD = 0
        self._gx = gx
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False,
                                                             metric_calculations=False)
        asset = context.data_sources.add_pandas("scorecard").add_dataframe_asset("month")
        self._batches = asset.add_batch_definition_whole_dataframe("rows")

    def decomposable(self, entry: ExpectationEntry) -> bool:
        """Whether a pass over several months' rows means a pass in each month: a row-by-row
        (or uniqueness) expectation, without `mostly` and without a month's dates as parameter."""
        from great_expectations.expectations.expectation import (
            ColumnMapExpectation,
            ColumnPairMapExpectation,
            MulticolumnMapExpectation,
        )
        from great_expectations.expectations.registry import get_expectation_impl

        kind = get_expectation_impl(entry.expectation)
        mapped = issubclass(kind, ColumnMapExpectation | ColumnPairMapExpectation
                            | MulticolumnMapExpectation)
        mostly = entry.kwargs.get("mostly")
        return (mapped and entry.expectation not in _NOT_ROW_LOCAL
                and (mostly is None or mostly >= 1)
                and not parameter_names(entry.kwargs) & MONTH_DATES)

    def run(self, frame: pd.DataFrame, entries: dict[int, ExpectationEntry], parameters: dict,
            detail: str = SUMMARY) -> dict[int, GeResult]:
        """Validate `frame` against the entries (keyed by position) as one GE suite.

        `detail`: BOOLEAN_ONLY (success only: the cheap first pass), SUMMARY (counts and a few
        unexpected rows) or COMPLETE (every unexpected row index, to find their months).
        """
        from great_expectations.expectations.registry import get_expectation_impl

        result_format = {"result_format": detail, "partial_unexpected_count": SAMPLE_SIZE}
        if detail == COMPLETE:
            result_format["exclude_unexpected_values"] = True
        try:
            with memoised_configurations():
                suite = self._gx.ExpectationSuite(name="scorecard")
                for position, entry in entries.items():
                    suite.add_expectation(get_expectation_impl(entry.expectation)(
                        **entry.kwargs, meta={"position": position}))
                batch = self._batches.get_batch(
                    batch_parameters={"dataframe": _columns(frame, entries)})
                outcome = batch.validate(suite, result_format=result_format,
                                         expectation_parameters=parameters)
        except Exception as exc:  # GE itself failed: every expectation of the suite errored
            message = f"Great Expectations raised {type(exc).__name__}: {exc}"
            return {position: GeResult(False, {}, message) for position in entries}
        answers = {}
        for item in outcome.results:
            position = item.expectation_config.meta["position"]
            error = _exception(item.exception_info)
            if not item.success and not item.result and error is None and detail != BOOLEAN:
                error = "Great Expectations reported a failure without a result (an error in GE)"
            answers[position] = GeResult(bool(item.success) and error is None,
                                         dict(item.result or {}), error)
        for position in entries.keys() - answers.keys():
            answers[position] = GeResult(False, {}, "Great Expectations returned no result")
        return answers

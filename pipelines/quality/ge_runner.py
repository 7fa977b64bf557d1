"""Great Expectations, used directly: an ephemeral context, one pandas data source, one suite run.

GE's SQL engine does not work against DuckDB (every expectation ends in an IndexError inside GE),
so the rows are validated as a pandas DataFrame (pipelines.quality.frames). Progress bars are off.
Results come back per expectation as a plain `GeResult`; an expectation that raised inside GE,
or a whole run that raised, is `errored` with the exception's message.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import great_expectations as gx
import pandas as pd
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.expectations.registry import get_expectation_impl

from pipelines.catalog.expectations import ExpectationEntry, referenced_columns
from pipelines.quality.ge_configuration_memo import memoised_configurations

SAMPLE_SIZE = 5
BOOLEAN, SUMMARY = "BOOLEAN_ONLY", "SUMMARY"


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
    if any(
        e.expectation.startswith(("expect_table_column", "expect_table_columns"))
        for e in entries.values()
    ):
        return frame
    wanted = {c for e in entries.values() for c in referenced_columns(e)}
    return frame[[c for c in frame.columns if c in wanted]]


class GeValidator:
    """A GE ephemeral context with a pandas data source, reused for every suite of a step."""

    def __init__(self):
        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(
            globally=False, metric_calculations=False
        )
        asset = context.data_sources.add_pandas("scorecard").add_dataframe_asset("month")
        self._batches = asset.add_batch_definition_whole_dataframe("rows")
        self._context = context
        self._runs = itertools.count()

    @contextmanager
    def _registered(self, expectations: list) -> Iterator[gx.ValidationDefinition]:
        """A suite of `expectations` and a validation definition of it, registered for one
        run, then removed.

        A validation definition reads the rows once (GE fingerprints a DataFrame each time it
        makes a batch of it: 1.4 million rows a month take half a second); `Batch.validate`
        made the batch twice. The suite is filled before it is registered: each expectation
        added to a registered suite is saved on its own."""
        name = f"scorecard-{next(self._runs)}"
        suite = gx.ExpectationSuite(name=name, expectations=expectations)
        self._context.suites.add(suite)
        try:
            definition = self._context.validation_definitions.add(
                gx.ValidationDefinition(name=name, data=self._batches, suite=suite)
            )
            try:
                yield definition
            finally:
                self._context.validation_definitions.delete(name)
        finally:
            self._context.suites.delete(name)

    def run(
        self,
        frame: pd.DataFrame,
        entries: dict[int, ExpectationEntry],
        parameters: dict,
        detail: str = SUMMARY,
    ) -> dict[int, GeResult]:
        """Validate `frame` against the entries (keyed by position) as one GE suite.

        `detail`: BOOLEAN_ONLY (success only: the cheap first pass) or SUMMARY (counts and a
        few unexpected rows).
        """
        result_format = {"result_format": detail, "partial_unexpected_count": SAMPLE_SIZE}
        try:
            with memoised_configurations():
                expectations = [
                    get_expectation_impl(entry.expectation)(
                        **entry.kwargs, meta={"position": position}
                    )
                    for position, entry in entries.items()
                ]
                with self._registered(expectations) as definition:
                    outcome = definition.run(
                        batch_parameters={"dataframe": _columns(frame, entries)},
                        expectation_parameters=parameters,
                        result_format=result_format,
                    )
        except Exception as exc:  # GE itself failed: every expectation of the suite errored
            message = f"Great Expectations raised {type(exc).__name__}: {exc}"
            return {position: GeResult(False, {}, message) for position in entries}
        answers = {}
        for item in outcome.results:
            position = item.expectation_config.meta["position"]
            error = _exception(item.exception_info)
            if not item.success and not item.result and error is None and detail != BOOLEAN:
                error = "Great Expectations reported a failure without a result (an error in GE)"
            answers[position] = GeResult(
                bool(item.success) and error is None, dict(item.result or {}), error
            )
        for position in entries.keys() - answers.keys():
            answers[position] = GeResult(False, {}, "Great Expectations returned no result")
        return answers

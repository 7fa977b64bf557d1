"""The `expectations:` of a source table: Great Expectations' own names and arguments, or a
project check, each with a severity.

    expectations:
      - {expectation: expect_column_values_to_not_be_null, kwargs: {column: entry_id},
         severity: error}
      - {expectation: expect_column_values_to_be_between,
         kwargs: {column: paid_date, max_value: {$PARAMETER: as_of}}, severity: error}
      - {check: row_count_vs_previous, kwargs: {min_ratio: 0.5}, severity: error}

An `expectation` is looked up in Great Expectations' registry of expectation classes and built
with its `kwargs`, so GE's documentation applies unchanged; `{$PARAMETER: name}` is GE's own
syntax for a value supplied at validation time (PARAMETERS below). A `check` is one of the few
things GE has no expectation for (PROJECT_CHECKS). Problems are reported by the catalog loader.
"""

from __future__ import annotations

import difflib
import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pipelines.catalog.limits import Description
from pipelines.periods import Period

# Values GE fills in for {$PARAMETER: ...} when a table's month is validated.
PARAMETERS = {
    "period_start": "the first day of the month being validated",
    "period_end": "the last day of the month being validated",
    "next_period_start": "the first day of the following month",
    "as_of": "when the validation runs (now): later dates are in the future",
}
COLUMN_ARGUMENTS = ("column", "column_A", "column_B")
_NAME = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\b(?!\s*[(=])")
_GE_FUNCTIONS = {"now", "datetime", "timedelta", "abs", "trunc", "round", "sgn", "exp", "PI", "E"}


def parameters(period: Period, as_of: datetime) -> dict:
    """The value of each of PARAMETERS when `period` is validated at `as_of`."""
    return {
        "period_start": datetime.combine(period.start, datetime.min.time()),
        "period_end": datetime.combine(period.last_day, datetime.min.time()),
        "next_period_start": datetime.combine(period.end, datetime.min.time()),
        "as_of": as_of,
    }


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RowCountVsPrevious(_Strict):
    """The month has at least `min_ratio` times the previous month's rows."""

    min_ratio: float = Field(default=0.5, gt=0, le=1)
    min_previous_rows: int = Field(
        default=0,
        ge=0,
        description="Judge only when the previous month had at least this many rows.",
    )


class Freshness(_Strict):
    """The month's latest date is at most `max_lag_days` before the month's last day."""

    max_lag_days: int = Field(ge=0)
    column: str | None = Field(default=None, description="A date column; the date_column if unset.")


class ColumnTypes(_Strict):
    """The raw table has every declared column, with the declared type."""


class TotalVsPrevious(_Strict):
    """Each column's total this month is between `min_ratio` and `max_ratio` times the median
    of its totals in the `months` latest earlier months loaded (of the LOOKBACK_MONTHS before):
    an export switched from kWh to MWh passes every row check, but not this one."""

    columns: list[str] = Field(min_length=1, description="Numeric columns, each totalled.")
    max_ratio: float = Field(default=10.0, gt=1)
    min_ratio: float = Field(default=0.1, gt=0, lt=1)
    months: int = Field(
        default=3,
        ge=1,
        le=12,
        description="How many earlier months' totals the median is taken of.",
    )


LOOKBACK_MONTHS = 12  # total_vs_previous compares with months at most this far back
NUMERIC_TYPES = frozenset({"integer", "bigint", "double", "decimal"})

PROJECT_CHECKS: dict[str, type[_Strict]] = {
    "column_types": ColumnTypes,
    "row_count_vs_previous": RowCountVsPrevious,
    "freshness": Freshness,
    "total_vs_previous": TotalVsPrevious,
}


class ExpectationEntry(_Strict):
    """One expectation guarding a source table."""

    expectation: str | None = Field(
        default=None, description="A Great Expectations expectation, by its snake_case name."
    )
    check: (
        Literal["column_types", "row_count_vs_previous", "freshness", "total_vs_previous"] | None
    ) = Field(default=None, description="A project check (for what GE has no expectation for).")
    kwargs: dict[str, Any] = Field(default_factory=dict, description="Its arguments.")
    severity: Literal["error", "warning"] = Field(
        description="error: a failure withholds the KPIs reading the table; warning: listed only."
    )
    description: Description = ""

    @model_validator(mode="after")
    def _one_kind(self) -> ExpectationEntry:
        if (self.expectation is None) == (self.check is None):
            raise ValueError(
                "give exactly one of expectation (a Great Expectations name) or "
                f"check (one of {', '.join(PROJECT_CHECKS)})"
            )
        return self

    @property
    def name(self) -> str:
        """The expectation's or check's name."""
        return self.expectation or self.check

    def label(self) -> str:
        """Name and main argument, e.g. 'expect_column_values_to_be_unique(entry_id)'."""
        target = self.kwargs.get("column") or self.kwargs.get("column_list")
        if target is None and self.check:
            target = self.kwargs.get("columns")
        if target is None and "column_A" in self.kwargs:
            target = f"{self.kwargs['column_A']}, {self.kwargs.get('column_B')}"
        if isinstance(target, list):
            target = ", ".join(map(str, target))
        return f"{self.name}({target})" if target else self.name


def parameter_names(kwargs: dict) -> set[str]:
    """The parameter names the {$PARAMETER: ...} values of `kwargs` use."""
    names = set()
    for value in kwargs.values():
        if isinstance(value, dict) and "$PARAMETER" in value:
            names |= set(_NAME.findall(str(value["$PARAMETER"]))) - _GE_FUNCTIONS
    return names


def referenced_columns(entry: ExpectationEntry) -> list[str]:
    """The table columns an entry's arguments name."""
    kwargs = entry.kwargs
    names = [kwargs[a] for a in COLUMN_ARGUMENTS if isinstance(kwargs.get(a), str)]
    names += [c for c in kwargs.get("column_list") or [] if isinstance(c, str)]
    return names


def _ge_problem(entry: ExpectationEntry) -> str | None:
    from great_expectations.expectations.registry import (  # heavy: imported when needed
        get_expectation_impl,
        list_registered_expectation_implementations,
    )

    known = list_registered_expectation_implementations()
    if entry.expectation not in known:
        close = difflib.get_close_matches(entry.expectation, known, 1)
        hint = f"; did you mean {close[0]}?" if close else ""
        return (
            f"unknown expectation {entry.expectation!r}: Great Expectations has no "
            f"expectation of that name{hint}"
        )
    try:
        get_expectation_impl(entry.expectation)(**entry.kwargs)
    except Exception as exc:  # GE raises pydantic (v1) errors and its own
        errors = getattr(exc, "errors", None)
        if callable(errors):
            first = {}
            for err in errors():
                first.setdefault(".".join(map(str, err["loc"])), err["msg"])
            return "bad kwargs: " + "; ".join(f"{k}: {v}" for k, v in first.items())
        return f"bad kwargs: {exc}"
    return None


def _project_problem(entry: ExpectationEntry) -> str | None:
    try:
        PROJECT_CHECKS[entry.check].model_validate(entry.kwargs)
    except ValidationError as exc:
        return "bad kwargs: " + "; ".join(
            f"{'.'.join(map(str, e['loc'])) or '(kwargs)'}: {e['msg']}" for e in exc.errors()
        )
    return None


def entry_problems(entry: ExpectationEntry, columns: list[str]) -> list[str]:
    """What is wrong with one entry of a table whose columns are `columns`."""
    problem = _ge_problem(entry) if entry.expectation else _project_problem(entry)
    problems = [problem] if problem else []
    named = referenced_columns(entry)
    if entry.check == "freshness" and entry.kwargs.get("column"):
        named.append(entry.kwargs["column"])
    if entry.check == "total_vs_previous" and isinstance(entry.kwargs.get("columns"), list):
        named += [c for c in entry.kwargs["columns"] if isinstance(c, str)]
    problems += [f"column {c!r} is not declared under columns" for c in named if c not in columns]
    unknown = sorted(parameter_names(entry.kwargs) - set(PARAMETERS))
    if unknown:
        problems.append(f"unknown $PARAMETER {', '.join(unknown)}; known: {', '.join(PARAMETERS)}")
    return problems


def total_problems(entries: list[ExpectationEntry], types: dict[str, str]) -> list[str]:
    """The columns a total_vs_previous entry names that are not declared numeric (`types`:
    each declared column's type)."""
    return [
        f"expectations[{i}] (total_vs_previous): column {c!r} is {types[c]}; only "
        f"{', '.join(sorted(NUMERIC_TYPES))} columns have a total"
        for i, entry in enumerate(entries)
        if entry.check == "total_vs_previous"
        for c in entry.kwargs.get("columns", ())
        if types.get(c, "double") not in NUMERIC_TYPES
    ]


def expectation_problems(
    table_name: str, entries: list[ExpectationEntry], columns: list[str]
) -> str | None:
    """One message listing every problem of a table's expectations, or None."""
    lines = [
        f"expectations[{i}] ({entry.name}): {problem}"
        for i, entry in enumerate(entries)
        for problem in entry_problems(entry, columns)
    ]
    if not lines:
        return None
    return f"table {table_name}: " + " | ".join(lines)

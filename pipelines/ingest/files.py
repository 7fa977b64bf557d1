"""The file connector: CSV, Parquet, JSON lines and Excel exports, one file or a glob per table.

Each file is read and judged on its own, into one stage of the months being loaded, typed as the
catalog declares, its columns matched by name (file_stage). A file that cannot be loaded (not
readable, a declared column missing, records lost to a quote, ...) blocks the months its rows fall
in, found from what can be read of it (every month of the load when nothing tells); a file whose
rejected rows of a month are above the table's `max_reject_rate` blocks that month. The other
months are swapped in (raw_tables.replace_months, one transaction per run of consecutive months);
a blocked month keeps its earlier rows and comes back in `LoadResult.failed_periods` with why, and
when every month is blocked the load raises. Rows dated outside the months being loaded are not
this load's business. CSV, Parquet and JSON lines are read by DuckDB itself (csv_stage,
parquet_stage, text_stage); Excel through openpyxl (xlsx_read). Messages name the source, table,
file, line or row and column.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from pathlib import Path

import duckdb

from pipelines.catalog.boundaries import (
    export_roots,
    files_outside,
    full_pattern,
    outside_problem,
)
from pipelines.catalog.catalog import SourceTable
from pipelines.ingest.csv_inspect import csv_months, matching_files
from pipelines.ingest.csv_rejects import MAX_EXAMPLES, blocked_months, by_period
from pipelines.ingest.csv_stage import stage_csv
from pipelines.ingest.file_stage import FileStage, new_stage_name, stage_problems
from pipelines.ingest.parquet_stage import parquet_months, stage_parquet
from pipelines.ingest.raw_tables import (
    EmptyExportError,
    LoadResult,
    SourceLoadError,
    create_raw_table,
    replace_months,
)
from pipelines.ingest.staging import where_of
from pipelines.ingest.text_stage import (
    read_jsonl_file,
    read_xlsx_file,
    stage_text,
    text_months,
    text_stage,
)
from pipelines.periods import Period, month_runs, months_between
from pipelines.warehouse.connection import database_path, is_disk_full, warehouse_full_error

_READERS = {"jsonl": read_jsonl_file, "xlsx": read_xlsx_file}
Problem = tuple[type, str]  # the error class a month's problem raises as, and its text


def resolve_path(table: SourceTable, home: Path) -> str:
    """The table's file path or glob, relative paths taken from the runtime folder."""
    return str(full_pattern(table.table.path, home))


def export_files(table: SourceTable, home: Path) -> list[str]:
    """The files the table's path or glob matches, every one under the exports roots
    (catalog/boundaries.py); SourceLoadError naming why not, before anything is opened."""
    where = where_of(table)
    try:
        roots = export_roots(home)
    except ValueError as exc:
        raise SourceLoadError(f"{where}: {exc}") from None
    if problem := outside_problem(table.table.path, home, roots):
        raise SourceLoadError(f"{where}: path {problem}")
    files = matching_files(where, resolve_path(table, home))
    if problem := files_outside(files, home, roots):  # a link put there since
        raise SourceLoadError(f"{where}: {problem}")
    return files


def _one_line(text: str) -> str:
    return " ".join(text.split("\n"))


def _duck_error(con, table: SourceTable, what: str, exc: duckdb.Error, verb: str) -> Exception:
    """What a DuckDB error while reading or loading becomes: a full disk is the warehouse's
    problem (WarehouseFullError), anything else the source's, in one line."""
    if is_disk_full(exc):
        return warehouse_full_error(database_path(con), exc, f"the load of {table.key}")
    return SourceLoadError(
        f"{where_of(table)}: {what} could not be {verb}: {str(exc).splitlines()[0]}"
    )


def _read_each(
    stage: FileStage, files: list[str], first: Period, last: Period, as_of: datetime
) -> dict[str, SourceLoadError]:
    """Read the files one by one; the ones that failed, with their errors."""
    failed = {}
    for path in files:
        try:
            _READERS[stage.table.table.format](stage, path, first, last, as_of)
        except SourceLoadError as exc:
            failed[path] = exc
        except duckdb.Error as exc:
            if is_disk_full(exc):
                raise
            failed[path] = _duck_error(stage.con, stage.table, path, exc, "read")
    return failed


def _read_files(
    stage: FileStage, files: list[str], first: Period, last: Period, as_of: datetime
) -> dict[str, Problem]:
    """Read the files into the stage; the ones that failed, with why (without the source and
    table's name), their rows taken out again."""
    where = where_of(stage.table)
    try:
        if stage.table.table.format == "csv":
            failed = stage_csv(stage, files, first, last)
        elif stage.table.table.format == "parquet":
            failed = stage_parquet(stage, files, first, last)
        else:
            failed = _read_each(stage, files, first, last, as_of)
    except duckdb.Error as exc:
        raise _duck_error(stage.con, stage.table, stage.table.table.path, exc, "read") from None
    for path in failed:
        stage.forget(path)
    return {path: (type(exc), str(exc).removeprefix(f"{where}: ")) for path, exc in failed.items()}


def _stage(
    con, table: SourceTable, files: list[str], first: Period, last: Period, as_of: datetime
) -> tuple[FileStage, dict[str, Problem]]:
    """The stage of every file that could be read, and the files that could not."""
    if table.table.format in ("jsonl", "xlsx"):
        stage = text_stage(con, table, new_stage_name())
    else:
        stage = FileStage(con, table, new_stage_name())
        stage.create()
    try:
        failures = _read_files(stage, files, first, last, as_of)
        if stage.receiving:
            stage_text(stage, first, last, as_of, iso_too=table.table.format == "xlsx")
        stage_problems(stage, first, last, as_of)
    except BaseException:
        stage.drop()
        raise
    return stage, failures


def _months_of(con, table: SourceTable, path: str) -> set[str] | None:
    """The months a file's rows fall in, from what can be read of it; None when nothing tells."""
    if table.table.format == "csv":
        return csv_months(path, table)
    if table.table.format == "parquet":
        return parquet_months(con, table, path)
    return text_months(path, table)


def _empty_files(
    stage: FileStage, failures: dict[str, Problem], months: list[str]
) -> tuple[dict[str, list[Problem]], list[str]]:
    """What files without data rows block: nothing tells which month such a file was meant
    for, so it blocks the months no other file holds rows of (every month when none does);
    where it blocks none it is skipped, with a note."""
    empty = [
        (path, problem)
        for path, problem in failures.items()
        if issubclass(problem[0], EmptyExportError)
    ]
    held = {month for _, month in stage.loadable}
    open_months = [m for m in months if m not in held]
    blocked = {m: [problem for _, problem in empty] for m in open_months} if empty else {}
    notes = (
        []
        if open_months
        else [
            f"{text}; skipped (every month loaded has rows from the other files)"
            for _, (_, text) in empty
        ]
    )
    return blocked, notes


def _blocked(
    stage: FileStage, failures: dict[str, Problem], months: list[str]
) -> dict[str, list[Problem]]:
    """The months of the load that must keep their earlier rows, each with its problems."""

    def months_of(path: str) -> set[str] | None:
        return _months_of(stage.con, stage.table, path)

    blocked: dict[str, list[Problem]] = defaultdict(list)
    for path, problem in failures.items():
        found = months_of(path)
        for month in (m for m in months if found is None or m in found):
            blocked[month].append(problem)
    rejected = blocked_months(
        stage.rejected, stage.loadable, months, stage.table.table.max_reject_rate, months_of
    )
    for month, problems in rejected.items():
        blocked[month] += [(SourceLoadError, p) for p in problems]
    return blocked


def _message(where: str, problems: list[Problem]) -> str:
    texts = list(dict.fromkeys(text for _, text in problems))
    more = f" (and {len(texts) - MAX_EXAMPLES} more)" if len(texts) > MAX_EXAMPLES else ""
    return _one_line(f"{where}: {'; '.join(texts[:MAX_EXAMPLES])}{more}")


def _fail_all(where: str, blocked: dict[str, list[Problem]]) -> None:
    problems = [p for month in sorted(blocked) for p in blocked[month]]
    kinds = {kind for kind, _ in problems}
    kind = kinds.pop() if len(kinds) == 1 else SourceLoadError
    raise kind(_message(where, problems), None)


def load_file_table(
    con,
    table: SourceTable,
    first: Period,
    last: Period,
    home: Path,
    run_id: str,
    as_of: datetime | None = None,
) -> LoadResult:
    """Load months first..last of a file-backed table into its raw table (replacing them).

    Each file is checked (readable in the declared format, the declared columns and types, no
    record lost) and read into a stage with rejected rows counted. The months no broken file
    blocks are swapped in; the blocked ones keep their earlier rows and are returned in
    `failed_periods` with a one-line message naming the file. When every month is blocked, or
    no file matches, SourceLoadError. Added columns are kept. `as_of` (default: now) is when
    "the future" starts: a row of a loaded month dated after it is rejected.
    """
    path = resolve_path(table, home)
    where = where_of(table)
    files = export_files(table, home)
    create_raw_table(con, table)
    months = [p.key for p in months_between(first, last)]
    try:
        stage, failures = _stage(con, table, files, first, last, as_of or datetime.now())
    except duckdb.Error as exc:
        raise _duck_error(con, table, path, exc, "read") from None
    try:
        by_empty, skipped = _empty_files(stage, failures, months)
        blocked = _blocked(
            stage,
            {p: f for p, f in failures.items() if not issubclass(f[0], EmptyExportError)},
            months,
        )
        for month, problems in by_empty.items():
            blocked[month] = blocked.get(month, []) + problems
        if len(blocked) == len(months):
            _fail_all(where, blocked)
        rows: dict[str, int] = {}
        for run_first, run_last in month_runs([m for m in months if m not in blocked]):
            rows |= replace_months(
                con,
                table,
                stage.select_sql(),
                {},
                run_first,
                run_last,
                run_id,
                path,
                extra_columns=tuple(stage.extras),
            )
    except duckdb.Error as exc:
        raise _duck_error(con, table, path, exc, "loaded") from None
    finally:
        stage.drop()
    loaded_files = {f for f, m in stage.loadable if m in rows}
    counted = [
        r
        for r in stage.rejected
        if r.period in rows or (r.period is None and r.file in loaded_files)
    ]
    return LoadResult(
        table.key,
        rows,
        path,
        tuple(n for n, _ in stage.extras),
        stage.unkept,
        rejected_by_period=by_period(counted, first, last),
        failed_periods={m: _message(where, blocked[m]) for m in months if m in blocked},
        notes=(*stage.notes, *skipped),
    )

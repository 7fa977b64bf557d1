"""Which read settings of a file source's table apply to which `format`, and their checks.

The settings themselves are fields of `models.Table` (flat, beside `path`); this module is the one
place that says which format takes which, so a setting that would be silently ignored (a
`delimiter` on a Parquet table, a `sheet` on a CSV) is an error in the catalog instead.
"""

from __future__ import annotations

import codecs

FORMATS = ("csv", "parquet", "jsonl", "xlsx")
# Settings that only some formats read; `path`, `format` and `max_reject_rate` apply to all.
FORMAT_SETTINGS = {
    "delimiter": {"csv"},
    "encoding": {"csv"},
    "decimal_separator": {"csv"},
    "thousands": {"csv"},
    "date_format": {"csv", "jsonl", "xlsx"},
    "timestamp_format": {"csv", "jsonl", "xlsx"},
    "sheet": {"xlsx"},
}
# Encodings DuckDB's CSV reader decodes itself; any other is transcoded to UTF-8 first.
NATIVE_ENCODINGS = {"utf-8": "utf-8", "utf-16": "utf-16", "latin-1": "latin-1"}


def canonical_encoding(name: str) -> str:
    """Python's name of an encoding ('cp1252', 'latin-1', 'utf-8'); ValueError when unknown."""
    try:
        info = codecs.lookup(name)
    except LookupError:
        raise ValueError(f"unknown encoding {name!r} (use e.g. utf-8, latin-1, cp1252)") from None
    return "latin-1" if info.name == "iso8859-1" else info.name  # codecs says utf-8, utf-16


def _format_problem(name: str, value: str) -> str | None:
    if "%" not in value:
        return f"{name} {value!r} has no %-codes (e.g. %d.%m.%Y, %m/%d/%Y %H:%M)"
    return None


def file_settings_problem(table) -> str | None:
    """What is wrong with a file table's format settings, or None."""
    wrong = sorted(
        name
        for name, formats in FORMAT_SETTINGS.items()
        if name in table.model_fields_set and table.format not in formats
    )
    if wrong:
        return f"{', '.join(wrong)} do(es) not apply to format {table.format}"
    if table.format == "csv":
        if len(table.delimiter) != 1:
            return f"delimiter must be one character, not {table.delimiter!r}"
        if table.decimal_separator == table.delimiter:
            return (
                f"decimal_separator {table.decimal_separator!r} is also the delimiter; "
                "a file with decimal commas is usually delimiter ';'"
            )
        if table.thousands is not None and table.thousands in (
            table.decimal_separator,
            table.delimiter,
        ):
            return f"thousands {table.thousands!r} is also the decimal separator or delimiter"
    for name in ("date_format", "timestamp_format"):
        value = getattr(table, name)
        if value is not None and (problem := _format_problem(name, value)):
            return problem
    return None

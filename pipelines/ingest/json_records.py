"""JSON records as Arrow batches for staging: values kept as text, their JSON types remembered.

A JSON API has no schema, so each value is staged as text and the JSON type of every value is
recorded per column ("integer", "float", "boolean", "text", "json", "null"). Drift checks compare
those types with the catalog, and the raw table casts the text to the declared type.

A value of a declared timestamp column that carries a UTC offset (`2026-06-03T10:00:00+02:00`,
`...Z`) is converted to UTC first (`2026-06-03 08:00:00`): the warehouse's timestamps are UTC
without a zone, and a cast would drop the offset. Values without an offset are kept as written.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import UTC, datetime

import pyarrow as pa

from pipelines.ingest.staging import Stage


def json_kind(value: object) -> str:
    """The type family of one JSON value."""
    if value is None:
        return "null"
    if isinstance(value, bool):  # before int: bool is an int in Python
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "text"
    return "json"


def json_text(value: object) -> str | None:
    """A JSON value as the text DuckDB casts from."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def utc_text(value: str) -> str:
    """An ISO 8601 timestamp with a UTC offset as UTC without one; any other text as it is."""
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text[:-1] + "Z" if text.endswith("z") else text)
    except ValueError:
        return value  # not a timestamp Python reads: the cast check reports it, if it matters
    if moment.tzinfo is None:
        return value
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


def json_batch(records: list[dict], stage: Stage, timestamps: Collection[str] = ()) -> pa.Table:
    """One page of records as a table of text columns; new columns are added to the stage.

    Text values of the `timestamps` columns (the declared timestamp columns) go to UTC."""
    names = list(dict.fromkeys(key for record in records for key in record))
    kinds: dict[str, set[str]] = {name: set() for name in names}
    columns: dict[str, list] = {name: [] for name in names}
    for record in records:
        for name in names:
            value = record.get(name)
            kinds[name].add(json_kind(value))
            columns[name].append(json_text(value))
    for name in set(timestamps) & set(names):
        columns[name] = [utc_text(v) if isinstance(v, str) else v for v in columns[name]]
    stage.add_columns({name: "VARCHAR" for name in names})
    stage.note_families(kinds)
    return pa.table({name: pa.array(values, type=pa.string()) for name, values in columns.items()})


def json_raw_type(kinds: set[str]) -> str:
    """The raw table type of an added (undeclared) column, from the JSON types it carried."""
    kinds = kinds - {"null"}
    if kinds == {"integer"}:
        return "BIGINT"
    if kinds and kinds <= {"integer", "float"}:
        return "DOUBLE"
    if kinds == {"boolean"}:
        return "BOOLEAN"
    return "VARCHAR"

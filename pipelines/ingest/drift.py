"""Schema drift, the same for every connector: what a source delivers against the catalog.

- A column the catalog does not declare is an *added* column: it is kept and reported.
- A declared column the source no longer has is an error naming the source, table and column.
- A declared column whose type changed is an error too. Typed sources (a database) are compared by
  type family; text sources (JSON) may carry any type as text as long as every value reads as the
  declared type, which `check_castable` verifies on the staged rows.

All checks run before the month's rows are touched, so a drifted load leaves the last good one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from pipelines.catalog.models import Column
from pipelines.ingest.raw_tables import SQL_TYPES, SourceLoadError

# Which families of source types each declared type accepts.
ACCEPTED = {
    "varchar": {"text"},
    "integer": {"integer"},
    "bigint": {"integer"},
    "double": {"integer", "float", "decimal"},
    "decimal": {"integer", "float", "decimal"},
    "date": {"date"},
    "timestamp": {"timestamp", "date"},
    "boolean": {"boolean"},
}
_EXAMPLE_CHARS = 40
_KEEPABLE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class SchemaDriftError(SourceLoadError):
    """The source's columns no longer match the catalog: a column is missing or changed type."""


def extra_columns(
    where: str, declared: Sequence[Column], found: Sequence[str], what: str
) -> tuple[str, ...]:
    """The columns `found` adds to the declared ones; raise when a declared column is missing.

    `where` names the source and table, `what` the thing read (a file, a query, an endpoint).
    """
    names = [c.name for c in declared]
    missing = [name for name in names if name not in found]
    if missing:
        raise SchemaDriftError(
            f"{where}: {what} lacks the declared column(s) {', '.join(missing)}; "
            f"it has {', '.join(found) or 'no columns'}"
        )
    return tuple(name for name in found if name not in names)


def changed_types(
    where: str,
    declared: Sequence[Column],
    found: Mapping[str, Iterable[str]],
    text_readable: bool = False,
) -> list[Column]:
    """Raise when a declared column's source type family no longer fits its declared type.

    `found` maps each column to the type families seen ("text", "integer", "float", "decimal",
    "date", "timestamp", "boolean", "json", "null"). With `text_readable`, text is accepted for any
    declared type; the columns that arrived as text (and must be cast) are returned.
    """
    to_cast = []
    for column in declared:
        families = set(found.get(column.name, ())) - {"null"}
        accepted = ACCEPTED[column.type] | ({"text"} if text_readable else set())
        wrong = sorted(families - accepted)
        if wrong:
            raise SchemaDriftError(
                f"{where}: column {column.name} changed type: declared {column.type}, "
                f"the source now delivers {' and '.join(wrong)}"
            )
        if "text" in families and column.type != "varchar":
            to_cast.append(column)
    return to_cast


def check_castable(con, where: str, relation: str, columns: Sequence[Column]) -> None:
    """Raise when a staged text column holds a value its declared type cannot read."""
    for column in columns:
        name = '"' + column.name.replace('"', '""') + '"'
        bad = con.execute(
            f"select count(*), min({name}) from {relation} "
            f"where {name} is not null and try_cast({name} as {SQL_TYPES[column.type]}) is null"
        ).fetchone()
        if bad[0]:
            example = str(bad[1])[:_EXAMPLE_CHARS]
            raise SchemaDriftError(
                f"{where}: column {column.name} changed type: declared {column.type}, but "
                f"{bad[0]} value(s) do not read as {column.type} (e.g. {example!r})"
            )


def keepable(extras: Iterable[str]) -> tuple[list[str], tuple[str, ...]]:
    """The added columns a raw table can gain (lowercase identifiers), and the others."""
    extras = list(extras)
    return (
        [n for n in extras if _KEEPABLE.match(n)],
        tuple(n for n in extras if not _KEEPABLE.match(n)),
    )

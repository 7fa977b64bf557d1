"""The shape every KPI's SQL must have: exactly one SELECT statement.

Checked when the catalog loads (`references.py`), by `scorecard check` and again before a run
evaluates the SQL (`pipelines.kpis.evaluate`), so the rule and its wording live in one place.
"""

from __future__ import annotations

import duckdb


def single_select(con, sql: str) -> str | None:
    """A reason why `sql` is not exactly one SELECT statement, or None when it is."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        return f"does not parse: {exc}"
    kinds = [s.type.name for s in statements]
    if kinds != ["SELECT"]:
        return f"must be exactly one SELECT statement; found {', '.join(kinds) or 'none'}"
    return None

"""A backfill's verdicts, shortcuts and all, against each month validated alone without them.

Each case damages a few cells of the demo's first quarter (a value emptied, copied from another
row, swapped with another column's, or replaced by an edge value of its type), loads the damaged
tables and validates the quarter twice: in one call with every shortcut on (pipelines.quality.
shortcuts, on any number of rows, in runs of varying sizes) and month by month with none. Every
outcome, its unexpected count, observed value, sample and message must be the same.
"""

from __future__ import annotations

import csv
import random
import shutil
from datetime import date, datetime, timedelta

import pytest
from demo_homes import FIRST, LAST

from pipelines.ingest.files import load_file_table
from pipelines.ingest.raw_tables import SourceLoadError
from pipelines.periods import months_between
from pipelines.quality.ge_runner import GeValidator
from pipelines.quality.validate import validate_table
from pipelines.warehouse.connection import connect, ensure_tables

AS_OF = datetime(2026, 6, 1)
NUMBERS = ["-1", "0", "0.5", "1", "5", "6", "10", "11", "10000", "10001", "99999999", "NaN",
           "inf"]
TEXT = ["x", "sales", "enterprise", "closed_won", "voluntary", "minor", "urgent", "email",
        "revenue", "4000", "7000"]


@pytest.fixture(scope="module")
def ge() -> GeValidator:
    return GeValidator()


def _damage(rows: list[list[str]], kinds: dict[str, str], rng: random.Random) -> None:
    header, row = rows[0], rows[rng.randrange(1, len(rows))]
    column = rng.randrange(len(header))
    kind = kinds.get(header[column], "varchar")
    how = rng.choice(["empty", "copied", "swapped", "edge"])
    if how == "empty":
        row[column] = ""
    elif how == "copied":
        row[column] = rows[rng.randrange(1, len(rows))][column]
    elif how == "swapped":
        other = rng.randrange(len(header))
        row[column], row[other] = row[other], row[column]
    elif kind in ("decimal", "double", "integer", "bigint"):
        row[column] = rng.choice(NUMBERS)
    elif kind in ("date", "timestamp"):
        day = date.fromisoformat(row[column][:10]) if row[column][:10] else date(2026, 2, 15)
        moved = day + timedelta(days=rng.choice([-400, -40, -1, 1, 30, 200]))
        row[column] = moved.isoformat() + (row[column][10:] if kind == "timestamp" else "")
    else:
        row[column] = rng.choice(TEXT)


def _shape(verdicts) -> list[tuple]:
    return [(v.period, o.position, o.outcome, o.unexpected_count or 0,
             *((repr(o.observed), repr(o.sample), o.message) if o.failing else ()))
            for v in verdicts for o in v.outcomes]


@pytest.mark.parametrize("seed", range(12))
def test_a_backfill_gives_each_month_the_verdict_it_gets_alone_whatever_the_damage(
        seed, quarter_exports, catalog, ge, tmp_path, monkeypatch):
    rng = random.Random(seed)
    shutil.copytree(quarter_exports, tmp_path / "demo")
    con = connect(tmp_path / "warehouse.duckdb")
    ensure_tables(con)
    for table in rng.sample(catalog.tables, 3):
        path = tmp_path / table.table.path
        kinds = {c.name: c.type for c in table.table.columns}
        for _ in range(5):  # damage the pristine file until the load takes it
            with (quarter_exports / path.relative_to(tmp_path / "demo")).open(newline="") as file:
                rows = list(csv.reader(file))
            for _ in range(rng.randint(1, 6)):
                _damage(rows, kinds, rng)
            with path.open("w", newline="") as file:
                csv.writer(file).writerows(rows)
            try:
                load_file_table(con, table, FIRST, LAST, tmp_path, "damaged", as_of=AS_OF)
                break
            except SourceLoadError:  # refused at the gate (a value that does not parse, say)
                continue
        monkeypatch.setattr("pipelines.quality.shortcuts.MIN_ROWS", 0)
        monkeypatch.setattr("pipelines.quality.shortcuts.HASHES_PER_RUN", rng.choice([1, 10**6]))
        monkeypatch.setattr("pipelines.quality.validate.ROWS_PER_PASS", rng.choice([1, 10**7]))
        together = validate_table(con, table, FIRST, LAST, AS_OF, ge)
        monkeypatch.setattr("pipelines.quality.shortcuts.MIN_ROWS", 10**12)
        monkeypatch.setattr("pipelines.quality.validate.ROWS_PER_PASS", 10**7)
        alone = [v for month in months_between(FIRST, LAST)
                 for v in validate_table(con, table, month, month, AS_OF, ge)]
        assert _shape(together) == _shape(alone), table.key
    con.close()

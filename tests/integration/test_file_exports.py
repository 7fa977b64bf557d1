"""Exports as they arrive: one file per month behind a glob, or one file holding years of history.

Each file is judged on its own: a broken file blocks only the months its rows fall in (those
months keep their earlier rows and come back in `failed_periods`, naming the file), rows of months
not being loaded are not this load's business (future or not), columns are matched by name in
any order and ignoring case and surrounding spaces, and a CSV whose quotes lost records fails
naming the line. Every test writes real files into tmp_path and loads them into a real DuckDB.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from connector_fixtures import source_table
from openpyxl import Workbook

from pipelines.ingest.drift import SchemaDriftError
from pipelines.ingest.files import load_file_table
from pipelines.ingest.raw_tables import SourceLoadError
from pipelines.periods import Period

MAY, JUN, JUL = Period(2026, 5), Period(2026, 6), Period(2026, 7)
AS_OF = datetime(2026, 8, 1)
HEADER = ["meter_id", "reading_date", "kwh"]
WHERE = "source facilities, table energy: "


def _table(path: str, **settings):
    return source_table(
        {
            "source": "facilities",
            "connector": {"kind": "file"},
            "tables": [
                {
                    "name": "energy",
                    "path": path,
                    "date_column": "reading_date",
                    "key": ["meter_id", "reading_date"],
                    "columns": [
                        {"name": "meter_id", "type": "varchar", "nullable": False},
                        {"name": "reading_date", "type": "date", "nullable": False},
                        {"name": "kwh", "type": "decimal"},
                    ],
                    **settings,
                }
            ],
        }
    )


def _rows(month: Period, count: int, kwh: float = 10.0) -> list[list[str]]:
    """`count` readings of a month: meter M-1.. on days 1.., kwh from `kwh` up."""
    return [[f"M-{i}", f"{month.key}-{i:02d}", f"{kwh + i}"] for i in range(1, count + 1)]


def _csv(path, rows: list[list[str]], header=HEADER, newline="\n", encoding="utf-8"):
    path.write_bytes(
        newline.join(",".join(r) for r in [header, *rows]).encode(encoding) + newline.encode()
    )


def _load(duck, table, tmp_path, first, last, run="run", as_of=AS_OF):
    return load_file_table(duck, table, first, last, tmp_path, run, as_of=as_of)


def _raw(duck) -> dict[str, list[tuple]]:
    """The raw rows per month: (meter, day, kwh, run)."""
    rows = duck.execute(
        "select strftime(_period, '%Y-%m'), meter_id, reading_date, kwh, _run_id "
        "from raw.facilities_energy order by all"
    ).fetchall()
    months: dict[str, list[tuple]] = {}
    for month, *row in rows:
        months.setdefault(month, []).append(tuple(row))
    return months


def _monthly_exports(tmp_path, counts: dict[Period, int], kwh: float) -> None:
    folder = tmp_path / "exports"
    folder.mkdir(exist_ok=True)
    for month, count in counts.items():
        _csv(folder / f"energy_{month.key}.csv", _rows(month, count, kwh))


BROKEN_JUNE = {
    "a value that does not parse": (
        lambda rows: rows[:1] + [["M-2", "2026-06-02", "12.5 kWh"]] + rows[2:],
        "energy_2026-06.csv (2026-06): 1 of 3 rows rejected (33.33%, the table allows 0.00%; "
        "max_reject_rate in the catalog): {folder}/energy_2026-06.csv line 3, column kwh: "
        '"12.5 kWh" is not a number',
    ),
    "an unterminated quote": (
        lambda rows: rows[:1] + [["M-2", "2026-06-02", '"12.5']] + rows[2:],
        "energy_2026-06.csv line 3, column kwh: a quoted value is never closed (an "
        "unterminated quote)",
    ),
    "a stray quote closed by another": (
        lambda rows: [["M-1", '"2026-06-01', "11.0"], ["M-2", '2026-06-02"', "12.0"], *rows[2:]],
        "energy_2026-06.csv line 2: a quoted value opened on this line is closed only on line 3",
    ),
}


@pytest.mark.parametrize("case", list(BROKEN_JUNE))
def test_a_broken_june_file_blocks_june_only(duck, tmp_path, case):
    table = _table("exports/energy_*.csv")
    _monthly_exports(tmp_path, {MAY: 3, JUN: 4, JUL: 5}, kwh=10.0)
    _load(duck, table, tmp_path, MAY, JUL, "first")
    before = _raw(duck)
    _monthly_exports(tmp_path, {MAY: 2, JUL: 6}, kwh=100.0)
    breaks, expected = BROKEN_JUNE[case]
    folder = tmp_path / "exports"
    _csv(folder / "energy_2026-06.csv", breaks(_rows(JUN, 3, 100.0)))

    result = _load(duck, table, tmp_path, MAY, JUL, "second")

    assert result.rows_by_period == {"2026-05": 2, "2026-07": 6}
    assert list(result.failed_periods) == ["2026-06"]
    message = result.failed_periods["2026-06"]
    assert message.startswith(WHERE + f"{folder}/energy_2026-06.csv"), message
    assert expected.format(folder=folder) in message
    assert "energy_*" not in message and "\n" not in message
    after = _raw(duck)
    assert after["2026-06"] == before["2026-06"]  # June keeps its earlier rows
    assert {row[3] for row in after["2026-05"] + after["2026-07"]} == {"second"}
    assert [row[2] for row in after["2026-07"]] == [Decimal(f"{100 + i}.0000") for i in range(1, 7)]
    loads = duck.execute(
        "select strftime(period, '%Y-%m'), rows_loaded, run_id from meta.loads order by 1"
    ).fetchall()
    assert loads == [("2026-05", 2, "second"), ("2026-06", 4, "first"), ("2026-07", 6, "second")]


def test_a_broken_file_of_the_only_month_loaded_fails_the_load(duck, tmp_path):
    table = _table("exports/energy_*.csv")
    _monthly_exports(tmp_path, {MAY: 3, JUN: 4}, kwh=10.0)
    _load(duck, table, tmp_path, MAY, JUN, "first")
    before = _raw(duck)
    _csv(tmp_path / "exports/energy_2026-06.csv", [["M-1", "2026-06-01", "1O.5"]])
    with pytest.raises(SourceLoadError) as caught:
        _load(duck, table, tmp_path, JUN, JUN, "second")
    assert caught.value.periods is None
    assert str(caught.value) == (
        f"{WHERE}{tmp_path}/exports/energy_2026-06.csv (2026-06): 1 of 1 rows rejected (100.00%, "
        "the table allows 0.00%; max_reject_rate in the catalog): "
        f'{tmp_path}/exports/energy_2026-06.csv line 2, column kwh: "1O.5" is not a number '
        "(digits and '.', no thousands separators)"
    )
    assert _raw(duck) == before


def test_a_broken_file_of_another_month_is_not_judged(duck, tmp_path):
    table = _table("exports/energy_*.csv")
    _monthly_exports(tmp_path, {JUN: 3, JUL: 4}, kwh=10.0)
    (tmp_path / "exports/energy_2026-06.csv").write_text(
        'meter_id,reading_date,kwh\nM-1,2026-06-01,"5\nM-2,2026-06-02,6\n'
    )
    result = _load(duck, table, tmp_path, JUL, JUL)
    assert result.rows_by_period == {"2026-07": 4}
    assert result.failed_periods == {} and result.rejected_by_period == {}


def test_an_empty_file_blocks_only_the_months_no_other_file_holds(duck, tmp_path):
    table = _table("exports/energy_*.csv")
    _monthly_exports(tmp_path, {MAY: 3, JUN: 4, JUL: 5}, kwh=10.0)
    _load(duck, table, tmp_path, MAY, JUL, "first")
    before = _raw(duck)
    (tmp_path / "exports/energy_2026-06.csv").write_bytes(b"")
    result = _load(duck, table, tmp_path, MAY, JUL, "second")
    assert result.rows_by_period == {"2026-05": 3, "2026-07": 5}
    assert result.failed_periods == {
        "2026-06": (
            f"{WHERE}{tmp_path}/exports/energy_2026-06.csv is empty (0 rows, no header); "
            "the export wrote nothing"
        )
    }
    assert _raw(duck)["2026-06"] == before["2026-06"]  # June keeps its earlier rows


def test_an_empty_file_of_another_month_is_skipped_with_a_note(duck, tmp_path):
    table = _table("exports/energy_*.csv")
    _monthly_exports(tmp_path, {MAY: 3, JUN: 4, JUL: 5}, kwh=10.0)
    (tmp_path / "exports/energy_2026-05.csv").write_text("meter_id,reading_date,kwh\n")
    result = _load(duck, table, tmp_path, JUN, JUL)
    assert result.rows_by_period == {"2026-06": 4, "2026-07": 5}
    assert result.failed_periods == {}
    assert result.notes == (
        f"{tmp_path}/exports/energy_2026-05.csv has a header but no data "
        "rows; skipped (every month loaded has rows from the other files)",
    )


def test_a_lone_empty_file_fails_every_month(duck, tmp_path):
    table = _table("exports/energy_*.csv")
    _monthly_exports(tmp_path, {JUN: 4}, kwh=10.0)
    _load(duck, table, tmp_path, JUN, JUN, "first")
    before = _raw(duck)
    (tmp_path / "exports/energy_2026-06.csv").write_bytes(b"")
    with pytest.raises(SourceLoadError) as caught:
        _load(duck, table, tmp_path, MAY, JUL, "second")
    assert caught.value.periods is None
    assert str(caught.value) == (
        f"{WHERE}{tmp_path}/exports/energy_2026-06.csv is empty (0 rows, "
        "no header); the export wrote nothing"
    )
    assert _raw(duck) == before


def _parquet(path, rows, as_text: bool = False):
    kwh = [r[2] if as_text else float(r[2]) for r in rows]
    pq.write_table(
        pa.table(
            {
                "meter_id": [r[0] for r in rows],
                "reading_date": [date.fromisoformat(r[1]) for r in rows],
                "kwh": kwh,
            }
        ),
        path,
    )


def _jsonl(path, rows, broken_line: int | None = None):
    lines = [json.dumps(dict(zip(HEADER, r, strict=True))) for r in rows]
    if broken_line is not None:
        lines[broken_line] = lines[broken_line][:-1]  # the closing brace cut off
    path.write_text("\n".join(lines) + "\n")


def _xlsx(path, rows, header=HEADER):
    book = Workbook()
    book.active.append(header)
    for row in rows:
        book.active.append(row)
    book.save(path)


BROKEN_FORMATS = {
    "parquet": (
        lambda p, rows: _parquet(p, rows, as_text=True),
        "energy_2026-06.parquet: column kwh changed type: declared decimal, the source "
        "now delivers text",
    ),
    "jsonl": (
        lambda p, rows: _jsonl(p, rows, broken_line=1),
        "energy_2026-06.jsonl is not valid JSON lines",
    ),
    "xlsx": (
        lambda p, rows: _xlsx(p, [*rows[:2], ["M-3", "2026-06-03", "lots"]]),
        'energy_2026-06.xlsx row 4, column kwh: "lots" is not a number',
    ),
}
WRITERS = {"parquet": _parquet, "jsonl": _jsonl, "xlsx": _xlsx}


@pytest.mark.parametrize("fmt", list(BROKEN_FORMATS))
def test_a_broken_june_file_of_each_format_blocks_june_only(duck, tmp_path, fmt):
    folder = tmp_path / "exports"
    folder.mkdir()
    table = _table(f"exports/energy_*.{fmt}", format=fmt)
    for month, count in ((MAY, 3), (JUN, 4), (JUL, 5)):
        WRITERS[fmt](folder / f"energy_{month.key}.{fmt}", _rows(month, count))
    _load(duck, table, tmp_path, MAY, JUL, "first")
    before = _raw(duck)
    breaks, expected = BROKEN_FORMATS[fmt]
    breaks(folder / f"energy_2026-06.{fmt}", _rows(JUN, 3))
    result = _load(duck, table, tmp_path, MAY, JUL, "second")
    assert result.rows_by_period == {"2026-05": 3, "2026-07": 5}
    assert list(result.failed_periods) == ["2026-06"]
    assert result.failed_periods["2026-06"].startswith(WHERE), result.failed_periods
    assert expected in result.failed_periods["2026-06"]
    assert _raw(duck)["2026-06"] == before["2026-06"]


def _history(tmp_path, bad_month: str | None = None) -> None:
    """One export of every month 2024-01..2027-06 (past today), three readings a month."""
    rows = []
    for month in (Period(2024, 1).shift(i) for i in range(42)):
        rows += _rows(month, 3)
    if bad_month:
        rows[rows.index(["M-2", f"{bad_month}-02", "12.0"])][2] = "n/a"
    _csv(tmp_path / "history.csv", rows)


def test_a_multi_year_export_with_rows_after_today_loads_one_month(duck, tmp_path):
    _history(tmp_path, bad_month="2024-05")
    result = _load(
        duck,
        _table("history.csv"),
        tmp_path,
        Period(2025, 3),
        Period(2025, 3),
        as_of=datetime(2026, 6, 10),
    )
    assert result.rows_by_period == {"2025-03": 3}
    assert result.failed_periods == {} and result.rejected_by_period == {}


def test_a_bad_row_of_a_multi_year_export_blocks_its_month_only(duck, tmp_path):
    _history(tmp_path, bad_month="2024-05")
    first, last = Period(2024, 1), Period(2026, 5)
    result = _load(duck, _table("history.csv"), tmp_path, first, last, as_of=datetime(2026, 6, 10))
    assert list(result.failed_periods) == ["2024-05"]
    assert (
        f'{tmp_path}/history.csv line 15, column kwh: "n/a" is not a number'
        in result.failed_periods["2024-05"]
    )
    assert len(result.rows_by_period) == 28 and set(result.rows_by_period.values()) == {3}
    assert "2024-05" not in _raw(duck)


def test_a_row_after_today_in_a_loaded_month_is_rejected(duck, tmp_path):
    _csv(tmp_path / "energy.csv", [*_rows(JUN, 3), ["M-9", "2026-06-20", "1.0"]])
    with pytest.raises(SourceLoadError) as caught:
        _load(duck, _table("energy.csv"), tmp_path, JUN, JUN, as_of=datetime(2026, 6, 10))
    assert (
        f"{tmp_path}/energy.csv, row meter_id=M-9, reading_date=2026-06-20, column "
        "reading_date: 2026-06-20 is in the future (after 2026-06-10 00:00)" in str(caught.value)
    )
    assert "1 of 4 rows rejected" in str(caught.value)


def test_files_with_reordered_columns_load_by_name(duck, tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    _csv(folder / "energy_2026-05.csv", _rows(MAY, 2))
    _csv(
        folder / "energy_2026-06.csv",
        [[r[2], r[0], r[1]] for r in _rows(JUN, 2)],
        header=["kwh", "meter_id", "reading_date"],
    )
    result = _load(duck, _table("exports/energy_*.csv"), tmp_path, MAY, JUN)
    assert result.rows_by_period == {"2026-05": 2, "2026-06": 2}
    assert result.notes == ()
    assert _raw(duck)["2026-06"] == [
        ("M-1", date(2026, 6, 1), Decimal("11.0000"), "run"),
        ("M-2", date(2026, 6, 2), Decimal("12.0000"), "run"),
    ]


LOOSE = [" Meter_ID ", "READING_DATE", "kwh "]


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl", "xlsx"])
def test_a_header_differing_in_case_or_spaces_is_matched_and_said(duck, tmp_path, fmt):
    path = tmp_path / f"energy.{fmt}"
    rows = _rows(JUN, 2)
    if fmt == "csv":
        _csv(path, rows, header=LOOSE)
    elif fmt == "parquet":
        pq.write_table(
            pa.table(
                {
                    LOOSE[0]: [r[0] for r in rows],
                    LOOSE[1]: [date.fromisoformat(r[1]) for r in rows],
                    LOOSE[2]: [float(r[2]) for r in rows],
                }
            ),
            path,
        )
    elif fmt == "jsonl":
        path.write_text("".join(json.dumps(dict(zip(LOOSE, r, strict=True))) + "\n" for r in rows))
    else:
        _xlsx(path, rows, header=LOOSE)
    result = _load(duck, _table(f"energy.{fmt}", format=fmt), tmp_path, JUN, JUN)
    assert result.rows_by_period == {"2026-06": 2} and result.extra_columns == ()
    assert result.notes == (
        f"{path}: column ' Meter_ID ' read as meter_id",
        f"{path}: column 'READING_DATE' read as reading_date",
        f"{path}: column 'kwh ' read as kwh",
    )
    assert [r[:3] for r in _raw(duck)["2026-06"]] == [
        ("M-1", date(2026, 6, 1), Decimal("11.0000")),
        ("M-2", date(2026, 6, 2), Decimal("12.0000")),
    ]


def test_a_column_named_twice_ignoring_case_is_refused(duck, tmp_path):
    _csv(tmp_path / "energy.csv", [[*r, "x"] for r in _rows(JUN, 1)], header=[*HEADER, "KWH"])
    with pytest.raises(
        SourceLoadError,
        match=r"energy.csv line 1 names column\(s\) KWH, kwh "
        "more than once",
    ):
        _load(duck, _table("energy.csv"), tmp_path, JUN, JUN)


def _export_118(tmp_path, edit) -> None:
    """An export of 118 readings of June (line n+1 holds reading n), edited by `edit`."""
    rows = [[f"M-{i}", f"2026-06-{i % 28 + 1:02d}", f"{i}.5"] for i in range(1, 119)]
    edit(rows)
    _csv(tmp_path / "energy.csv", rows)


def _unterminated(rows):
    rows[5][2] = '"6.5'  # line 7: opened, never closed on its line
    rows[116][2] = '117.5"'  # line 118: the next quote of the file, an inch mark


def _stray_pair(rows):
    rows[19][0] = '"M-20'  # line 21
    rows[20][0] = 'M-21"'  # line 22


def _quote_then_text(rows):
    rows[29][0] = '"M-30" (old)'  # line 31


LOST_RECORDS = {
    "an unterminated quote closed by a later one": (
        _unterminated,
        "energy.csv line 7: a quoted value opened on this line is closed only "
        "on line 118, swallowing 111 line break(s) between lines that read as "
        "rows of their own (an unterminated or stray quote)",
    ),
    "two stray quotes merging two rows": (
        _stray_pair,
        "energy.csv line 21: a quoted value opened on this line is closed only on "
        "line 22, swallowing 1 line break(s) between lines that read as rows of "
        "their own",
    ),
    "a stray quote after a closing one": (
        _quote_then_text,
        "energy.csv line 31, column meter_id: a quoted value goes on after its "
        "closing quote (a stray quote)",
    ),
}


@pytest.mark.parametrize("case", list(LOST_RECORDS))
def test_a_csv_that_would_lose_records_to_a_quote_fails_naming_the_line(duck, tmp_path, case):
    table = _table("energy.csv", max_reject_rate=0.5)
    _export_118(tmp_path, lambda rows: None)
    assert _load(duck, table, tmp_path, JUN, JUN, "good").rows_by_period == {"2026-06": 118}
    before = _raw(duck)
    edit, expected = LOST_RECORDS[case]
    _export_118(tmp_path, edit)
    with pytest.raises(SourceLoadError) as caught:
        _load(duck, table, tmp_path, JUN, JUN, "bad")
    assert str(caught.value).startswith(f"{WHERE}{tmp_path}/{expected}"), str(caught.value)
    assert _raw(duck) == before


def test_a_lost_record_in_a_transcoded_export_names_the_export(duck, tmp_path):
    def edit(rows):
        _unterminated(rows)
        rows[0][0] = "Zähler-1"

    _export_118(tmp_path, edit)
    (tmp_path / "energy.csv").write_bytes((tmp_path / "energy.csv").read_text().encode("cp1252"))
    with pytest.raises(SourceLoadError) as caught:
        _load(duck, _table("energy.csv", encoding="cp1252"), tmp_path, JUN, JUN)
    assert str(caught.value).startswith(f"{WHERE}{tmp_path}/energy.csv line 7: a quoted value")


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_quoted_values_spanning_lines_load_whole(duck, tmp_path, newline):
    """Multi-line comments, quoted delimiters and doubled quotes are records, not lost ones."""
    table = source_table(
        {
            "source": "facilities",
            "connector": {"kind": "file"},
            "tables": [
                {
                    "name": "energy",
                    "path": "notes.csv",
                    "date_column": "reading_date",
                    "columns": [
                        {"name": "meter_id", "type": "varchar"},
                        {"name": "reading_date", "type": "date"},
                        {"name": "note", "type": "varchar"},
                    ],
                }
            ],
        }
    )
    lines = [
        '"meter_id","reading_date","note"',
        '"M-1","2026-06-01","checked, fine"',
        f'"M-2","2026-06-02","first line{newline}second, with a comma{newline}{newline}end"',
        f'"M-3","2026-06-03","the ""big"" one{newline}M-9 was read, 2026-06-09"',
        "M-4,2026-06-04,plain",
    ]
    (tmp_path / "notes.csv").write_bytes((newline.join(lines) + newline).encode())
    result = _load(duck, table, tmp_path, JUN, JUN)
    assert result.rows_by_period == {"2026-06": 4}
    notes = duck.execute("select note from raw.facilities_energy order by meter_id").fetchall()
    assert notes[1][0] == f"first line{newline}second, with a comma{newline}{newline}end"
    assert notes[2][0] == f'the "big" one{newline}M-9 was read, 2026-06-09'


def test_a_missing_column_names_the_file_not_the_glob(duck, tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    _csv(folder / "energy_2026-06.csv", [r[:2] for r in _rows(JUN, 2)], header=HEADER[:2])
    with pytest.raises(SchemaDriftError) as caught:
        _load(duck, _table("exports/energy_*.csv"), tmp_path, JUN, JUN)
    assert str(caught.value) == (
        f"{WHERE}{folder}/energy_2026-06.csv lacks the declared "
        "column(s) kwh; it has meter_id, reading_date"
    )


def test_a_shared_scan_that_fails_is_repeated_file_by_file(duck, tmp_path, monkeypatch):
    """Files sharing a header are read in one scan; when DuckDB fails it, each file is read
    alone, so only the one DuckDB cannot read is blamed and no row is read twice."""
    from pipelines.ingest import csv_stage

    _monthly_exports(tmp_path, {MAY: 2, JUN: 3, JUL: 4}, kwh=10.0)
    read = csv_stage._read

    def failing(stage, paths, *args):
        if len(paths) > 1 or paths[0].endswith("energy_2026-06.csv"):
            raise duckdb.IOException(f"IO Error: cannot read {paths[-1]}\nmore detail")
        return read(stage, paths, *args)

    monkeypatch.setattr(csv_stage, "_read", failing)
    result = _load(duck, _table("exports/energy_*.csv"), tmp_path, MAY, JUL)
    assert result.rows_by_period == {"2026-05": 2, "2026-07": 4}
    assert result.failed_periods == {
        "2026-06": (
            f"{WHERE}{tmp_path}/exports/energy_2026-06.csv could not be read: "
            f"IO Error: cannot read {tmp_path}/exports/energy_2026-06.csv"
        )
    }


def test_a_shared_parquet_scan_that_fails_is_repeated_file_by_file(duck, tmp_path, monkeypatch):
    from pipelines.ingest import parquet_stage

    folder = tmp_path / "exports"
    folder.mkdir()
    for month, count in ((MAY, 2), (JUN, 3), (JUL, 4)):
        _parquet(folder / f"energy_{month.key}.parquet", _rows(month, count))
    insert = parquet_stage._insert

    def failing(stage, paths, *args):
        if len(paths) > 1 or paths[0].endswith("energy_2026-06.parquet"):
            raise duckdb.IOException("IO Error: cannot read the file")
        return insert(stage, paths, *args)

    monkeypatch.setattr(parquet_stage, "_insert", failing)
    table = _table("exports/energy_*.parquet", format="parquet")
    result = _load(duck, table, tmp_path, MAY, JUL)
    assert result.rows_by_period == {"2026-05": 2, "2026-07": 4}
    assert result.failed_periods == {
        "2026-06": f"{WHERE}{folder}/energy_2026-06.parquet could "
        "not be read: IO Error: cannot read the file"
    }


@pytest.mark.parametrize("last_field", ["12.5", '"12.5"'])
def test_a_crlf_export_with_one_bare_lf_line_loads_whole(duck, tmp_path, last_field):
    """An export mixing CRLF and LF line endings (rows appended by another tool) loads every
    row; DuckDB alone failed the file ("invalid state") or blamed a closed quote."""
    rows = _rows(JUN, 6)
    rows[3][2] = last_field
    lines = [",".join(r) for r in [HEADER, *rows]]
    body = "\r\n".join(lines[:4]) + "\r\n" + lines[4] + "\n" + "\r\n".join(lines[5:]) + "\r\n"
    (tmp_path / "energy.csv").write_bytes(body.encode())
    result = _load(duck, _table("energy.csv"), tmp_path, JUN, JUN)
    assert result.rows_by_period == {"2026-06": 6} and result.failed_periods == {}
    kwh = dict(duck.execute("select meter_id, kwh from raw.facilities_energy").fetchall())
    assert kwh["M-4"] == Decimal("12.5")

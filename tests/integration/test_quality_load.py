"""Broken CSV exports: each is a clear load error naming the source, file, line or row and column,
and the month keeps the rows it had; or, within max_reject_rate, the bad rows are left out and
counted. No value is coerced: it loads as written or its row is rejected."""

from __future__ import annotations

import codecs
from datetime import datetime

import pytest

from pipelines.catalog.catalog import SourceTable
from pipelines.ingest.files import load_file_table
from pipelines.ingest.raw_tables import SourceLoadError
from pipelines.periods import Period
from pipelines.warehouse.connection import connect, ensure_tables

JAN, FEB = Period(2026, 1), Period(2026, 2)
AS_OF = datetime(2026, 6, 1)
HEADER = "entry_id,entry_date,account_code,account_name,account_type,department,amount_usd,country"
GOOD = [
    "GL-1,2026-01-05,4000,Product revenue,revenue,sales,1000.00,DE",
    "GL-2,2026-01-20,4100,Service revenue,revenue,field_service,500.00,FR",
    "GL-3,2026-01-21,5000,Materials,cost_of_sales,manufacturing,600.00,DE",
    "GL-4,2026-01-31,6000,Salaries,operating_expense,people,300.00,US",
    "GL-5,2026-02-01,4000,Product revenue,revenue,sales,2000.00,US",
]


@pytest.fixture
def loaded(paths, catalog, tiny_exports):
    """A warehouse whose January and February of finance.gl_entries came from a good export."""
    con = connect(paths.warehouse)
    ensure_tables(con)
    table = catalog.table("finance.gl_entries")
    load_file_table(con, table, JAN, FEB, paths.home, "good-run", as_of=AS_OF)
    yield con, table, tiny_exports / "finance" / "gl_entries.csv"
    con.close()


def _rows(con) -> list:
    return con.execute(
        "select * exclude (_loaded_at) from raw.finance_gl_entries order by all"
    ).fetchall()


def _write(path, lines: list[str], encoding: str = "utf-8", prefix: bytes = b"") -> None:
    path.write_bytes(prefix + ("\n".join(lines) + "\n").encode(encoding))


BROKEN = {
    "a number with a thousands separator": (
        [HEADER, *GOOD[:2], 'GL-9,2026-01-22,4000,Big sale,revenue,sales,"1,234.56",DE'],
        JAN,
        [
            "source finance, table gl_entries",
            "gl_entries.csv line 4, column amount_usd",
            '"1,234.56" is not a number',
            "1 of 3 rows rejected",
        ],
    ),
    "an impossible date": (
        [HEADER, *GOOD[:4], "GL-5,2026-02-30,4000,Product revenue,revenue,sales,2000.00,US"],
        FEB,
        ["line 6, column entry_date", '"2026-02-30" is not a date (YYYY-MM-DD)'],
    ),
    "a whole number written as text": (
        [HEADER, "GL-1,2026-01-05,4000,Product revenue,revenue,sales,ten,DE"],
        JAN,
        ["line 2, column amount_usd", '"ten" is not a number'],
    ),
    "a row with a field missing": (
        [HEADER, *GOOD[:3], "GL-4,2026-01-31,6000,Salaries,operating_expense,people,300.00"],
        JAN,
        ["line 5", "the row has 7 fields, the header has 8"],
    ),
    "an unterminated quote": (
        [
            HEADER,
            GOOD[0],
            'GL-2,2026-01-20,4100,"Service revenue,revenue,field_service,500.00,FR',
            *GOOD[2:4],
        ],
        JAN,
        ["line 3", "unterminated quote"],
    ),
    "a duplicated row": (
        [HEADER, *GOOD[:4], GOOD[3]],
        JAN,
        ["row entry_id=GL-4", "the row appears 2 times (a duplicated row)", "1 of 5 rows rejected"],
    ),
    "an empty date": (
        [HEADER, *GOOD[:3], "GL-4,,6000,Salaries,operating_expense,people,300.00,US"],
        JAN,
        ["row entry_id=GL-4, column entry_date: is empty: the row belongs to no month"],
    ),
    "a future-dated transaction": (  # in the month loaded; later months' rows are not judged
        [HEADER, *GOOD[:4], "GL-6,2026-06-15,4000,Product revenue,revenue,sales,10.00,DE"],
        Period(2026, 6),
        ["row entry_id=GL-6, column entry_date: 2026-06-15 is in the future"],
    ),
    "a missing column": (
        [
            HEADER.replace(",amount_usd", ""),
            *(",".join(g.split(",")[:6] + g.split(",")[7:]) for g in GOOD),
        ],
        JAN,
        ["lacks the declared column(s) amount_usd"],
    ),
    "a semicolon-delimited file": (
        [HEADER.replace(",", ";"), *(g.replace(",", ";") for g in GOOD)],
        JAN,
        ["line 1 has a single column", "looks ';'-delimited", "declares delimiter ','"],
    ),
    "a header and no rows": ([HEADER], JAN, ["has a header but no data rows"]),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_export_fails_clearly_and_keeps_the_month(loaded, paths, case):
    con, table, path = loaded
    lines, period, expected = BROKEN[case]
    before = _rows(con)
    _write(path, lines)
    with pytest.raises(SourceLoadError) as caught:
        load_file_table(con, table, period, period, paths.home, "bad-run", as_of=AS_OF)
    message = str(caught.value)
    assert message.startswith("source finance, table gl_entries: "), message
    for text in expected:
        assert text in message, f"{text!r} not in {message!r}"
    assert _rows(con) == before
    assert {r[0] for r in con.execute("select run_id from meta.loads").fetchall()} == {"good-run"}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "gl_entries.csv is empty (0 rows, no header)"),
        (
            codecs.BOM_UTF16_LE + f"{HEADER}\n{GOOD[0]}\n".encode("utf-16-le"),
            "is UTF-16-encoded (it starts with a UTF-16 byte-order mark); export it as UTF-8",
        ),
        (
            f"{HEADER}\n{GOOD[0]}\nGL-2,2026-01-20,4100,Caf\xe9,revenue,sales,5.00,FR\n".encode(
                "latin-1"
            ),
            "line 3, column account_name: the file is not valid UTF-8 here",
        ),
        (
            f"{HEADER}\n".replace("account_name", "caf\xe9").encode("latin-1") + GOOD[0].encode(),
            "line 1 (the header) is not valid UTF-8",
        ),
    ],
)
def test_empty_and_wrongly_encoded_files_fail_clearly(loaded, paths, content, expected):
    con, table, path = loaded
    before = _rows(con)
    path.write_bytes(content)
    with pytest.raises(SourceLoadError, match="source finance, table gl_entries") as caught:
        load_file_table(con, table, JAN, JAN, paths.home, "bad-run", as_of=AS_OF)
    assert expected in str(caught.value)
    assert _rows(con) == before


def test_a_missing_file_names_the_path(loaded, paths):
    con, table, path = loaded
    path.unlink()
    with pytest.raises(SourceLoadError, match=r"no file matches .*gl_entries\.csv"):
        load_file_table(con, table, JAN, JAN, paths.home, "bad-run", as_of=AS_OF)


def test_a_byte_order_mark_is_read_as_utf8(loaded, paths):
    con, table, path = loaded
    before = _rows(con)
    _write(path, [HEADER, *GOOD], prefix=codecs.BOM_UTF8)
    result = load_file_table(con, table, JAN, FEB, paths.home, "good-run", as_of=AS_OF)
    assert result.rows_by_period == {"2026-01": 4, "2026-02": 1}
    assert [r[:7] for r in _rows(con)] == [
        r[:7] for r in before if r[0] != "GL-6" and r[0] != "GL-7"
    ]


def test_a_bad_row_of_another_month_does_not_block_this_one(loaded, paths):
    con, table, path = loaded
    _write(path, [HEADER, *GOOD[:4], "GL-5,2026-02-30,4000,Product revenue,revenue,sales,2,US"])
    result = load_file_table(con, table, JAN, JAN, paths.home, "jan-run", as_of=AS_OF)
    assert result.rows_by_period == {"2026-01": 4}
    assert result.rejected_by_period == {}


def test_rejects_within_the_tables_rate_are_left_out_and_counted(loaded, paths):
    con, table, path = loaded
    lenient = SourceTable(table.source, table.table.model_copy(update={"max_reject_rate": 0.4}))
    _write(path, [HEADER, *GOOD[:3], GOOD[2], "GL-4,2026-01-31,6000,Salaries,opex,people,3x,US"])
    result = load_file_table(con, lenient, JAN, JAN, paths.home, "lenient-run", as_of=AS_OF)
    assert result.rows_by_period == {"2026-01": 3}  # GL-3 once, GL-4 rejected
    assert result.rejected_by_period == {"2026-01": 2}
    strict = SourceTable(table.source, table.table.model_copy(update={"max_reject_rate": 0.2}))
    with pytest.raises(
        SourceLoadError,
        match=r"2 of 5 rows rejected \(40.00%, the table allows "
        r"20.00%; max_reject_rate in the catalog\)",
    ):
        load_file_table(con, strict, JAN, JAN, paths.home, "strict-run", as_of=AS_OF)


def test_a_fractional_whole_number_is_rejected_not_rounded(paths, catalog, tiny_exports):
    con = connect(paths.warehouse)
    ensure_tables(con)
    orders = tiny_exports / "operations" / "orders.csv"
    text = orders.read_text().replace("2026-01-08,1,100.00", "2026-01-08,1.5,100.00")
    orders.write_text(text)
    with pytest.raises(SourceLoadError) as caught:
        load_file_table(
            con, catalog.table("operations.orders"), JAN, JAN, paths.home, "r", as_of=AS_OF
        )
    assert "row order_id=O-1, column quantity: 1.5000000000 is not a whole number" in str(
        caught.value
    )
    con.close()

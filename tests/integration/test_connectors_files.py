"""The file connector's formats: CSV (any encoding, delimiter, decimal comma, date format),
Parquet, JSON lines and Excel, one file or a glob; drift, rejected values and broken files.

Every test writes real files into tmp_path and loads them into a real DuckDB warehouse.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from connector_fixtures import source_table
from documentation import documentation
from openpyxl import Workbook
from pydantic import ValidationError

from pipelines.catalog import load_catalog
from pipelines.catalog.file_formats import FORMAT_SETTINGS
from pipelines.catalog.models import SourceFile
from pipelines.catalog_check import check_catalog
from pipelines.ingest.drift import SchemaDriftError
from pipelines.ingest.files import load_file_table
from pipelines.ingest.raw_tables import SourceLoadError
from pipelines.periods import Period
from pipelines.settings import PROJECT_ROOT

JAN, FEB = Period(2026, 1), Period(2026, 2)
AS_OF = datetime(2026, 6, 1)
COLUMNS = [
    {"name": "order_id", "type": "varchar", "nullable": False},
    {"name": "order_date", "type": "date", "nullable": False},
    {"name": "quantity", "type": "integer", "nullable": False},
    {"name": "amount_usd", "type": "decimal"},
    {"name": "city", "type": "varchar"},
]
ROWS = [
    {
        "order_id": "O-1",
        "order_date": date(2026, 1, 5),
        "quantity": 2,
        "amount_usd": 1234.5,
        "city": "Zürich",
    },
    {
        "order_id": "O-2",
        "order_date": date(2026, 1, 31),
        "quantity": 1,
        "amount_usd": 10.25,
        "city": "Köln",
    },
    {
        "order_id": "O-3",
        "order_date": date(2026, 2, 1),
        "quantity": 7,
        "amount_usd": 99.0,
        "city": None,
    },
]
EXPECTED = [
    ("O-1", date(2026, 1, 5), 2, Decimal("1234.5000"), "Zürich"),
    ("O-2", date(2026, 1, 31), 1, Decimal("10.2500"), "Köln"),
    ("O-3", date(2026, 2, 1), 7, Decimal("99.0000"), None),
]
SUFFIX = {"csv": "csv", "parquet": "parquet", "jsonl": "jsonl", "xlsx": "xlsx"}


def _csv(path, rows, delimiter=",", encoding="utf-8"):
    names = list(rows[0])
    lines = [delimiter.join(names)]
    lines += [delimiter.join("" if r[n] is None else str(r[n]) for n in names) for r in rows]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r, default=str) + "\n" for r in rows))


def _xlsx(path, rows, sheet="Orders"):
    book = Workbook()
    book.active.title = "Notes"
    book.active.append(["This sheet is not the data"])
    data = book.create_sheet(sheet)
    data.append(list(rows[0]))
    for row in rows:
        data.append(
            [
                datetime.combine(v, datetime.min.time()) if isinstance(v, date) else v
                for v in row.values()
            ]
        )
    book.save(path)


def _parquet(path, rows):
    pq.write_table(pa.Table.from_pylist(rows), path)


WRITERS = {"csv": _csv, "parquet": _parquet, "jsonl": _jsonl, "xlsx": _xlsx}


def _table(path: str, **settings):
    return source_table(
        {
            "source": "shop",
            "connector": {"kind": "file"},
            "tables": [
                {
                    "name": "orders",
                    "path": path,
                    "date_column": "order_date",
                    "key": ["order_id"],
                    "columns": COLUMNS,
                    **settings,
                }
            ],
        }
    )


def _settings(fmt: str) -> dict:
    return {"format": fmt, **({"sheet": "Orders"} if fmt == "xlsx" else {})}


def _load(duck, table, tmp_path, first=JAN, last=FEB, run="run"):
    return load_file_table(duck, table, first, last, tmp_path, run, as_of=AS_OF)


def _rows(duck, extra: str = ""):
    return duck.execute(
        f"select order_id, order_date, quantity, amount_usd, city{extra} "
        "from raw.shop_orders order by order_id"
    ).fetchall()


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_each_format_loads_its_values(duck, tmp_path, fmt):
    WRITERS[fmt](tmp_path / f"orders.{SUFFIX[fmt]}", ROWS)
    result = _load(duck, _table(f"orders.{SUFFIX[fmt]}", **_settings(fmt)), tmp_path)
    assert result.rows_by_period == {"2026-01": 2, "2026-02": 1}
    assert result.extra_columns == () and result.rejected_by_period == {}
    assert _rows(duck) == EXPECTED
    periods = duck.execute("select distinct _period from raw.shop_orders order by 1").fetchall()
    assert periods == [(date(2026, 1, 1),), (date(2026, 2, 1),)]


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl", "xlsx"])
def test_a_glob_reads_one_file_per_month(duck, tmp_path, fmt):
    exports = tmp_path / "exports"
    exports.mkdir()
    WRITERS[fmt](exports / f"orders_2026-01.{SUFFIX[fmt]}", ROWS[:2])
    WRITERS[fmt](exports / f"orders_2026-02.{SUFFIX[fmt]}", ROWS[2:])
    table = _table(f"exports/orders_*.{SUFFIX[fmt]}", **_settings(fmt))
    result = _load(duck, table, tmp_path)
    assert result.rows_by_period == {"2026-01": 2, "2026-02": 1}
    assert _rows(duck) == EXPECTED
    # one month alone reloads from the same glob and leaves the other in place
    assert _load(duck, table, tmp_path, FEB, FEB, "feb").rows_by_period == {"2026-02": 1}
    assert _rows(duck) == EXPECTED


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_a_csv_in_a_legacy_encoding_loads_with_its_encoding(duck, tmp_path, encoding):
    rows = [{**ROWS[0], "city": "Zürich – Café" if encoding == "cp1252" else "Zürich Café"}]
    _csv(tmp_path / "orders.csv", rows, encoding=encoding)
    with pytest.raises(
        SourceLoadError, match="orders.csv line 2, column city: the file is not valid UTF-8 here"
    ):
        _load(duck, _table("orders.csv"), tmp_path, JAN, JAN)
    _load(duck, _table("orders.csv", encoding=encoding), tmp_path, JAN, JAN)
    assert _rows(duck)[0][4] == rows[0]["city"]


def test_a_cp1252_byte_latin1_lacks_is_named_with_its_line(duck, tmp_path):
    (tmp_path / "orders.csv").write_bytes(
        b"order_id,order_date,quantity,amount_usd,city\nO-1,2026-01-05,1,1.0,x\x81y\n"
    )
    with pytest.raises(
        SourceLoadError,
        match=r"source shop, table orders: .*orders.csv line 2 "
        r"is not valid cp1252",
    ):
        _load(duck, _table("orders.csv", encoding="cp1252"), tmp_path, JAN, JAN)


GERMAN = [
    "order_id;order_date;quantity;amount_usd;city",
    "O-1;05.01.2026;2;1.234,5;Zürich",
    "O-2;31.01.2026;1;10,25;Köln",
    "O-3;01.02.2026;7;99;",
]


def test_a_semicolon_csv_with_decimal_commas_and_day_first_dates(duck, tmp_path):
    (tmp_path / "orders.csv").write_text("\n".join(GERMAN) + "\n")
    table = _table(
        "orders.csv", delimiter=";", decimal_separator=",", thousands=".", date_format="%d.%m.%Y"
    )
    assert _load(duck, table, tmp_path).rows_by_period == {"2026-01": 2, "2026-02": 1}
    assert _rows(duck) == EXPECTED


def test_a_value_not_in_the_declared_format_is_rejected_and_named(duck, tmp_path):
    (tmp_path / "orders.csv").write_text(
        "\n".join([*GERMAN, "O-4;30.02.2026;1;5,0;x", "O-5;2026-01-07;1;5,0;x"]) + "\n"
    )
    table = _table(
        "orders.csv", delimiter=";", decimal_separator=",", thousands=".", date_format="%d.%m.%Y"
    )
    with pytest.raises(SourceLoadError) as caught:
        _load(duck, table, tmp_path, JAN, JAN)
    message = str(caught.value)
    assert 'line 6, column order_date: "2026-01-07" is not a date (%d.%m.%Y)' in message
    # no month can be told from an impossible date: it counts against the months being loaded
    assert 'line 5, column order_date: "30.02.2026" is not a date (%d.%m.%Y)' in message
    assert "2 of 4 rows rejected" in message


def _load_good_january(duck, tmp_path, fmt="parquet"):
    WRITERS[fmt](tmp_path / f"orders.{SUFFIX[fmt]}", ROWS)
    table = _table(f"orders.{SUFFIX[fmt]}", **_settings(fmt))
    _load(duck, table, tmp_path, JAN, JAN, "good")
    return table, _rows(duck)


def test_a_parquet_column_that_changed_type_fails_and_keeps_the_month(duck, tmp_path):
    table, before = _load_good_january(duck, tmp_path)
    _parquet(tmp_path / "orders.parquet", [{**r, "quantity": str(r["quantity"])} for r in ROWS])
    with pytest.raises(SchemaDriftError) as caught:
        _load(duck, table, tmp_path, JAN, JAN, "bad")
    message = str(caught.value)
    assert message.startswith("source shop, table orders: ")
    assert (
        "orders.parquet: column quantity changed type: declared integer, the source now "
        "delivers text" in message
    )
    assert _rows(duck) == before
    assert duck.execute("select distinct run_id from meta.loads").fetchall() == [("good",)]


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl", "xlsx"])
def test_a_missing_required_column_fails_and_keeps_the_month(duck, tmp_path, fmt):
    table, before = _load_good_january(duck, tmp_path, fmt)
    WRITERS[fmt](
        tmp_path / f"orders.{SUFFIX[fmt]}",
        [{k: v for k, v in r.items() if k != "quantity"} for r in ROWS],
    )
    with pytest.raises(
        SchemaDriftError,
        match=r"source shop, table orders: .*orders\.\w+ lacks "
        r"the declared column\(s\) quantity",
    ):
        _load(duck, table, tmp_path, JAN, JAN, "bad")
    assert _rows(duck) == before


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_an_added_column_is_kept_and_reported(duck, tmp_path, fmt):
    rows = [{**r, "channel": f"web-{i}", "Odd Name": 1} for i, r in enumerate(ROWS)]
    WRITERS[fmt](tmp_path / f"orders.{SUFFIX[fmt]}", rows)
    result = _load(duck, _table(f"orders.{SUFFIX[fmt]}", **_settings(fmt)), tmp_path)
    assert result.extra_columns == ("channel",) and result.unkept_columns == ("Odd Name",)
    assert [r[-1] for r in _rows(duck, ", channel")] == ["web-0", "web-1", "web-2"]


@pytest.mark.parametrize(
    ("fmt", "content"),
    [
        ("parquet", b"PAR1 this is not a parquet file PAR1"),
        ("xlsx", b"PK\x03\x04 a truncated zip"),
        ("xlsx", b"order_id,order_date\nO-1,2026-01-05\n"),
        ("jsonl", b'{"order_id": "O-1", "order_date": "2026-01-05"\n'),
    ],
)
def test_a_corrupt_file_fails_naming_it_and_keeps_the_month(duck, tmp_path, fmt, content):
    table, before = _load_good_january(duck, tmp_path, fmt)
    (tmp_path / f"orders.{SUFFIX[fmt]}").write_bytes(content)
    with pytest.raises(
        SourceLoadError, match=r"source shop, table orders: .*orders\." + SUFFIX[fmt]
    ):
        _load(duck, table, tmp_path, JAN, JAN, "bad")
    assert _rows(duck) == before


@pytest.mark.parametrize(
    ("fmt", "where"), [("jsonl", "orders.jsonl row 2"), ("xlsx", "orders.xlsx row 3")]
)
def test_a_value_that_does_not_parse_names_file_row_and_column(duck, tmp_path, fmt, where):
    table, before = _load_good_january(duck, tmp_path, fmt)
    rows = [ROWS[0], {**ROWS[1], "quantity": "two"}, ROWS[2]]
    WRITERS[fmt](tmp_path / f"orders.{SUFFIX[fmt]}", rows)
    with pytest.raises(SourceLoadError) as caught:
        _load(duck, table, tmp_path, JAN, JAN, "bad")
    assert f'{where}, column quantity: "two" is not a whole number' in str(caught.value)
    assert "1 of 2 rows rejected" in str(caught.value)
    assert _rows(duck) == before
    lenient = _table(f"orders.{SUFFIX[fmt]}", **_settings(fmt), max_reject_rate=0.5)
    result = _load(duck, lenient, tmp_path, JAN, JAN, "lenient")
    assert result.rows_by_period == {"2026-01": 1} and result.rejected_by_period == {"2026-01": 1}


def test_jsonl_and_xlsx_read_text_dates_in_the_declared_format(duck, tmp_path):
    rows = [{**r, "order_date": r["order_date"].strftime("%d/%m/%Y")} for r in ROWS]
    _jsonl(tmp_path / "orders.jsonl", rows)
    _xlsx(tmp_path / "orders.xlsx", [rows[0], ROWS[1], rows[2]])  # a real date cell, too
    for fmt in ("jsonl", "xlsx"):
        table = _table(f"orders.{fmt}", **_settings(fmt), date_format="%d/%m/%Y")
        assert _load(duck, table, tmp_path).rows_by_period == {"2026-01": 2, "2026-02": 1}
        assert _rows(duck) == EXPECTED


def test_a_missing_sheet_is_named(duck, tmp_path):
    _xlsx(tmp_path / "orders.xlsx", ROWS, sheet="Data")
    with pytest.raises(
        SourceLoadError,
        match=r"orders.xlsx has no sheet 'Orders'; it has "
        r"Notes, Data",
    ):
        _load(duck, _table("orders.xlsx", format="xlsx", sheet="Orders"), tmp_path)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"format": "parquet", "delimiter": ";"}, "delimiter do(es) not apply to format parquet"),
        ({"format": "csv", "sheet": "S"}, "sheet do(es) not apply to format csv"),
        ({"format": "jsonl", "encoding": "latin-1"}, "encoding do(es) not apply to format jsonl"),
        ({"encoding": "klingon"}, "unknown encoding 'klingon'"),
        ({"decimal_separator": ","}, "decimal_separator ',' is also the delimiter"),
        ({"delimiter": ";", "decimal_separator": ",", "thousands": ","}, "thousands ','"),
        ({"date_format": "DD.MM.YYYY"}, "date_format 'DD.MM.YYYY' has no %-codes"),
        ({"format": "xls"}, "Input should be 'csv', 'parquet', 'jsonl' or 'xlsx'"),
    ],
)
def test_file_settings_are_validated(settings, message):
    source = {
        "source": "s",
        "tables": [
            {
                "name": "t",
                "path": "t.csv",
                "date_column": "d",
                "columns": [{"name": "d", "type": "date"}],
                **settings,
            }
        ],
    }
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        SourceFile.model_validate(source)


def test_file_settings_do_not_apply_to_a_database_source():
    source = {
        "source": "s",
        "connector": {"kind": "postgres", "url_env": "U"},
        "tables": [
            {
                "name": "t",
                "table": "x",
                "encoding": "cp1252",
                "date_column": "d",
                "columns": [{"name": "d", "type": "date"}],
            }
        ],
    }
    with pytest.raises(ValidationError, match=r"encoding do\(es\) not apply to a postgres"):
        SourceFile.model_validate(source)


def test_check_binds_kpi_sql_against_tables_of_every_format(copied_catalog):
    path = copied_catalog / "definitions/sources/operations.yaml"
    text = path.read_text().replace(
        "path: demo/operations/orders.csv", "path: exports/orders_*.parquet\n    format: parquet", 1
    )
    text = text.replace(
        "path: demo/operations/defects.csv",
        "path: demo/operations/defects.csv\n    delimiter: ';'\n"
        "    encoding: cp1252\n    decimal_separator: ','\n"
        "    date_format: '%d.%m.%Y'",
        1,
    )
    path.write_text(text)
    catalog = load_catalog(copied_catalog / "definitions", copied_catalog / "sql")
    assert catalog.table("operations.orders").table.format == "parquet"
    assert catalog.table("operations.defects").table.encoding == "cp1252"
    assert check_catalog(catalog, date(2026, 1, 10)).errors == []


def test_the_source_template_documents_options_that_validate():
    """`scorecard new source NAME --kind file`: its commented options, switched on, are valid."""
    template = (PROJECT_ROOT / "pipelines/scaffold/source_file.yaml.tmpl").read_text()
    text = template.format(name="shop").replace("TODO_", "t_")
    for option in (
        "delimiter",
        "encoding",
        "decimal_separator",
        "thousands",
        "date_format",
        "timestamp_format",
    ):
        assert f"    # {option}: " in text, option
        text = text.replace(f"    # {option}: ", f"    {option}: ")
    assert "# format: csv" in text and "# sheet: " in text
    source = SourceFile.model_validate(yaml.safe_load(text))
    assert source.tables[0].encoding == "cp1252" and source.tables[0].date_format == "%d.%m.%Y"


def test_the_docs_document_every_file_option():
    """Each format option has a row in the documented options table (docs/sources.md), naming
    the formats the catalog accepts it for (pipelines/catalog/file_formats.py)."""
    readme = documentation()
    rows = {}
    for line in readme.splitlines():
        cells = [c.strip() for c in line.replace("\\|", "").strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`") and cells[0].endswith("`"):
            rows[cells[0].strip("`")] = cells[1]
    assert rows.get("format") == "all"
    for name, formats in FORMAT_SETTINGS.items():
        assert name in rows, f"documentation: no row for the file option {name}"
        assert {f.strip() for f in rows[name].split(",")} == set(formats), name
    assert "`path`" in readme

"""The export files' contract (docs/demo-data.md) as Arrow schemas, and their CSV writers."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

TEXT, DATE, TIMESTAMP, INT = pa.string(), pa.date32(), pa.timestamp("s"), pa.int64()
MONEY, MRR = pa.decimal128(14, 2), pa.decimal128(12, 2)
FTE, HOURS = pa.decimal128(3, 2), pa.decimal128(5, 1)


def _schema(*columns: tuple[str, pa.DataType]) -> pa.Schema:
    """The columns, then `country` (ISO 3166 alpha-2 code of the row's business unit) last."""
    return pa.schema([pa.field(name, kind) for name, kind in [*columns, ("country", TEXT)]])


SCHEMAS: dict[str, pa.Schema] = {
    "finance/gl_entries": _schema(
        ("entry_id", TEXT),
        ("entry_date", DATE),
        ("account_code", TEXT),
        ("account_name", TEXT),
        ("account_type", TEXT),
        ("department", TEXT),
        ("amount_usd", MONEY),
    ),
    "finance/invoices": _schema(
        ("invoice_id", TEXT),
        ("customer_id", TEXT),
        ("issue_date", DATE),
        ("due_date", DATE),
        ("paid_date", DATE),
        ("amount_usd", MONEY),
    ),
    "crm/account_snapshots": _schema(
        ("snapshot_date", DATE),
        ("customer_id", TEXT),
        ("segment", TEXT),
        ("region", TEXT),
        ("mrr_usd", MRR),
        ("status", TEXT),
    ),
    "crm/opportunities": _schema(
        ("opportunity_id", TEXT),
        ("customer_id", TEXT),
        ("created_date", DATE),
        ("close_date", DATE),
        ("stage", TEXT),
        ("amount_usd", MONEY),
        ("sales_rep", TEXT),
    ),
    "crm/nps_responses": _schema(
        ("response_id", TEXT), ("customer_id", TEXT), ("response_date", DATE), ("score", INT)
    ),
    "hr/roster": _schema(
        ("snapshot_date", DATE),
        ("employee_id", TEXT),
        ("department", TEXT),
        ("job_level", TEXT),
        ("hire_date", DATE),
        ("termination_date", DATE),
        ("termination_type", TEXT),
        ("fte", FTE),
    ),
    "hr/training_records": _schema(
        ("record_id", TEXT),
        ("employee_id", TEXT),
        ("course", TEXT),
        ("completion_date", DATE),
        ("hours", HOURS),
    ),
    "hr/engagement_responses": _schema(
        ("response_id", TEXT),
        ("employee_id", TEXT),
        ("response_date", DATE),
        ("question", TEXT),
        ("score", INT),
    ),
    "operations/orders": _schema(
        ("order_id", TEXT),
        ("customer_id", TEXT),
        ("order_date", DATE),
        ("promised_date", DATE),
        ("delivered_date", DATE),
        ("quantity", INT),
        ("amount_usd", MONEY),
    ),
    "operations/defects": _schema(
        ("defect_id", TEXT),
        ("order_id", TEXT),
        ("reported_date", DATE),
        ("severity", TEXT),
        ("category", TEXT),
    ),
    "operations/support_tickets": _schema(
        ("ticket_id", TEXT),
        ("customer_id", TEXT),
        ("opened_at", TIMESTAMP),
        ("resolved_at", TIMESTAMP),
        ("priority", TEXT),
        ("channel", TEXT),
        ("satisfaction_score", INT),
    ),
}


def ids(prefix: str, numbers: np.ndarray, width: int = 7) -> pa.Array:
    """Identifiers like GL-0000001 for the given numbers."""
    digits = pc.utf8_lpad(pc.cast(pa.array(np.asarray(numbers, dtype=np.int64)), TEXT), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def labels(names: tuple[str, ...] | list[str], codes: np.ndarray) -> pa.Array:
    """The names picked by integer codes (an Arrow string array)."""
    return pc.take(pa.array(list(names), TEXT), pa.array(np.asarray(codes, dtype=np.int64)))


def decimals(values: np.ndarray, kind: pa.Decimal128Type) -> pa.Array:
    """Exact decimals of the given type, rounded half to even from floats."""
    unscaled = np.rint(np.asarray(values, dtype=np.float64) * 10.0**kind.scale).astype(np.int64)
    words = np.empty((len(unscaled), 2), dtype=np.int64)
    words[:, 0] = unscaled
    words[:, 1] = np.where(unscaled < 0, -1, 0)
    return pa.Array.from_buffers(kind, len(unscaled), [None, pa.py_buffer(words)])


def nullable_ints(values: np.ndarray, missing: np.ndarray) -> pa.Array:
    """Integers with nulls where `missing` is true."""
    return pa.array(np.asarray(values, dtype=np.int64), mask=np.asarray(missing, dtype=bool))


class RowSink(Protocol):
    """Where a month of a table's rows goes: the files, or a pass that only looks at them."""

    def write(self, key: str, columns: dict) -> None:
        """Take rows given as {column: array} in the contract's column order."""


class ExportWriters:
    """One open CSV file per export table: a header line, then the rows month after month."""

    def __init__(self, root: Path):
        self.rows = {key: 0 for key in SCHEMAS}
        self._files, self._writers = {}, {}
        options = pa_csv.WriteOptions(include_header=False, quoting_style="none")
        for key, schema in SCHEMAS.items():
            path = root / f"{key}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(path, "wb")  # noqa: SIM115 - closed in close()
            handle.write((",".join(schema.names) + "\n").encode())
            self._files[key] = handle
            self._writers[key] = pa_csv.CSVWriter(handle, schema, write_options=options)

    def write(self, key: str, columns: dict) -> None:
        """Append rows given as {column: array} in the contract's column order."""
        table = pa.Table.from_pydict(columns, schema=SCHEMAS[key])
        self._writers[key].write_table(table)
        self.rows[key] += table.num_rows

    def close(self) -> None:
        """Flush and close every file."""
        for key, writer in self._writers.items():
            writer.close()
            self._files[key].close()

    def __enter__(self) -> ExportWriters:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

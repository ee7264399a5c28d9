"""Query results out as CSV, JSON or Parquet (to a file or standard output)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

import orjson
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

FORMATS = ("table", "csv", "json", "parquet")


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def to_json_value(value: Any) -> str:
    return orjson.dumps(value, default=_default, option=orjson.OPT_NON_STR_KEYS).decode()


def cell_text(value: Any) -> str:
    """One cell as text: scalars as themselves, nested values as JSON."""
    if value is None:
        return ""
    if isinstance(value, dict | list | tuple):
        return to_json_value(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value)


def flatten_nested(table: pa.Table) -> pa.Table:
    """Nested columns as JSON text, so the rows fit in CSV."""
    columns = []
    for col in table.columns:
        if pa.types.is_nested(col.type):
            texts = [None if v is None else to_json_value(v) for v in col.to_pylist()]
            columns.append(pa.array(texts, pa.string()))
        else:
            columns.append(col)
    return pa.table(columns, names=table.column_names)


def _csv(table: pa.Table, sink: BinaryIO) -> None:
    pacsv.write_csv(flatten_nested(table), sink)


def _json(table: pa.Table, sink: BinaryIO) -> None:
    sink.write(orjson.dumps(table.to_pylist(), default=_default,
                            option=orjson.OPT_NON_STR_KEYS | orjson.OPT_INDENT_2))
    sink.write(b"\n")


def _parquet(table: pa.Table, sink: BinaryIO) -> None:
    pq.write_table(table, sink, compression="zstd")


WRITERS: dict[str, Callable[[pa.Table, BinaryIO], None]] = {
    "csv": _csv,
    "json": _json,
    "parquet": _parquet,
}


def write(table: pa.Table, fmt: str, path: Path | None) -> None:
    """Write ``table`` as ``fmt`` to ``path``, or to standard output when it is None."""
    writer = WRITERS[fmt]
    if path is None:
        writer(table, sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return
    with open(path, "wb") as sink:
        writer(table, sink)

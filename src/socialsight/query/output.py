"""Query results out as CSV, JSON or Parquet (to a file or standard output), batch by batch.

Writers take a result's schema and its record batches (:class:`socialsight.query.engine.Rows`
or one table's), so a result of any size is written in the memory of one batch.
CSV is made safe for spreadsheets: text that would start a formula (``=``, ``+``,
``-``, ``@``, tab, carriage return) gets a leading apostrophe, in cells and in the
header; nested values are JSON, bytes are hex.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from socialsight.errors import InputError, QueryError

FORMATS = ("table", "csv", "json", "parquet")
FORMULA = r"^[=+\-@\t\r]"  # what spreadsheets take for the start of a formula


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, pa.MonthDayNano):
        return {"months": value.months, "days": value.days, "nanoseconds": value.nanoseconds}
    if isinstance(value, timedelta):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def to_json_value(value: Any) -> str:
    return orjson.dumps(value, default=_default, option=orjson.OPT_NON_STR_KEYS).decode()


def cell_text(value: Any) -> str:
    """One cell as text: scalars as themselves, nested values as JSON, bytes as hex."""
    if value is None:
        return ""
    if isinstance(value, dict | list | tuple):
        return to_json_value(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def safe_text(text: str) -> str:
    """Text a spreadsheet would run as a formula, with a leading apostrophe."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _unwritable(kind: pa.DataType) -> bool:
    """Types Arrow's CSV writer has no text for: nested values, intervals, bytes."""
    if pa.types.is_nested(kind) or pa.types.is_interval(kind) or pa.types.is_binary(kind) \
            or pa.types.is_large_binary(kind) or pa.types.is_fixed_size_binary(kind):
        return True
    return pa.types.is_binary_view(kind) if hasattr(pa.types, "is_binary_view") else False


def csv_ready(table: pa.Table) -> pa.Table:
    """``table`` as Arrow's CSV writer can write it, safe for spreadsheets.

    Columns with no CSV text (nested, intervals, bytes) become text as the page shows
    them; text that would start a formula (post text is anyone's: ``=HYPERLINK(…)``),
    and column names too, get a leading apostrophe. Numbers are left alone.
    """
    columns = []
    for col in table.columns:
        if _unwritable(col.type):
            values = [None if v is None else cell_text(v)
                      for v in col.to_pylist(maps_as_pydicts="lossy")]
            col = pa.chunked_array([pa.array(values, pa.string())])
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            risky = pc.match_substring_regex(col, FORMULA)
            col = pc.if_else(risky, pc.binary_join_element_wise("'", col, ""), col)
        columns.append(col)
    return pa.table(columns, names=[safe_text(name) for name in table.column_names])


def csv_chunks(schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> Iterator[bytes]:
    """The rows as CSV, one chunk per batch, the header first (also when there are none)."""
    header = True
    for batch in batches:
        if batch.num_rows or header:
            yield _csv_bytes(pa.Table.from_batches([batch], schema), header)
            header = False
    if header:
        yield _csv_bytes(schema.empty_table(), True)


def _csv_bytes(table: pa.Table, header: bool) -> bytes:
    sink = io.BytesIO()
    try:
        pacsv.write_csv(csv_ready(table), sink, pacsv.WriteOptions(include_header=header))
    except pa.ArrowException as exc:
        raise QueryError(f"the result cannot be written as CSV: {exc}") from exc
    return sink.getvalue()


def _csv(schema: pa.Schema, batches: Iterable[pa.RecordBatch], sink: BinaryIO) -> None:
    for chunk in csv_chunks(schema, batches):
        sink.write(chunk)


def _json(schema: pa.Schema, batches: Iterable[pa.RecordBatch], sink: BinaryIO) -> None:
    """A JSON array of objects, written row by row."""
    sink.write(b"[")
    first = True
    for batch in batches:
        for row in batch.to_pylist():
            sink.write(b"\n  " if first else b",\n  ")
            sink.write(orjson.dumps(row, default=_default, option=orjson.OPT_NON_STR_KEYS))
            first = False
    sink.write(b"]\n" if first else b"\n]\n")


def _parquet(schema: pa.Schema, batches: Iterable[pa.RecordBatch], sink: BinaryIO) -> None:
    with pq.ParquetWriter(sink, schema, compression="zstd") as writer:
        for batch in batches:
            writer.write_batch(batch)


def _counted(batches: Iterable[pa.RecordBatch], add: Callable[[int], None]
             ) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        add(batch.num_rows)
        yield batch


WRITERS: dict[str, Callable[[pa.Schema, Iterable[pa.RecordBatch], BinaryIO], None]] = {
    "csv": _csv,
    "json": _json,
    "parquet": _parquet,
}


def write(schema: pa.Schema, batches: Iterable[pa.RecordBatch], fmt: str,
          path: Path | None) -> int:
    """Write the rows as ``fmt`` to ``path``, or to standard output when it is None.

    Returns how many rows were written. A path whose folder is missing (or that cannot
    be written) is an InputError with a one-line message, raised before any row is read.
    """
    rows = [0]

    def add(n: int) -> None:
        rows[0] += n

    writer = WRITERS[fmt]
    counted = _counted(batches, add)
    if path is None:
        writer(schema, counted, sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return rows[0]
    try:
        sink = open(path, "wb")  # noqa: SIM115 - closed below, after the rows
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    with sink:
        writer(schema, counted, sink)
    return rows[0]

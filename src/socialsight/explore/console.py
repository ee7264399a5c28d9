"""The SQL console: Athena SQL over the lake, as ``socialsight query`` runs it.

Statements go through :meth:`Engine.execute`: one read-only statement, translated
to DuckDB, run on the sandbox (no file outside the lake, no writes) under the
engine's time limit. The page reads only the first rows (cells cut to a size); the
CSV streams them all, batch by batch, written by the CLI's own writer.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from socialsight.errors import InputError
from socialsight.explore.filters import Filters
from socialsight.lake.photos import PHOTOS_VIEW
from socialsight.lake.schema import TABLES
from socialsight.query.dialect import DIALECTS
from socialsight.query.engine import VIEWS, Engine, Rows, seed_queries
from socialsight.query.output import csv_chunks, to_json_value

MAX_SQL = 100_000  # characters in one statement
MAX_CELL_BYTES = 10_000  # serve.sql_max_cell_bytes' default
CUT_MARK = " … [cut: "  # how a cut cell ends: " … [cut: 209,715,200 bytes in all; …]"
PAGE_BATCH = 256  # rows per batch read for the page: a few huge cells stay a few
CSV_BATCH = 2048
SAFE_INT = 2**53  # integers beyond this lose digits in JavaScript: sent as strings
DEFAULT_DIALECT = "athena"


def console_page(sql: str | None, dialect: str | None, max_rows: int,
                 timeout_seconds: float) -> dict[str, Any]:
    """What the console page starts with: the seed's queries, the limits, any SQL given."""
    return {
        "filters": Filters().as_dict(),
        "sql": check_sql(sql, required=False),
        "dialect": check_dialect(dialect),
        "dialects": list(DIALECTS),
        "seeds": seeds(),
        "tables": list(TABLES),
        "views": [*VIEWS, PHOTOS_VIEW],
        "max_rows": max_rows,
        "max_chars": MAX_SQL,
        "timeout_seconds": timeout_seconds,
    }


def seeds() -> list[dict[str, str]]:
    """The seed's sample queries: name, title (their first comment line) and SQL."""
    out = []
    for name, sql in seed_queries().items():
        first = sql.strip().splitlines()[0] if sql.strip() else ""
        title = first[2:].strip() if first.startswith("--") else name.replace("_", " ")
        out.append({"name": name, "title": title, "sql": sql})
    return out


def check_sql(sql: str | None, required: bool = True) -> str:
    """The SQL text, refused when missing (if required) or too long."""
    text = sql or ""
    if len(text) > MAX_SQL:
        raise InputError(f"the SQL is {len(text):,} characters long: at most {MAX_SQL:,} run")
    if required and not text.strip():
        raise InputError("there is no SQL to run")
    return text


def check_dialect(dialect: str | None) -> str:
    name = (dialect or DEFAULT_DIALECT).strip().lower()
    if name not in DIALECTS:
        raise InputError(f"unknown SQL dialect {name[:40]!r}: use one of {', '.join(DIALECTS)}")
    return name


def run_sql(engine: Engine, sql: str | None, dialect: str | None, max_rows: int,
            max_cell_bytes: int = MAX_CELL_BYTES) -> dict[str, Any]:
    """Run one read-only statement: its first ``max_rows`` rows as JSON-able cells.

    Only those rows (and one more, to know whether there are more) are read: the rest
    of the result is never computed or held. ``row_count`` is the number of rows when
    they all fit, None when there are more than ``max_rows``. Cells longer than
    ``max_cell_bytes`` are cut (see :func:`cut`).
    """
    text, name = check_sql(sql), check_dialect(dialect)
    started = time.perf_counter()
    shown: list[list[Any]] = []
    more = False
    with engine.stream(text, name, batch_rows=min(max_rows + 1, PAGE_BATCH)) as rows:
        for batch in rows:
            room = max_rows - len(shown)
            shown.extend(rows_of(pa.Table.from_batches([batch.slice(0, room)], rows.schema),
                                 max_cell_bytes))
            if batch.num_rows > room:
                more = True
                break
    elapsed = (time.perf_counter() - started) * 1000
    return {
        "columns": [{"name": f.name, "type": str(f.type)} for f in rows.schema],
        "rows": shown,
        "row_count": None if more else len(shown),
        "shown": len(shown),
        "truncated": more,
        "max_rows": max_rows,
        "max_cell_bytes": max_cell_bytes,
        "elapsed_ms": round(elapsed, 1),
        "dialect": name,
        "duckdb_sql": rows.sql,
    }


def csv_stream(engine: Engine, sql: str | None, dialect: str | None) -> Iterator[bytes]:
    """Every row of the statement's result as CSV, chunk by chunk, as the CLI writes it.

    The statement starts (and a bad one raises QueryError) before this returns; the
    rows are then computed as the chunks are read, one batch in memory at a time.
    """
    rows = engine.stream(check_sql(sql), check_dialect(dialect), batch_rows=CSV_BATCH)
    return _closing(rows, csv_chunks(rows.schema, rows))


def _closing(rows: Rows, chunks: Iterator[bytes]) -> Iterator[bytes]:
    with rows:
        yield from chunks


def rows_of(table: pa.Table, max_cell_bytes: int = MAX_CELL_BYTES) -> list[list[Any]]:
    """Rows as lists (column names may repeat), each cell JSON-able and cut to size."""
    columns = []
    for col in table.columns:
        if _is_text(col.type):
            columns.append(_cut_text(col, max_cell_bytes).to_pylist())
        else:
            columns.append([cut(cell(v), max_cell_bytes)
                            for v in col.to_pylist(maps_as_pydicts="lossy")])
    return [list(row) for row in zip(*columns, strict=True)]


def _is_text(kind: pa.DataType) -> bool:
    return (pa.types.is_string(kind) or pa.types.is_large_string(kind)
            or pa.types.is_binary(kind) or pa.types.is_large_binary(kind))


def _cut_text(col: pa.ChunkedArray, limit: int) -> pa.ChunkedArray:
    """Text (bytes: as hex) cut in Arrow, so a huge cell is never copied whole to Python."""
    binary = pa.types.is_binary(col.type) or pa.types.is_large_binary(col.type)
    keep = limit // 2 if binary else limit  # hex doubles the length
    sizes = pc.binary_length(col)
    if not binary and not pc.any(pc.greater(sizes, keep)).as_py():
        return col
    heads = pc.binary_slice(col, 0, keep) if binary else pc.utf8_slice_codeunits(col, 0, keep)
    values = []
    for head, size in zip(heads.to_pylist(), sizes.to_pylist(), strict=True):
        text = head.hex() if binary and head is not None else head
        values.append(text if text is None or size <= keep else _marked(text, size, keep))
    return pa.chunked_array([pa.array(values, pa.string())])


def cut(value: Any, limit: int) -> Any:
    """A cell whose text (nested values: their JSON) is over ``limit`` bytes, as cut text."""
    if isinstance(value, str):
        size = len(value.encode())
        return value if size <= limit else _marked(value, size, limit)
    if isinstance(value, dict | list):
        text = to_json_value(value)
        size = len(text.encode())
        return value if size <= limit else _marked(text, size, limit)
    return value


def _marked(text: str, size: int, limit: int) -> str:
    """The first ``limit`` bytes of ``text``, and a note of how big the whole cell is."""
    head = text.encode()[:limit].decode("utf-8", "ignore")
    return f"{head}{CUT_MARK}{size:,} bytes in all; the CSV has it whole]"


def cell(value: Any) -> Any:
    """One value as JSON can carry it: big integers and odd floats as text, times as ISO."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value if abs(value) <= SAFE_INT else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        if value.is_finite() and value == value.to_integral_value():
            return cell(int(value))
        return cell(float(value))
    if isinstance(value, datetime | date | clock):
        return value.isoformat()
    if isinstance(value, pa.MonthDayNano):
        return {"months": value.months, "days": value.days, "nanoseconds": value.nanoseconds}
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): cell(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [cell(v) for v in value]
    return str(value)

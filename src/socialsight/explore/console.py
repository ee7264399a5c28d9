"""The SQL console: Athena SQL over the lake, as ``socialsight query`` runs it.

Statements go through :meth:`Engine.execute`: one read-only statement, translated
to DuckDB, run on the sandbox (no file outside the lake, no writes) under the
engine's time limit. The page shows the first rows; the CSV has them all, written
by the CLI's own writer.
"""

from __future__ import annotations

import io
import math
import time
from datetime import date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from typing import Any

import pyarrow as pa

from socialsight.errors import InputError, QueryError
from socialsight.explore.filters import Filters
from socialsight.lake.schema import TABLES
from socialsight.query.dialect import DIALECTS
from socialsight.query.engine import VIEWS, Engine, seed_queries
from socialsight.query.output import WRITERS, to_json_value

MAX_SQL = 100_000  # characters in one statement
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
        "views": list(VIEWS),
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


def run_sql(engine: Engine, sql: str | None, dialect: str | None,
            max_rows: int) -> dict[str, Any]:
    """Run one read-only statement: the first ``max_rows`` rows as JSON-able cells."""
    text, name = check_sql(sql), check_dialect(dialect)
    started = time.perf_counter()
    result = engine.execute(text, name)
    elapsed = (time.perf_counter() - started) * 1000
    table = result.table
    shown = table.slice(0, max_rows)
    return {
        "columns": [{"name": f.name, "type": str(f.type)} for f in table.schema],
        "rows": rows_of(shown),
        "row_count": table.num_rows,
        "shown": shown.num_rows,
        "truncated": table.num_rows > shown.num_rows,
        "max_rows": max_rows,
        "elapsed_ms": round(elapsed, 1),
        "dialect": name,
        "duckdb_sql": result.sql,
    }


def csv_of(engine: Engine, sql: str | None, dialect: str | None) -> bytes:
    """Every row of the statement's result as CSV (nested values as JSON), as the CLI writes."""
    result = engine.execute(check_sql(sql), check_dialect(dialect))
    sink = io.BytesIO()
    try:
        WRITERS["csv"](_csv_ready(result.table), sink)
    except pa.ArrowException as exc:
        raise QueryError(f"the result cannot be written as CSV: {exc}") from exc
    return sink.getvalue()


def _csv_ready(table: pa.Table) -> pa.Table:
    """Columns Arrow's CSV writer has no text for (intervals, bytes) as text, as the page shows.

    Text that a spreadsheet would run as a formula (post text is anyone's: ``=HYPERLINK(…)``)
    gets a leading apostrophe, the usual defence; numbers are left alone.
    """
    import pyarrow.compute as pc

    columns = []
    for col in table.columns:
        if _unwritable(col.type):
            values = [None if v is None else _text(cell(v))
                      for v in col.to_pylist(maps_as_pydicts="lossy")]
            col = pa.chunked_array([pa.array(values, pa.string())])
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            risky = pc.match_substring_regex(col, FORMULA)
            col = pc.if_else(risky, pc.binary_join_element_wise("'", col, ""), col)
        columns.append(col)
    return pa.table(columns, names=table.column_names)


FORMULA = r"^[=+\-@\t\r]"  # what spreadsheets take for the start of a formula


def _unwritable(kind: pa.DataType) -> bool:
    if pa.types.is_interval(kind) or pa.types.is_binary(kind) or pa.types.is_large_binary(kind) \
            or pa.types.is_fixed_size_binary(kind):
        return True
    return pa.types.is_nested(kind) and any(
        _unwritable(kind.field(i).type) for i in range(kind.num_fields))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else to_json_value(value)


def rows_of(table: pa.Table) -> list[list[Any]]:
    """Rows as lists (column names may repeat), each cell JSON-able."""
    columns = [col.to_pylist(maps_as_pydicts="lossy") for col in table.columns]
    return [[cell(value) for value in row] for row in zip(*columns, strict=True)]


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

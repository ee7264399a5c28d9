"""SQL console: Athena SQL over the lake, read-only and sandboxed, with a CSV download."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from socialsight.errors import InputError
from socialsight.explore.console import MAX_SQL, console_page, csv_of, run_sql
from socialsight.query.dialect import DIALECTS
from socialsight.web.app import EngineDep, lakeside, render

router = APIRouter()
CSV_HEADERS = {"Content-Disposition": 'attachment; filename="socialsight-query.csv"',
               "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
# A JSON body big enough for MAX_SQL characters of any script (4 bytes each in UTF-8).
MAX_BODY = 4 * MAX_SQL + 4096
SqlParam = Annotated[str | None, Query(description="The SQL (Athena dialect by default).")]
DialectParam = Annotated[str | None, Query(description="athena, presto, trino or duckdb.")]


def _page_data(request: Request, sql: str | None, dialect: str | None) -> dict[str, Any]:
    serve = lakeside(request).settings.serve
    return console_page(sql, dialect, serve.sql_max_rows, serve.sql_timeout_seconds)


@router.get("/api/sql")
def sql_console_json(request: Request, sql: SqlParam = None,
                     dialect: DialectParam = None) -> dict[str, Any]:
    """The console's page data: the seed's queries, the dialects, the row and time limits."""
    return _page_data(request, sql, dialect)


@router.post("/api/sql", openapi_extra={"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"type": "object", "required": ["sql"], "properties": {
        "sql": {"type": "string", "maxLength": MAX_SQL},
        "dialect": {"type": "string", "enum": list(DIALECTS), "default": "athena"}}}}}}})
async def sql_run(request: Request, engine: EngineDep) -> dict[str, Any]:
    """Run ``{"sql": ..., "dialect": "athena"}``: columns, the first rows, the row count."""
    body = await _read_body(request)
    try:
        payload = json.loads(body or b"null")
    except ValueError as exc:
        raise InputError("send JSON: {\"sql\": \"SELECT ...\", \"dialect\": \"athena\"}") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("sql"), str):
        raise InputError("send JSON with the SQL as a string: {\"sql\": \"SELECT ...\"}")
    dialect = payload.get("dialect")
    if dialect is not None and not isinstance(dialect, str):
        raise InputError("dialect is a name: athena, presto, trino or duckdb")
    max_rows = lakeside(request).settings.serve.sql_max_rows
    result: dict[str, Any] = await run_in_threadpool(
        run_sql, engine, payload["sql"], dialect, max_rows)
    return result


async def _read_body(request: Request) -> bytes:
    """The request's body, refused as soon as it is longer than any allowed SQL can be."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise InputError(f"the SQL is longer than {MAX_SQL:,} characters")
        chunks.append(chunk)
    return b"".join(chunks)


@router.get("/api/sql.csv", response_class=Response)
def sql_csv(engine: EngineDep, sql: SqlParam = None, dialect: DialectParam = None) -> Response:
    """Every row of the result as CSV (nested values as JSON)."""
    return Response(csv_of(engine, sql, dialect), media_type="text/csv; charset=utf-8",
                    headers=CSV_HEADERS)


@router.post("/api/sql.csv", response_class=Response, include_in_schema=False)
def sql_csv_form(engine: EngineDep, sql: Annotated[str, Form()] = "",
                 dialect: Annotated[str, Form()] = "") -> Response:
    """The same, from the console's form (SQL too long for a URL)."""
    return sql_csv(engine, sql, dialect or None)


@router.get("/sql", response_class=HTMLResponse, include_in_schema=False)
def sql_page(request: Request, sql: SqlParam = None, dialect: DialectParam = None) -> HTMLResponse:
    return render(request, "sql.html", _page_data(request, sql, dialect), "sql", "SQL console")

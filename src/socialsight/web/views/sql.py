"""SQL console: Athena SQL over the lake, read-only and sandboxed, with a CSV download.

Only the dashboard's own pages (and scripts, which send no ``Origin``) may run SQL:
a request that a browser marks as coming from another site (``Sec-Fetch-Site``
``cross-site`` or ``same-site``, or an ``Origin`` that is not this dashboard) is
refused with 403, so no web page can make a visitor's browser run queries here.
The CSV is streamed as the rows are computed, never held whole.
"""

from __future__ import annotations

import json
from itertools import chain
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from socialsight.errors import InputError
from socialsight.explore.console import MAX_SQL, console_page, csv_stream, run_sql
from socialsight.query.dialect import DIALECTS
from socialsight.web.body import read_body
from socialsight.web.deps import EngineDep, lakeside
from socialsight.web.security import from_this_site

router = APIRouter()
CSV_HEADERS = {"Content-Disposition": 'attachment; filename="socialsight-query.csv"',
               "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
# A JSON body big enough for MAX_SQL characters of any script (4 bytes each in UTF-8).
MAX_BODY = 4 * MAX_SQL + 4096
SqlParam = Annotated[str | None, Query(description="The SQL (Athena dialect by default).")]
DialectParam = Annotated[str | None, Query(description="athena, presto, trino or duckdb.")]


def same_site_only(request: Request) -> None:
    """Refuse a request that runs SQL when a browser says another site's page made it."""
    if not from_this_site(request):
        raise HTTPException(403, "SQL runs only from this dashboard's own pages: a request "
                            "from another site was refused")


SameSite = Depends(same_site_only)


def page_data(request: Request, sql: str | None, dialect: str | None) -> dict[str, Any]:
    """The console's page data: the seed's queries, the dialects, the row and time limits
    (its routes, GET /sql and GET /api/sql, are in the page table)."""
    serve = lakeside(request).settings.serve
    return console_page(sql, dialect, serve.sql_max_rows, serve.sql_timeout_seconds)


RUN_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["sql"], "properties": {
        "sql": {"type": "string", "maxLength": MAX_SQL},
        "dialect": {"type": "string", "enum": list(DIALECTS), "default": "athena"}}}}}}}


@router.post("/api/sql", dependencies=[SameSite], openapi_extra=RUN_BODY)
async def sql_run(request: Request, engine: EngineDep) -> dict[str, Any]:
    """Run ``{"sql": ..., "dialect": "athena"}``: columns, the first rows, the row count
    (null when there are more rows than the page shows)."""
    body = await read_body(request, MAX_BODY, f"the SQL is longer than {MAX_SQL:,} characters")
    try:
        payload = json.loads(body or b"null")
    except ValueError as exc:
        raise InputError("send JSON: {\"sql\": \"SELECT ...\", \"dialect\": \"athena\"}") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("sql"), str):
        raise InputError("send JSON with the SQL as a string: {\"sql\": \"SELECT ...\"}")
    dialect = payload.get("dialect")
    if dialect is not None and not isinstance(dialect, str):
        raise InputError("dialect is a name: athena, presto, trino or duckdb")
    serve = lakeside(request).settings.serve
    result: dict[str, Any] = await run_in_threadpool(
        run_sql, engine, payload["sql"], dialect, serve.sql_max_rows, serve.sql_max_cell_bytes)
    return result


@router.get("/api/sql.csv", response_class=StreamingResponse, dependencies=[SameSite])
def sql_csv(engine: EngineDep, sql: SqlParam = None,
            dialect: DialectParam = None) -> StreamingResponse:
    """Every row of the result as CSV (nested values as JSON), streamed as it is computed."""
    chunks = csv_stream(engine, sql, dialect)
    first = next(chunks)  # the header and first rows: most errors are a 400, not a cut file
    return StreamingResponse(chain([first], chunks), media_type="text/csv; charset=utf-8",
                             headers=CSV_HEADERS)


@router.post("/api/sql.csv", response_class=StreamingResponse, include_in_schema=False,
             dependencies=[SameSite])
def sql_csv_form(engine: EngineDep, sql: Annotated[str, Form()] = "",
                 dialect: Annotated[str, Form()] = "") -> StreamingResponse:
    """The same, from the console's form (SQL too long for a URL)."""
    return sql_csv(engine, sql, dialect or None)

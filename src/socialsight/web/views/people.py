"""People: enrolling faces from the lake, and forgetting people (the pages that show
who is recognised where are in the page table)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from socialsight.errors import InputError
from socialsight.explore.known import enrol, forget
from socialsight.query.engine import Engine
from socialsight.web.body import read_body
from socialsight.web.deps import lakeside

router = APIRouter()
MAX_BODY = 64 * 1024
Change = Callable[[Engine, Any], dict[str, Any]]  # a change of the gallery


@router.post("/api/people")
async def enrol_json(request: Request) -> dict[str, Any]:
    """Enrol {name, urls, faces: [{tweetid, mediaid, face}]} (face: its index in
    facedetails, from 0); every stored face is matched again.
    Returns {id, name, faces_added, photos_rematched}."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise HTTPException(415, "send the person as JSON (Content-Type: application/json)")
    body = await read_body(request, MAX_BODY,
                           f"the request is larger than {MAX_BODY // 1024} KiB")
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise InputError(f"the body is not JSON: {exc}") from exc
    return await _changing(enrol, request, payload)


@router.delete("/api/people/{pid}")
async def forget_json(request: Request, pid: str) -> dict[str, Any]:
    """Forget an enrolled person; every stored face is matched again.
    Returns {id, name, faces_removed, photos_rematched}."""
    return await _changing(forget, request, pid)


async def _changing(change: Change, request: Request, argument: Any) -> dict[str, Any]:
    """Run a change of the gallery off the event loop (a busy lake is a 409: see
    ``app.ERROR_STATUS``)."""
    result: dict[str, Any] = await run_in_threadpool(change, lakeside(request).engine, argument)
    return result

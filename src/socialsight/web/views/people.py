"""People: who is recognised where; enrolling faces from the lake, and forgetting people."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from socialsight.errors import InputError
from socialsight.explore.known import LakeBusy, enrol, forget, people, person
from socialsight.people import GalleryBusy
from socialsight.query.engine import Engine
from socialsight.web.app import FiltersDep, PageDep, PerPageDep, cached, lakeside, render
from socialsight.web.body import read_body

router = APIRouter()
MAX_BODY = 64 * 1024
Change = Callable[[Engine, Any], dict[str, Any]]  # a change of the gallery


@router.get("/api/people")
def people_json(request: Request, chosen: FiltersDep, page: PageDep,
                size: PerPageDep) -> dict[str, Any]:
    """Known people with their photos, posts and faces; a page of faces no one matches."""
    return cached(request, people, chosen, page, size)


@router.get("/people", response_class=HTMLResponse, include_in_schema=False)
def people_page(request: Request, chosen: FiltersDep, page: PageDep,
                size: PerPageDep) -> HTMLResponse:
    data = cached(request, people, chosen, page, size)
    return render(request, "people.html", data, "people", "People", chosen)


@router.get("/api/people/{pid}")
def person_json(request: Request, chosen: FiltersDep, pid: str, page: PageDep,
                size: PerPageDep) -> dict[str, Any]:
    """One known person and a page of the photos they are recognised in."""
    return cached(request, person, chosen, pid, page, size)


@router.get("/people/{pid}", response_class=HTMLResponse, include_in_schema=False)
def person_page(request: Request, chosen: FiltersDep, pid: str, page: PageDep,
                size: PerPageDep) -> HTMLResponse:
    data = cached(request, person, chosen, pid, page, size)
    return render(request, "person.html", data, "people", data["person"]["name"], chosen)


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
    """Run a change of the gallery off the event loop; a busy lake is a 409."""
    try:
        result: dict[str, Any] = await run_in_threadpool(
            change, lakeside(request).engine, argument)
    except LakeBusy as exc:
        raise HTTPException(409, str(exc)) from exc
    except GalleryBusy as exc:  # another process is writing: nothing changed
        raise HTTPException(409, f"the people gallery is not changed: {exc}") from exc
    return result

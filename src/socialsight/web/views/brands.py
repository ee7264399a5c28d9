"""Brands: enrolling a brand (its name, words and logo images, uploaded) and forgetting
one; each change looks for every brand in every past photo again (the page that shows
the mentions is in the page table)."""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException, MultiPartParser

from socialsight.errors import InputError
from socialsight.explore.brands import enrol, forget
from socialsight.web.body import read_body
from socialsight.web.deps import lakeside

router = APIRouter()
MAX_LOGOS = 5  # logo images in one enrolment
MAX_LOGO_BYTES = 5 * 2**20  # each
MAX_FIELD_BYTES = 16 * 1024  # the name, the words
MAX_BODY = MAX_LOGOS * MAX_LOGO_BYTES + 64 * 1024
WORDS = re.compile(r"[,\n]")  # words are given one a line, or separated by commas


@router.post("/api/brands")
async def enrol_form(request: Request) -> dict[str, Any]:
    """Enrol a brand from a form (multipart/form-data): ``name``, ``words`` (one a line,
    or separated by commas; default: the name) and up to 5 ``logo`` images (PNG, JPEG,
    GIF or WebP, 5 MiB each); then every past photo is searched again.
    Returns {id, name, words, logos, logos_added, rescan: {photos, changed, files,
    decoded, missing}}."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "multipart/form-data":
        raise HTTPException(415, "send the brand as a form (Content-Type: multipart/form-data)")
    body = await read_body(request, MAX_BODY, f"the request is larger than "
                           f"{MAX_BODY // 2**20} MiB: at most {MAX_LOGOS} logos of "
                           f"{MAX_LOGO_BYTES // 2**20} MiB each")
    form = await _parse(request, body)
    name = form.get("name")
    if not isinstance(name, str):
        raise InputError("a brand needs a name")
    words = form.get("words")
    uploads = await _logos(form.getlist("logo"))
    side = lakeside(request)
    result: dict[str, Any] = await run_in_threadpool(
        enrol, side.engine, side.settings.fetch, name,
        WORDS.split(words) if isinstance(words, str) else [], uploads)
    return result


@router.delete("/api/brands/{bid}")
async def forget_json(request: Request, bid: str) -> dict[str, Any]:
    """Forget an enrolled brand (by id); its labels leave every past photo.
    Returns {id, name, rescan: {photos, changed, files, decoded, missing}}."""
    result: dict[str, Any] = await run_in_threadpool(forget, lakeside(request).engine, bid)
    return result


async def _parse(request: Request, body: bytes) -> FormData:
    """The form, from the whole body; one cut short (no closing boundary: an upload that
    stopped part way) is refused, not read as far as it goes."""
    from python_multipart.multipart import parse_options_header

    _, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if not boundary:
        raise InputError("the form cannot be read: its Content-Type names no boundary")
    if b"--" + boundary + b"--" not in body:  # the close delimiter (an epilogue may follow)
        raise InputError("the form cannot be read: it ends before its closing boundary "
                         "(an upload cut short?)")

    async def stream() -> AsyncGenerator[bytes, None]:
        yield body

    parser = MultiPartParser(request.headers, stream(), max_files=MAX_LOGOS,
                             max_fields=10, max_part_size=MAX_FIELD_BYTES)
    try:
        return await parser.parse()
    except MultiPartException as exc:
        raise InputError(f"the form cannot be read: {exc.message}") from exc


async def _logos(parts: list[Any]) -> list[tuple[str, bytes]]:
    """The uploaded logo images (file name, bytes); a file input left empty sends none."""
    out = []
    for part in parts:
        if part == "":  # a file input left empty (no file name)
            continue
        if not isinstance(part, UploadFile):
            raise InputError("logo must be an image file")
        data = await part.read()
        await part.close()
        if not data and not part.filename:
            continue
        if len(data) > MAX_LOGO_BYTES:
            raise InputError(f"{part.filename or 'a logo'} is larger than "
                             f"{MAX_LOGO_BYTES // 2**20} MiB")
        out.append((part.filename or "logo", data))
    return out

"""Request bodies read with a size limit: refused as the bytes arrive, never held whole.

A client's ``Content-Length`` over the limit is refused before a byte is read; a body
sent without one (chunked), or longer than it said, is cut off as soon as it passes
the limit. ``await request.body()`` would first hold all of it in memory.
"""

from __future__ import annotations

from starlette.requests import Request

from socialsight.errors import InputError


async def read_body(request: Request, limit: int, too_large: str) -> bytes:
    """The request's body, at most ``limit`` bytes; an InputError (``too_large``) past it."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise InputError(too_large)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise InputError(too_large)
        chunks.append(chunk)
    return b"".join(chunks)

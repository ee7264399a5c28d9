"""Request bodies read with a size limit: refused as the bytes arrive, never held whole.

A client's ``Content-Length`` over the limit is refused before a byte is read; a body
sent without one (chunked), or longer than it said, is cut off as soon as it passes
the limit. ``await request.body()`` would first hold all of it in memory.
"""

from __future__ import annotations

from starlette.requests import Request

from socialsight.errors import InputError
from socialsight.net import read_limited


async def read_body(request: Request, limit: int, too_large: str) -> bytes:
    """The request's body, at most ``limit`` bytes; an InputError (``too_large``) past it."""
    return await read_limited(request, limit, lambda _size: InputError(too_large))

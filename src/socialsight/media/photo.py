"""A photo from a file or a URL, checked and decoded the way the pipeline checks them."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from PIL import Image

from socialsight.config import FetchSettings
from socialsight.errors import MediaError
from socialsight.media.fetch import Fetcher
from socialsight.media.sniff import describe, dimensions, pil_reason, sniff
from socialsight.media.upright import upright


def read_bytes(source: str, settings: FetchSettings) -> bytes:
    """The bytes of a local photo or of an http(s) URL (through the fetch guards)."""
    if source.startswith(("http://", "https://")):
        async def fetch() -> bytes:
            async with Fetcher(settings) as fetcher:
                return (await fetcher.fetch(source)).data

        return asyncio.run(fetch())
    path = Path(source)
    try:
        size = path.stat().st_size
        if size > settings.max_bytes:
            raise MediaError(f"{source} is {size:,} bytes, over fetch.max_bytes "
                             f"({settings.max_bytes:,})")
        return path.read_bytes()
    except OSError as exc:
        raise MediaError(f"cannot read {source[:200]}: {exc.strerror or exc}") from exc


def decode(data: bytes, settings: FetchSettings, name: str = "photo") -> Image.Image:
    """The decoded photo (first frame of a GIF) as a person sees it (:func:`upright`); a
    clear MediaError for anything else."""
    if sniff(data) is None:
        raise MediaError(f"{name} is not a JPEG, PNG, GIF or WebP image ({describe(data)})")
    try:
        dimensions(data, settings.max_pixels)
    except MediaError as exc:
        raise MediaError(f"{name}: {exc}") from exc
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise MediaError(f"cannot decode {name}: {pil_reason(exc)}") from exc
    return upright(image)


def load_photo(source: str, settings: FetchSettings) -> Image.Image:
    return decode(read_bytes(source, settings), settings, source)

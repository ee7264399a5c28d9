"""What a download really is: image formats by their first bytes, and their size in pixels."""

from __future__ import annotations

import io
import re

from socialsight.errors import MediaError

# (format, test on the first bytes); the server's Content-Type is not trusted.
SIGNATURES: tuple[tuple[str, bytes, int], ...] = (
    ("image/jpeg", b"\xff\xd8\xff", 0),
    ("image/png", b"\x89PNG\r\n\x1a\n", 0),
    ("image/gif", b"GIF87a", 0),
    ("image/gif", b"GIF89a", 0),
    ("image/webp", b"WEBP", 8),
)


def sniff(data: bytes) -> str | None:
    """The image type of ``data`` by its magic bytes, or None."""
    for mime, magic, offset in SIGNATURES:
        if data[offset:offset + len(magic)] == magic and (
                mime != "image/webp" or data[:4] == b"RIFF"):
            return mime
    return None


def describe(data: bytes) -> str:
    """A few words on what non-image bytes look like, for the error row."""
    head = data[:64].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        return "an HTML page"
    if head.startswith((b"{", b"[")):
        return "JSON"
    if not data:
        return "an empty body"
    return f"unknown bytes {data[:8].hex()}"


def dimensions(data: bytes, max_pixels: int) -> tuple[int, int]:
    """(width, height) from the image header alone; refuses decompression bombs."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except Image.DecompressionBombError as exc:  # Pillow's own limit, far above ours
        pixels = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"{int(pixels.group(1)):,} pixels" if pixels else "too many pixels"
        raise MediaError(f"the image has {size}, over the limit of {max_pixels:,} "
                         "(fetch.max_pixels)") from exc
    except (OSError, ValueError) as exc:
        raise MediaError(f"cannot read the image header: {pil_reason(exc)}") from exc
    if width * height > max_pixels:
        raise MediaError(f"the image has {width}x{height} pixels, over the limit of "
                         f"{max_pixels:,} (fetch.max_pixels)")
    return width, height


def pil_reason(exc: BaseException) -> str:
    """Pillow's message without the address of the in-memory file it names."""
    return re.sub(r"\s*<_io\.BytesIO object at 0x[0-9a-fA-F]+>", "", str(exc)) or type(
        exc).__name__

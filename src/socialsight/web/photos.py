"""Photos from the lake's store, by sha256 only: whole, as thumbnails, or blurred.

A path never comes from the request: the sha256 must be 64 hex digits, and the file
is looked up under ``_media`` by that name, its bytes checked against it. Sensitive
photos are sent blurred (``blur=1``) until the viewer asks for them; the blur is
done here, so the browser never holds the sharp image until then.

Recent renderings are kept in memory, but never past a change to the lake: a forgotten
photo (``socialsight forget``, retention) is not served again from this cache.
"""

from __future__ import annotations

import io
import re
import threading
from collections import OrderedDict

from socialsight.errors import NotFoundError
from socialsight.lake.store import Lake
from socialsight.media.store import EXTENSIONS, PhotoStore

SIZES = (160, 320, 640, 1280)  # the widths a thumbnail may have
SHA256 = re.compile(r"[0-9a-f]{64}")
CACHE_ITEMS = 512
BLUR_WIDTH = 48  # the blurred image is this wide before it is scaled back up


class Photos:
    """Reads photos out of the store; keeps recent thumbnails in memory."""

    def __init__(self, lake: Lake) -> None:
        self.lake = lake
        self.store = PhotoStore(lake)
        self._version: int | None = None
        self._cache: OrderedDict[tuple[str, int | None, bool], tuple[bytes, str]] = \
            OrderedDict()
        self._lock = threading.Lock()

    def original(self, sha256: str) -> tuple[bytes, str]:
        """The stored bytes and their media type."""
        if not SHA256.fullmatch(sha256):
            raise NotFoundError("a photo is named by its sha256: 64 hex digits")
        for mime in EXTENSIONS:
            if self.store.has(sha256, mime):
                return self.store.get(sha256, mime), mime
        raise NotFoundError(f"photo {sha256[:12]} is not in the lake")

    def get(self, sha256: str, size: int | None = None, blur: bool = False) -> tuple[bytes, str]:
        """The photo at ``size`` pixels wide at most (None: as stored), blurred or not."""
        if size is not None and size not in SIZES:
            raise ValueError(f"size must be one of {', '.join(map(str, SIZES))}")
        key = (sha256, size, blur)
        version = self.lake.version()
        with self._lock:
            if version is None or version != self._version:
                self._cache.clear()  # the lake changed (or cannot say): photos may be gone
                self._version = version
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        data, mime = self.original(sha256)
        if size is not None or blur:
            data, mime = _render(data, size, blur)
        with self._lock:
            self._cache[key] = (data, mime)
            while len(self._cache) > CACHE_ITEMS:
                self._cache.popitem(last=False)
        return data, mime


def _render(data: bytes, size: int | None, blur: bool) -> tuple[bytes, str]:
    from PIL import Image, ImageFilter

    from socialsight.media.upright import upright

    with Image.open(io.BytesIO(data)) as opened:
        opened.draft("RGB", (size or 1280, size or 1280))  # JPEG: decode at a smaller scale
        image = upright(opened).convert("RGB")
    if size is not None and image.width > size:
        image = image.resize((size, max(1, round(image.height * size / image.width))),
                             Image.Resampling.LANCZOS)
    if blur:
        # Shrunk hard, blurred, then scaled back: nothing of the detail survives.
        width, height = image.size
        small = image.resize((BLUR_WIDTH, max(1, round(height * BLUR_WIDTH / width))),
                             Image.Resampling.BILINEAR)
        small = small.filter(ImageFilter.GaussianBlur(3))
        image = small.resize((width, height), Image.Resampling.BILINEAR)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=82)
    return out.getvalue(), "image/jpeg"

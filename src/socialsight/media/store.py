"""The lake's photo store: each distinct photo once, named by the sha256 of its bytes.

Layout: ``<lake>/_media/ab/abcdef….jpg`` (the first two hex digits fan the folder
out). A photo is written whole (on disk: to a temporary name, then renamed into
place; on an object store: one PUT), so a reader never sees half a photo and a crash
leaves at most a stray temporary file. Storing
the same bytes twice (a retweeted photo) writes nothing the second time.
"""

from __future__ import annotations

import hashlib

from socialsight.errors import LakeError
from socialsight.lake import state
from socialsight.lake.store import Lake

FOLDER = state.path("photos")
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}


class PhotoStore:
    """Content-addressed photos inside one lake."""

    def __init__(self, lake: Lake) -> None:
        self.lake = lake

    def path(self, sha256: str, mime: str) -> str:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256 hex digest: {sha256!r}")
        return self.lake.path(FOLDER, sha256[:2], f"{sha256}.{EXTENSIONS.get(mime, 'bin')}")

    def has(self, sha256: str, mime: str) -> bool:
        return bool(self.lake.fs.exists(self.path(sha256, mime)))

    def put(self, data: bytes, mime: str) -> str:
        """Store ``data`` (once); returns its sha256."""
        sha256 = hashlib.sha256(data).hexdigest()
        final = self.path(sha256, mime)
        if self.lake.fs.exists(final):
            return sha256
        try:
            self.lake.write_bytes(final, data)
        except OSError as exc:
            raise LakeError(f"cannot store photo {sha256[:12]}: {exc}") from exc
        return sha256

    def get(self, sha256: str, mime: str) -> bytes:
        """The stored bytes, checked against their name."""
        try:
            with self.lake.fs.open(self.path(sha256, mime), "rb") as handle:
                data: bytes = handle.read()
        except FileNotFoundError as exc:
            raise LakeError(f"photo {sha256[:12]} is not in the store") from exc
        if hashlib.sha256(data).hexdigest() != sha256:
            raise LakeError(f"photo {sha256[:12]} is damaged: its bytes no longer match")
        return data

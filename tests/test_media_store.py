"""The photo store: content-addressed, written once, never half a photo, damage detected."""

from __future__ import annotations

import hashlib

import pytest

from socialsight.errors import LakeError
from socialsight.lake.store import Lake
from socialsight.media.store import PhotoStore

PHOTO = b"\xff\xd8\xff\xe0" + b"a photo" * 100


def test_a_photo_is_stored_once_under_its_hash(lake: Lake) -> None:
    store = PhotoStore(lake)
    sha = store.put(PHOTO, "image/jpeg")
    assert sha == hashlib.sha256(PHOTO).hexdigest()
    path = store.path(sha, "image/jpeg")
    assert path.endswith(f"/_media/{sha[:2]}/{sha}.jpg")
    mtime = lake.fs.modified(path)
    assert store.put(PHOTO, "image/jpeg") == sha  # a retweeted photo: nothing written
    assert lake.fs.modified(path) == mtime
    assert store.get(sha, "image/jpeg") == PHOTO
    assert [p for p in lake.fs.find(lake.path("_media")) if ".tmp" in p] == []


def test_a_damaged_or_missing_photo_is_a_clear_error(lake: Lake) -> None:
    store = PhotoStore(lake)
    sha = store.put(PHOTO, "image/jpeg")
    with open(store.path(sha, "image/jpeg"), "ab") as handle:
        handle.write(b"bit rot")
    with pytest.raises(LakeError, match="damaged"):
        store.get(sha, "image/jpeg")
    with pytest.raises(LakeError, match="not in the store"):
        store.get("0" * 64, "image/png")
    with pytest.raises(ValueError, match="sha256"):
        store.path("../../etc/passwd", "image/jpeg")


def test_the_store_works_on_any_fsspec_lake(tmp_path) -> None:
    lake = Lake(f"memory://store-{tmp_path.name}")
    store = PhotoStore(lake)
    sha = store.put(PHOTO, "image/webp")
    assert store.has(sha, "image/webp") and store.get(sha, "image/webp") == PHOTO

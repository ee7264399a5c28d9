"""A JSON-lines file (or every ``*.jsonl`` file of a folder), read once or followed as it grows.

The cursor is ``<file>:<byte offset>`` of the first line not yet read, per file, so a
restart resumes right after the last committed line. A last line without its newline
is left until its writer finishes it. A file that shrinks (rotated, truncated) is read
again from its start. Every line goes through the same format detection as
``socialsight import``; a line that cannot be read is a problem with its line's
offset, and the stream goes on. What a line says is gone (a v1.1 ``delete`` notice,
a Jetstream delete commit, an X edit's older versions) comes as the item's
deletions, a saved Jetstream ``update`` as an edit.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import orjson

from socialsight.config import CollectSettings
from socialsight.errors import SocialsightError
from socialsight.posts.detect import convert
from socialsight.sources.base import Item, Problem, Source
from socialsight.sources.files import BOM, MAX_RECORD_BYTES, folder_files

CHUNK = 1 << 20
LINES_PER_ITEM = 500


class FollowFiles(Source):
    """Posts from JSON-lines files; ``follow`` keeps reading what is appended."""

    platform = "file"

    def __init__(self, path: str, follow: bool = True, poll_seconds: float = 0.5) -> None:
        self.path = os.path.abspath(path)
        self.follow = follow
        self.poll_seconds = poll_seconds

    @classmethod
    def from_spec(cls, rest: str, settings: CollectSettings) -> FollowFiles:
        """``file:PATH``: a JSON-lines file, or a folder of them, followed as it grows."""
        return cls(rest)

    @property
    def key(self) -> str:
        return f"file:{self.path}"

    def _files(self) -> list[str]:
        if os.path.isdir(self.path):
            return folder_files(self.path, ("*.jsonl",))
        return [self.path] if os.path.exists(self.path) else []

    async def stream(self, cursor: str | None) -> AsyncIterator[Item]:
        offsets: dict[str, int] = orjson.loads(cursor) if cursor else {}
        while True:
            grew = False
            for path in self._files():
                async for item in self._read(path, offsets):
                    grew = True
                    yield item
            if not self.follow:
                return
            if not grew:
                await asyncio.sleep(self.poll_seconds)

    async def _read(self, path: str, offsets: dict[str, int]) -> AsyncIterator[Item]:
        try:
            size = os.path.getsize(path)
        except OSError:
            return
        start = offsets.get(path, 0)
        if size < start:  # truncated or replaced: read it again from the start
            start = 0
        if size == start:
            return
        with open(path, "rb") as handle:
            handle.seek(start)
            item = Item()
            pending = b""
            position = start
            while True:
                chunk = handle.read(CHUNK)
                if not chunk:
                    break
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    at = position
                    position += len(line) + 1
                    if at == 0:  # a UTF-8 byte-order mark is not part of the first record
                        line = line.removeprefix(BOM)
                    self._take(line, f"{path}@{at}", item)
                if len(pending) > MAX_RECORD_BYTES:
                    item.problems.append(Problem(
                        f"line larger than {MAX_RECORD_BYTES} bytes", None, f"{path}@{position}"))
                    position += len(pending)
                    pending = b""
                if _count(item) >= LINES_PER_ITEM:
                    offsets[path] = position
                    item.cursor = orjson.dumps(offsets).decode()
                    yield item
                    item = Item()
                    await asyncio.sleep(0)
            if position == start:
                return  # only an unfinished last line: nothing new yet
            offsets[path] = position  # an unfinished last line is read next time
            item.cursor = orjson.dumps(offsets).decode()
            yield item

    @staticmethod
    def _take(line: bytes, where: str, item: Item) -> None:
        text = line.strip()
        if not text:
            return
        raw = text.decode("utf-8", errors="replace")
        try:
            _, conversion = convert(orjson.loads(text))
        except orjson.JSONDecodeError as exc:
            item.problems.append(Problem(f"not JSON: {exc}", raw, where))
            return
        except SocialsightError as exc:
            item.problems.append(Problem(str(exc), raw, where))
            return
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            item.problems.append(Problem(f"cannot convert record: {exc!r}", raw, where))
            return
        item.problems += [Problem(p, raw, where) for p in conversion.problems]
        item.deletions += conversion.deletions
        for posts, found in ((item.posts, conversion.posts), (item.edits, conversion.edits)):
            for post in found:
                if post.get("raw_json") is None:
                    post["raw_json"] = raw
                posts.append(post)


def _count(item: Item) -> int:
    return len(item.posts) + len(item.problems) + len(item.deletions) + len(item.edits)

"""Live collection: sources → a buffer → the lake, in batches, like Kinesis Firehose.

Each source runs as its own task and hands its items to one bounded queue; a full
queue makes the sources wait (a slow lake slows collection, it does not eat memory).
The buffer is committed as one batch when it holds ``collect.batch_posts`` posts or
``collect.batch_bytes`` bytes of raw JSON, or when its oldest post is
``collect.batch_seconds`` old — the seed's Firehose flushed at 60 s or 5 MB. Posts
already in the lake are dropped by id on commit.

After a commit, each source's last cursor whose posts are all in the lake is saved
under ``_state/sources/`` in the lake; a restarted source resumes from it, so a crash
loses at most what the platform cannot replay, and whatever is replayed twice is
de-duplicated.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson

from socialsight.config import CollectSettings
from socialsight.intake.prepare import prepare
from socialsight.intake.writer import Batch, BatchResult, OnChange, PostWriter
from socialsight.lake import state
from socialsight.lake.errors import ErrorRow
from socialsight.lake.store import Lake
from socialsight.sources.base import Item, Source

log = logging.getLogger(__name__)

CURSORS = state.path("cursors")


class Cursors:
    """Each source's resume point, one small JSON file per source key in the lake."""

    def __init__(self, lake: Lake) -> None:
        self.lake = lake

    def _path(self, key: str) -> str:
        digest = hashlib.blake2b(key.encode(), digest_size=8).hexdigest()
        safe = "".join(c if c.isalnum() else "-" for c in key)[:60]
        return self.lake.path(CURSORS, f"{safe}-{digest}.json")

    def load(self, key: str) -> str | None:
        try:
            with self.lake.fs.open(self._path(key), "rb") as handle:
                value = orjson.loads(handle.read()).get("cursor")
                return None if value is None else str(value)
        except (FileNotFoundError, orjson.JSONDecodeError):
            return None

    def save(self, key: str, cursor: str) -> None:
        self.lake.write_bytes(self._path(key), orjson.dumps(
            {"source": key, "cursor": cursor, "saved_at": datetime.now(UTC).isoformat()}))


@dataclass
class CollectStats:
    posts: int = 0  # new posts committed
    duplicates: int = 0
    photos: int = 0
    problems: int = 0
    batches: int = 0
    started: float = field(default_factory=time.monotonic)
    by_source: dict[str, int] = field(default_factory=dict)

    @property
    def posts_per_second(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.posts / elapsed if elapsed > 0 else 0.0


class Collector:
    """Runs sources into one lake until stopped; see the module docstring."""

    def __init__(self, lake: Lake, sources: Sequence[Source], settings: CollectSettings,
                 on_commit: Callable[[BatchResult], None] | None = None,
                 on_change: OnChange | None = None,
                 commit_lock: threading.RLock | None = None) -> None:
        """``on_change``: what applies the deletions and edits the sources report
        (:class:`socialsight.forget.Forgetter`, when ``collect.honour_deletions``);
        ``commit_lock``: held while a batch commits, so that another thread of the same
        process that rewrites or removes files (``run``'s forgets and compaction) never
        runs while the batch's duplicates are being looked up."""
        self.commit_lock = commit_lock
        self.lake, self.sources, self.settings = lake, list(sources), settings
        self.on_commit = on_commit
        self.cursors = Cursors(lake)
        self.writer = PostWriter(lake, on_change)
        self.stats = CollectStats()
        self._queue: asyncio.Queue[tuple[str, Item] | None] = asyncio.Queue(
            maxsize=settings.queue_items)
        self._pending: dict[str, str] = {}  # source key → cursor after the buffered posts
        self._bytes = 0
        self._oldest: float | None = None

    async def run(self, stop: asyncio.Event) -> CollectStats:
        """Collect until ``stop`` is set (or every source ends); flush what is buffered."""
        readers = [asyncio.create_task(self._read(source), name=source.key)
                   for source in self.sources]
        done = asyncio.create_task(self._until_done(readers))
        stopping = asyncio.create_task(stop.wait())
        try:
            while True:
                timeout = self._time_left()
                get = asyncio.create_task(self._queue.get())
                finished, _ = await asyncio.wait({get, stopping, done}, timeout=timeout,
                                                 return_when=asyncio.FIRST_COMPLETED)
                if get in finished:
                    entry = get.result()
                    if entry is not None:
                        self._take(*entry)
                else:
                    get.cancel()
                if self._full() or (self._oldest is not None and self._time_left() == 0):
                    await self.flush()
                if stopping in finished or (done in finished and self._queue.empty()):
                    break  # what is still queued is taken below
        finally:
            for task in readers:
                task.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
            stopping.cancel()
            done.cancel()
            while not self._queue.empty():
                entry = self._queue.get_nowait()
                if entry is not None:
                    self._take(*entry)
            await self.flush()
        return self.stats

    async def _until_done(self, readers: list[asyncio.Task[None]]) -> None:
        await asyncio.gather(*readers, return_exceptions=True)

    async def _read(self, source: Source) -> None:
        cursor = self.cursors.load(source.key)
        log.info("collecting from %s (cursor %s)", source.key, cursor)
        try:
            async for item in source.stream(cursor):
                await self._queue.put((source.key, item))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a source that gives up must not stop the others
            log.error("source %s stopped: %s", source.key, exc)
            self.writer.add_error(ErrorRow(stage="collect", source=source.key,
                                           reason=f"source stopped: {exc}",
                                           error_class=type(exc).__name__))

    def _take(self, key: str, item: Item) -> None:
        for post in item.posts:
            self.writer.add(prepare(post, key))
            self._bytes += len(post.get("raw_json") or "")
        for deletion in item.deletions:
            self.writer.add_deletion(deletion)
        for post in item.edits:
            self.writer.add_edit(prepare(post, key))
        for problem in item.problems:
            self.writer.add_error(ErrorRow(
                stage="collect", source=problem.location or key, reason=problem.reason,
                raw=problem.raw, transient=problem.transient))
        self.stats.problems += len(item.problems)
        if item.cursor is not None:
            self._pending[key] = item.cursor
        if (item.posts or item.problems or item.deletions or item.edits) and self._oldest is None:
            self._oldest = time.monotonic()
        self.stats.by_source[key] = self.stats.by_source.get(key, 0) + len(item.posts)

    def _full(self) -> bool:
        s = self.settings
        return len(self.writer) >= s.batch_posts or self._bytes >= s.batch_bytes

    def _time_left(self) -> float | None:
        if self._oldest is None:
            return None if not self._pending else 0.0
        return max(0.0, self.settings.batch_seconds - (time.monotonic() - self._oldest))

    def _commit(self, batch: Batch) -> BatchResult:
        if self.commit_lock is None:
            return self.writer.commit(batch)
        with self.commit_lock:
            return self.writer.commit(batch)

    async def flush(self) -> None:
        """Commit what is buffered, then save the cursors it covers."""
        batch = self.writer.take()
        cursors, self._pending = self._pending, {}
        self._bytes, self._oldest = 0, None
        if batch.parts or batch.errors or batch.deletions or batch.edits:
            result = await asyncio.to_thread(self._commit, batch)
            self.stats.posts += result.written
            self.stats.duplicates += result.duplicates
            self.stats.photos += result.photos
            self.stats.batches += 1
            if self.on_commit is not None:
                self.on_commit(result)
        for key, cursor in cursors.items():
            self.cursors.save(key, cursor)

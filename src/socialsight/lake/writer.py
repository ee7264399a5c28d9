"""Batches of posts and error rows into the lake, de-duplicated by key across batches.

The lake itself is the de-duplication state: the keys of a table are read back
from its committed Parquet files (only the key column, only the partitions a
batch touches), so nothing outside the lake can drift out of step with it.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from socialsight.lake.schema import ERRORS, PARTITION, TWEETS
from socialsight.lake.store import Lake
from socialsight.posts.canonical import Post, partition_of

log = logging.getLogger(__name__)

RAW_LIMIT = 4096
POST_COLUMNS = pa.schema([f for f in TWEETS if f.name != "raw_json"])


class KeyIndex:
    """The keys already committed to one table, loaded per partition and cached (LRU)."""

    def __init__(self, lake: Lake, table: str, key: str, *, partitioned: bool = True,
                 max_partitions: int = 32) -> None:
        self.lake, self.table, self.key = lake, table, key
        self.partitioned = partitioned
        self.max_partitions = max_partitions
        self._cache: OrderedDict[str, set[Any]] = OrderedDict()

    def _keys(self, dt: str) -> set[Any]:
        slot = dt if self.partitioned else "*"
        if slot in self._cache:
            self._cache.move_to_end(slot)
            return self._cache[slot]
        table = self.lake.read(self.table, [self.key], dt=dt if self.partitioned else None)
        keys = set(table.column(self.key).to_pylist())
        self._cache[slot] = keys
        if len(self._cache) > self.max_partitions:
            self._cache.popitem(last=False)
        return keys

    def contains(self, dt: str, key: Any) -> bool:
        return key in self._keys(dt)

    def add(self, dt: str, key: Any) -> None:
        self._keys(dt).add(key)


@dataclass
class ErrorRow:
    """Something that could not be read or analysed: what, where and why."""

    stage: str
    source: str
    reason: str
    line: int | None = None
    raw: str | None = None
    post_id: int | None = None
    error_class: str = "InputError"
    transient: bool = False
    occurred_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def error_id(self) -> str:
        key = f"{self.stage}\x1f{self.source}\x1f{self.line}\x1f{self.post_id}\x1f{self.raw}"
        return hashlib.blake2b(key.encode(errors="replace"), digest_size=12).hexdigest()

    def as_row(self) -> dict[str, Any]:
        raw = self.raw if self.raw is None or len(self.raw) <= RAW_LIMIT else self.raw[:RAW_LIMIT]
        return {
            "error_id": self.error_id, "stage": self.stage, "source": self.source,
            "line": self.line, "post_id": self.post_id, "reason": self.reason,
            "error_class": self.error_class, "transient": self.transient, "raw": raw,
            "occurred_at": self.occurred_at, PARTITION: self.occurred_at.strftime("%Y-%m-%d"),
        }


@dataclass
class BatchResult:
    written: int = 0
    duplicates: int = 0
    photos: int = 0
    errors: int = 0
    rejected: int = 0  # posts whose fields did not fit the schema (now error rows)


def count_photos(post: Post) -> int:
    media = (post.get("extended_entities") or {}).get("media") or []
    return sum(1 for m in media if isinstance(m, dict) and m.get("type") == "photo")


class PostWriter:
    """Collects canonical posts and error rows; ``flush`` commits them as one batch."""

    def __init__(self, lake: Lake) -> None:
        self.lake = lake
        self.posts: list[Post] = []
        self.errors: list[ErrorRow] = []
        self._post_ids = KeyIndex(lake, "tweets", "id")
        self._error_ids = KeyIndex(lake, "errors", "error_id", partitioned=False)

    def __len__(self) -> int:
        return len(self.posts)

    def add(self, post: Post) -> None:
        self.posts.append(post)

    def add_error(self, error: ErrorRow) -> None:
        self.errors.append(error)

    def flush(self) -> BatchResult:
        result = BatchResult()
        fresh = self._fresh_posts(result)
        before = len(fresh)
        table = self._to_arrow(fresh)
        result.rejected = before - len(fresh)
        errors = self._fresh_errors()
        result.errors = len(errors)
        error_table = pa.Table.from_pylist(
            [e.as_row() for e in errors], schema=ERRORS.append(pa.field(PARTITION, pa.string()))
        )
        self.lake.commit({"tweets": table, "errors": error_table})
        for post in fresh:
            self._post_ids.add(post[PARTITION], post["id"])
        for err in errors:
            self._error_ids.add("*", err.error_id)
        result.written = table.num_rows
        result.photos = sum(count_photos(p) for p in fresh)
        self.posts, self.errors = [], []
        return result

    def _fresh_posts(self, result: BatchResult) -> list[Post]:
        fresh: dict[int, Post] = {}
        for post in self.posts:
            post[PARTITION] = partition_of(post["timestamp_ms"])
            if post["id"] in fresh or self._post_ids.contains(post[PARTITION], post["id"]):
                result.duplicates += 1
                continue
            fresh[post["id"]] = post
        return list(fresh.values())

    def _fresh_errors(self) -> list[ErrorRow]:
        fresh: dict[str, ErrorRow] = {}
        for err in self.errors:
            if err.error_id not in fresh and not self._error_ids.contains("*", err.error_id):
                fresh[err.error_id] = err
        return list(fresh.values())

    def _to_arrow(self, posts: list[Post]) -> pa.Table:
        """Posts as an Arrow table; a post whose fields do not fit becomes an error row."""
        schema = TWEETS.append(pa.field(PARTITION, pa.string()))
        try:
            return pa.Table.from_pylist(posts, schema=schema)
        except (pa.ArrowException, TypeError, ValueError, OverflowError):
            pass
        good = []
        for post in posts:
            try:
                pa.Table.from_pylist([post], schema=schema)
            except (pa.ArrowException, TypeError, ValueError, OverflowError) as exc:
                self.errors.append(ErrorRow(
                    stage="import", source=str(post.get("_source", "")), line=post.get("_line"),
                    post_id=post.get("id"), raw=post.get("raw_json"),
                    reason=f"post {post.get('id')} has a field of the wrong type: {exc}",
                ))
                continue
            good.append(post)
        posts[:] = good
        return pa.Table.from_pylist(good, schema=schema)

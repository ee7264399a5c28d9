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
import pyarrow.compute as pc

from socialsight.errors import InputError
from socialsight.lake.schema import ERRORS, PARTITION, TWEET_ROWS, partitioned
from socialsight.lake.store import Lake, split_by_partition
from socialsight.posts.canonical import Post, checked_time, partition_of

log = logging.getLogger(__name__)

RAW_LIMIT = 4096


class KeyIndex:
    """The keys already committed to one table, loaded per partition and cached (LRU)."""

    def __init__(self, lake: Lake, table: str, key: str, *, partitioned: bool = True,
                 max_partitions: int = 32) -> None:
        self.lake, self.table, self.key = lake, table, key
        self.partitioned = partitioned
        self.max_partitions = max_partitions
        self._cache: OrderedDict[str, list[pa.Array]] = OrderedDict()

    def _keys(self, dt: str) -> list[pa.Array]:
        slot = dt if self.partitioned else "*"
        if slot in self._cache:
            self._cache.move_to_end(slot)
            return self._cache[slot]
        table = self.lake.read(self.table, [self.key], dt=dt if self.partitioned else None)
        keys = [table.column(self.key).combine_chunks()]
        self._cache[slot] = keys
        if len(self._cache) > self.max_partitions:
            self._cache.popitem(last=False)
        return keys

    def seen(self, dt: str, keys: pa.Array) -> pa.Array:
        """A boolean mask: which of ``keys`` are committed already in partition ``dt``."""
        known = self._keys(dt)
        if len(known) > 1:
            known[:] = [pa.concat_arrays(known)]
        return pc.is_in(keys, value_set=known[0])

    def add(self, dt: str, keys: pa.Array) -> None:
        self._keys(dt).append(keys)


def first_of_each(table: pa.Table, key: str) -> pa.Table:
    """The rows of ``table`` whose ``key`` has not come earlier in it."""
    if table.num_rows < 2:
        return table
    positions = pa.table({key: table.column(key), "_pos": pa.array(range(table.num_rows))})
    first = positions.group_by(key, use_threads=False).aggregate([("_pos", "min")])
    if first.num_rows == table.num_rows:
        return table
    pos = first.column("_pos_min")
    return table.take(pos.take(pc.sort_indices(pos)))


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
        parts = (self.stage, self.source, self.line, self.post_id, self.raw)
        key = "\x1f".join(_text(part) for part in parts)
        return hashlib.blake2b(key.encode(errors="replace"), digest_size=12).hexdigest()

    def as_row(self) -> dict[str, Any]:
        """The row of ``errors``; any value of any field fits (what does not is left out)."""
        raw = None if self.raw is None else _text(self.raw[:RAW_LIMIT])
        return {
            "error_id": self.error_id, "stage": _text(self.stage), "source": _text(self.source),
            "line": _bigint(self.line), "post_id": _bigint(self.post_id),
            "reason": _text(self.reason), "error_class": _text(self.error_class),
            "transient": bool(self.transient), "raw": raw,
            "occurred_at": self.occurred_at, PARTITION: self.occurred_at.strftime("%Y-%m-%d"),
        }


def _bigint(value: Any) -> int | None:
    """``value`` when it fits a bigint column; None otherwise (an id out of range, say)."""
    if isinstance(value, int) and not isinstance(value, bool) and -(1 << 63) <= value < 1 << 63:
        return value
    return None


def _text(value: Any) -> str:
    """``value`` as text Parquet can hold (lone surrogates replaced)."""
    try:
        text = value if isinstance(value, str) else str(value)
    except ValueError:  # an int of more digits than Python writes out
        text = f"<{type(value).__name__} too long to write>"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


@dataclass
class BatchResult:
    written: int = 0
    duplicates: int = 0
    photos: int = 0
    errors: int = 0
    rejected: int = 0  # posts whose fields did not fit the schema (now error rows)


def count_photos(posts: pa.Table) -> int:
    """Media of type photo across the ``tweets`` rows of ``posts``."""
    media = pc.list_flatten(pc.struct_field(posts.column("extended_entities"), "media"))
    if len(media) == 0:
        return 0
    return int(pc.sum(pc.equal(pc.struct_field(media, "type"), "photo")).as_py() or 0)


@dataclass
class Batch:
    """Posts (Arrow tables, or runs of dicts) and error rows on their way to one commit."""

    parts: list[pa.Table | list[Post]]
    errors: list[ErrorRow]


class PostWriter:
    """Collects posts (dicts or Arrow rows) and error rows; ``flush`` commits one batch.

    A post already committed, or met earlier in the same batch, is counted as a
    duplicate and not written again.
    """

    def __init__(self, lake: Lake) -> None:
        self.lake = lake
        self._parts: list[pa.Table | list[Post]] = []
        self._rows = 0
        self.errors: list[ErrorRow] = []
        self._post_ids = KeyIndex(lake, "tweets", "id")
        self._error_ids = KeyIndex(lake, "errors", "error_id", partitioned=False)

    def __len__(self) -> int:
        return self._rows

    def add(self, post: Post) -> None:
        """One canonical post (a dict in the ``tweets`` shape)."""
        if not self._parts or not isinstance(self._parts[-1], list):
            self._parts.append([])
        self._parts[-1].append(post)
        self._rows += 1

    def add_table(self, posts: pa.Table) -> None:
        """Rows already in the ``tweets`` schema, with their ``dt`` column."""
        if posts.num_rows:
            self._parts.append(posts)
            self._rows += posts.num_rows

    def add_error(self, error: ErrorRow) -> None:
        self.errors.append(error)

    def flush(self) -> BatchResult:
        """Commit what was added since the last flush."""
        return self.commit(self.take())

    def take(self) -> Batch:
        """What was added since the last take, to ``commit`` (perhaps on another thread)."""
        batch = Batch(self._parts, self.errors)
        self._parts, self._rows, self.errors = [], 0, []
        return batch

    def commit(self, batch: Batch) -> BatchResult:
        """De-duplicate a batch and commit it to the lake; batches must commit in order."""
        result = BatchResult()
        known_errors = len(batch.errors)
        tables = [self._to_arrow(p, batch.errors) if isinstance(p, list) else p
                  for p in batch.parts]
        result.rejected = len(batch.errors) - known_errors
        posts = pa.concat_tables(tables) if tables else TWEET_ROWS.empty_table()
        fresh = self._fresh_posts(posts, result)
        errors = self._fresh_errors(batch.errors)
        result.errors = len(errors)
        error_table = pa.Table.from_pylist([e.as_row() for e in errors],
                                           schema=partitioned(ERRORS))
        self.lake.commit({"tweets": fresh, "errors": error_table})
        for dt, part in split_by_partition(fresh.select(["id", PARTITION])):
            self._post_ids.add(dt, part.column("id").combine_chunks())
        if errors:
            self._error_ids.add("*", error_table.column("error_id").combine_chunks())
        result.written = fresh.num_rows
        result.photos = count_photos(fresh) if fresh.num_rows else 0
        return result

    def _fresh_posts(self, posts: pa.Table, result: BatchResult) -> pa.Table:
        unique = first_of_each(posts, "id")
        keep = []
        for dt, part in split_by_partition(unique, keep_partition=True):
            seen = self._post_ids.seen(dt, part.column("id").combine_chunks())
            keep.append(part.filter(pc.invert(seen)) if pc.any(seen).as_py() else part)
        fresh = pa.concat_tables(keep) if keep else TWEET_ROWS.empty_table()
        result.duplicates = posts.num_rows - fresh.num_rows
        return fresh

    def _fresh_errors(self, errors: list[ErrorRow]) -> list[ErrorRow]:
        fresh: dict[str, ErrorRow] = {}
        for err in errors:
            fresh.setdefault(err.error_id, err)
        if not fresh:
            return []
        seen = self._error_ids.seen("*", pa.array(list(fresh), pa.string())).to_pylist()
        return [err for err, old in zip(fresh.values(), seen, strict=True) if not old]

    @staticmethod
    def _to_arrow(posts: list[Post], errors: list[ErrorRow]) -> pa.Table:
        """Posts as an Arrow table; a post whose fields do not fit becomes an error row."""
        dated = []
        for post in posts:
            try:
                post[PARTITION] = partition_of(checked_time(post.get("timestamp_ms")))
            except InputError as exc:
                errors.append(_rejected(post, f"cannot be dated: {exc}"))
                continue
            dated.append(post)
        try:
            return pa.Table.from_pylist(dated, schema=TWEET_ROWS)
        except (pa.ArrowException, TypeError, ValueError, OverflowError, RecursionError):
            pass
        good = []
        for post in dated:
            try:
                pa.Table.from_pylist([post], schema=TWEET_ROWS)
            except (pa.ArrowException, TypeError, ValueError, OverflowError,
                    RecursionError) as exc:
                errors.append(_rejected(post, f"has a field of the wrong type: {exc}"))
                continue
            good.append(post)
        return pa.Table.from_pylist(good, schema=TWEET_ROWS)


def _rejected(post: Post, why: str) -> ErrorRow:
    """The error row of a post that cannot be written."""
    raw = post.get("raw_json")
    return ErrorRow(
        stage="import", source=str(post.get("_source", "")), line=_bigint(post.get("_line")),
        post_id=_bigint(post.get("id")), raw=raw if isinstance(raw, str) else None,
        reason=f"post {_text(post.get('id'))[:40]} {why}",
    )

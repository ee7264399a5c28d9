"""Batches of posts and error rows into the lake, de-duplicated by key across batches.

The lake itself is the de-duplication state (:class:`socialsight.lake.keys.KeyIndex`):
the keys of a table are read back from its committed Parquet files, so nothing outside
the lake can drift out of step with it. Error rows go through the lake's errors log
(:mod:`socialsight.lake.errors`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from socialsight.errors import InputError
from socialsight.lake.errors import ErrorLog, ErrorRow, Stage, bigint, text
from socialsight.lake.keys import KeyIndex
from socialsight.lake.photos import count_photos
from socialsight.lake.schema import PARTITION, TWEET_ROWS
from socialsight.lake.store import Lake, split_by_partition
from socialsight.posts.canonical import Post, checked_time, partition_of

log = logging.getLogger(__name__)


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
class BatchResult:
    written: int = 0
    duplicates: int = 0
    photos: int = 0
    errors: int = 0
    rejected: int = 0  # posts whose fields did not fit the schema (now error rows)


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
        self._errors = ErrorLog(lake)

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
        error_table = self._errors.fresh(batch.errors)
        result.errors = error_table.num_rows
        self.lake.commit({"tweets": fresh, "errors": error_table})
        for dt, part in split_by_partition(fresh.select(["id", PARTITION])):
            self._post_ids.add(dt, part.column("id").combine_chunks())
        self._errors.logged(error_table)
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
        stage=Stage.IMPORT, source=str(post.get("_source", "")), line=bigint(post.get("_line")),
        post_id=bigint(post.get("id")), raw=raw if isinstance(raw, str) else None,
        reason=f"post {text(post.get('id'))[:40]} {why}",
    )

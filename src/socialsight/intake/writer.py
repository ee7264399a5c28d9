"""Batches of posts and error rows into the lake, de-duplicated by key across batches.

The lake itself is the de-duplication state (:class:`socialsight.lake.keys.KeyIndex`):
the keys of a table are read back from its committed Parquet files, so nothing outside
the lake can drift out of step with it. Error rows go through the lake's errors log
(:mod:`socialsight.lake.errors`). Posts that ``forget`` removed are never written again
(the audit log's deny list, :func:`socialsight.lake.audit.forgotten`).

Deletions and edits the platforms send (:class:`~socialsight.posts.canonical.Deletion`,
edited posts) ride in the same batches and, after the batch's posts are committed,
go to ``on_change`` — the forget engine the caller passes (``collect.honour_deletions``);
without one they are counted and left.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from socialsight.errors import InputError
from socialsight.lake.audit import forgotten
from socialsight.lake.errors import ErrorLog, ErrorRow, Stage, bigint, text
from socialsight.lake.keys import KeyIndex
from socialsight.lake.photos import count_photos
from socialsight.lake.schema import PARTITION, TWEET_ROWS
from socialsight.lake.store import Lake, split_by_partition
from socialsight.posts.canonical import Deletion, Post, checked_time, partition_of

log = logging.getLogger(__name__)


# What applies a batch's deletions and edits, returning the ids of the posts it forgot.
OnChange = Callable[[list[Deletion], pa.Table | None], Iterable[int]]


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
    forgotten: int = 0  # posts left out because `forget` removed them before
    deletions: int = 0  # deletions the platforms sent (handed to on_change, if any)
    edits: int = 0  # edited posts (handed to on_change, if any)


@dataclass
class Batch:
    """Posts (Arrow tables, or runs of dicts) and error rows on their way to one commit."""

    parts: list[pa.Table | list[Post]]
    errors: list[ErrorRow]
    deletions: list[Deletion] = field(default_factory=list)
    edits: list[Post] = field(default_factory=list)


class PostWriter:
    """Collects posts (dicts or Arrow rows) and error rows; ``flush`` commits one batch.

    A post already committed, or met earlier in the same batch, is counted as a
    duplicate and not written again. ``on_change(deletions, edits)``: what applies the
    platforms' deletions and edits (a :class:`socialsight.forget.Forgetter`), called
    after each batch's posts are committed, returning the ids it forgot (never written
    again); None: they are counted, not applied.
    """

    def __init__(self, lake: Lake,
                 on_change: OnChange | None = None,
                 ) -> None:
        self.lake = lake
        self.on_change = on_change
        self._parts: list[pa.Table | list[Post]] = []
        self._rows = 0
        self.errors: list[ErrorRow] = []
        self._deletions: list[Deletion] = []
        self._edits: list[Post] = []
        self._post_ids = KeyIndex(lake, "tweets", "id")
        self._errors = ErrorLog(lake)
        self._forgotten = pa.array(sorted(forgotten(lake).posts), pa.int64())

    def __len__(self) -> int:
        return self._rows + len(self._deletions) + len(self._edits)

    def add_deletion(self, deletion: Deletion) -> None:
        """A platform's word that a post is gone."""
        self._deletions.append(deletion)

    def add_edit(self, post: Post) -> None:
        """A post's edited version (the same id), to replace the one the lake holds."""
        self._edits.append(post)

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
        batch = Batch(self._parts, self.errors, self._deletions, self._edits)
        self._parts, self._rows, self.errors = [], 0, []
        self._deletions, self._edits = [], []
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
        result.deletions, result.edits = len(batch.deletions), len(batch.edits)
        if self.on_change is not None and (batch.deletions or batch.edits):
            edits = self._to_arrow(batch.edits, []) if batch.edits else None
            gone = set(self.on_change(batch.deletions, edits))
            # A deletion may come before its post ("even in the rare case where a deletion
            # message arrives earlier in the stream than the Tweet it references", X's
            # streaming docs): the posts it names are kept out of the later batches too.
            gone.update(d.post_id for d in batch.deletions
                        if d.forgets_post and d.post_id is not None)
            if gone:
                self._forgotten = pa.concat_arrays([self._forgotten,
                                                    pa.array(sorted(gone), pa.int64())])
            if edits is not None:
                for dt, part in split_by_partition(edits.select(["id", PARTITION])):
                    self._post_ids.add(dt, part.column("id").combine_chunks())
        return result

    def _fresh_posts(self, posts: pa.Table, result: BatchResult) -> pa.Table:
        unique = first_of_each(posts, "id")
        if len(self._forgotten) and unique.num_rows:
            gone = pc.is_in(unique.column("id"), value_set=self._forgotten)
            if pc.any(gone).as_py():
                result.forgotten = pc.sum(gone).as_py()
                unique = unique.filter(pc.invert(gone))
        keep = []
        for dt, part in split_by_partition(unique, keep_partition=True):
            seen = self._post_ids.seen(dt, part.column("id").combine_chunks())
            keep.append(part.filter(pc.invert(seen)) if pc.any(seen).as_py() else part)
        fresh = pa.concat_tables(keep) if keep else TWEET_ROWS.empty_table()
        result.duplicates = posts.num_rows - fresh.num_rows - result.forgotten
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

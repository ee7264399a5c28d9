"""``socialsight import``: files of posts → the lake's ``tweets`` table, in batches.

Each record is decoded, its format detected and converted to a canonical post;
whatever cannot be read becomes an ``errors`` row (file, line, reason) and the
import goes on. Posts already in the lake are counted as duplicates, not written.
Records that are not JSON objects (a number, a string, an array) are never posts:
those of one file and shape share one error row that counts them.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from queue import Full, Queue
from typing import Any, TypeVar

import fsspec

from socialsight.errors import InputError, SocialsightError, UnknownFormatError
from socialsight.intake.prepare import prepare, with_languages
from socialsight.intake.writer import BatchResult, OnChange, PostWriter
from socialsight.lake.errors import ErrorRow
from socialsight.lake.store import Lake
from socialsight.posts.detect import convert, not_an_object
from socialsight.posts.v1_bulk import BulkConverter
from socialsight.progress import NO_PROGRESS, Progress
from socialsight.sources.files import STDIN, Block, Record, input_files, read_records

log = logging.getLogger(__name__)
T = TypeVar("T")

BULK_MIN_LINES = 512  # fewer lines than this are read one by one
SPANS_SHOWN = 3  # runs of records named in a row that counts records that are not posts
GROUP_RECORDS, GROUP_BYTES = 256, 1 << 20  # records handed from the reading thread at once


@dataclass
class ImportSummary:
    files: int = 0
    records: int = 0
    written: int = 0
    duplicates: int = 0
    photos: int = 0
    bad: int = 0
    control: int = 0
    forgotten: int = 0  # posts left out: `forget` removed them before
    deletions: int = 0  # deletions and edits the files held
    edits: int = 0
    unreadable: list[str] = field(default_factory=list)
    formats: Counter[str] = field(default_factory=Counter)

    def add(self, batch: BatchResult) -> None:
        self.written += batch.written
        self.duplicates += batch.duplicates
        self.photos += batch.photos
        self.forgotten += batch.forgotten
        self.deletions += batch.deletions
        self.edits += batch.edits

    @property
    def read_anything(self) -> bool:
        return (self.written + self.duplicates + self.control + self.forgotten
                + self.deletions + self.edits) > 0


def files_to_import(paths: Iterable[str]) -> list[str]:
    """The files named (a folder: its JSON files; ``-``: stdin); InputError for a path
    that does not exist or a folder without JSON files, before anything is read."""
    paths = list(paths)
    files, missing = input_files(paths)
    if missing:
        raise InputError(f"no such file or folder: {', '.join(missing)} (nothing was imported)")
    if not files:
        raise InputError(f"no .jsonl, .json or .gz files in {', '.join(paths)}")
    return files


@dataclass
class NotPosts:
    """The records of one file that are JSON values of one kind but not objects."""

    first: Record
    reason: str
    count: int = 0
    spans: list[list[int]] = field(default_factory=list)  # [first, last] record numbers
    more: bool = False  # records beyond the spans kept

    def add(self, number: int) -> None:
        self.count += 1
        if self.spans and self.spans[-1][1] + 1 == number:
            self.spans[-1][1] = number
        elif len(self.spans) < SPANS_SHOWN:
            self.spans.append([number, number])
        else:
            self.more = True

    def row(self, shape: str) -> ErrorRow:
        if self.count == 1:
            reason = self.reason
        else:
            unit = self.first.unit
            spans = ", ".join(f"{a:,}" if a == b else f"{a:,}–{b:,}" for a, b in self.spans)
            reason = (f"{self.count:,} {unit}s are not posts ({shape}): {unit}s {spans}"
                      f"{', …' if self.more else ''}")
        return ErrorRow(stage="import", source=self.first.source, line=self.first.line or None,
                        reason=reason, raw=self.first.raw or None,
                        error_class=UnknownFormatError.__name__)


def total_bytes(paths: Iterable[str]) -> int:
    """Size on disk of the files that exist (for a progress bar)."""
    total = 0
    for path in paths:
        if path == STDIN:
            continue
        try:
            fs, fpath = fsspec.core.url_to_fs(path)
            total += int(fs.size(fpath) or 0)
        except (OSError, ValueError):
            continue
    return total


class Importer:
    """Reads files into a lake; one instance per import run."""

    def __init__(self, lake: Lake, batch_size: int = 50_000,
                 progress: Progress = NO_PROGRESS, on_change: OnChange | None = None) -> None:
        """``on_change``: what applies the deletions and edits the files hold (see
        :class:`~socialsight.intake.writer.PostWriter`); None: they are counted only."""
        self.lake = lake
        self.batch_size = batch_size
        self.progress = progress  # "bytes" of the files read
        self.writer = PostWriter(lake, on_change)
        self.summary = ImportSummary()
        self._bulk: BulkConverter | None = None
        # One batch commits in the background while the next one is read.
        self._committer = ThreadPoolExecutor(1, thread_name_prefix="socialsight-commit")
        self._pending: Future[BatchResult] | None = None
        self._not_posts: dict[str, NotPosts] = {}  # of the file being read, by shape

    def run(self, paths: Iterable[str]) -> ImportSummary:
        paths = list(paths)
        self.progress.start("bytes", total_bytes(paths) or None)
        try:
            with self.lake.lock():
                for path in paths:
                    self.import_file(path)
                self._flush()
                self._wait()
        finally:
            self._committer.shutdown(wait=True)
            if self._bulk is not None:
                self._bulk.close()
        return self.summary

    def import_file(self, path: str) -> None:
        self.summary.files += 1
        try:
            read = grouped(read_records(path, self.progress, blocks=True))
            for group in prefetched(read):
                for item in group:
                    if isinstance(item, Block):
                        self._take_block(item)
                    else:
                        self._take(item)
                    if len(self.writer) >= self.batch_size:
                        self._flush()
        except (OSError, ValueError) as exc:
            self.summary.unreadable.append(path)
            self._error(Record(path, 0, ""), f"cannot read file: {exc}")
        finally:
            for shape, not_posts in self._not_posts.items():
                self.writer.add_error(not_posts.row(shape))
            self._not_posts = {}

    def _take_block(self, block: Block) -> None:
        """Many JSON lines: v1.1 statuses in bulk, every other line one by one."""
        if len(block) < BULK_MIN_LINES:  # a bulk conversion costs ~0.1 s however small
            self._take_lines(block, range(len(block)))
            return
        if self._bulk is None:
            self._bulk = BulkConverter()
        converted = self._bulk.convert(block.lines)
        taken = converted.table.num_rows
        if taken:
            self.summary.records += taken
            self.summary.formats["twitter-v1"] += taken
            self.writer.add_table(with_languages(converted.table))
        self._take_lines(block, converted.rest)

    def _take_lines(self, block: Block, indices: Iterable[int]) -> None:
        for index in indices:
            self._take(block.record(index))

    def _take(self, record: Record) -> None:
        self.summary.records += 1
        if record.error is not None:
            self._error(record, record.error)
            return
        try:
            fmt, conversion = convert(record.obj)
        except UnknownFormatError as exc:
            shape = not_an_object(record.obj)
            if shape is None:
                self._error(record, str(exc), type(exc).__name__)
            else:
                self._not_a_post(record, str(exc), shape[1])
            return
        except SocialsightError as exc:
            self._error(record, str(exc), type(exc).__name__)
            return
        except Exception as exc:  # a converter's bug must not stop the import
            log.warning("cannot convert %s:%s: %r", record.source, record.line, exc)
            self._error(record, f"cannot convert record: {exc!r}", type(exc).__name__)
            return
        self.summary.formats[fmt] += 1
        deletions, edits = conversion.deletions, conversion.edits
        if conversion.control:
            self.summary.control += 1
        elif not conversion.posts and not conversion.problems and not deletions and not edits:
            conversion.problems.append(f"a {fmt} record that holds no post")
        for problem in conversion.problems:
            self._error(record, problem)
        for post in conversion.posts:
            self.writer.add(prepare(post, record.source, record.line, record.raw))
        for deletion in deletions:
            self.writer.add_deletion(deletion)
        for post in edits:
            self.writer.add_edit(prepare(post, record.source, record.line, record.raw))

    def _not_a_post(self, record: Record, reason: str, shape: str) -> None:
        self.summary.bad += 1
        group = self._not_posts.get(shape)
        if group is None:
            group = self._not_posts[shape] = NotPosts(record, reason)
        group.add(record.line)

    def _error(self, record: Record, reason: str, error_class: str = InputError.__name__) -> None:
        self.summary.bad += 1
        self.writer.add_error(ErrorRow(
            stage="import", source=record.source, line=record.line or None,
            reason=reason, raw=record.raw or None, error_class=error_class,
        ))

    def _flush(self) -> None:
        batch = self.writer.take()
        self._wait()
        self._pending = self._committer.submit(self.writer.commit, batch)

    def _wait(self) -> None:
        """Wait for the batch committing in the background; count what it wrote."""
        if self._pending is not None:
            result = self._pending.result()
            self._pending = None
            self.summary.add(result)
            self.summary.bad += result.rejected


def grouped(items: Iterator[Record | Block], count: int = GROUP_RECORDS,
            size: int = GROUP_BYTES) -> Iterator[list[Record | Block]]:
    """``items`` in lists of up to ``count`` records or ``size`` bytes (a block: alone),
    so that records small and many do not cross threads one at a time. An exception
    comes after the records read before it."""
    group: list[Record | Block] = []
    held = 0
    source = iter(items)
    while True:
        try:
            item = next(source)
        except StopIteration:
            break
        except BaseException:
            if group:
                yield group
            raise
        group.append(item)
        held += len(item.raw) if isinstance(item, Record) else size
        if len(group) >= count or held >= size:
            yield group
            group, held = [], 0
    if group:
        yield group


def prefetched(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """``items``, produced on a background thread up to ``depth`` ahead of the consumer.

    Reading and splitting the next block then overlaps with converting this one.
    An exception in the producer is raised in the consumer, where it would have been.
    """
    done = object()
    queue: Queue[Any] = Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[Any, BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                queue.put(entry, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
        except BaseException as exc:  # handed to the consumer
            put((done, exc))
            return
        put((done, None))

    thread = threading.Thread(target=produce, name="socialsight-read", daemon=True)
    thread.start()
    try:
        while True:
            item, error = queue.get()
            if item is done:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        thread.join()


def import_files(lake: Lake, paths: Iterable[str], batch_size: int = 50_000,
                 progress: Progress = NO_PROGRESS,
                 on_change: OnChange | None = None) -> ImportSummary:
    """Import every file in ``paths`` into ``lake``; see ImportSummary for the counts.
    ``progress`` hears the "bytes" read, out of the files' sizes; ``on_change`` applies
    the deletions and edits met (:class:`socialsight.forget.Forgetter`)."""
    return Importer(lake, batch_size, progress, on_change).run(paths)

"""Compaction: a partition's many small files merged into a few large ones.

``socialsight run`` commits one small Parquet file per table and partition about every
minute, so after weeks a day holds ~1,440 files per table, each mostly footer; every
query opens them all. :func:`compact` merges them, per table and partition:

- **What is merged.** The partition's *small* files (under half ``target_bytes``),
  except merged files already *full*. They are taken in name order and poured into
  outputs of at most ``target_bytes`` of Parquet data (estimated from the inputs'
  data, without their footers); an output closed because the next file would not fit
  is full (its footer says so) and is never merged again; the last one stays open, to
  take the next day's files. A partition with fewer than ``min_files`` small files is
  left alone, as is a group of one file. So compacting a compacted lake changes nothing.
- **Enrich's markers.** A ``tweets`` file is re-planned by enrich until its done marker
  (:func:`state.done_marker`) exists. Only done files are merged, and the merged file's
  marker is written, and the old ones removed, in the same change; files not done yet
  are left for enrich (``waiting``).
- **Rows.** The same rows with the same values, in order (by source file, then row),
  under the full contract schema (:data:`schema.TABLES`): a column or struct field the
  contract gained after a file was written is null. A file with a column outside the
  contract, or a value that does not fit it, is left as it is (``unfit``).
- **Atomic.** Each output is one :meth:`Lake.change` (the merged file and its marker
  written, the merged files and their markers removed): readers see the old files or
  the merged one, never both; a kill -9 anywhere is finished by the next writer, and an
  interrupted compaction leaves every partition whole. The merged file's name,
  ``part-c<id>.parquet``, derives from the names (themselves content-derived) of the
  files it merges, so a re-run after a crash writes the same name.
- **Damaged files** (a footer or data that cannot be read) are left in place, never
  removed, and reported (``damaged``).
- **Memory.** A partition is streamed: one input file and one row group (at most
  :data:`ROW_GROUP_BYTES` of Arrow data) decoded at a time, plus the output being
  written (at most ``target_bytes``).

:func:`compact` takes no lock: the caller holds the lake's writer lock
(``with lake.lock_within(...)``, as ``socialsight compact`` does; ``run`` already holds
it), since enrich, a retry or a rematch may rewrite files that compaction removes. It
first finishes any change a crash cut off, as the lake object's first write does
(:meth:`Lake.recover`, once per object: a lake that has written before is not recovered
again, so another thread of the same process may commit new batches meanwhile).
"""

from __future__ import annotations

import hashlib
import io
import logging
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from socialsight.errors import LakeError
from socialsight.lake import state
from socialsight.lake.schema import PARTITION, TABLES
from socialsight.lake.store import COMPRESSION, Lake
from socialsight.progress import NO_PROGRESS, Progress

log = logging.getLogger(__name__)

TARGET_BYTES = 128 * 2**20  # Parquet data per merged file, at most
MIN_FILES = 2  # small files a partition needs before it is compacted
ROW_GROUP_BYTES = 64 * 2**20  # decoded Arrow bytes gathered into one row group
ROW_GROUP_ROWS = 122_880  # rows per row group, at most (DuckDB's own row group size)
COMBINE_FILES = 64  # small files' rows copied into one block: thousands of tiny tables
# would cost far more memory (each column's own small buffers) than their rows
MERGED_PREFIX = "part-c"  # a merged file's name: part-c<id>.parquet
FULL = b"socialsight.compacted"  # footer key of a merged file: b"full" or b"open"
MARKED = "tweets"  # the table whose files enrich marks done


@dataclass
class TableCompaction:
    """What compaction did (or, in a dry run, would do) to one table."""

    table: str
    partitions: int = 0  # partitions changed
    files_before: int = 0  # files in the partitions looked at
    files_after: int = 0
    bytes_before: int = 0
    bytes_after: int = 0  # a dry run: estimated from the merged files' data
    rows: int = 0  # rows moved into merged files
    merged: int = 0  # files merged into others (and removed)
    waiting: int = 0  # tweets files enrich has not marked done: left for it
    damaged: list[str] = field(default_factory=list)  # could not be read: left in place
    unfit: list[str] = field(default_factory=list)  # outside the contract: left in place

    @property
    def changed(self) -> bool:
        return self.files_after != self.files_before


@dataclass
class CompactSummary:
    """Per table, what :func:`compact` did; ``dry_run``: nothing was written."""

    tables: dict[str, TableCompaction] = field(default_factory=dict)
    dry_run: bool = False

    @property
    def files_before(self) -> int:
        return sum(t.files_before for t in self.tables.values())

    @property
    def files_after(self) -> int:
        return sum(t.files_after for t in self.tables.values())

    @property
    def damaged(self) -> list[str]:
        return [p for t in self.tables.values() for p in t.damaged]

    @property
    def unfit(self) -> list[str]:
        return [p for t in self.tables.values() for p in t.unfit]

    @property
    def changed(self) -> bool:
        return any(t.changed for t in self.tables.values())


def compact(lake: Lake, *, tables: Iterable[str] | None = None,
            partitions: Iterable[str] | None = None, min_files: int = MIN_FILES,
            target_bytes: int = TARGET_BYTES, progress: Progress = NO_PROGRESS,
            dry_run: bool = False) -> CompactSummary:
    """Merge the small files of each table's partitions (see the module's docstring).

    ``tables``: these only (default: every table of the contract); ``partitions``: these
    dt values only (YYYY-MM-DD; default: all). The caller holds the writer lock.
    ``progress`` hears the "files" looked at, out of the small files found.
    """
    names = list(TABLES) if tables is None else list(tables)
    unknown = [name for name in names if name not in TABLES]
    if unknown:
        raise LakeError(f"no table {', '.join(map(repr, unknown))}: the tables are "
                        f"{', '.join(TABLES)}")
    if min_files < 2 or target_bytes < 1:
        raise LakeError("compaction needs min_files >= 2 and target_bytes >= 1")
    if not dry_run:
        # A change a crash cut off (a forget's rewrite, say) is finished before anything is
        # listed, so no stale version of a file is merged. Lake.change does it once per
        # Lake object (as Lake.commit does): never again beside this process's own commits.
        lake.change({})
    wanted = None if partitions is None else set(partitions)
    summary = CompactSummary(dry_run=dry_run)
    work: list[_Partition] = []
    for name in names:
        summary.tables[name] = done = TableCompaction(name)
        markers = _markers(lake) if name == MARKED else None
        for dt in lake.partitions(name):
            if wanted is None or dt in wanted:
                part = _Partition.list(lake, name, dt, target_bytes, markers, done)
                if part is not None:
                    work.append(part)
    progress.start("files", sum(len(p.small) for p in work))
    for part in work:
        _Compactor(lake, part, summary.tables[part.table], target_bytes, min_files,
                   dry_run, progress).run()
    return summary


@dataclass
class _Source:
    """One file of the lake: its path and size."""

    path: str
    size: int


@dataclass
class _Partition:
    """One table's files in one partition: all of them, and those small enough to merge."""

    table: str
    dt: str
    small: list[_Source]
    marked: bool  # tweets: only files enrich marked done are merged; markers move along

    @classmethod
    def list(cls, lake: Lake, table: str, dt: str, target_bytes: int,
             markers: set[str] | None, counts: TableCompaction) -> _Partition | None:
        """The partition's files (counted in ``counts``); None when it has none."""
        files = lake.files(table, dt)
        if not files:
            return None
        sizes = {entry["name"]: int(entry["size"]) for entry in
                 lake.fs.ls(posixpath.dirname(files[0]), detail=True)}
        sources = [_Source(path, sizes.get(path) or int(lake.fs.size(path))) for path in files]
        total = sum(s.size for s in sources)
        counts.files_before += len(sources)
        counts.files_after += len(sources)
        counts.bytes_before += total
        counts.bytes_after += total
        small = [s for s in sources if s.size < target_bytes / 2
                 and not _full(lake, s, counts)]
        if markers is not None:
            done = [s for s in small if state.done_marker(s.path) in markers]
            counts.waiting += len(small) - len(done)
            small = done
        return cls(table, dt, small, markers is not None)


def _markers(lake: Lake) -> set[str]:
    """The done markers that exist, as paths relative to the root."""
    folder = lake.path(state.path("enrich_done"))
    try:
        names = lake.fs.ls(folder, detail=False)
    except FileNotFoundError:
        return set()
    return {state.path("enrich_done", posixpath.basename(name)) for name in names}


def _full(lake: Lake, source: _Source, counts: TableCompaction) -> bool:
    """Whether a merged file is full (never merged again); a damaged one counts as full
    here and is reported (it is not a candidate for merging either way)."""
    if not posixpath.basename(source.path).startswith(MERGED_PREFIX):
        return False
    try:
        with lake.fs.open(source.path, "rb") as handle:
            kv = pq.ParquetFile(handle).metadata.metadata or {}
    except (OSError, pa.ArrowException) as exc:
        log.warning("cannot read %s, left in place: %s", source.path, exc)
        counts.damaged.append(source.path)
        return True
    return kv.get(FULL) == b"full"


class _Output:
    """One merged file being written: row groups streamed into Parquet bytes."""

    def __init__(self, schema: pa.Schema) -> None:
        self.schema = schema
        self.sources: list[_Source] = []
        self.estimate = 0  # the inputs' Parquet data, without their footers
        self.rows = 0
        self._sink = io.BytesIO()
        self._writer: pq.ParquetWriter | None = None
        self._blocks: list[pa.Table] = []  # the next row group: blocks of combined files,
        self._tail: list[pa.Table] = []  # then files not combined yet
        self._buffered = 0

    def add(self, source: _Source, data: int, rows: pa.Table | int) -> None:
        self.sources.append(source)
        self.estimate += data
        if isinstance(rows, int):  # a dry run: counted, not read
            self.rows += rows
            return
        self.rows += rows.num_rows
        self._tail.append(rows)
        self._buffered += rows.nbytes
        if len(self._tail) >= COMBINE_FILES:
            self._blocks.append(pa.concat_tables(self._tail).combine_chunks())
            self._tail = []
        if self._buffered >= ROW_GROUP_BYTES or sum(
                t.num_rows for t in self._blocks + self._tail) >= ROW_GROUP_ROWS:
            self._flush()

    def _flush(self) -> None:
        if not self._blocks and not self._tail:
            return
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._sink, self.schema, compression=COMPRESSION)
        rows = pa.concat_tables(self._blocks + self._tail)
        self._writer.write_table(rows, row_group_size=max(rows.num_rows, 1))
        self._blocks, self._tail, self._buffered = [], [], 0

    def finish(self, full: bool) -> bytes:
        """The merged file's bytes; ``full``: never to be merged again."""
        self._flush()
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._sink, self.schema, compression=COMPRESSION)
        self._writer.add_key_value_metadata({FULL.decode(): "full" if full else "open"})
        self._writer.close()
        return self._sink.getvalue()


class _Compactor:
    """Compacts one table's partition."""

    def __init__(self, lake: Lake, part: _Partition, done: TableCompaction, target_bytes: int,
                 min_files: int, dry_run: bool, progress: Progress) -> None:
        self.lake, self.part, self.done = lake, part, done
        self.target, self.min_files, self.dry_run = target_bytes, min_files, dry_run
        self.progress = progress
        self.schema = TABLES[part.table]
        self.changed = False

    def run(self) -> None:
        if len(self.part.small) < self.min_files:
            self.progress.advance("files", len(self.part.small))
            return
        output = _Output(self.schema)
        for source in self.part.small:
            read = self._read(source)
            self.progress.advance("files")
            if read is None:
                continue
            data, rows = read
            if output.sources and output.estimate + data > self.target:
                self._write(output, full=True)
                output = _Output(self.schema)
            output.add(source, data, rows)
        self._write(output, full=False)
        if self.changed:
            self.done.partitions += 1

    def _read(self, source: _Source) -> tuple[int, pa.Table | int] | None:
        """A file's Parquet data size and its rows under the contract (a dry run: their
        number); None when it cannot be read or does not fit the contract."""
        try:
            with self.lake.fs.open(source.path, "rb") as handle:
                parquet = pq.ParquetFile(handle)
                meta = parquet.metadata
                data = max(source.size - meta.serialized_size, 0)
                if self.dry_run:
                    _check(parquet.schema_arrow, self.schema)
                    return data, meta.num_rows
                return data, conform(parquet.read(), self.schema)
        except _Unfit as exc:
            log.warning("%s does not fit the contract, left as it is: %s", source.path, exc)
            self.done.unfit.append(source.path)
        except (OSError, pa.ArrowException, ValueError) as exc:
            log.warning("cannot read %s, left in place: %s", source.path, exc)
            self.done.damaged.append(source.path)
        return None

    def _write(self, output: _Output, full: bool) -> None:
        """Publish ``output`` as one change: the merged file (and marker) in, its sources
        (and their markers) out. A group of one file is left as it is."""
        if len(output.sources) < 2:
            return
        inputs = [s.path for s in output.sources]
        folder = posixpath.dirname(inputs[0])
        target = posixpath.join(folder, f"{MERGED_PREFIX}{merged_id(inputs)}.parquet")
        if self.dry_run:
            written = output.estimate
        else:
            body = output.finish(full)
            files: dict[str, pa.Table | bytes] = {target: body}
            remove = list(inputs)
            if self.part.marked:
                files[self.lake.path(state.done_marker(target))] = orjson.dumps(
                    {"compacted": len(inputs), "at": datetime.now(UTC).isoformat()})
                remove += [self.lake.path(state.done_marker(p)) for p in inputs]
            self.lake.change(files, remove=remove)
            written = len(body)
        self.changed = True
        self.done.files_after -= len(inputs) - 1
        self.done.bytes_after += written - sum(s.size for s in output.sources)
        self.done.rows += output.rows
        self.done.merged += len(inputs)
        log.info("%s %s: %d files, %d rows -> %s", self.part.table, self.part.dt, len(inputs),
                 output.rows, posixpath.basename(target))


def merged_id(inputs: list[str]) -> str:
    """The id of the file that merges ``inputs`` (paths of one partition): derived from
    their names, themselves derived from their content."""
    h = hashlib.blake2b(digest_size=10)
    for name in sorted(posixpath.basename(p) for p in inputs):
        h.update(name.encode() + b"\n")
    return h.hexdigest()


# --- the contract's schema -------------------------------------------------------------


class _Unfit(ValueError):
    """A file's columns do not fit the contract (an unknown column, a changed type)."""


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` under ``schema``: the same rows and values, a column or struct field that
    ``schema`` has and ``table`` lacks as null. Raises :class:`_Unfit` (a ValueError) when
    ``table`` has a column or field ``schema`` lacks, or a type it cannot widen to."""
    if PARTITION in table.column_names and schema.get_field_index(PARTITION) < 0:
        table = table.drop_columns([PARTITION])
    _check(table.schema, schema)
    columns = []
    for target in schema:
        if target.name not in table.column_names:
            columns.append(pa.chunked_array([pa.nulls(table.num_rows, target.type)]))
            continue
        column = table.column(target.name)
        if column.type != target.type:
            try:
                column = column.cast(target.type)
            except (pa.ArrowException, ValueError) as exc:  # a value that does not fit
                raise _Unfit(f"column {target.name!r}: {exc}") from exc
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=schema)


def _check(have: pa.Schema, schema: pa.Schema) -> None:
    for column in have:
        if column.name == PARTITION and schema.get_field_index(PARTITION) < 0:
            continue
        index = schema.get_field_index(column.name)
        if index < 0:
            raise _Unfit(f"column {column.name!r} is not in the contract")
        if not _widens(column.type, schema.field(index).type):
            raise _Unfit(f"column {column.name!r} is {column.type}, the contract says "
                         f"{schema.field(index).type}")


def _widens(have: pa.DataType, want: pa.DataType) -> bool:
    """Whether values of type ``have`` become ``want`` unchanged: the same type, a wider
    number or string, or a struct (in lists and maps too) whose fields the contract has."""
    if have == want or pa.types.is_null(have):
        return True
    if pa.types.is_struct(have) and pa.types.is_struct(want):
        fields = {want.field(i).name: want.field(i).type for i in range(want.num_fields)}
        return all(have.field(i).name in fields
                   and _widens(have.field(i).type, fields[have.field(i).name])
                   for i in range(have.num_fields))
    if _is_list(have) and _is_list(want):
        return _widens(have.value_type, want.value_type)
    if pa.types.is_map(have) and pa.types.is_map(want):
        return _widens(have.key_type, want.key_type) and _widens(have.item_type, want.item_type)
    return any(kind(have) and kind(want) for kind in (
        pa.types.is_integer, pa.types.is_floating, pa.types.is_timestamp,
        lambda t: pa.types.is_string(t) or pa.types.is_large_string(t),
        lambda t: pa.types.is_binary(t) or pa.types.is_large_binary(t)))


def _is_list(kind: pa.DataType) -> bool:
    return pa.types.is_list(kind) or pa.types.is_large_list(kind)

"""The lake on any fsspec filesystem: Hive-partitioned Parquet and atomic batch commits.

Layout::

    <lake>/<table>/dt=YYYY-MM-DD/part-<batch>.parquet   what readers see
    <lake>/_staging/<batch>/...                          a batch being written
    <lake>/_journal/<batch>.json                         a batch being published

A batch is committed in three steps: every file is written under ``_staging``;
a journal naming each staged file and its final place is written; the files are
moved into place and the journal is removed. A crash before the journal leaves
only staging debris (deleted on the next open); a crash after it is rolled
forward on the next open. Readers glob ``<table>/dt=*/*.parquet`` and never see
staged files; while a journal is left, the new files it names are hidden too
(:meth:`Lake.pending`), so a batch half moved when a writer died is seen whole or
not at all. File names derive from the batch's content, so re-running the same
input rewrites the same names instead of adding copies.

A change may also remove files (:meth:`Lake.change`: a forget, a compaction). Its
journal lists them beside the moves and is rolled forward in two steps: the moves
(the new files hidden, the old ones seen), then the journal is rewritten as
*published* (one atomic write: from then on the files to remove are hidden and the
new ones seen), then the removals, then the journal goes. A reader that lists files
through :meth:`Lake.files` sees the old files or the new ones, never both.

Object stores (``s3://``) work the same way: every object is written whole by one
PUT, a move is a server-side copy then a delete, and nothing is cached between
listings, so a long-lived reader sees what other processes commit. Endpoint,
region and credentials come from the usual AWS settings (``AWS_ENDPOINT_URL``,
``AWS_DEFAULT_REGION``, ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, profiles).
The writer lock is local only: a remote lake trusts one writer at a time.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import logging
import os
import posixpath
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import fsspec
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from socialsight.errors import LakeBusyError, LakeError
from socialsight.lake import state
from socialsight.lake.schema import KEYS, PARTITION, TABLES

log = logging.getLogger(__name__)

JOURNAL = state.path("journal")
STAGING = state.path("staging")

COMPRESSION = "zstd"

# fsspec options by protocol. Object-store listings are not cached: the dashboard and
# other long-lived readers must see batches that other processes commit.
STORAGE_OPTIONS: dict[str, dict[str, Any]] = {
    "s3": {"use_listings_cache": False},
    "s3a": {"use_listings_cache": False},
}
# Protocols whose first path component is a bucket that must exist before a write.
BUCKETED = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs"})


class Lake:
    """A lake rooted at a local folder or an fsspec URL (``s3://bucket/prefix``, ``memory://x``)."""

    def __init__(self, url: str | os.PathLike[str],
                 on_write: Callable[[str], None] | None = None) -> None:
        """``on_write``, when given, is called with the path of every file this lake
        object is about to write (a staged batch file, a journal, a small state file):
        a fault seam, for tests that make a write fail or a process die there."""
        text = os.fspath(url)
        options = STORAGE_OPTIONS.get(fsspec.core.split_protocol(text)[0] or "file", {})
        try:
            self.fs, root = fsspec.core.url_to_fs(text, **options)
        except (ImportError, ValueError) as exc:
            raise LakeError(f"cannot open lake {text!r}: {exc}") from exc
        self.protocol = _protocol(self.fs)
        self.local = self.protocol in ("file", "local")
        self.root = os.path.abspath(root) if self.local else root.rstrip("/")
        self._recovered = False
        self.on_write = on_write

    def __repr__(self) -> str:
        return f"Lake({self.url!r})"

    @property
    def url(self) -> str:
        """The lake's root as a URL DuckDB and users understand."""
        return self.root if self.local else f"{self.protocol}://{self.root.lstrip('/')}"

    def path(self, *parts: str) -> str:
        return posixpath.join(self.root, *parts)

    def uri(self, *parts: str) -> str:
        return posixpath.join(self.url, *parts)

    def uri_of(self, path: str) -> str:
        """A path as the file system lists it (``bucket/key``), as a URL."""
        return path if self.local else f"{self.protocol}://{path.lstrip('/')}"

    # --- reading ------------------------------------------------------------------

    def partitions(self, table: str) -> list[str]:
        """The dt values that hold at least one committed file of ``table``."""
        base = self.path(table)
        if not self.fs.exists(base):
            return []
        out = []
        for entry in self.fs.ls(base, detail=False):
            name = posixpath.basename(entry.rstrip("/"))
            if name.startswith(f"{PARTITION}="):
                out.append(name.split("=", 1)[1])
        return sorted(out)

    def files(self, table: str, dt: str | None = None) -> list[str]:
        """Committed Parquet files of ``table`` (in one partition when ``dt`` is given)."""
        part = f"{PARTITION}={dt}" if dt else f"{PARTITION}=*"
        pattern = self.path(table, part, "*.parquet")
        found = self.fs.glob(pattern)
        hidden = self.pending() if found else set()
        return sorted(path for path in found if path not in hidden)

    def pending(self) -> set[str]:
        """New files of batches still being published (or cut off by a crash).

        Hidden from readers until the journal is gone: a batch appears whole. A file
        that a batch replaces (:meth:`rewrite`) stays visible, as its old or new rows.
        """
        try:
            journals = self.fs.ls(self.path(JOURNAL), detail=False)
        except FileNotFoundError:
            return set()
        out: set[str] = set()
        for journal in journals:
            if not journal.endswith(".json"):
                continue
            try:
                entry = _Journal.parse(self.fs.cat_file(journal))
            except (FileNotFoundError, orjson.JSONDecodeError, TypeError, ValueError):
                continue  # published meanwhile, or being written
            out.update(entry.hidden())
        return out

    def read(self, table: str, columns: list[str] | None = None, dt: str | None = None) -> pa.Table:
        """Read committed rows of ``table`` (only ``columns``), as one Arrow table."""
        parts = []
        for path in self.files(table, dt):
            with self.fs.open(path, "rb") as f:
                parts.append(pq.read_table(f, columns=columns))
        if not parts:
            schema = TABLES[table]
            if columns:
                schema = pa.schema([schema.field(c) for c in columns])
            return schema.empty_table()
        return pa.concat_tables(parts, promote_options="permissive")

    def read_file(self, path: str, columns: list[str] | None = None) -> pa.Table:
        """The rows of one committed file (without its partition column)."""
        with self.fs.open(path, "rb") as f:
            return pq.read_table(f, columns=columns)

    def version(self, folders: tuple[str, ...] | None = None) -> int | None:
        """A number that changes whenever a batch is committed or other state the
        readers show is written (the side folders :data:`state.VERSIONED` names: the
        gallery, the resolved errors).

        A commit creates and removes a journal, and :meth:`write_bytes` renames a file
        into place, either of which changes the folder's mtime; None where the file
        system keeps no folder times (object stores). ``folders``: only these (paths
        relative to the root), not every versioned one.
        """
        if not self.local:
            return None
        stamp = 0
        for folder in state.VERSIONED if folders is None else folders:
            with contextlib.suppress(OSError):
                stamp = max(stamp, os.stat(os.path.join(self.root, folder)).st_mtime_ns)
        return stamp

    def read_rows(self, path: str, schema: pa.Schema, what: str) -> list[dict[str, Any]]:
        """The rows of a small Parquet file of state (``path`` relative to the root),
        none when it is not there; a :class:`LakeError` naming ``what`` it holds when it
        cannot be read."""
        try:
            if not self.fs.exists(self.path(path)):
                return []
            with self.fs.open(self.path(path), "rb") as handle:
                rows: list[dict[str, Any]] = pq.read_table(handle, schema=schema).to_pylist()
                return rows
        except (OSError, pa.ArrowException) as exc:
            raise LakeError(f"cannot read {what} ({path}): {exc}") from exc

    def write_rows(self, path: str, schema: pa.Schema, rows: list[dict[str, Any]]) -> None:
        """Write a small Parquet file of state whole (:meth:`write_bytes`)."""
        self.write_bytes(self.path(path), rows_bytes(schema, rows))

    def has_data(self, table: str) -> bool:
        return bool(self.files(table))

    def rewrite(self, path: str, rows: pa.Table) -> None:
        """Replace one committed file's rows, atomically and under the same name.

        For changes to rows already in the lake (a retried photo, a re-matched face):
        the new file is staged and renamed over the old one, so readers see either.
        """
        parts = path[len(self.root):].strip("/").split("/")
        if not path.startswith(self.root) or len(parts) != 3 or not (
                parts[1].startswith(f"{PARTITION}=") and parts[2].startswith("part-")
                and parts[2].endswith(".parquet")):
            raise LakeError(f"not a committed lake file: {path}")
        table, dt, batch = parts[0], parts[1].split("=", 1)[1], parts[2][5:-8]
        if PARTITION in rows.column_names:
            rows = rows.drop_columns([PARTITION])
        rows = rows.append_column(PARTITION, pa.array([dt] * rows.num_rows, pa.string()))
        self.commit({table: rows}, batch_id=batch)

    # --- writing ------------------------------------------------------------------

    def recover(self) -> None:
        """Finish batches a crash interrupted after their journal; drop the rest."""
        self._check_bucket()
        journal_dir = self.path(JOURNAL)
        try:
            if self.fs.exists(journal_dir):
                for journal in self.fs.ls(journal_dir, detail=False):
                    if journal.endswith(".json"):
                        self._roll_forward(journal)
                    else:  # a journal cut off while being written: its batch never began
                        self.fs.rm(journal)
            staging = self.path(STAGING)
            if self.fs.exists(staging):
                self.fs.rm(staging, recursive=True)
        except OSError as exc:
            raise LakeError(f"cannot recover the lake {self.url}: {exc}") from exc
        self._recovered = True

    def _roll_forward(self, journal: str) -> None:
        """Finish a batch or change from its journal: safe to repeat at any point."""
        with self.fs.open(journal, "rb") as f:
            entry = _Journal.parse(f.read())
        for src, dst, *_ in entry.moves:
            if self.fs.exists(src):
                self._makedirs(posixpath.dirname(dst))
                self.fs.mv(src, dst)
        if entry.removes:
            if not entry.published:
                entry.published = True
                self.write_bytes(journal, entry.dump())
            for path in entry.removes:
                with contextlib.suppress(FileNotFoundError):
                    if self.fs.exists(path):
                        self.fs.rm(path)
        self.fs.rm(journal)
        log.debug("rolled forward: %s", journal)

    def commit(self, tables: dict[str, pa.Table], batch_id: str | None = None) -> list[str]:
        """Write each table's rows (each with a ``dt`` column) as one atomic batch.

        Returns the committed file paths. Tables with no rows are skipped.
        """
        if not self._recovered:
            self.recover()
        tables = {name: t for name, t in tables.items() if t.num_rows}
        if not tables:
            return []
        batch = batch_id or content_id(tables)
        staging = self.path(STAGING, batch)
        moves: list[tuple[str, str, bool]] = []  # staged file, final place, replaces one
        try:
            for name, table in tables.items():
                for dt, part in split_by_partition(table):
                    rel = (name, f"{PARTITION}={dt}", f"part-{batch}.parquet")
                    src = posixpath.join(staging, *rel)
                    self._write_parquet(part, src)
                    dst = self.path(*rel)
                    moves.append((src, dst, bool(self.fs.exists(dst))))
        except OSError as exc:
            with contextlib.suppress(OSError):
                self.fs.rm(staging, recursive=True)
            raise LakeError(f"cannot write batch to {self.url}: {exc}") from exc
        self._publish(batch, _Journal(moves))
        return [dst for _, dst, _ in moves]

    def change(self, files: dict[str, pa.Table | bytes], remove: list[str] | tuple[str, ...] = (),
               change_id: str | None = None) -> list[str]:
        """Write ``files`` and remove the files ``remove`` names, as one atomic change.

        ``files``: paths (absolute, as :meth:`path` gives them) to Arrow tables, written as
        Parquet without their partition column, or to bytes (a small state file). A table
        file keeping the name of one it replaces is renamed over it; the removals are
        hidden from :meth:`files` at the instant the journal is published. Safe after a
        crash at any point: the next writer finishes it (:meth:`recover`).
        Returns the paths written.
        """
        if not self._recovered:
            self.recover()
        if not files and not remove:
            return []
        ident = change_id or uuid.uuid4().hex[:20]
        staging = self.path(STAGING, ident)
        moves: list[tuple[str, str, bool]] = []
        try:
            for index, (dst, content) in enumerate(files.items()):
                src = posixpath.join(staging, f"{index:06d}-{posixpath.basename(dst)}")
                if isinstance(content, bytes):
                    self._writing(src)
                    self._makedirs(staging)
                    self.fs.pipe_file(src, content)
                else:
                    if PARTITION in content.column_names:
                        content = content.drop_columns([PARTITION])
                    self._write_parquet(content, src)
                moves.append((src, dst, bool(self.fs.exists(dst))))
        except OSError as exc:
            with contextlib.suppress(OSError):
                self.fs.rm(staging, recursive=True)
            raise LakeError(f"cannot write to {self.url}: {exc}") from exc
        written = {dst for _, dst, _ in moves}
        self._publish(ident, _Journal(moves, [p for p in remove if p not in written]))
        return [dst for _, dst, _ in moves]

    def _publish(self, ident: str, entry: _Journal) -> None:
        """Write ``entry`` as the journal of change ``ident`` and roll it forward."""
        journal = self.path(JOURNAL, f"{ident}.json")
        try:
            self.write_bytes(journal, entry.dump())
        except OSError as exc:
            with contextlib.suppress(OSError):
                self.fs.rm(self.path(STAGING, ident), recursive=True)
            raise LakeError(f"cannot write to {self.url}: {exc}") from exc
        try:
            self._roll_forward(journal)
        except OSError as exc:
            raise LakeError(f"cannot publish {ident} in {self.url} ({exc}); it stays "
                            "hidden until the next write to the lake finishes it") from exc
        with contextlib.suppress(OSError, FileNotFoundError):
            self.fs.rm(self.path(STAGING, ident), recursive=True)

    def write_bytes(self, path: str, data: bytes) -> None:
        """Write one small file whole: readers see the old file, or none, or all of it.

        Local: a temporary name renamed into place. Object stores: one PUT, which
        publishes the object whole (a temporary name would cost a copy and a delete).
        """
        self._writing(path)
        self._makedirs(posixpath.dirname(path))
        if not self.local:
            self.fs.pipe_file(path, data)
            return
        temp = f"{path}.{uuid.uuid4().hex}.tmp"
        try:
            with self.fs.open(temp, "wb") as f:
                f.write(data)
            self.fs.mv(temp, path)
        finally:
            with contextlib.suppress(OSError):
                if self.fs.exists(temp):
                    self.fs.rm(temp)

    def _makedirs(self, folder: str) -> None:
        """Make a local folder; object stores have none (and s3fs would make a bucket)."""
        if self.local:
            self.fs.makedirs(folder, exist_ok=True)

    def _check_bucket(self) -> None:
        """Refuse to write to a bucket that does not exist (rather than create one)."""
        if self.protocol not in BUCKETED:
            return
        bucket = self.root.lstrip("/").split("/", 1)[0]
        try:
            found = self.fs.exists(bucket)
        except OSError as exc:
            raise LakeError(f"cannot reach {self.url}: {exc}") from exc
        if not found:
            raise LakeError(f"no bucket {bucket!r} for the lake {self.url} (or these "
                            "credentials cannot see it): create it first")

    def _writing(self, path: str) -> None:
        if self.on_write is not None:
            self.on_write(path)

    def _write_parquet(self, table: pa.Table, path: str) -> None:
        self._writing(path)
        self._makedirs(posixpath.dirname(path))
        with self.fs.open(path, "wb") as f:
            pq.write_table(table, f, compression=COMPRESSION)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the lake's writer lock (local lakes; remote lakes trust one writer)."""
        if not self.local:
            yield
            return
        os.makedirs(self.root, exist_ok=True)
        with open(os.path.join(self.root, ".lock"), "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise LakeError(f"another socialsight process is writing to {self.url}") from exc
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def lock_within(self, seconds: float,
                    busy: type[LakeBusyError] = LakeBusyError) -> Iterator[None]:
        """:meth:`lock`, waiting up to ``seconds`` for another writer to finish (``busy``,
        a :class:`LakeBusyError`, after that)."""
        deadline = time.monotonic() + seconds
        with contextlib.ExitStack() as stack:
            while True:
                try:
                    stack.enter_context(self.lock())
                    break
                except LakeError as exc:
                    if time.monotonic() >= deadline:
                        raise busy(f"{exc}; try again when it is done") from exc
                    time.sleep(0.1)
            yield


class _Journal:
    """What one journal holds: the moves (staged file, final place, whether a file was
    there), the files to remove, and whether it is published (the removals hidden,
    the new files seen). A journal written before removals existed is a bare list of
    moves."""

    def __init__(self, moves: list[tuple[str, str, bool]] | list[list[Any]],
                 removes: list[str] | None = None, published: bool = False) -> None:
        self.moves, self.removes, self.published = moves, removes or [], published

    @classmethod
    def parse(cls, data: bytes) -> _Journal:
        body = orjson.loads(data)
        if isinstance(body, list):
            return cls(body)
        if not isinstance(body, dict):
            raise ValueError("a journal is a list of moves or an object")
        return cls(list(body.get("moves") or []), [str(p) for p in body.get("remove") or []],
                   bool(body.get("published")))

    def dump(self) -> bytes:
        if not self.removes:
            return orjson.dumps(self.moves)
        return orjson.dumps({"moves": self.moves, "remove": self.removes,
                             "published": self.published})

    def hidden(self) -> set[str]:
        """The files readers must not see while this journal is left."""
        if self.published:
            return set(self.removes)
        return {dst for _, dst, *existed in self.moves if not any(existed)}


def rows_bytes(schema: pa.Schema, rows: list[dict[str, Any]]) -> bytes:
    """A small Parquet file of state, as bytes (for :meth:`Lake.write_rows`, or one file of
    a :meth:`Lake.change`)."""
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), sink)
    return sink.getvalue()


def _protocol(fs: Any) -> str:
    proto = fs.protocol
    return str(proto[0] if isinstance(proto, tuple | list) else proto)


def split_by_partition(table: pa.Table, keep_partition: bool = False,
                       ) -> Iterator[tuple[str, pa.Table]]:
    """(dt, rows — without the dt column unless kept) for each distinct dt, in order."""
    dts = table.column(PARTITION)
    body = table if keep_partition else table.drop_columns([PARTITION])
    values = sorted(pc.unique(dts).to_pylist())
    if len(values) == 1:
        yield values[0], body
        return
    for dt in values:
        yield dt, body.filter(pc.equal(dts, dt))


def content_id(tables: dict[str, pa.Table]) -> str:
    """A short id that depends only on the batch's rows (which tables, which keys)."""
    h = hashlib.blake2b(digest_size=10)
    for name in sorted(tables):
        h.update(name.encode())
        table = tables[name]
        keys = [k for k in KEYS.get(name, ()) if k in table.column_names]
        if not keys:
            continue
        ordered = table.select(keys).sort_by([(k, "ascending") for k in keys])
        for column in ordered.columns:
            h.update(_column_bytes(column.combine_chunks()))
    return h.hexdigest()


def _column_bytes(values: pa.Array) -> bytes:
    """The values of a key column as bytes that depend only on the values."""
    nulls = values.is_null().to_numpy(zero_copy_only=False).tobytes()
    if pa.types.is_integer(values.type):
        return nulls + values.fill_null(0).to_numpy().tobytes()
    text = values.cast(pa.large_string()).fill_null("")
    _, offsets_buf, data_buf = text.buffers()
    offsets = memoryview(offsets_buf).cast("q")[text.offset:text.offset + len(text) + 1]
    data = memoryview(data_buf)[offsets[0]:offsets[-1]] if len(text) else b""
    return nulls + bytes(offsets) + bytes(data)

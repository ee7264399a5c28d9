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
staged files. File names derive from the batch's content, so re-running the same
input rewrites the same names instead of adding copies.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import posixpath
from collections.abc import Iterator
from typing import Any

import fsspec
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from socialsight.errors import LakeError
from socialsight.lake.schema import KEYS, PARTITION, TABLES

log = logging.getLogger(__name__)

COMPRESSION = "zstd"


class Lake:
    """A lake rooted at a local folder or an fsspec URL (``s3://bucket/prefix``, ``memory://x``)."""

    def __init__(self, url: str | os.PathLike[str]) -> None:
        text = os.fspath(url)
        try:
            self.fs, root = fsspec.core.url_to_fs(text)
        except (ImportError, ValueError) as exc:
            raise LakeError(f"cannot open lake {text!r}: {exc}") from exc
        self.protocol = _protocol(self.fs)
        self.local = self.protocol in ("file", "local")
        self.root = os.path.abspath(root) if self.local else root.rstrip("/")
        self._recovered = False

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
        return sorted(self.fs.glob(pattern))

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

    def version(self) -> int | None:
        """A number that changes whenever a batch is committed (or the gallery saved).

        A commit creates and removes a journal, which changes the ``_journal`` folder's
        mtime; None where the file system keeps no folder times (object stores).
        """
        if not self.local:
            return None
        stamp = 0
        for folder in ("_journal", "_people", "_state/resolved"):
            with contextlib.suppress(OSError):
                stamp = max(stamp, os.stat(os.path.join(self.root, folder)).st_mtime_ns)
        return stamp

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
        journal_dir = self.path("_journal")
        if self.fs.exists(journal_dir):
            for journal in self.fs.ls(journal_dir, detail=False):
                self._roll_forward(journal)
        staging = self.path("_staging")
        if self.fs.exists(staging):
            self.fs.rm(staging, recursive=True)
        self._recovered = True

    def _roll_forward(self, journal: str) -> None:
        with self.fs.open(journal, "rb") as f:
            moves = orjson.loads(f.read())
        for src, dst in moves:
            if self.fs.exists(src):
                self.fs.makedirs(posixpath.dirname(dst), exist_ok=True)
                self.fs.mv(src, dst)
        self.fs.rm(journal)
        log.info("rolled forward an interrupted batch: %s", journal)

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
        staging = self.path("_staging", batch)
        moves: list[tuple[str, str]] = []
        try:
            for name, table in tables.items():
                for dt, part in split_by_partition(table):
                    rel = (name, f"{PARTITION}={dt}", f"part-{batch}.parquet")
                    src = posixpath.join(staging, *rel)
                    self._write_parquet(part, src)
                    moves.append((src, self.path(*rel)))
            journal = self.path("_journal", f"{batch}.json")
            self.fs.makedirs(self.path("_journal"), exist_ok=True)
            with self.fs.open(journal, "wb") as f:
                f.write(orjson.dumps(moves))
        except OSError as exc:
            with contextlib.suppress(OSError):
                self.fs.rm(staging, recursive=True)
            raise LakeError(f"cannot write batch to {self.url}: {exc}") from exc
        self._roll_forward(journal)
        with contextlib.suppress(OSError, FileNotFoundError):
            self.fs.rm(staging, recursive=True)
        return [dst for _, dst in moves]

    def _write_parquet(self, table: pa.Table, path: str) -> None:
        self.fs.makedirs(posixpath.dirname(path), exist_ok=True)
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

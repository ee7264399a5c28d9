"""DuckDB in process over the lake: the seed's tables and views, Athena SQL, read-only.

Each connection is an in-memory DuckDB database holding only views: one per lake
table (``read_parquet`` over its Hive partitions), the seed's three views, and
the same names again under the ``socialanalyticsblog`` schema. Once they exist
the connection is sandboxed: file access is limited to the lake
(``allowed_directories`` + ``enable_external_access = false``) and the
configuration is locked, so no query can read, write or attach anything else.
Statements that are not reads are refused before they reach DuckDB; and should one
slip past, DuckDB reaches the lake only through a file system that refuses every
write (:class:`ReadOnly`), so it still cannot change a file of the lake.

Memory is bounded: DuckDB's ``memory_limit`` (``query.memory_limit``), spill files in
a private folder (0700, removed on close) capped at ``query.max_temp_bytes``, and
results read batch by batch (:meth:`Engine.stream`) rather than whole.
"""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from types import TracebackType
from typing import Any

import duckdb
import pyarrow as pa
from fsspec.implementations.local import LocalFileSystem

from socialsight.config import QuerySettings
from socialsight.errors import QueryError, SQLSyntaxError
from socialsight.lake import state
from socialsight.lake.photos import PHOTOS_VIEW, PHOTOS_VIEW_SQL
from socialsight.lake.schema import DATABASE, PARTITION, TABLES
from socialsight.lake.store import Lake
from socialsight.query import brands as brand_views
from socialsight.query import concepts as concept_views
from socialsight.query import dialect as dialects
from socialsight.vision import lookalike

log = logging.getLogger(__name__)

# The seed's views, in creation order (celeb_view needs tweets).
VIEWS = ("media_image_labels_query", "media_image_labels_face_query", "celeb_view")
BATCH_ROWS = 2048  # rows per record batch of a streamed result (DuckDB's vector size)
# The protocol under which DuckDB reads a local lake: only through ReadOnly, never directly.
LOCAL_PROTOCOL = "socialsight-lake"


def _sql_text(folder: str, name: str) -> str:
    return resources.files("socialsight.query").joinpath(folder, f"{name}.sql").read_text()


def seed_queries() -> dict[str, str]:
    """The seed's sample queries, by name, as the Athena SQL the blog post gives."""
    folder = resources.files("socialsight.query").joinpath("sql")
    return {
        entry.name.removesuffix(".sql"): entry.read_text()
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".sql")
    }


@dataclass
class Result:
    """A query's rows as Arrow, and the DuckDB SQL that produced them."""

    table: pa.Table
    sql: str


class Rows:
    """A running query's result, read batch by batch: ``schema``, then record batches.

    Only the batch being read is in memory. DuckDB's time limit counts the time spent
    computing batches, not the time the reader takes between them. Close it (or use it
    as a context manager) to stop the query early.
    """

    def __init__(self, engine: Engine, cursor: duckdb.DuckDBPyConnection,
                 reader: pa.RecordBatchReader, sql: str, source: str, spent: float) -> None:
        self.engine = engine  # kept alive (and its spill folder with it) while rows are read
        self.sql = sql  # as DuckDB ran it
        self._source = source  # as the user wrote it: errors point into it
        self.schema: pa.Schema = reader.schema
        self._cursor = cursor
        self._reader = reader
        self._spent = spent
        self._closed = False

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        while not self._closed:
            budget = self.engine.timeout_seconds - self._spent
            started = time.monotonic()
            try:
                with _time_limit(self._cursor, budget):
                    batch = self._reader.read_next_batch()
            except StopIteration:
                self.close()
                return
            except (pa.ArrowException, OSError, duckdb.Error) as exc:
                self.close()
                raise self.engine.failure(exc, self._source) from exc
            finally:
                self._spent += time.monotonic() - started
            yield batch

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._reader.close()
            self._cursor.close()

    def __enter__(self) -> Rows:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class Engine:
    """Queries over one lake; one sandboxed DuckDB connection per SQL dialect."""

    def __init__(self, lake: Lake, timeout_seconds: float = 60.0,
                 limits: QuerySettings | None = None) -> None:
        self.lake = lake
        self.timeout_seconds = timeout_seconds
        self.limits = limits or QuerySettings()
        self._connections: dict[str, duckdb.DuckDBPyConnection] = {}
        self._schema: dict[str, set[str]] = {}
        self._lock = threading.Lock()
        self._spill: str | None = None
        self._cleanup: weakref.finalize | None = None
        # True when a view was pinned to a list of files (a cut-off batch was pending):
        # such a connection does not see later batches; make a new Engine then.
        self.frozen = False

    def close(self) -> None:
        for con in self._connections.values():
            con.close()
        self._connections.clear()
        if self._cleanup is not None:
            self._cleanup()
            self._cleanup = self._spill = None

    def refresh(self) -> None:
        """Forget the connections, so tables that gained their first files are seen."""
        self.close()

    def connection(self, dialect: str = "athena") -> duckdb.DuckDBPyConnection:
        with self._lock:
            if dialect not in self._connections:
                self._connections[dialect] = self._connect(dialect)
            return self._connections[dialect]

    def spill_folder(self) -> str:
        """The engine's private folder (0700) for DuckDB's spill files; made on first use."""
        if self._spill is None:
            parent = self.limits.temp_dir or None
            if parent:
                os.makedirs(parent, exist_ok=True)
            self._spill = tempfile.mkdtemp(prefix="socialsight-duckdb-", dir=parent)
            self._cleanup = weakref.finalize(self, shutil.rmtree, self._spill, True)
        return self._spill

    def _connect(self, dialect: str) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(":memory:")
        # Parquet footers are read once per file, not once per query; results need no
        # particular order unless the SQL asks for one (as in Athena).
        con.execute("SET GLOBAL parquet_metadata_cache = true")
        con.execute("SET GLOBAL preserve_insertion_order = false")
        self._limit_memory(con, dialect)
        if self._guarded:
            con.register_filesystem(read_only(self.lake))
            # Lake files read through ReadOnly would otherwise be kept in DuckDB's memory.
            con.execute("SET GLOBAL enable_external_file_cache = false")
        elif not self.lake.local:
            con.register_filesystem(self.lake.fs)
        prepare(con, dialect)
        hidden = self.lake.pending()
        self.frozen = self.frozen or bool(hidden)
        for table in TABLES:
            self._create_table_view(con, table, frozen=bool(hidden))
        create_seed_views(con)
        self._create_brand_views(con)
        self._create_versions_view(con)
        self._create_concept_views(con)
        self._schema = catalog(con)
        self._sandbox(con)
        return con

    def _limit_memory(self, con: duckdb.DuckDBPyConnection, dialect: str) -> None:
        """DuckDB's memory limit, and spill files in a private folder, capped."""
        spill = os.path.join(self.spill_folder(), dialect)
        try:
            con.execute(f"SET GLOBAL memory_limit = {_literal(self.limits.memory_limit)}")
        except duckdb.Error as exc:
            raise QueryError(f"query.memory_limit {self.limits.memory_limit!r} is not a "
                             "size DuckDB understands: write it as 2GB, 512MB or 25%") from exc
        con.execute(f"SET GLOBAL temp_directory = {_literal(spill)}")
        con.execute(f"SET GLOBAL max_temp_directory_size = '{self.limits.max_temp_bytes}B'")

    @property
    def _guarded(self) -> bool:
        """Whether DuckDB reads the lake only through a file system that refuses writes."""
        return self.limits.read_only_files

    def _lake_uri(self, *parts: str) -> str:
        """A lake path as DuckDB reads it: through ReadOnly (unless query.read_only_files is
        off), never the plain file system."""
        uri = self.lake.uri(*parts)
        return f"{LOCAL_PROTOCOL}://{uri}" if self.lake.local and self._guarded else uri

    def _create_table_view(self, con: duckdb.DuckDBPyConnection, table: str,
                           frozen: bool = False) -> None:
        """A view over ``table``'s files: all that a glob finds, or (``frozen``, while a
        cut-off batch waits to be finished) the committed files of now, by name."""
        files = self.lake.files(table)
        if files:
            glob: str | list[str] = self._lake_uri(table, f"{PARTITION}=*", "*.parquet")
            if frozen:
                glob = [self._lake_uri(self.lake.uri_of(path)) if self.lake.local and self._guarded
                        else self.lake.uri_of(path) for path in files]
            source = (f"read_parquet({_literal(glob)}, hive_partitioning = true, "
                      f"hive_types = {{'{PARTITION}': 'VARCHAR'}}, union_by_name = true)")
            # A column the contract gained after these files were written reads as NULL.
            have = {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
            missing = "".join(f', CAST(NULL AS {kind}) AS "{name}"'
                              for name, kind in contract_types(con, table) if name not in have)
            con.execute(f'CREATE VIEW "{table}" AS SELECT *{missing} FROM {source}')
        else:
            # A real (empty) table, so every cursor of the connection sees it.
            con.register("__arrow", TABLES[table].empty_table())
            con.execute(f'CREATE TABLE "__empty_{table}" AS SELECT * FROM __arrow')
            con.unregister("__arrow")
            con.execute(
                f'CREATE VIEW "{table}" AS SELECT *, CAST(NULL AS VARCHAR) AS {PARTITION} '
                f'FROM "__empty_{table}"'
            )

    def _create_brand_views(self, con: duckdb.DuckDBPyConnection) -> None:
        """``brands`` (the enrolled brands, :mod:`socialsight.brands`) and
        ``brand_mentions`` (:mod:`socialsight.query.brands`)."""
        store = state.path("brands", "brands.parquet")
        if self.lake.fs.exists(self.lake.path(store)):
            source = f"read_parquet({_literal(self._lake_uri(store))})"
            con.execute(f'CREATE VIEW "{brand_views.BRANDS_VIEW}" AS '
                        f"{brand_views.brands_sql(source)}")
        else:
            con.execute(f'CREATE VIEW "{brand_views.BRANDS_VIEW}" AS '
                        f"{brand_views.EMPTY_BRANDS_SQL}")
        labels = con.execute("SELECT data_type FROM duckdb_columns() WHERE table_name = "
                             "'media_rekognition' AND column_name = 'image_labels'").fetchone()
        custom = labels is not None and "customlabels" in str(labels[0])
        con.execute(f'CREATE VIEW "{brand_views.MENTIONS_VIEW}" AS '
                    f"{brand_views.mentions_sql(custom)}")
        for name in (brand_views.BRANDS_VIEW, brand_views.MENTIONS_VIEW):
            con.execute(f'CREATE VIEW {DATABASE}."{name}" AS SELECT * FROM main."{name}"')

    def _create_concept_views(self, con: duckdb.DuckDBPyConnection) -> None:
        """``concept_hits`` (:mod:`socialsight.query.concepts`): empty while no concept is
        learnt or no photo has an embedding."""
        store = state.path("concepts", "concepts.parquet")
        body = concept_views.EMPTY_HITS_SQL
        if self.lake.fs.exists(self.lake.path(store)):
            body = concept_views.hits_sql(f"read_parquet({_literal(self._lake_uri(store))})")
        con.execute(f'CREATE VIEW "{concept_views.HITS_VIEW}" AS {body}')
        con.execute(f'CREATE VIEW {DATABASE}."{concept_views.HITS_VIEW}" AS '
                    f'SELECT * FROM main."{concept_views.HITS_VIEW}"')

    def _create_versions_view(self, con: duckdb.DuckDBPyConnection) -> None:
        """``photo_versions``: each photo with the representative of its versions (re-encoded,
        resized, cropped, captioned), :data:`socialsight.vision.lookalike.VERSIONS_SQL`."""
        name = lookalike.VERSIONS_VIEW
        con.execute(f'CREATE VIEW "{name}" AS {lookalike.VERSIONS_SQL}')
        con.execute(f'CREATE VIEW {DATABASE}."{name}" AS SELECT * FROM main."{name}"')

    def _sandbox(self, con: duckdb.DuckDBPyConnection) -> None:
        # Only the lake, and (by default) only as ReadOnly serves it: the plain path of a
        # local lake is not allowed, so DuckDB's own file system cannot write there either.
        allowed = [self._lake_uri().rstrip("/") + "/"]
        if not self.lake.local:
            allowed.append(f"{self.lake.protocol}:///{self.lake.root.lstrip('/')}/")
        con.execute(f"SET GLOBAL allowed_directories = {_literal(allowed)}")
        con.execute("SET GLOBAL enable_external_access = false")
        con.execute("SET GLOBAL lock_configuration = true")

    def stream(self, sql: str, dialect: str = "athena", batch_rows: int = BATCH_ROWS) -> Rows:
        """Start one read-only statement; its rows come batch by batch (see :class:`Rows`).

        Raises QueryError with a one-line message when the statement cannot start;
        iterating raises it when the query fails (or runs out of time) later.
        """
        translated = dialects.translate(sql, dialect, self._schema_for(dialect))
        con = self.connection(dialect).cursor()
        started = time.monotonic()
        try:
            with _time_limit(con, self.timeout_seconds):
                reader = _reader(con.sql(translated), batch_rows)
        except (duckdb.Error, pa.ArrowException, OSError) as exc:
            con.close()
            raise self.failure(exc, sql) from exc
        return Rows(self, con, reader, translated, sql, time.monotonic() - started)

    def _schema_for(self, dialect: str) -> dict[str, set[str]]:
        self.connection(dialect)
        return self._schema

    def execute(self, sql: str, dialect: str = "athena") -> Result:
        """Run one read-only statement; all its rows. Raises QueryError with a one-line message."""
        with self.stream(sql, dialect) as rows:
            table = pa.Table.from_batches(list(rows), rows.schema)
        return Result(table, rows.sql)

    def failure(self, exc: BaseException, sql: str | None) -> QueryError:
        """A DuckDB (or Arrow) error as the one-line QueryError a user reads (``sql``: the
        user's, to point into; None for socialsight's own)."""
        message = _first_line(exc)
        if isinstance(exc, duckdb.InterruptException) or message.startswith("INTERRUPT"):
            return QueryError(f"query stopped after the {self.timeout_seconds:g} s time limit")
        if isinstance(exc, duckdb.ParserException):
            return SQLSyntaxError(_describe(message, sql))
        if isinstance(exc, duckdb.OutOfMemoryException) or message.startswith("Out of Memory"):
            return QueryError(
                f"the query needs more memory than query.memory_limit "
                f"({self.limits.memory_limit}) and query.max_temp_bytes "
                f"({self.limits.max_temp_bytes:,}) allow: add LIMIT, filter or aggregate more, "
                "or raise them")
        return QueryError(_describe(message, sql))

    def rows(self, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run DuckDB SQL with named parameters (``$name``) on the sandbox; rows as dicts.

        For socialsight's own queries (the dashboard's): no translation, the same
        sandbox and time limit as :meth:`execute`.
        """
        con = self.connection("duckdb").cursor()
        try:
            with _time_limit(con, self.timeout_seconds):
                relation = con.execute(sql, params or {})
                names = [d[0] for d in relation.description or ()]
                return [dict(zip(names, row, strict=True)) for row in relation.fetchall()]
        except duckdb.Error as exc:
            raise QueryError(str(self.failure(exc, None))) from exc
        finally:
            con.close()


@contextmanager
def _time_limit(con: duckdb.DuckDBPyConnection, seconds: float) -> Iterator[None]:
    """Interrupt ``con`` once ``seconds`` have passed inside the block."""
    timer = threading.Timer(max(seconds, 0.0), con.interrupt)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def _reader(relation: duckdb.DuckDBPyRelation, batch_rows: int) -> pa.RecordBatchReader:
    """The relation's rows as a record batch reader (to_arrow_reader since DuckDB 1.4)."""
    make = getattr(relation, "to_arrow_reader", None) or relation.fetch_record_batch
    reader: pa.RecordBatchReader = make(batch_rows)
    return reader


class _RefuseWrites:
    """Mixed into an object store's file system: opens for reading only, changes nothing."""

    def open(self, path: Any, mode: str = "rb", *args: Any, **kwargs: Any) -> Any:
        _refuse_writes(mode, path)
        return super().open(path, mode, *args, **kwargs)  # type: ignore[misc]

    def _refused(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError("the lake is read-only to SQL")

    mkdir = makedirs = rm = rm_file = rmdir = mv = move = _refused
    cp_file = copy = put_file = put = pipe_file = pipe = touch = link = symlink = _refused
    _mkdir = _makedirs = _rm = _rm_file = _rmdir = _mv = _cp_file = _put_file = _refused
    _pipe_file = _pipe = _touch = _refused


class ReadOnly(_RefuseWrites, LocalFileSystem):
    """A local lake as DuckDB reads it (``socialsight-lake:///path``): reads only.

    Views read the lake through this file system, and the sandbox allows no other path
    to it; so even a statement that slipped past the read-only gate (COPY ... TO,
    ATTACH, EXPORT DATABASE) cannot write, move or remove a file of the lake.
    """

    protocol = (LOCAL_PROTOCOL,)
    root_marker = "/"

    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        text = str(path)
        if text.startswith(f"{LOCAL_PROTOCOL}://"):
            text = text[len(LOCAL_PROTOCOL) + 3:]
        return super()._strip_protocol(text)

    def open(self, path: Any, mode: str = "rb", *args: Any, **kwargs: Any) -> Any:
        _refuse_writes(mode, path)
        return _SharedReader(self._strip_protocol(path))

    _open = open


class _SharedReader(io.RawIOBase):
    """A file read by several DuckDB threads at once: each thread has its own position.

    DuckDB reads a registered file system's file with ``seek`` then ``read``, and its
    threads share one handle per file; with one position they would read each other's
    bytes. Here ``seek`` and ``read`` (``os.pread``) use the calling thread's position.
    """

    def __init__(self, path: str) -> None:
        super().__init__()
        self.name = path
        self._fd = os.open(path, os.O_RDONLY)
        self._size = os.fstat(self._fd).st_size
        self._where = threading.local()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return int(getattr(self._where, "at", 0))

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.tell(), io.SEEK_END: self._size}[whence]
        self._where.at = base + offset
        return self._where.at

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(memoryview(buffer)))
        memoryview(buffer)[:len(data)] = data
        return len(data)

    def read(self, size: int | None = -1) -> bytes:
        at = self.tell()
        count = self._size - at if size is None or size < 0 else size
        data = os.pread(self._fd, max(count, 0), at)
        self._where.at = at + len(data)
        return data

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()


def _refuse_writes(mode: str, path: Any) -> None:
    if set(mode) - set("rbt"):
        raise PermissionError(f"the lake is read-only to SQL: {path} cannot be written")


def read_only(lake: Lake) -> Any:
    """The file system DuckDB reads ``lake`` through: the lake's own, with every write refused."""
    if lake.local:
        return ReadOnly()
    base = type(lake.fs)
    guarded = type(f"ReadOnly{base.__name__}", (_RefuseWrites, base), {})
    return guarded(**lake.fs.storage_options)


def contract_types(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    """The table contract's columns with their DuckDB types, in order."""
    con.register("__contract", TABLES[table].empty_table())
    try:
        return [(row[0], row[1]) for row in con.execute("DESCRIBE __contract").fetchall()]
    finally:
        con.unregister("__contract")


def prepare(con: duckdb.DuckDBPyConnection, dialect: str) -> None:
    """The dialect's session settings and the Presto functions DuckDB lacks."""
    for name, value in dialects.SESSION_SETTINGS.get(dialect, {}).items():
        con.execute(f"SET GLOBAL {name} = {_literal(value)}")
    for macro in dialects.MACROS:
        con.execute(macro)


def create_seed_views(con: duckdb.DuckDBPyConnection) -> None:
    """The seed's views over tables named as the seed names them, socialsight's own
    ``tweet_photos`` (what counts as a photo, :mod:`socialsight.lake.photos`), and the
    database alias."""
    for view in VIEWS:
        body = dialects.translate(_sql_text("views", view), "athena", catalog(con))
        con.execute(f'CREATE VIEW "{view}" AS {body}')
    con.execute(f'CREATE VIEW "{PHOTOS_VIEW}" AS {PHOTOS_VIEW_SQL}')
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {DATABASE}")
    for name in (*TABLES, *VIEWS, PHOTOS_VIEW):
        con.execute(f'CREATE VIEW {DATABASE}."{name}" AS SELECT * FROM main."{name}"')


def catalog(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    """Each table and view of the connection, with its column names."""
    out: dict[str, set[str]] = {}
    for table, column in con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() WHERE NOT internal").fetchall():
        out.setdefault(table, set()).add(column)
    return out


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return "'" + str(value).replace("'", "''") + "'"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


_QUOTED = re.compile(r'"([^"]+)"')


def _describe(message: str, sql: str | None) -> str:
    """DuckDB's message on one line, pointing into the user's SQL where it can."""
    if sql is None:
        return message
    for name in _QUOTED.findall(message):
        where = dialects.locate(sql, name)
        if where:
            return f"line {where[0]}, column {where[1]}: {message}"
    return message

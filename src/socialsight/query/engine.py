"""DuckDB in process over the lake: the seed's tables and views, Athena SQL, read-only.

Each connection is an in-memory DuckDB database holding only views: one per lake
table (``read_parquet`` over its Hive partitions), the seed's three views, and
the same names again under the ``socialanalyticsblog`` schema. Once they exist
the connection is sandboxed: file access is limited to the lake
(``allowed_directories`` + ``enable_external_access = false``) and the
configuration is locked, so no query can read, write or attach anything else.
Statements that are not reads are refused before they reach DuckDB.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from importlib import resources
from typing import Any

import duckdb
import pyarrow as pa

from socialsight.errors import QueryError, SQLSyntaxError
from socialsight.lake.schema import DATABASE, PARTITION, TABLES
from socialsight.lake.store import Lake
from socialsight.query import dialect as dialects

log = logging.getLogger(__name__)

# The seed's views, in creation order (celeb_view needs tweets).
VIEWS = ("media_image_labels_query", "media_image_labels_face_query", "celeb_view")


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


class Engine:
    """Queries over one lake; one sandboxed DuckDB connection per SQL dialect."""

    def __init__(self, lake: Lake, timeout_seconds: float = 60.0) -> None:
        self.lake = lake
        self.timeout_seconds = timeout_seconds
        self._connections: dict[str, duckdb.DuckDBPyConnection] = {}
        self._schema: dict[str, set[str]] = {}
        self._lock = threading.Lock()
        # True when a view was pinned to a list of files (a cut-off batch was pending):
        # such a connection does not see later batches; make a new Engine then.
        self.frozen = False

    def close(self) -> None:
        for con in self._connections.values():
            con.close()
        self._connections.clear()

    def refresh(self) -> None:
        """Forget the connections, so tables that gained their first files are seen."""
        self.close()

    def connection(self, dialect: str = "athena") -> duckdb.DuckDBPyConnection:
        with self._lock:
            if dialect not in self._connections:
                self._connections[dialect] = self._connect(dialect)
            return self._connections[dialect]

    def _connect(self, dialect: str) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(":memory:")
        # Parquet footers are read once per file, not once per query; results need no
        # particular order unless the SQL asks for one (as in Athena).
        con.execute("SET GLOBAL parquet_metadata_cache = true")
        con.execute("SET GLOBAL preserve_insertion_order = false")
        if not self.lake.local:
            con.register_filesystem(self.lake.fs)
        prepare(con, dialect)
        hidden = self.lake.pending()
        self.frozen = self.frozen or bool(hidden)
        for table in TABLES:
            self._create_table_view(con, table, frozen=bool(hidden))
        create_seed_views(con)
        self._schema = catalog(con)
        self._sandbox(con)
        return con

    def _create_table_view(self, con: duckdb.DuckDBPyConnection, table: str,
                           frozen: bool = False) -> None:
        """A view over ``table``'s files: all that a glob finds, or (``frozen``, while a
        cut-off batch waits to be finished) the committed files of now, by name."""
        files = self.lake.files(table)
        if files:
            glob: str | list[str] = self.lake.uri(table, f"{PARTITION}=*", "*.parquet")
            if frozen:
                glob = [self.lake.uri_of(path) for path in files]
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

    def _sandbox(self, con: duckdb.DuckDBPyConnection) -> None:
        root = self.lake.url.rstrip("/") + "/"
        allowed = [root]
        if not self.lake.local:
            allowed.append(f"{self.lake.protocol}:///{self.lake.root.lstrip('/')}/")
        con.execute(f"SET GLOBAL allowed_directories = {_literal(allowed)}")
        con.execute("SET GLOBAL enable_external_access = false")
        con.execute("SET GLOBAL lock_configuration = true")

    def execute(self, sql: str, dialect: str = "athena") -> Result:
        """Run one read-only statement; raises QueryError with a one-line message."""
        con = self.connection(dialect).cursor()
        translated = dialects.translate(sql, dialect, self._schema)
        timer = threading.Timer(self.timeout_seconds, con.interrupt)
        timer.start()
        try:
            table = con.sql(translated).to_arrow_table()
        except duckdb.InterruptException as exc:
            limit = f"{self.timeout_seconds:g} s"
            raise QueryError(f"query stopped after the {limit} time limit") from exc
        except duckdb.ParserException as exc:
            raise SQLSyntaxError(_describe(exc, sql)) from exc
        except duckdb.Error as exc:
            raise QueryError(_describe(exc, sql)) from exc
        finally:
            timer.cancel()
            con.close()
        return Result(table, translated)

    def rows(self, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run DuckDB SQL with named parameters (``$name``) on the sandbox; rows as dicts.

        For socialsight's own queries (the dashboard's): no translation, the same
        sandbox and time limit as :meth:`execute`.
        """
        con = self.connection("duckdb").cursor()
        timer = threading.Timer(self.timeout_seconds, con.interrupt)
        timer.start()
        try:
            relation = con.execute(sql, params or {})
            names = [d[0] for d in relation.description or ()]
            return [dict(zip(names, row, strict=True)) for row in relation.fetchall()]
        except duckdb.InterruptException as exc:
            limit = f"{self.timeout_seconds:g} s"
            raise QueryError(f"query stopped after the {limit} time limit") from exc
        except duckdb.Error as exc:
            raise QueryError(_first_line(exc)) from exc
        finally:
            timer.cancel()
            con.close()


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
    """The seed's views over tables named as the seed names them, and the database alias."""
    for view in VIEWS:
        body = dialects.translate(_sql_text("views", view), "athena", catalog(con))
        con.execute(f'CREATE VIEW "{view}" AS {body}')
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {DATABASE}")
    for name in (*TABLES, *VIEWS):
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


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


_QUOTED = re.compile(r'"([^"]+)"')


def _describe(exc: duckdb.Error, sql: str) -> str:
    """DuckDB's message on one line, pointing into the user's SQL where it can."""
    message = _first_line(exc)
    for name in _QUOTED.findall(message):
        where = dialects.locate(sql, name)
        if where:
            return f"line {where[0]}, column {where[1]}: {message}"
    return message

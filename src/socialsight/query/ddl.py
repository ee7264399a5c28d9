"""CREATE statements for the lake in Athena, Trino and Spark: its tables and the seed's views.

Every column type derives from the Arrow schemas of the table contract
(``lake/schema.py``) through one table of scalar type names per engine; struct, list
and map types are spelled by the engine's composite forms. The seed's three views are
its Athena SQL (``query/views/*.sql``) translated by sqlglot (and, for Spark, by
``query/spark.py``), reading the tables of the ``socialanalyticsblog`` database.

Each engine also learns the ``dt=YYYY-MM-DD`` partitions that exist: Athena by
``MSCK REPAIR TABLE`` (or partition projection, which needs no repair when new days
arrive), Trino by ``system.sync_partition_metadata``, Spark by ``MSCK REPAIR TABLE``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, UnsupportedError

from socialsight.errors import QueryError
from socialsight.lake.schema import DATABASE, PARTITION, TABLES
from socialsight.lake.store import Lake
from socialsight.query.engine import VIEWS

log = logging.getLogger(__name__)

ENGINES: tuple[str, ...] = ("athena", "trino", "spark")

# The tables the ddl command declares: the seed's four, then socialsight's two additions.
DDL_TABLES: tuple[str, ...] = (
    "tweets", "tweet_sentiments", "tweet_entities", "media_rekognition",
    "tweet_keyphrases", "errors",
)

# --- types ------------------------------------------------------------------------------

# Arrow scalar type (its str()) → the Hive type name (Athena's DDL and Spark's).
HIVE_TYPES: dict[str, str] = {
    "int8": "tinyint",
    "int16": "smallint",
    "int32": "int",
    "int64": "bigint",
    "float": "float",
    "double": "double",
    "bool": "boolean",
    "string": "string",
    "large_string": "string",
    "binary": "binary",
    "date32[day]": "date",
}

# Hive type name → Trino's (Hive connector).
TRINO_TYPES: dict[str, str] = {
    "tinyint": "TINYINT",
    "smallint": "SMALLINT",
    "int": "INTEGER",
    "bigint": "BIGINT",
    "float": "REAL",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
    "string": "VARCHAR",
    "binary": "VARBINARY",
    "date": "DATE",
    "timestamp": "TIMESTAMP(3)",
}

# Words that Hive's DDL (hence Athena's) and Spark reserve: such names are backquoted.
_HIVE_RESERVED_WORDS = """
all alter and array as authorization between bigint binary boolean both by case cast char
column conf constraint commit create cross cube current current_date current_timestamp
cursor database date dayofweek decimal delete describe distinct div double drop else end
exchange exists extended external extract false fetch float floor following for foreign
from full function grant group grouping having if import in inner insert int integer
intersect interval into is join lateral left less like local macro map more none not null
numeric of on only or order out outer over partialscan partition percent preceding
precision preserve primary procedure range reads reduce references regexp revoke right
rlike rollback rollup row rows select set smallint start table tablesample then time
timestamp to transform trigger true truncate unbounded union uniquejoin update user using
utc_timestamp values varchar views when where window with
"""
HIVE_RESERVED: frozenset[str] = frozenset(_HIVE_RESERVED_WORDS.split())

_PLAIN = re.compile(r"[a-z_][a-z0-9_]*")


def hive_name(name: str) -> str:
    """``name`` as Athena and Spark DDL need it: backquoted when reserved or unusual."""
    if _PLAIN.fullmatch(name) and name not in HIVE_RESERVED:
        return name
    return "`" + name.replace("`", "``") + "`"


def trino_name(name: str) -> str:
    """``name`` as Trino needs it: always double-quoted, which is never wrong."""
    return '"' + name.replace('"', '""') + '"'


def _scalar(typ: pa.DataType) -> str:
    if pa.types.is_timestamp(typ):
        return "timestamp"
    try:
        return HIVE_TYPES[str(typ)]
    except KeyError:
        raise QueryError(f"no Hive type for the Arrow type {typ}") from None


def hive_type(typ: pa.DataType) -> str:
    """The Hive type string of an Arrow type: ``struct<a:bigint>``, ``array<string>``…"""
    if pa.types.is_struct(typ):
        fields = ",".join(f"{hive_name(f.name)}:{hive_type(f.type)}" for f in typ)
        return f"struct<{fields}>"
    if pa.types.is_map(typ):
        return f"map<{hive_type(typ.key_type)},{hive_type(typ.item_type)}>"
    if pa.types.is_list(typ) or pa.types.is_large_list(typ):
        return f"array<{hive_type(typ.value_type)}>"
    return _scalar(typ)


def trino_type(typ: pa.DataType) -> str:
    """The Trino type of an Arrow type: ``ROW("a" BIGINT)``, ``ARRAY(VARCHAR)``…"""
    if pa.types.is_struct(typ):
        fields = ", ".join(f"{trino_name(f.name)} {trino_type(f.type)}" for f in typ)
        return f"ROW({fields})"
    if pa.types.is_map(typ):
        return f"MAP({trino_type(typ.key_type)}, {trino_type(typ.item_type)})"
    if pa.types.is_list(typ) or pa.types.is_large_list(typ):
        return f"ARRAY({trino_type(typ.value_type)})"
    return TRINO_TYPES[_scalar(typ)]


# --- locations ----------------------------------------------------------------------------


def lake_location(lake: Lake) -> str:
    """The lake's URL as the engines name it: ``s3://bucket/prefix``, or ``file:///path``."""
    if lake.local:
        return Path(lake.root).as_uri()
    return lake.url


def _table_location(location: str, table: str) -> str:
    return f"{location.rstrip('/')}/{table}/"


def check_location(location: str) -> str:
    """``location`` if it is a URL the engines read (scheme://...), else a clear error."""
    if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.\-]*://", location) or "'" in location:
        raise QueryError(f"--location must be a URL such as s3://bucket/prefix or "
                         f"file:///path, not {location!r}")
    return location


# --- statements ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    """What the statements depend on besides the engine."""

    location: str
    projection: bool = False  # Athena: partition projection instead of MSCK REPAIR TABLE
    # Tables known to have no files yet: their partitions are not looked for (Spark and
    # Trino refuse a folder that does not exist); render() says what to run later.
    empty: frozenset[str] = field(default_factory=frozenset)


def _columns(table: str, name: Callable[[str], str], typ: Callable[[pa.DataType], str],
             sep: str) -> list[str]:
    return [f"  {name(f.name)}{sep}{typ(f.type)}" for f in TABLES[table]]


def _athena_table(table: str, opts: Options) -> list[str]:
    columns = ",\n".join(_columns(table, hive_name, hive_type, " "))
    where = _table_location(opts.location, table)
    create = (f"CREATE EXTERNAL TABLE IF NOT EXISTS {DATABASE}.{table} (\n{columns}\n)\n"
              f"PARTITIONED BY ({PARTITION} string)\nSTORED AS PARQUET\nLOCATION '{where}'")
    if not opts.projection:
        return [create]
    props = {
        "projection.enabled": "true",
        f"projection.{PARTITION}.type": "date",
        f"projection.{PARTITION}.format": "yyyy-MM-dd",
        f"projection.{PARTITION}.range": "2006-03-21,NOW",
        f"projection.{PARTITION}.interval": "1",
        f"projection.{PARTITION}.interval.unit": "DAYS",
        "storage.location.template": f"{where}{PARTITION}=${{{PARTITION}}}/",
    }
    listed = ",\n".join(f"  '{k}' = '{v}'" for k, v in props.items())
    return [f"{create}\nTBLPROPERTIES (\n{listed}\n)"]


def _trino_table(table: str, opts: Options) -> list[str]:
    columns = _columns(table, trino_name, trino_type, " ")
    columns.append(f"  {trino_name(PARTITION)} VARCHAR")  # partition columns come last
    body = ",\n".join(columns)
    where = _table_location(opts.location, table)
    create = (f"CREATE TABLE IF NOT EXISTS {DATABASE}.{table} (\n{body}\n)\nWITH (\n"
              f"  format = 'PARQUET',\n  partitioned_by = ARRAY['{PARTITION}'],\n"
              f"  external_location = '{where}'\n)")
    return [create]


def _spark_table(table: str, opts: Options) -> list[str]:
    columns = _columns(table, hive_name, hive_type, " ")
    columns.append(f"  {PARTITION} string")
    body = ",\n".join(columns)
    where = _table_location(opts.location, table)
    create = (f"CREATE TABLE IF NOT EXISTS {DATABASE}.{table} (\n{body}\n)\nUSING parquet\n"
              f"PARTITIONED BY ({PARTITION})\nLOCATION '{where}'")
    return [create]


def _qualified(tree: exp.Expr) -> exp.Expr:
    """The seed's tables read from the socialanalyticsblog database, whatever the session's."""
    for table in tree.find_all(exp.Table):
        if not table.args.get("db") and table.name in TABLES:
            table.set("db", exp.to_identifier(DATABASE))
    return tree


def view_sql(view: str, engine: str) -> str:
    """The body of one of the seed's views, in ``engine``'s SQL."""
    text = resources.files("socialsight.query").joinpath("views", f"{view}.sql").read_text()
    if engine == "spark":
        from socialsight.query.spark import to_spark

        return to_spark(text, _qualified)
    try:
        tree = _qualified(sqlglot.parse_one(text, read="athena"))
        return tree.sql(dialect=engine, pretty=True, comments=False,
                        unsupported_level=ErrorLevel.RAISE)
    except (ParseError, UnsupportedError) as exc:
        raise QueryError(f"cannot translate the view {view} to {engine}: {exc}") from None


_TABLE_STATEMENTS: dict[str, Callable[[str, Options], list[str]]] = {
    "athena": _athena_table,
    "trino": _trino_table,
    "spark": _spark_table,
}
_DATABASE_STATEMENT: dict[str, str] = {
    "athena": f"CREATE DATABASE IF NOT EXISTS {DATABASE}",
    "trino": f"CREATE SCHEMA IF NOT EXISTS {DATABASE}",
    "spark": f"CREATE DATABASE IF NOT EXISTS {DATABASE}",
}


# How each engine finds the dt=YYYY-MM-DD folders of a table (run again on new days).
_REPAIR: dict[str, str] = {
    "athena": "MSCK REPAIR TABLE {db}.{table}",
    "trino": "CALL system.sync_partition_metadata(schema_name => '{db}', "
             "table_name => '{table}', mode => 'FULL')",
    "spark": "MSCK REPAIR TABLE {db}.{table}",
}


def repair(engine: str, table: str) -> str:
    """The statement that makes ``engine`` see the partitions of ``table`` that exist now."""
    return _REPAIR[check_engine(engine)].format(db=DATABASE, table=table)


def _finds_partitions_itself(engine: str, opts: Options) -> bool:
    return engine == "athena" and opts.projection


def check_engine(engine: str) -> str:
    key = engine.lower()
    if key not in ENGINES:
        raise QueryError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    return key


def statements(engine: str, opts: Options) -> list[str]:
    """Every statement, in order: the database, each table (and its partitions), each view."""
    engine = check_engine(engine)
    if opts.projection and engine != "athena":
        raise QueryError("partition projection is an Athena feature: use it with --engine athena")
    check_location(opts.location)
    out = [_DATABASE_STATEMENT[engine]]
    for table in DDL_TABLES:
        out += _TABLE_STATEMENTS[engine](table, opts)
        if table not in opts.empty and not _finds_partitions_itself(engine, opts):
            out.append(repair(engine, table))
    out += [f"CREATE OR REPLACE VIEW {DATABASE}.{view} AS\n{view_sql(view, engine)}"
            for view in VIEWS]
    return out


_HOW_TO_RUN: dict[str, str] = {
    "athena": "run each statement in the Athena query editor (or aws athena start-query-execution)",
    "trino": "run with: trino --catalog hive -f FILE (a catalog on the Hive connector)",
    "spark": "run with: spark-sql -f FILE, or each statement with spark.sql()",
}


def render(engine: str, opts: Options) -> str:
    """The statements as one script, each ending with ``;``, under a header comment."""
    engine = check_engine(engine)
    body = statements(engine, opts)
    head = (f"-- The socialsight lake at {opts.location} for {engine}: "
            f"{_HOW_TO_RUN[engine]}.\n"
            f"-- Tables: {', '.join(DDL_TABLES)}; views: {', '.join(VIEWS)}.\n")
    text = head + "\n" + "".join(f"{s};\n\n" for s in body)
    if not _finds_partitions_itself(engine, opts):
        empty = [t for t in DDL_TABLES if t in opts.empty]
        if empty:
            text += f"-- No files yet in: {', '.join(empty)}.\n"
        text += "-- When new days arrive (new dt= folders), run again:\n"
        text += "".join(f"--   {repair(engine, t)};\n" for t in DDL_TABLES)
    return text


def options_for(lake: Lake, location: str | None = None, projection: bool = False) -> Options:
    """Options for ``lake``: LOCATION defaults to its URL; tables without files are noted."""
    try:
        empty = frozenset(t for t in DDL_TABLES if not lake.has_data(t))
    except Exception as exc:  # printing DDL must not need the lake at hand
        log.info("cannot list the lake %s (%s): every table gets its repair", lake.url, exc)
        empty = frozenset()
    return Options(check_location(location or lake_location(lake)), projection, empty)

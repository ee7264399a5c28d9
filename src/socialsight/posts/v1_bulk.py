"""Twitter API v1.1 statuses in bulk: many JSON lines → rows of ``tweets`` inside DuckDB.

The per-record adapter (:mod:`socialsight.posts.twitter_v1`) decodes every post into
Python objects, which caps an import near 10,000 posts/s. This module does the same
conversion for a whole block of lines at once in DuckDB's C++ JSON reader: one
``json_transform`` per line into a typed structure, then the adapter's rules as SQL
(full text, ``RT @author:`` prefix, entities of ``extended_tweet``, media ids as
strings, integer ids from their ``_str`` twins, ``timestamp_ms``).

Lines it cannot take — anything that is not a v1.1 status with an id, a user with an
id and a readable time (stream control messages, v2 responses, twarc2 lines,
malformed JSON, text that is not UTF-8) — are handed back by line number for the
per-record path, which gives them their format or their error row. A field of the
wrong type inside an accepted status (a word where a count belongs) is stored as
null; ``raw_json`` keeps the line as received.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from socialsight.lake.schema import PARTITION, TWEET_ROWS, TWEETS

log = logging.getLogger(__name__)


PARALLEL_ROWS = 2048
# Times a partition can be named after (years 1 to 9999, UTC), in epoch milliseconds;
# a line outside them is left to the per-record path, which says why.
MIN_MS, MAX_MS = -62_135_596_800_000, 253_402_300_799_999

_SCALARS = {
    pa.string(): "VARCHAR", pa.int64(): "BIGINT", pa.int32(): "INTEGER",
    pa.float64(): "DOUBLE", pa.float32(): "FLOAT", pa.bool_(): "BOOLEAN",
}


def structure(typ: pa.DataType) -> Any:
    """The ``json_transform`` structure that reads JSON into an Arrow type."""
    if pa.types.is_struct(typ):
        return {f.name: structure(f.type) for f in typ}
    if pa.types.is_list(typ):
        return [structure(typ.value_type)]
    return _SCALARS[typ]


def _input_structure() -> dict[str, Any]:
    """What to read from a v1.1 line: the tweets columns plus what the rules need."""
    top = {f.name: structure(f.type) for f in TWEETS if f.name not in ("raw_json", "platform")}
    for key in ("in_reply_to_status_id", "in_reply_to_user_id", "quoted_status_id"):
        top[f"{key}_str"] = "VARCHAR"
    entities = top["entities"]
    extended = top["extended_entities"]
    top["full_text"] = "VARCHAR"
    top["extended_tweet"] = {"full_text": "VARCHAR", "entities": entities,
                             "extended_entities": extended}
    embedded = structure(TWEETS.field("retweeted_status").type)
    embedded["full_text"] = "VARCHAR"
    embedded["extended_tweet"] = {"full_text": "VARCHAR", "entities": embedded["entities"],
                                  "extended_entities": embedded["extended_entities"]}
    top["retweeted_status"] = embedded
    top["quoted_status"] = embedded
    return top


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _int_of(text_expr: str, number_expr: str) -> str:
    """Python's ``as_int(obj.get(key + '_str') or obj.get(key))``."""
    return (f"CASE WHEN nullif({text_expr}, '') IS NULL THEN {number_expr} "
            f"ELSE TRY_CAST({text_expr} AS BIGINT) END")


def _full_text(s: str) -> str:
    return f"coalesce({s}.extended_tweet.full_text, {s}.full_text, {s}.text, '')"


def _media(list_expr: str) -> str:
    return (f"coalesce(list_transform({list_expr}, lambda m: struct_update(m, "
            "id := coalesce(nullif(m.id_str, ''), m.id), "
            "id_str := coalesce(nullif(m.id_str, ''), m.id))), [])")


def _pack(typ: pa.StructType, values: dict[str, str]) -> str:
    """A struct literal with ``typ``'s fields in order, each from ``values`` or NULL."""
    parts = [f"{_literal(f.name)}: {values.get(f.name, 'NULL')}" for f in typ]
    return "{" + ", ".join(parts) + "}"


def _entities_sql(s: str) -> tuple[str, str]:
    """(entities, extended_entities) of ``s``: extended_tweet's when it has entities."""
    has_ext = f"{s}.extended_tweet.entities IS NOT NULL"
    ent = f"CASE WHEN {has_ext} THEN {s}.extended_tweet.entities ELSE {s}.entities END"
    ext = (f"CASE WHEN {has_ext} THEN {s}.extended_tweet.extended_entities "
           f"ELSE {s}.extended_entities END")
    return ent, ext


def _embedded_sql(s: str) -> str:
    typ = TWEETS.field("retweeted_status").type
    ent, ext = _entities_sql(s)
    values = {f.name: f"{s}.{f.name}" for f in typ}
    values["id"] = _int_of(f"{s}.id_str", f"{s}.id")
    values["text"] = _full_text(s)
    values["entities"] = ent
    values["extended_entities"] = "{'media': " + _media(f"({ext}).media") + "}"
    return f"CASE WHEN {s} IS NULL THEN NULL ELSE {_pack(typ, values)} END"


def _select_sql() -> str:
    """The SELECT that turns ``j`` (the transformed line) into a row of ``tweets``."""
    j = "j"
    ent, ext = _entities_sql(j)
    ent_type = TWEETS.field("entities").type
    ext_type = TWEETS.field("extended_entities").type
    user_type = TWEETS.field("user").type
    rt = f"{j}.retweeted_status"
    id_expr = _int_of(f"{j}.id_str", f"{j}.id")
    created = f"epoch_ms(try_strptime({j}.created_at, '%a %b %d %H:%M:%S %z %Y'))"
    cols: dict[str, str] = {f.name: f"{j}.{f.name}" for f in TWEETS}
    cols.update({
        "id": "_id",
        "id_str": "CAST(_id AS VARCHAR)",
        "platform": "'x'",
        "raw_json": "raw",
        "timestamp_ms": "_ts",
        "text": (f"CASE WHEN {rt} IS NOT NULL THEN "
                 f"'RT @' || coalesce({rt}.user.screen_name, '') || ': ' || {_full_text(rt)} "
                 f"ELSE {_full_text(j)} END"),
        "truncated": (f"CASE WHEN {rt} IS NOT NULL OR {_full_text(j)} IS DISTINCT FROM {j}.text "
                      f"THEN false ELSE {j}.truncated END"),
        "entities": _pack(ent_type, {
            f.name: f"({ent}).{f.name}" for f in ent_type if f.name != "user_mentions"} | {
            "user_mentions": (f"list_transform(({ent}).user_mentions, lambda u: struct_update(u, "
                              f"id := {_int_of('u.id_str', 'u.id')}))")}),
        "extended_entities": _pack(ext_type, {
            f.name: f"({ext}).{f.name}" for f in ext_type} | {
            "media": _media(f"({ext}).media")}),
        "user": _pack(user_type, {f.name: f"{j}.user.{f.name}" for f in user_type} | {
            "id": _int_of(f"{j}.user.id_str", f"{j}.user.id")}),
        "retweeted_status": _embedded_sql(rt),
        "quoted_status": _embedded_sql(f"{j}.quoted_status"),
        PARTITION: (f"CASE WHEN _ts BETWEEN {MIN_MS} AND {MAX_MS} "
                    "THEN strftime(make_timestamp(_ts * 1000), '%Y-%m-%d') END"),
    })
    for key in ("in_reply_to_status_id", "in_reply_to_user_id", "quoted_status_id"):
        cols[key] = _int_of(f"{j}.{key}_str", f"{j}.{key}")
    body = ",\n  ".join(f'{expr} AS "{name}"' for name, expr in cols.items())
    accept = (f"_id > 0 AND _ts BETWEEN {MIN_MS} AND {MAX_MS} AND {j}.created_at IS NOT NULL "
              f"AND {j}.user.id IS NOT NULL AND "
              f"({j}.text IS NOT NULL OR {j}.full_text IS NOT NULL "
              f"OR {j}.extended_tweet IS NOT NULL)")
    return (
        f"WITH parsed AS (SELECT line, raw, {{transform}} AS j FROM chunk),\n"
        f"keyed AS (SELECT *, {id_expr} AS _id, coalesce({j}.timestamp_ms, {created}) AS _ts "
        f"FROM parsed)\n"
        f"SELECT line, ({accept}) IS TRUE AS _accept,\n  {body}\nFROM keyed"
    )


@dataclass
class BulkResult:
    """Accepted rows (the ``tweets`` columns plus ``dt``) and the lines left for the adapters."""

    table: pa.Table
    rest: list[int]  # positions in the block of the lines this converter did not take


class BulkConverter:
    """Converts blocks of v1.1 JSON lines in one DuckDB connection (reused across blocks)."""

    def __init__(self, threads: int | None = None) -> None:
        self.con = duckdb.connect(":memory:")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        self.con.execute("SET preserve_insertion_order = true")
        spec = _literal(orjson.dumps(_input_structure()).decode())
        template = _select_sql()
        self._fast = template.replace("{transform}", f"json_transform(raw, {spec})")
        self._guarded = template.replace(
            "{transform}", f"CASE WHEN json_valid(raw) THEN json_transform(raw, {spec}) END")

    def close(self) -> None:
        self.con.close()

    def convert(self, lines: pa.Array) -> BulkResult:
        """Convert ``lines`` (valid UTF-8 strings, one JSON document each), in order."""
        whole = pa.table({"line": pa.array(range(len(lines)), pa.int64()), "raw": lines})
        # Small record batches, so DuckDB spreads the block over all its threads.
        chunk = pa.Table.from_batches(whole.to_batches(max_chunksize=PARALLEL_ROWS))
        try:
            out = self._run(self._fast, chunk)
        except duckdb.InvalidInputException:
            try:  # a malformed line: parse-check each one
                out = self._run(self._guarded, chunk)
            except duckdb.Error as exc:
                log.warning("bulk conversion failed, reading the block per record: %s", exc)
                return BulkResult(TWEET_ROWS.empty_table(), list(range(len(lines))))
        accept = out.column("_accept")
        rest: list[int] = []
        if not pc.all(accept).as_py():
            rest = out.column("line").filter(pc.invert(accept)).to_pylist()
            out = out.filter(accept)
        return BulkResult(out.drop_columns(["line", "_accept"]).cast(TWEET_ROWS), rest)

    def _run(self, sql: str, chunk: pa.Table) -> pa.Table:
        self.con.register("chunk", chunk)
        try:
            return self.con.sql(sql).to_arrow_table()
        finally:
            self.con.unregister("chunk")

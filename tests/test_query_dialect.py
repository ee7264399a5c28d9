"""Athena SQL translated to DuckDB must give what Presto/Athena would give.

Every case is translated, run on a fresh DuckDB connection prepared like the engine's
(MACROS run, SESSION_SETTINGS["athena"] applied) and compared with Presto's answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import duckdb
import pytest

from socialsight.errors import ForbiddenQueryError, QueryError, SQLSyntaxError
from socialsight.query.dialect import (
    MACROS,
    SESSION_SETTINGS,
    check_read_only,
    locate,
    translate,
)

UTC = dt.UTC


def _connect(dialect: str = "athena") -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for key, value in SESSION_SETTINGS[dialect].items():
        literal = f"'{value}'" if isinstance(value, str) else str(value).lower()
        con.execute(f"SET {key} = {literal}")
    for macro in MACROS:
        con.execute(macro)
    return con


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = _connect()
    yield connection
    connection.close()


def _scalar(con: duckdb.DuckDBPyConnection, athena_sql: str) -> Any:
    row = con.execute(translate(athena_sql)).fetchone()
    assert row is not None
    return row[0]


URL = "https://www.amazon.com/dp/B01?tag=x&tag=y&q=a%20b#reviews"

# (athena_sql, what Presto / Athena returns)
SCALARS: list[tuple[str, Any]] = [
    # -- url_* (no DuckDB built-in: MACROS) --
    ("SELECT url_extract_host('https://www.amazon.com/dp/B01?tag=x')", "www.amazon.com"),
    ("SELECT url_extract_host('https://User@WWW.Amazon.COM:8080/x')", "WWW.Amazon.COM"),
    ("SELECT url_extract_host('not a url')", None),
    ("SELECT url_extract_host('amazon.com/dp/B01')", None),
    (f"SELECT url_extract_path('{URL}')", "/dp/B01"),
    ("SELECT url_extract_path('https://a.com')", ""),
    (f"SELECT url_extract_parameter('{URL}', 'tag')", "x"),
    (f"SELECT url_extract_parameter('{URL}', 'q')", "a b"),
    (f"SELECT url_extract_parameter('{URL}', 'missing')", None),
    ("SELECT url_extract_parameter('https://a.com/?flag', 'flag')", ""),
    (f"SELECT url_extract_protocol('{URL}')", "https"),
    ("SELECT url_extract_port('http://a.com:8080/x')", 8080),
    (f"SELECT url_extract_port('{URL}')", None),
    (f"SELECT url_extract_query('{URL}')", "tag=x&tag=y&q=a b"),
    ("SELECT url_extract_query('https://a.com/x')", None),
    (f"SELECT url_extract_fragment('{URL}')", "reviews"),
    ("SELECT url_extract_fragment('https://a.com/x')", None),
    # -- arrays, maps, lambdas --
    ("SELECT element_at(ARRAY[10, 20, 30], 2)", 20),
    ("SELECT element_at(ARRAY[10, 20, 30], 4)", None),
    ("SELECT element_at(ARRAY[10, 20, 30], -1)", 30),
    ("SELECT element_at(MAP(ARRAY['k'], ARRAY[1]), 'k')", 1),
    ("SELECT element_at(MAP(ARRAY['k'], ARRAY[1]), 'z')", None),
    ("SELECT transform(ARRAY[1, 2], x -> x * 2)", [2, 4]),
    ("SELECT reduce(ARRAY[1, 2, 3], 0, (s, x) -> s + x, s -> s)", 6),
    ("SELECT reduce(ARRAY[1, 2, 3], 0, (s, x) -> s + x, (s) -> s * 10)", 60),
    (
        "SELECT reduce(ARRAY[5, 20], CAST(ROW(0.0, 0) AS ROW(sum DOUBLE, count INTEGER)), "
        "(s, x) -> CAST(ROW(x + s.sum, s.count + 1) AS ROW(sum DOUBLE, count INTEGER)), "
        "s -> IF(s.count = 0, NULL, s.sum / s.count))",
        12.5,
    ),
    ("SELECT reduce(ARRAY[], 7, (s, x) -> s + x, s -> s)", 7),
    ("SELECT cardinality(ARRAY[1, 2, 3])", 3),
    ("SELECT cardinality(MAP(ARRAY['a', 'b'], ARRAY[1, 2]))", 2),
    ("SELECT array_join(ARRAY['a', NULL, 'b'], ',')", "a,b"),
    ("SELECT array_join(ARRAY['a', NULL, 'b'], ',', 'N')", "a,N,b"),
    ("SELECT split('a,b,,c', ',')", ["a", "b", "", "c"]),
    ("SELECT split('a,b,c,d', ',', 2)", ["a", "b,c,d"]),
    ("SELECT contains(ARRAY[1, 2], 2)", True),
    ("SELECT array_distinct(ARRAY[3, 1, 3, NULL, 2, NULL])", [3, 1, None, 2]),
    ("SELECT array_max(ARRAY[1, 5, 3])", 5),
    ("SELECT array_max(ARRAY[1, NULL, 3])", None),
    ("SELECT array_min(ARRAY[4, 2, 9])", 2),
    ("SELECT filter(ARRAY[1, 2, 3], x -> x > 1)", [2, 3]),
    ("SELECT any_match(ARRAY[1, 2], x -> x > 1)", True),
    ("SELECT any_match(ARRAY[1, NULL], x -> x > 1)", None),
    ("SELECT any_match(ARRAY[1, 2], x -> x > 5)", False),
    ("SELECT all_match(ARRAY[1, 2], x -> x > 1)", False),
    ("SELECT all_match(ARRAY[2, NULL], x -> x > 1)", None),
    ("SELECT all_match(ARRAY[], x -> x > 1)", True),
    ("SELECT none_match(ARRAY[1, 2], x -> x > 5)", True),
    ("SELECT slice(ARRAY[1, 2, 3, 4], 2, 2)", [2, 3]),
    ("SELECT slice(ARRAY[1, 2, 3, 4], -2, 2)", [3, 4]),
    ("SELECT slice(ARRAY[1, 2, 3, 4], 3, 10)", [3, 4]),
    ("SELECT slice(ARRAY[1, 2, 3, 4], -5, 2)", []),
    ("SELECT concat(ARRAY[1], ARRAY[2, 3])", [1, 2, 3]),
    # -- strings --
    ("SELECT position('/dp/' IN 'https://a/dp/1')", 10),
    ("SELECT strpos('abc', 'c')", 3),
    ("SELECT substr('abcdef', 2, 3)", "bcd"),
    ("SELECT substr('abcdef', -2)", "ef"),
    ("SELECT length('abcd')", 4),
    ("SELECT lower('ABC')", "abc"),
    ("SELECT concat('a', 'b', 'c')", "abc"),
    ("SELECT concat('a', NULL)", None),
    ("SELECT IF(1 > 2, 'yes', 'no')", "no"),
    ("SELECT IF(1 > 2, 'yes')", None),
    ("SELECT coalesce(NULL, 2)", 2),
    ("SELECT regexp_like('abc', 'b')", True),
    ("SELECT regexp_like('abc', '^b')", False),
    ("SELECT regexp_extract('abc123def', '[0-9]+')", "123"),
    ("SELECT regexp_extract('abc', '[0-9]+')", None),
    ("SELECT regexp_extract('a1b2', '([a-z])([0-9])', 2)", "1"),
    ("SELECT regexp_replace('abcb', 'b')", "ac"),
    ("SELECT regexp_replace('abc', '(b)', '$1$1')", "abbc"),
    ("SELECT json_extract_scalar('{\"a\": {\"b\": \"x\"}}', '$.a.b')", "x"),
    ("SELECT json_extract_scalar('{\"a\": [1, 2]}', '$.a[1]')", "2"),
    ("SELECT json_extract_scalar('{\"a\": {\"b\": 1}}', '$.a')", None),
    ("SELECT json_extract_scalar('{\"a\": true}', '$.a')", "true"),
    ("SELECT CAST(json_extract('{\"a\": {\"b\": 1}}', '$.a') AS VARCHAR)", '{"b":1}'),
    # -- numbers and errors --
    ("SELECT 7 / 2", 3),
    ("SELECT -7 / 2", -3),
    ("SELECT 7.0 / 2", 3.5),
    ("SELECT try(1 / 0)", None),
    ("SELECT try_cast('x' AS INTEGER)", None),
    ("SELECT try_cast('12' AS BIGINT)", 12),
    # -- dates and times --
    (
        "SELECT from_unixtime(1562974837999 / 1000)",
        dt.datetime(2019, 7, 12, 23, 40, 37, tzinfo=UTC),
    ),
    ("SELECT to_unixtime(from_unixtime(1562974837))", 1562974837.0),
    ("SELECT to_unixtime(TIMESTAMP '2019-07-12 10:00:00.5')", 1562925600.5),
    (
        "SELECT date_trunc('hour', TIMESTAMP '2019-07-12 10:11:12')",
        dt.datetime(2019, 7, 12, 10, 0),
    ),
    ("SELECT date_trunc('month', DATE '2019-07-12')", dt.date(2019, 7, 1)),
    (
        "SELECT date_parse('2019-07-12 10:05:01', '%Y-%m-%d %H:%i:%s')",
        dt.datetime(2019, 7, 12, 10, 5, 1),
    ),
    ("SELECT date_format(TIMESTAMP '2019-07-12 10:05:01', '%Y-%m-%d %H:%i')", "2019-07-12 10:05"),
    (
        "SELECT from_iso8601_timestamp('2019-07-12T10:00:00Z')",
        dt.datetime(2019, 7, 12, 10, 0, tzinfo=UTC),
    ),
    ("SELECT from_iso8601_date('2019-07-12')", dt.date(2019, 7, 12)),
    ("SELECT date_add('day', 1, DATE '2019-01-31')", dt.date(2019, 2, 1)),
    ("SELECT date_add('month', 1, DATE '2019-01-31')", dt.date(2019, 2, 28)),
    (
        "SELECT date_add('hour', 2, TIMESTAMP '2019-01-31 23:00:00')",
        dt.datetime(2019, 2, 1, 1, 0),
    ),
    (
        "SELECT date_diff('day', TIMESTAMP '2019-01-01 23:00', TIMESTAMP '2019-01-02 01:00')",
        0,
    ),
    ("SELECT date_diff('day', DATE '2019-01-01', DATE '2019-01-31')", 30),
    ("SELECT current_date = CAST(now() AS DATE)", True),
    ("SELECT day_of_week(DATE '2019-07-14')", 7),
    ("SELECT hour(TIMESTAMP '2019-07-12 10:11:12')", 10),
    ("SELECT year(DATE '2019-07-12')", 2019),
    ("SELECT month(DATE '2019-07-12')", 7),
    ("SELECT day(DATE '2019-07-12')", 12),
    # -- aggregates over a small relation --
    ("SELECT count(*) FROM UNNEST(ARRAY[1, 2, 3]) t (x)", 3),
    ("SELECT approx_distinct(x) FROM UNNEST(ARRAY[1, 2, 2, 3]) t (x)", 3),
    ("SELECT approx_percentile(x, 0.5) FROM UNNEST(ARRAY[1, 2, 3, 4, 5]) t (x)", 3),
]


@pytest.mark.parametrize(("athena_sql", "expected"), SCALARS, ids=[s for s, _ in SCALARS])
def test_scalar_matches_presto(
    con: duckdb.DuckDBPyConnection, athena_sql: str, expected: Any
) -> None:
    got = _scalar(con, athena_sql)
    assert got == expected
    assert type(got) is type(expected) or expected is None


def test_zipped_unnest_pads_with_null(con: duckdb.DuckDBPyConnection) -> None:
    sql = (
        "SELECT x, y, n FROM UNNEST(ARRAY[1, 2], ARRAY['a', 'b', 'c']) "
        "WITH ORDINALITY t (x, y, n) ORDER BY n"
    )
    assert con.execute(translate(sql)).fetchall() == [(1, "a", 1), (2, "b", 2), (None, "c", 3)]


def test_presto_setting_makes_integer_division_whole() -> None:
    assert SESSION_SETTINGS["athena"]["integer_division"] is True
    assert SESSION_SETTINGS["athena"]["TimeZone"] == "UTC"
    assert SESSION_SETTINGS["duckdb"] == {"TimeZone": "UTC"}


def test_duckdb_dialect_passes_through() -> None:
    assert translate("SELECT 7 / 2;", "duckdb") == "SELECT 7 / 2"
    with _connect("duckdb") as duck:
        assert duck.execute(translate("SELECT 7 / 2", "duckdb")).fetchone() == (3.5,)


def test_unknown_dialect_is_refused() -> None:
    with pytest.raises(QueryError, match="dialect"):
        translate("SELECT 1", "mysql")


# --------------------------------------------------------------------------------------
# The seed's shapes over a small lake
# --------------------------------------------------------------------------------------

TWEETS = """
CREATE TABLE socialanalyticsblog.tweets AS
SELECT * FROM (VALUES
  (1, 1562974837999, 'RT look',
   {'urls': [{'expanded_url': 'https://WWW.Amazon.com/dp/B01?tag=x'},
             {'expanded_url': 'https://blog.example.org/post'}]}::
     STRUCT(urls STRUCT(expanded_url VARCHAR)[]),
   {'id': 7, 'name': 'Ann', 'screen_name': 'ann'}::
     STRUCT(id BIGINT, name VARCHAR, screen_name VARCHAR)),
  (2, 1562974900000, 'hello',
   {'urls': [{'expanded_url': 'https://www.amazon.com/gp/x'}]}::
     STRUCT(urls STRUCT(expanded_url VARCHAR)[]),
   {'id': 8, 'name': 'Bob', 'screen_name': 'bob'}::
     STRUCT(id BIGINT, name VARCHAR, screen_name VARCHAR))
) v(id, timestamp_ms, text, entities, "user")
"""

MEDIA = """
CREATE TABLE socialanalyticsblog.media_rekognition AS
SELECT 1 AS tweetid, 11 AS mediaid, 'https://img/1.jpg' AS media_url, 'RT look' AS text,
  {'labels': [{'name': 'Face'}, {'name': 'Person'}],
   'facedetails': [{'emotions': [{'type': 'CALM', 'confidence': 40.0},
                                 {'type': 'HAPPY', 'confidence': 90.0},
                                 {'type': 'SAD', 'confidence': 10.0}]}]}::
  STRUCT(labels STRUCT(name VARCHAR)[],
         facedetails STRUCT(emotions STRUCT(type VARCHAR, confidence DOUBLE)[])[])
  AS image_labels
"""


@pytest.fixture
def lake(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    con.execute("CREATE SCHEMA socialanalyticsblog")
    con.execute(TWEETS)
    con.execute(MEDIA)
    con.execute("SET schema = 'socialanalyticsblog'")
    return con


def test_top_domains_query(lake: duckdb.DuckDBPyConnection) -> None:
    sql = """
    SELECT lower(url_extract_host(url.expanded_url)) AS domain, count(*) AS count
    FROM (SELECT * FROM tweets CROSS JOIN UNNEST (entities.urls) t (url))
    GROUP BY lower(url_extract_host(url.expanded_url))
    ORDER BY COUNT(*) DESC LIMIT 10
    """
    rows = lake.execute(translate(sql)).fetchall()
    assert rows == [("www.amazon.com", 2), ("blog.example.org", 1)]


def test_database_prefix_quoted_and_not(lake: duckdb.DuckDBPyConnection) -> None:
    quoted = 'SELECT count(*) FROM "socialanalyticsblog"."tweets"'
    plain = "SELECT count(*) FROM socialanalyticsblog.tweets"
    assert '"socialanalyticsblog"."tweets"' in translate(quoted)
    assert "socialanalyticsblog.tweets" in translate(plain)
    assert lake.execute(translate(quoted)).fetchone() == (2,)
    assert lake.execute(translate(plain)).fetchone() == (2,)


def test_upper_case_column_and_user_struct(lake: duckdb.DuckDBPyConnection) -> None:
    sql = 'SELECT ID, "user".name, user.screen_name FROM tweets ORDER BY ID'
    rows = lake.execute(translate(sql)).fetchall()
    assert rows == [(1, "Ann", "ann"), (2, "Bob", "bob")]


def test_celeb_view_time_and_retweet_shape(lake: duckdb.DuckDBPyConnection) -> None:
    sql = """
    SELECT "from_unixtime"(("timestamp_ms" / 1000)) "ts",
      (CASE WHEN ("substr"("tweets"."text", 1, 2) = 'RT') THEN true ELSE false END) "isretweet"
    FROM tweets ORDER BY id
    """
    rows = lake.execute(translate(sql)).fetchall()
    assert rows == [
        (dt.datetime(2019, 7, 12, 23, 40, 37, tzinfo=UTC), True),
        (dt.datetime(2019, 7, 12, 23, 41, 40, tzinfo=UTC), False),
    ]


def test_face_view_two_unnests_same_alias_and_reduce(lake: duckdb.DuckDBPyConnection) -> None:
    sql = """
    SELECT "tweetid", "label"."name" "label_name",
      "reduce"("facedetails"."emotions", "element_at"("facedetails"."emotions", 1),
        ("s_emotion", "emotion") -> IF(("emotion"."confidence" > "s_emotion"."confidence"),
        "emotion", "s_emotion"), ("s") -> "s") "top_emotion"
    FROM (
      SELECT * FROM media_rekognition
      , UNNEST("image_labels"."labels") t (label)
      , UNNEST("image_labels"."facedetails") t (facedetails)
    )
    WHERE ("label"."name" = 'Face')
    """
    rows = lake.execute(translate(sql)).fetchall()
    assert rows == [(1, "Face", {"type": "HAPPY", "confidence": 90.0})]


def test_qualified_columns_of_duplicate_unnest_aliases(lake: duckdb.DuckDBPyConnection) -> None:
    sql = """
    SELECT t.label.name, t.facedetails.emotions[1].type
    FROM media_rekognition, UNNEST(image_labels.labels) t (label),
         UNNEST(image_labels.facedetails) t (facedetails)
    ORDER BY 1
    """
    assert lake.execute(translate(sql)).fetchall() == [("Face", "CALM"), ("Person", "CALM")]


# --------------------------------------------------------------------------------------
# Read-only gate
# --------------------------------------------------------------------------------------

FORBIDDEN: list[tuple[str, str]] = [
    ("INSERT INTO tweets VALUES (1)", "INSERT"),
    ("UPDATE tweets SET id = 1", "UPDATE"),
    ("DELETE FROM tweets", "DELETE"),
    ("CREATE TABLE x AS SELECT 1", "CREATE"),
    ("CREATE OR REPLACE VIEW v AS SELECT 1", "CREATE"),
    ("DROP TABLE tweets", "DROP"),
    ("ALTER TABLE tweets ADD COLUMN b INT", "ALTER"),
    ("COPY tweets TO 'out.csv'", "COPY"),
    ("ATTACH 'other.db' AS other", "ATTACH"),
    ("DETACH other", "DETACH"),
    ("INSTALL httpfs", "INSTALL"),
    ("LOAD httpfs", "LOAD"),
    ("SET threads = 1", "SET"),
    ("PRAGMA version", "PRAGMA"),
    ("CALL pragma_version()", "CALL"),
    ("EXPORT DATABASE 'out'", "EXPORT"),
    ("IMPORT DATABASE 'out'", "IMPORT"),
    ("TRUNCATE TABLE tweets", "TRUNCATE"),
    ("WITH x AS (SELECT 1 AS a) INSERT INTO tweets SELECT a FROM x", "INSERT"),
    ("SELECT * INTO copy_of FROM tweets", "INTO"),
    ("EXPLAIN ANALYZE DELETE FROM tweets", "DELETE"),
    ("SELECT 1; DROP TABLE tweets", "2 statements"),
    ("SELECT 1; SELECT 2", "2 statements"),
    ("-- only a comment", "no statement"),
]


@pytest.mark.parametrize(("sql", "kind"), FORBIDDEN, ids=[s for s, _ in FORBIDDEN])
@pytest.mark.parametrize("dialect", ["athena", "duckdb"])
def test_forbidden_statements_are_refused(sql: str, kind: str, dialect: str) -> None:
    with pytest.raises(ForbiddenQueryError) as caught:
        check_read_only(sql, dialect)
    message = str(caught.value)
    assert kind in message
    assert "\n" not in message
    with pytest.raises(ForbiddenQueryError):
        translate(sql, dialect)


ALLOWED = [
    "SELECT 1",
    "SELECT 1;",
    "  select 1 ; -- trailing comment\n",
    "/* leading */ SELECT 1 -- and trailing",
    "WITH x AS (SELECT 1 AS a) SELECT a FROM x",
    "SELECT 1 UNION ALL SELECT 2",
    "VALUES (1), (2)",
    "(SELECT 1)",
    "DESCRIBE tweets",
    "SHOW TABLES",
    "SHOW COLUMNS IN tweets",
    "EXPLAIN SELECT 1",
    "EXPLAIN ANALYZE SELECT 1",
    "SELECT 'DROP TABLE x; DELETE' AS s",
]


@pytest.mark.parametrize("sql", ALLOWED)
def test_read_only_statements_pass(sql: str) -> None:
    check_read_only(sql, "athena")
    translated = translate(sql)
    assert not translated.rstrip().endswith(";")
    assert "--" not in translated


def test_allowed_statements_run(lake: duckdb.DuckDBPyConnection) -> None:
    for sql in ["SELECT 1;", "DESCRIBE tweets", "SHOW COLUMNS IN tweets",
                "SHOW TABLES IN socialanalyticsblog", "EXPLAIN SELECT id FROM tweets",
                "  select 1 ; -- trailing comment\n"]:
        assert lake.execute(translate(sql)).fetchall(), sql


# --------------------------------------------------------------------------------------
# Syntax errors and positions
# --------------------------------------------------------------------------------------

SYNTAX_ERRORS: list[tuple[str, int, int]] = [
    ("SELECT id,\n  text\nFROM tweets\nWHERE id = = 1", 4, 12),
    ("SELECT id\nFROM tweets\n  GROUP id", 3, 9),
    ("SELECT id,\n  'unterminated\nFROM tweets", 2, 3),
    ("SELECT count(id\n  FROM tweets", 2, 3),
    ("EXPLAIN SELECT a,\n b FROM t WHERE x = = 1", 2, 21),
    ("SELECT 1,\n  reduce(ARRAY[1])", 2, 3),
]


@pytest.mark.parametrize(("sql", "line", "col"), SYNTAX_ERRORS)
def test_syntax_error_points_at_original_text(sql: str, line: int, col: int) -> None:
    with pytest.raises(SQLSyntaxError) as caught:
        translate(sql)
    error = caught.value
    assert (error.line, error.col) == (line, col)
    assert "\n" not in str(error)
    assert "\x1b" not in str(error)


LOCATIONS: list[tuple[str, str, tuple[int, int] | None]] = [
    ("SELECT id,\n  foo\nFROM tweets", "foo", (2, 3)),
    ('SELECT id,\n    "Foo" FROM t', "foo", (2, 5)),
    ("SELECT 'foo', foo FROM t", "foo", (1, 15)),
    ("SELECT t.bar FROM t", '"t"."bar"', (1, 10)),
    ("SELECT x FROM t", "nope", None),
]


@pytest.mark.parametrize(("sql", "token", "where"), LOCATIONS)
def test_locate_finds_identifier(sql: str, token: str, where: tuple[int, int] | None) -> None:
    assert locate(sql, token) == where



HOSTS: list[tuple[str, str | None]] = [
    ("https://www.amazon.com/dp/B01?tag=x", "www.amazon.com"),
    ("https://User@WWW.Amazon.COM:8080/x", "WWW.Amazon.COM"),
    ("https://u:p@h.example:1/", "h.example"),
    ("https://h.example:/x", "h.example"),
    ("http://[2001:db8::1]:80/p", "[2001:db8::1]"),
    ("//cdn.example/x.jpg", "cdn.example"),
    ("https://a.example", "a.example"),
    ("https://a.example?q", "a.example"),
    ("https://a.example#top", "a.example"),
    ("ftp://files.example/x", "files.example"),
    ("HTTPS://UPPER.EXAMPLE/P", "UPPER.EXAMPLE"),
    ("https://a b.example/", None),
    ("https://x/\tp", None),
    ("amazon.com/dp/B01", None),
    ("mailto:someone@example.com", None),
    ("https://", None),
    ("", None),
]


@pytest.mark.parametrize(("url", "host"), HOSTS, ids=[u for u, _ in HOSTS])
def test_url_extract_host_as_presto_gives_it(con: duckdb.DuckDBPyConnection,
                                            url: str, host: str | None) -> None:
    sql = "SELECT url_extract_host(?)"
    assert con.execute(translate(sql), [url.replace("\\t", "\t")]).fetchone()[0] == host

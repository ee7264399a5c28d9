"""`socialsight query`: output formats, dialects, clear errors and the sandbox."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from socialsight.errors import QueryError
from socialsight.lake.store import Lake
from socialsight.query.engine import Engine
from tests.conftest import status, write_jsonl


@pytest.fixture
def small_lake(cli, tmp_path: Path) -> str:
    posts = [status(i, f"post {i} #tag", urls=[f"https://shop{i % 2}.example/dp/B{i:09d}"],
                    hashtags=["tag"]) for i in range(1, 6)]
    path = write_jsonl(tmp_path / "posts.jsonl", posts)
    assert cli("import", str(path), "--lake", "lake").exit_code == 0
    return "lake"


def test_formats_csv_json_parquet(cli, small_lake, tmp_path):
    sql = ("SELECT id, entities.urls AS urls FROM tweets ORDER BY id")
    out = cli("query", sql, "--lake", small_lake, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert [r["id"] for r in rows] == ["1", "2", "3", "4", "5"]
    assert json.loads(rows[0]["urls"])[0]["expanded_url"] == "https://shop1.example/dp/B000000001"
    cli("query", sql, "--lake", small_lake, "--format", "json", "-o", "out.json")
    assert [r["id"] for r in json.loads((tmp_path / "out.json").read_text())] == [1, 2, 3, 4, 5]
    cli("query", sql, "--lake", small_lake, "--format", "parquet", "-o", "out.parquet")
    assert pq.read_table(tmp_path / "out.parquet").num_rows == 5


def test_sql_from_a_file_and_the_duckdb_dialect(cli, small_lake, tmp_path):
    (tmp_path / "q.sql").write_text("SELECT url_extract_host(u.expanded_url) AS host, count(*) n\n"
                                    "FROM tweets CROSS JOIN UNNEST(entities.urls) t (u)\n"
                                    "GROUP BY 1 ORDER BY 2 DESC\n")
    out = cli("query", "-f", "q.sql", "--lake", small_lake, "--format", "json")
    assert json.loads(out.stdout) == [{"host": "shop1.example", "n": 3},
                                      {"host": "shop0.example", "n": 2}]
    out = cli("query", "SELECT list_count(entities.hashtags) AS n FROM tweets LIMIT 1",
              "--dialect", "duckdb", "--lake", small_lake, "--format", "json")
    assert json.loads(out.stdout) == [{"n": 1}]


def test_bad_sql_is_one_line_with_its_position(cli, small_lake):
    out = cli("query", "SELECT id\nFROM tweets WHERE (id = 1", "--lake", small_lake)
    assert out.exit_code == 1
    assert "line 2" in out.stderr and "Traceback" not in out.output
    assert len(out.stderr.strip().splitlines()) == 1
    out = cli("query", "SELECT nosuchcolumn FROM tweets", "--lake", small_lake)
    assert out.exit_code == 1 and "nosuchcolumn" in out.stderr
    assert "line 1, column 8" in out.stderr


@pytest.mark.parametrize("sql, why", [
    ("DELETE FROM tweets", "DELETE is not allowed"),
    ("CREATE TABLE x AS SELECT 1", "CREATE is not allowed"),
    ("COPY (SELECT 1) TO 'lake/x.csv'", "COPY is not allowed"),
    ("SELECT 1; DROP VIEW tweets", "2 statements (SELECT, DROP)"),
    ("ATTACH 'other.db'", "ATTACH is not allowed"),
    ("SET enable_external_access = true", "SET is not allowed"),
])
def test_only_reads_are_accepted(cli, small_lake, sql, why):
    out = cli("query", sql, "--lake", small_lake, "--dialect", "duckdb")
    assert out.exit_code == 1
    assert out.stderr.startswith(f"error: {why}: only one read-only statement (SELECT, ")
    assert len(out.stderr.strip().splitlines()) == 1


def test_files_outside_the_lake_cannot_be_read(small_lake, tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("password\nhunter2\n")
    engine = Engine(Lake(str(tmp_path / small_lake)))
    for sql in (f"SELECT * FROM read_csv('{secret}')",
                f"SELECT * FROM read_text('{tmp_path / small_lake}/../secret.csv')",
                "SELECT * FROM read_text('/etc/passwd')"):
        with pytest.raises(QueryError, match=r"(?i)permission|disabled"):
            engine.execute(sql, "duckdb")
    # ...while the lake's own files stay readable.
    assert engine.execute("SELECT count(*) AS n FROM tweets").table.to_pylist() == [{"n": 5}]


def test_a_slow_query_is_stopped_by_the_time_limit(small_lake, tmp_path):
    engine = Engine(Lake(str(tmp_path / small_lake)), timeout_seconds=0.5)
    with pytest.raises(QueryError, match="time limit"):
        engine.execute("SELECT count(*) FROM range(100000000000) a", "duckdb")


def test_examples_lists_the_seed_queries(cli):
    out = cli("examples")
    for name in ("top_domains", "product_links", "top_labels", "top_emotions",
                 "suspect_content", "top_celebrities", "john_doe"):
        assert name in out.stdout


def test_presto_semantics_hold_in_every_query_of_an_engine(small_lake, tmp_path):
    # Each query runs on its own cursor: the dialect's settings must reach all of them.
    engine = Engine(Lake(str(tmp_path / small_lake)))
    for _ in range(2):
        row = engine.execute("SELECT 7 / 2 AS q, from_unixtime(0) AS t").table.to_pylist()[0]
        assert row["q"] == 3
        assert row["t"].isoformat() == "1970-01-01T00:00:00+00:00"
    assert engine.execute("SELECT 7 / 2 AS q", "duckdb").table.to_pylist() == [{"q": 3.5}]


def test_a_column_the_files_predate_reads_as_null(tmp_path):
    # A lake written before media_rekognition gained face_embeddings (an older release).
    import pyarrow as pa

    from socialsight.lake.schema import MEDIA_REKOGNITION

    old = MEDIA_REKOGNITION.remove(MEDIA_REKOGNITION.get_field_index("face_embeddings"))
    rows = pa.Table.from_pylist([{"tweetid": 1, "mediaid": "10", "media_url": "u"}],
                                schema=old).append_column("dt", pa.array(["2024-07-01"]))
    lake = Lake(str(tmp_path / "lake"))
    lake.commit({"media_rekognition": rows})
    engine = Engine(lake)
    table = engine.execute("SELECT tweetid, face_embeddings FROM media_rekognition").table
    assert table.to_pylist() == [{"tweetid": 1, "face_embeddings": None}]

"""SQL console: the seed's queries, read-only Athena SQL in a sandbox, results and CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from socialsight.lake.store import Lake
from socialsight.query.engine import seed_queries
from socialsight.web.app import create_app
from tests.web.conftest import dashboard_settings

TOP_LABELS = seed_queries()["top_labels"]
# Far more rows than any time limit lets through: it can only end by being stopped.
ENDLESS = ("SELECT count(*) FROM UNNEST(sequence(1, 1000000)) a (x) "
           "CROSS JOIN UNNEST(sequence(1, 1000000)) b (y) WHERE x + y = 0")


def run(client: Any, sql: str, **extra: Any) -> Any:
    return client.post("/api/sql", json={"sql": sql, **extra})


@pytest.fixture(scope="module")
def limited(demo_lake: Lake) -> Iterator[TestClient]:
    """An app whose console shows 5 rows and stops queries after a second."""
    settings = dashboard_settings(demo_lake, sql_timeout_seconds=1.0, sql_max_rows=5)
    with TestClient(create_app(demo_lake, settings), base_url="http://localhost") as client:
        yield client


def test_the_page_offers_the_seed_queries_with_their_titles(client: Any) -> None:
    data = client.get("/api/sql").json()
    seeds = {seed["name"]: seed for seed in data["seeds"]}
    assert set(seeds) == set(seed_queries())
    title = "Labels and faces: the most frequent labels in the images."
    assert seeds["top_labels"]["title"] == title
    assert data["dialect"] == "athena" and data["max_rows"] == 1000
    page = client.get("/sql", params={"sql": "SELECT 42"})
    assert page.status_code == 200 and ">SELECT 42</textarea>" in page.text
    assert "the most frequent labels in the images" in page.text
    assert 'class="filters"' not in page.text


def test_a_seed_query_runs_as_athena_sql(client: Any) -> None:
    answer = run(client, TOP_LABELS)
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert [c["name"] for c in data["columns"]] == ["label_name", "count"]
    counts = dict(data["rows"])
    assert counts["Person"] >= 1 and counts["Cat"] >= 1
    assert data["row_count"] == len(data["rows"]) and data["truncated"] is False
    assert data["elapsed_ms"] >= 0 and "media_image_labels_query" in data["duckdb_sql"]


def test_cells_are_json_that_javascript_reads_right(client: Any) -> None:
    data = run(client, "SELECT id, entities, from_unixtime(timestamp_ms / 1000) AS at, "
                       "9007199254740993 AS big, 12 AS small FROM tweets "
                       "WHERE id = 9000000000000011").json()
    entities, at, big, small = data["rows"][0][1:]
    assert entities["urls"][0]["expanded_url"] == "https://www.amazon.com/dp/B0EXAMPLE"
    assert at.startswith("2024-07-02T12:10:00")
    assert big == "9007199254740993" and small == 12


def test_only_reads_are_allowed(client: Any) -> None:
    for sql in ("DROP TABLE tweets", "INSERT INTO tweets (id) VALUES (1)",
                "COPY tweets TO '/tmp/stolen.csv'", "SELECT 1; DROP TABLE tweets"):
        answer = run(client, sql)
        assert answer.status_code == 400, sql
        assert "only one read-only statement" in answer.json()["error"], sql
    assert run(client, "SELECT count(*) FROM tweets").json()["rows"] == [[26]]


def test_files_outside_the_lake_cannot_be_read(client: Any, tmp_path: Path) -> None:
    outside = tmp_path / "outside.parquet"
    pq.write_table(pa.table({"secret": ["hunter2"]}), outside)
    for sql, dialect in ((f"SELECT * FROM read_parquet('{outside}')", "duckdb"),
                         ("SELECT * FROM read_csv('/etc/passwd')", "duckdb"),
                         ("SELECT * FROM read_csv('/etc/passwd')", "athena")):
        answer = run(client, sql, dialect=dialect)
        assert answer.status_code == 400 and "hunter2" not in answer.text
        assert "root:" not in answer.text
    csv_answer = client.get("/api/sql.csv", params={
        "sql": "SELECT * FROM read_csv('/etc/passwd')", "dialect": "duckdb"})
    assert csv_answer.status_code == 400 and "root:" not in csv_answer.text


def test_a_query_over_the_time_limit_is_stopped(limited: TestClient) -> None:
    answer = run(limited, ENDLESS)
    assert answer.status_code == 400 and "time limit" in answer.json()["error"]


def test_the_page_shows_some_rows_and_the_csv_has_them_all(limited: TestClient) -> None:
    sql = "SELECT n FROM UNNEST(sequence(1, 12)) t (n) ORDER BY n"
    data = run(limited, sql).json()
    assert data["rows"] == [[1], [2], [3], [4], [5]]
    # Only the rows shown (and one more) are read: the total is not counted.
    assert data["truncated"] is True and data["row_count"] is None and data["shown"] == 5
    exact = run(limited, "SELECT n FROM UNNEST(sequence(1, 5)) t (n)").json()
    assert exact["truncated"] is False and exact["row_count"] == 5
    answer = limited.get("/api/sql.csv", params={"sql": sql})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0] == ["n"] and len(rows) == 13


def test_the_csv_has_nested_values_as_json(client: Any) -> None:
    answer = client.post("/api/sql.csv", data={"sql": "SELECT id, entities FROM tweets "
                                               "WHERE id = 9000000000000011"})
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert '"expanded_url":"https://www.amazon.com/dp/B0EXAMPLE"' in rows[0]["entities"]


def test_the_csv_does_not_hand_spreadsheets_a_formula(client: Any) -> None:
    sql = ("SELECT '=HYPERLINK(\"http://evil.example\")' AS text, '-5' AS minus, "
           "'plain' AS plain, -5 AS number")
    rows = list(csv.DictReader(io.StringIO(client.get("/api/sql.csv", params={"sql": sql}).text)))
    assert rows[0]["text"].startswith("'=HYPERLINK")
    assert rows[0]["minus"] == "'-5" and rows[0]["plain"] == "plain"
    assert rows[0]["number"] == "-5"  # numbers stay numbers


def test_the_csv_header_does_not_hand_spreadsheets_a_formula(client: Any) -> None:
    answer = client.get("/api/sql.csv", params={
        "sql": 'SELECT 1 AS "=cmd()", 2 AS "@sum", 3 AS fine', "dialect": "duckdb"})
    assert next(csv.reader(io.StringIO(answer.text))) == ["'=cmd()", "'@sum", "fine"]


def test_the_csv_is_streamed_and_has_bytes_and_intervals_as_text(client: Any) -> None:
    sql = "SELECT unhex('CAFE') AS b, INTERVAL 3 DAY AS i, [1, 2] AS l"
    with client.stream("GET", "/api/sql.csv", params={"sql": sql, "dialect": "duckdb"}) as r:
        assert r.status_code == 200 and "content-length" not in r.headers
        text = b"".join(r.iter_bytes()).decode()
    assert list(csv.DictReader(io.StringIO(text))) == [
        {"b": "cafe", "i": '{"months":0,"days":3,"nanoseconds":0}', "l": "[1,2]"}]


def test_a_huge_cell_is_cut_and_says_how_big_it_was(client: Any) -> None:
    sql = ("SELECT repeat('x', 300000) AS text, [repeat('y', 50000)] AS nested, "
           "unhex('CAFE') AS small, 'short' AS plain")
    data = run(client, sql, dialect="duckdb").json()
    text, nested, small, plain = data["rows"][0]
    assert text.startswith("x" * 10_000) and len(text.encode()) < 10_200
    assert "300,000 bytes in all" in text and "the CSV has it whole" in text
    assert isinstance(nested, str) and nested.startswith('["yyy')
    assert "50,004 bytes in all" in nested and len(nested.encode()) < 10_200
    assert (small, plain) == ("cafe", "short") and data["max_cell_bytes"] == 10_000
    whole = client.get("/api/sql.csv", params={"sql": sql, "dialect": "duckdb"}).text
    assert "x" * 300_000 in whole


@pytest.mark.parametrize("headers", [
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
    {"Origin": "http://evil.example"},
    {"Origin": "null"},
])
def test_another_site_cannot_make_the_browser_run_sql(client: Any,
                                                      headers: dict[str, str]) -> None:
    sql = "SELECT count(*) FROM tweets"
    for answer in (client.get("/api/sql.csv", params={"sql": sql}, headers=headers),
                   client.post("/api/sql.csv", data={"sql": sql}, headers=headers),
                   client.post("/api/sql", json={"sql": sql}, headers=headers)):
        assert answer.status_code == 403, answer.request.url
        assert "26" not in answer.text
        assert answer.json()["error"]


def test_the_refusal_says_why(client: Any) -> None:
    answer = client.get("/api/sql.csv", params={"sql": "SELECT 1"},
                        headers={"Sec-Fetch-Site": "cross-site"})
    assert answer.json() == {"error": "SQL runs only from this dashboard's own pages: a "
                             "request from another site was refused"}


@pytest.mark.parametrize("headers", [
    {},  # a script: curl, requests
    {"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"},  # the console's own
    {"Sec-Fetch-Site": "none"},  # the address typed in the browser
])
def test_the_console_and_scripts_still_run_sql(client: Any, headers: dict[str, str]) -> None:
    sql = "SELECT count(*) AS n FROM tweets"
    assert client.post("/api/sql", json={"sql": sql}, headers=headers).json()["rows"] == [[26]]
    answer = client.get("/api/sql.csv", params={"sql": sql}, headers=headers)
    assert answer.status_code == 200
    assert list(csv.reader(io.StringIO(answer.text))) == [["n"], ["26"]]
    assert client.get("/sql", params={"sql": sql}, headers={
        "Sec-Fetch-Site": "cross-site"}).status_code == 200  # a link to the page runs nothing


@pytest.mark.parametrize(("body", "message"), [
    ({"sql": "x" * 100_001}, "at most 100,000"),
    ({"sql": ""}, "no SQL"),
    ({"sql": 42}, "SQL as a string"),
    ({"sql": "SELECT 1", "dialect": "oracle"}, "unknown SQL dialect"),
    ({"sql": "SELEC 1"}, "not allowed"),
    ({"sql": "SELECT * FROM nowhere"}, "nowhere"),
])
def test_bad_requests_get_a_clear_message(client: Any, body: dict[str, Any],
                                          message: str) -> None:
    answer = client.post("/api/sql", json=body)
    assert answer.status_code == 400 and message in answer.json()["error"]


def test_a_body_that_is_not_json_is_refused(client: Any) -> None:
    answer = client.post("/api/sql", content=b"SELECT 1",
                         headers={"content-type": "application/json"})
    assert answer.status_code == 400 and "send JSON" in answer.json()["error"]


def test_the_console_runs_a_seed_query_and_downloads_it(demo_lake: Lake, page: Any) -> None:
    page.goto("/sql")
    page.select_option("#seed", "top_labels")
    assert "media_image_labels_query" in page.input_value("#sql")
    page.click("#run")
    page.wait_for_selector("#result-table tbody tr")
    assert "Person" in page.locator("#result-table tbody td").all_inner_texts()
    assert page.locator("#result-table th").all_inner_texts() == ["label_name", "count"]
    assert "rows" in page.inner_text("#summary")
    with page.expect_download() as download:
        page.click("#download")
    assert download.value.suggested_filename.endswith(".csv")
    assert "Person" in Path(download.value.path()).read_text()


def test_the_console_says_there_are_more_rows_without_counting_them(page: Any) -> None:
    page.goto("/sql")
    page.fill("#sql", "SELECT n FROM UNNEST(sequence(1, 1500)) t (n)")
    page.click("#run")
    page.wait_for_selector("#result-table tbody tr")
    assert page.locator("#result-table tbody tr").count() == 1000
    summary = page.inner_text("#summary")
    assert "first 1,000 rows" in summary and "more than 1,000" in summary
    with page.expect_download() as download:  # the form's POST: same origin, not refused
        page.click("#download")
    assert len(Path(download.value.path()).read_text().split()) == 1501


def test_the_console_shows_a_clear_error_for_bad_sql(page: Any) -> None:
    page.goto("/sql")
    page.fill("#sql", "SELECT * FROM no_such_table")
    page.press("#sql", "Control+Enter")
    error = page.locator("#sql-error")
    error.wait_for(state="visible")
    assert "no_such_table" in error.inner_text()
    assert page.locator("#results").is_hidden()

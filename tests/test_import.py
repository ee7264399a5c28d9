"""`socialsight import`: real-format posts into a real lake, bad input kept as error rows."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow.parquet as pq

from socialsight.lake.store import Lake
from tests.conftest import status, write_jsonl


def _tweets(lake_dir: Path) -> list[dict]:
    lake = Lake(str(lake_dir))
    return lake.read("tweets").to_pylist()


def test_real_v1_tweets_land_whole_and_partitioned(cli, tmp_path, shared_v1):
    files = sorted(str(p) for p in shared_v1.glob("*.jsonl"))
    result = cli("import", *files, "--lake", "lake")
    assert result.exit_code == 0, result.output
    assert "posts written" in result.output and "39" in result.output
    rows = _tweets(tmp_path / "lake")
    assert len(rows) == 39
    by_id = {r["id"]: r for r in rows}
    # A retweet carries the original's full text behind the RT prefix.
    rt = by_id[1149825924029980674]
    assert rt["text"].startswith("RT @KassidyCook1: Me, during the season 3 Stranger Things finale")
    assert rt["retweeted_status"]["user"]["screen_name"] == "KassidyCook1"
    # Media ids are strings, as the seed's DDL declares them; photos are kept.
    media = by_id[1149788838430224391]["extended_entities"]["media"]
    assert media[0]["type"] == "photo" and isinstance(media[0]["id"], str)
    assert media[0]["media_url_https"].startswith("https://pbs.twimg.com/")
    # raw_json is the line as received: nothing is lost.
    raw = json.loads(rt["raw_json"])
    assert raw["metadata"]["result_type"] == "recent"
    # Partitions are the UTC dates of the posts.
    parts = sorted(p.name for p in (tmp_path / "lake" / "tweets").iterdir())
    assert parts == ["dt=2019-07-12", "dt=2019-07-13", "dt=2020-12-21", "dt=2020-12-22",
                     "dt=2020-12-23"]
    f = next((tmp_path / "lake" / "tweets").rglob("*.parquet"))
    assert pq.ParquetFile(f).metadata.row_group(0).column(0).compression == "ZSTD"


def test_importing_twice_or_overlapping_never_duplicates(cli, tmp_path):
    posts = [status(1000 + i, f"post {i}", ms=1_562_974_837_000 + i * 3_600_000)
             for i in range(30)]
    a = write_jsonl(tmp_path / "a.jsonl", posts[:20])
    b = write_jsonl(tmp_path / "b.jsonl.gz", posts[10:], gz=True)
    first = cli("import", str(a), "--lake", "lake")
    assert first.exit_code == 0
    again = cli("import", str(a), "--lake", "lake")
    assert "20" in again.output  # all 20 skipped
    overlap = cli("import", str(b), "--lake", "lake", "--batch-size", "7")
    assert overlap.exit_code == 0
    ids = [r["id"] for r in _tweets(tmp_path / "lake")]
    assert sorted(ids) == [1000 + i for i in range(30)]


def test_bad_records_become_error_rows_and_the_import_goes_on(cli, tmp_path):
    good = [status(1, "hello"), status(2, "world")]
    lines = [
        json.dumps(good[0]),
        '{"id": 3, "text": "cut off',  # malformed JSON
        json.dumps({"kind": "something else", "value": 1}),  # unknown shape
        json.dumps({**status(4, "no id"), "id": None, "id_str": None}),  # no id
        "[1, 2, 3]",  # not an object
        json.dumps({"delete": {"status": {"id": 5, "id_str": "5"}}}),  # stream control
        json.dumps(good[1]),
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n")
    result = cli("import", str(path), "--lake", "lake")
    assert result.exit_code == 0, result.output
    assert sorted(r["id"] for r in _tweets(tmp_path / "lake")) == [1, 2]
    errors = Lake(str(tmp_path / "lake")).read("errors").to_pylist()
    by_line = {e["line"]: e for e in errors}
    assert set(by_line) == {2, 3, 4, 5}
    assert "malformed JSON" in by_line[2]["reason"]
    assert "unknown record shape" in by_line[3]["reason"]
    assert "no numeric id" in by_line[4]["reason"]
    assert all(e["source"] == str(path) for e in errors)
    listed = cli("errors", "--lake", "lake")
    assert "malformed JSON" in listed.output and "4 errors" in listed.output
    # Re-importing the same file does not double the error rows either.
    cli("import", str(path), "--lake", "lake")
    assert len(Lake(str(tmp_path / "lake")).read("errors")) == 4


def test_json_array_pretty_document_and_truncated_gzip(cli, tmp_path):
    array = tmp_path / "array.json"
    array.write_text(json.dumps([status(10, "a"), status(11, "b")], indent=2))
    doc = tmp_path / "one.json"
    doc.write_text(json.dumps(status(12, "pretty"), indent=2))
    data = gzip.compress(b"".join(json.dumps(status(20 + i, "x" * 500)).encode() + b"\n"
                                  for i in range(200)))
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(data[: len(data) // 2])
    result = cli("import", str(array), str(doc), str(cut), "--lake", "lake")
    assert result.exit_code == 0, result.output
    ids = {r["id"] for r in _tweets(tmp_path / "lake")}
    assert {10, 11, 12} <= ids
    assert len(ids - {10, 11, 12}) > 0  # what came before the cut is kept
    reasons = [e["reason"] for e in Lake(str(tmp_path / "lake")).read("errors").to_pylist()]
    assert any("ends early" in r for r in reasons)


def test_nothing_readable_exits_non_zero(cli, tmp_path):
    junk = tmp_path / "junk.jsonl"
    junk.write_text("not json\nstill not\n")
    result = cli("import", str(junk), "--lake", "lake")
    assert result.exit_code == 1
    assert "nothing could be read" in result.output


def test_a_missing_file_says_so_and_creates_no_lake(cli, tmp_path):
    junk = write_jsonl(tmp_path / "good.jsonl", [status(1, "hello")])
    result = cli("import", str(junk), "missing.jsonl")
    assert result.exit_code == 1
    assert "no such file or folder: missing.jsonl" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "lake").exists()


def test_an_fsspec_url_works_like_a_folder(cli, tmp_path):
    path = write_jsonl(tmp_path / "p.jsonl", [status(7, "in memory", urls=["https://a.example/x"])])
    url = f"memory://lake-{tmp_path.name}"
    assert cli("import", str(path), "--lake", url).exit_code == 0
    assert [r["id"] for r in Lake(url).read("tweets").to_pylist()] == [7]
    result = cli("query", "SELECT url_extract_host(u.expanded_url) h FROM tweets "
                 "CROSS JOIN UNNEST(entities.urls) t (u)", "--lake", url)
    assert result.exit_code == 0, result.output
    assert "a.example" in result.output


def test_v2_responses_and_twarc2_lines_import_as_the_same_posts(cli, tmp_path):
    fixtures = Path(__file__).parent / "fixtures"
    v2 = sorted(str(p) for p in (fixtures / "twitter_v2").glob("recent_search_page*.json"))
    first = cli("import", *v2, "--lake", "v2lake")
    assert first.exit_code == 0, first.output
    assert "twitter-v2" in first.output
    flat = cli("import", str(fixtures / "twarc2" / "flattened.jsonl"), "--lake", "v2lake")
    assert flat.exit_code == 0, flat.output
    rows = _tweets(tmp_path / "v2lake")
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids))  # twarc2 lines of the same tweets are duplicates
    assert "duplicates skipped" in flat.output
    assert any(r["user"] and r["user"]["screen_name"] for r in rows)
    photo_posts = [r for r in rows if r["extended_entities"] and r["extended_entities"]["media"]]
    assert photo_posts and all(isinstance(m["id"], str) for r in photo_posts
                               for m in r["extended_entities"]["media"])


def test_lines_cut_across_blocks_keep_their_numbers_and_errors(cli, tmp_path, monkeypatch):
    from socialsight import ingest
    from socialsight.sources import files

    monkeypatch.setattr(files, "BLOCK_BYTES", 64 * 1024)  # blocks that cut lines
    monkeypatch.setattr(ingest, "BULK_MIN_LINES", 1)
    lines = [orjson_line(status(5000 + i, f"post {i} " + "x" * (i % 7) * 100))
             for i in range(300)]
    lines[49] = b'{"id": 1, "text": "cut off'
    lines[119] = orjson_line(status(9119, "caf\xe9")).replace("é".encode(), b"\xe9")
    lines[199] = b"   "
    path = tmp_path / "crlf.jsonl"
    path.write_bytes(b"\r\n".join(lines) + b"\r\n")
    result = cli("import", str(path), "--lake", "lake")
    assert result.exit_code == 0, result.output
    rows = _tweets(tmp_path / "lake")
    assert sorted(r["id"] for r in rows) == sorted(
        5000 + i for i in range(300) if i not in (49, 119, 199))
    assert all(not r["raw_json"].endswith(("\r", "\n")) for r in rows)
    errors = {e["line"]: e["reason"] for e in Lake(str(tmp_path / "lake")).read("errors")
              .to_pylist()}
    assert set(errors) == {50, 120}
    assert "malformed JSON" in errors[50] and "not UTF-8" in errors[120]


def orjson_line(obj: dict) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode()


def test_a_record_too_large_is_an_error_row_wherever_it_falls(cli, tmp_path, monkeypatch):
    from socialsight import ingest
    from socialsight.sources import files

    monkeypatch.setattr(files, "BLOCK_BYTES", 4096)
    monkeypatch.setattr(files, "MAX_RECORD_BYTES", 3000)
    monkeypatch.setattr(ingest, "BULK_MIN_LINES", 1)
    lines = [orjson_line(status(7000 + i, f"post {i}")) for i in range(40)]
    lines[10] = orjson_line(status(8010, "x" * 2500))  # too large, inside a block
    lines[25] = orjson_line(status(8025, "y" * 9000))  # too large, longer than a block
    path = tmp_path / "big.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    result = cli("import", str(path), "--lake", "lake")
    assert result.exit_code == 0, result.output
    ids = sorted(r["id"] for r in _tweets(tmp_path / "lake"))
    assert ids == [7000 + i for i in range(40) if i not in (10, 25)]
    errors = {e["line"]: e["reason"] for e in Lake(str(tmp_path / "lake")).read("errors")
              .to_pylist()}
    assert set(errors) == {11, 26}
    assert all("larger than 3000 bytes" in reason for reason in errors.values())


def test_saved_bluesky_and_mastodon_streams_import_too(cli, tmp_path):
    from tests.test_sources_bluesky import PHOTO_POST
    from tests.test_sources_mastodon import status as mastodon_status

    like = {"did": "did:plc:abc", "time_us": 1, "kind": "commit",
            "commit": {"operation": "create", "collection": "app.bsky.feed.like",
                       "rkey": "x", "record": {}}}
    toot = mastodon_status("109999")
    posts = write_jsonl(tmp_path / "saved.jsonl", [PHOTO_POST, like, toot])
    result = cli("import", str(posts))
    assert result.exit_code == 0, result.output
    assert "bluesky-jetstream 2" in result.output and "mastodon 1" in result.output
    rows = Lake(str(tmp_path / "lake")).read("tweets").to_pylist()
    assert sorted(r["platform"] for r in rows) == ["bluesky", "mastodon"]


# --- hostile and broken input (issue 14) --------------------------------------------


def _errors(lake_dir: Path) -> list[dict]:
    return Lake(str(lake_dir)).read("errors").to_pylist()


def test_a_broken_first_line_does_not_loop_forever(tmp_path):
    import os
    import subprocess
    import sys

    (tmp_path / "b.jsonl").write_text('{"id": 1, broken\n')
    # It used to replay line 1 at 100% CPU for ever: the timeout only guards a hang.
    src = Path(__file__).resolve().parents[1] / "src"
    done = subprocess.run([sys.executable, "-m", "socialsight", "import", "b.jsonl"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(src)}, check=False)
    assert done.returncode == 1 and "nothing could be read" in done.stderr
    [error] = _errors(tmp_path / "lake")
    assert error["line"] == 1 and "malformed JSON" in error["reason"]


def test_a_post_nested_past_255_levels_loses_neither_it_nor_the_other_files(cli, tmp_path):
    sample = tmp_path / "sample.json"
    sample.write_text(json.dumps([status(10_000 + i, f"post {i}") for i in range(2000)]))
    deep: object = "bottom"
    for _ in range(300):
        deep = [deep]
    nested = tmp_path / "nested.json"
    nested.write_text(json.dumps([{**status(5, "deep"), "junk": deep}, status(6, "next")]))
    result = cli("import", str(sample), str(nested), "--lake", "lake")
    assert result.exit_code == 0, result.output
    assert len(_tweets(tmp_path / "lake")) == 2002
    deep_row = next(r for r in _tweets(tmp_path / "lake") if r["id"] == 5)
    assert json.loads(deep_row["raw_json"])["junk"] == deep  # kept as received


def test_a_v2_post_without_created_at_is_an_error_row_in_import_and_run(cli, tmp_path):
    response = {"data": [{"id": "123", "text": "no time", "author_id": "5"},
                         {"id": "456", "text": "timed", "author_id": "5",
                          "created_at": "2022-10-28T12:00:00.000Z"}]}
    path = write_jsonl(tmp_path / "v2.jsonl", [response])
    result = cli("import", str(path), "--lake", "lake")
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in _tweets(tmp_path / "lake")] == [456]
    [error] = _errors(tmp_path / "lake")
    assert "tweet 123 has no created_at" in error["reason"] and error["line"] == 1
    run = cli("run", f"file:{path}", "--once", "--no-enrich", "--lake", "runlake")
    assert run.exit_code == 0, run.output
    assert [r["id"] for r in _tweets(tmp_path / "runlake")] == [456]
    [error] = _errors(tmp_path / "runlake")
    assert "tweet 123 has no created_at" in error["reason"] and error["stage"] == "collect"


def test_ids_outside_1_to_2_63_are_error_rows_and_the_batch_is_kept(cli, tmp_path):
    ids = [1, 2**63, 0, -7, 2**63 - 1, 2**64 + 3, 2]
    path = tmp_path / "ids.jsonl"
    path.write_text("".join(json.dumps(status(i, "x")) + "\n" for i in ids))
    result = cli("import", str(path), "--lake", "lake")
    assert result.exit_code == 0, result.output
    assert sorted(r["id"] for r in _tweets(tmp_path / "lake")) == [1, 2, 2**63 - 1]
    errors = {e["line"]: e["reason"] for e in _errors(tmp_path / "lake")}
    assert set(errors) == {2, 3, 4, 6}
    assert all("out of range (1 to 2^63-1)" in errors[n] for n in (2, 3, 4))


def test_the_error_row_writer_takes_any_value(lake):
    from socialsight.intake.writer import PostWriter
    from socialsight.lake.errors import ErrorRow

    writer = PostWriter(lake)
    writer.add({**status(9, "x"), "timestamp_ms": None, "_source": "f", "_line": 2**70})
    writer.add({**status(2**64, "y"), "timestamp_ms": 10**17, "_source": "f", "_line": 3})
    writer.add_error(ErrorRow(stage="import", source="f", reason="odd \ud800 text",
                              line=2**80, post_id=-(2**64), raw="\udcff"))
    result = writer.flush()
    assert result.written == 0 and result.rejected == 2
    rows = {r["reason"][:12]: r for r in lake.read("errors").to_pylist()}
    assert len(rows) == 3
    assert rows["post 9 canno"]["line"] is None and rows["odd ? text"]["post_id"] is None
    assert "out of range" in rows[f"post {2**64}"[:12]]["reason"]


def test_values_that_are_not_posts_share_one_row_per_file_and_shape(cli, tmp_path):
    items: list[object] = list(range(12_345))
    items[100:100] = ["a", "b"]
    items[5000:5000] = [status(77, "a post"), {"id": 3, "text": "gone wrong"}, [1, 2]]
    path = tmp_path / "values.json"
    path.write_text(json.dumps(items))
    result = cli("import", str(path), "--lake", "lake")
    assert result.exit_code == 0, result.output
    assert "12,349 bad records" in result.output
    reasons = sorted(e["reason"] for e in _errors(tmp_path / "lake"))
    assert reasons == [
        "12,345 items are not posts (numbers): items 1–100, 103–5,000, 5,004–12,350",
        "2 items are not posts (strings): items 101–102",
        "expected a JSON object, got an array",
        "unknown record shape (keys: id, text)",
    ]


def test_a_v2_error_only_response_names_the_api_error(cli, tmp_path):
    path = tmp_path / "error.json"
    path.write_text(json.dumps({"errors": [{
        "title": "Not Found Error", "detail": "Could not find tweet with ids: [1].",
        "type": "https://api.twitter.com/2/problems/resource-not-found"}]}, indent=2))
    result = cli("import", str(path), "--lake", "lake")
    assert result.exit_code == 1
    [error] = _errors(tmp_path / "lake")
    assert error["reason"] == (
        "X API error, no tweets: Not Found Error: Could not find tweet with ids: [1].")


def test_a_folder_and_stdin_can_be_imported(cli, tmp_path):
    folder = tmp_path / "incoming"
    folder.mkdir()
    write_jsonl(folder / "a.jsonl", [status(1, "a")])
    write_jsonl(folder / "b.jsonl.gz", [status(2, "b")], gz=True)
    (folder / "c.json").write_text(json.dumps([status(3, "c")]))
    (folder / "readme.txt").write_text("not posts")
    result = cli("import", f"{folder}/", "--lake", "lake")
    assert result.exit_code == 0, result.output
    assert sorted(r["id"] for r in _tweets(tmp_path / "lake")) == [1, 2, 3]

    from typer.testing import CliRunner

    from socialsight.cli import app

    piped = CliRunner().invoke(app, ["import", "-", "--lake", str(tmp_path / "lake")],
                               input=json.dumps(status(4, "piped")) + "\n")
    assert piped.exit_code == 0, piped.output
    assert sorted(r["id"] for r in _tweets(tmp_path / "lake")) == [1, 2, 3, 4]
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = cli("import", str(empty), "--lake", "other")
    assert nothing.exit_code == 1 and "no .jsonl, .json or .gz files in" in nothing.output
    assert not (tmp_path / "other").exists()


def test_a_medium_whose_url_is_no_string_loses_it_not_the_post(cli, tmp_path):
    """A v1.1 medium whose media_url_https is a number or a list made the whole post a
    bad record; the post lands, and that medium has no URL (so nothing is fetched)."""
    post = status(1, "odd media", photos=["https://pbs.example/a.jpg", "https://pbs.example/b.jpg"])
    for where in ("entities", "extended_entities"):
        for medium, odd in zip(post.get(where, {}).get("media") or [], (123, ["x"]),
                               strict=False):
            medium["media_url_https"], medium["type"] = odd, {"not": "text"}
    result = cli("import", str(write_jsonl(tmp_path / "posts.jsonl", [post])))
    assert result.exit_code == 0, result.output
    rows = Lake(str(tmp_path / "lake")).read("tweets").to_pylist()
    assert [r["id"] for r in rows] == [1]
    media = rows[0]["extended_entities"]["media"]
    assert [m["media_url_https"] for m in media] == [None, None]
    assert [m["type"] for m in media] == [None, None]

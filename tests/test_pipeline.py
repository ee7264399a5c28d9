"""``socialsight run``: collect while analysing; survive kill -9 with nothing lost or doubled."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from socialsight.collect import Collector
from socialsight.config import CollectSettings
from socialsight.lake.store import Lake
from socialsight.sources.follow import FollowFiles
from tests.conftest import status, write_jsonl

SRC = Path(__file__).resolve().parents[1] / "src"


def tweet_ids(lake_dir: Path) -> list[int]:
    return sorted(Lake(str(lake_dir)).read("tweets", ["id"]).column("id").to_pylist())


def test_a_followed_file_is_collected_as_it_grows_with_its_cursor_saved(tmp_path):
    feed = tmp_path / "feed.jsonl"
    write_jsonl(feed, [status(i, f"post {i}") for i in range(1, 4)])
    lake = Lake(str(tmp_path / "lake"))
    settings = CollectSettings(batch_seconds=0.2)

    async def collect() -> None:
        stop = asyncio.Event()
        collector = Collector(lake, [FollowFiles(str(feed), poll_seconds=0.05)], settings)
        task = asyncio.create_task(collector.run(stop))
        await asyncio.sleep(0.6)
        with feed.open("ab") as handle:  # appended while followed, the last line unfinished
            handle.write(orjson.dumps(status(4, "post 4")) + b"\n")
            handle.write(b'{"not": "finished yet')
        await asyncio.sleep(0.6)
        stop.set()
        await task

    asyncio.run(collect())
    assert tweet_ids(tmp_path / "lake") == [1, 2, 3, 4]
    # The unfinished line waits; once finished, a new run picks it up (and only it).
    with feed.open("r+b") as handle:
        data = handle.read()
        handle.seek(0)
        handle.truncate()
        handle.write(data[: data.rindex(b"\n") + 1] + orjson.dumps(status(5, "post 5")) + b"\n")
    asyncio.run(Collector(lake, [FollowFiles(str(feed), follow=False)], settings)
                .run(asyncio.Event()))
    assert tweet_ids(tmp_path / "lake") == [1, 2, 3, 4, 5]
    assert len(Lake(str(tmp_path / "lake")).read("tweets")) == 5


def test_bad_lines_are_error_rows_and_collection_goes_on(tmp_path):
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(orjson.dumps(status(1, "ok")) + b"\n{broken\n"
                     + orjson.dumps({"some": "thing else"}) + b"\n"
                     + orjson.dumps(status(2, "ok too")) + b"\n")
    lake = Lake(str(tmp_path / "lake"))
    asyncio.run(Collector(lake, [FollowFiles(str(feed), follow=False)],
                          CollectSettings()).run(asyncio.Event()))
    assert tweet_ids(tmp_path / "lake") == [1, 2]
    errors = lake.read("errors").to_pylist()
    assert len(errors) == 2 and {e["stage"] for e in errors} == {"collect"}
    assert any("not JSON" in e["reason"] for e in errors)


def test_a_followed_folder_reads_its_jsonl_files_and_a_byte_order_mark_is_no_bad_record(tmp_path):
    folder = tmp_path / "feeds"
    folder.mkdir()
    (folder / "a.jsonl").write_bytes(b"\xef\xbb\xbf" + orjson.dumps(status(1, "first")) + b"\n")
    write_jsonl(folder / "b.jsonl", [status(2, "second")])
    (folder / "notes.txt").write_text("not a feed")
    lake = Lake(str(tmp_path / "lake"))
    asyncio.run(Collector(lake, [FollowFiles(str(folder), follow=False)],
                          CollectSettings()).run(asyncio.Event()))
    assert tweet_ids(tmp_path / "lake") == [1, 2]
    assert lake.read("errors").num_rows == 0


def test_run_once_collects_and_analyses_everything(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("SOCIALSIGHT_ENRICH_WORKERS", "1")
    feed = write_jsonl(tmp_path / "feed.jsonl", [
        status(1, "I love the new Apple store in Paris!"),
        status(2, "Terrible service in London today")])
    result = cli("run", f"file:{feed}", "--once")
    assert result.exit_code == 0, result.output
    assert "collected 2 posts" in result.output and "analysed 2 posts" in result.output
    sentiments = Lake(str(tmp_path / "lake")).read("tweet_sentiments").to_pylist()
    assert sorted(r["sentiment"] for r in sentiments) == ["NEGATIVE", "POSITIVE"]


def test_run_needs_a_source_and_explains_the_spellings(cli):
    result = cli("run")
    assert result.exit_code == 2 and "file:posts.jsonl" in result.output
    bad = cli("run", "myspace:tom")
    assert bad.exit_code == 1 and "bluesky:#kindle" in bad.output


@pytest.mark.slow
def test_run_survives_kill_9_with_nothing_lost_or_doubled(tmp_path):
    feed = tmp_path / "feed.jsonl"
    lake_dir = tmp_path / "lake"
    env = {**os.environ, "PYTHONPATH": str(SRC), "SOCIALSIGHT_COLLECT_BATCH_SECONDS": "0.2",
           "SOCIALSIGHT_COLLECT_BATCH_POSTS": "50", "SOCIALSIGHT_ENRICH_WORKERS": "1"}
    command = [sys.executable, "-m", "socialsight", "run", f"file:{feed}", "--lake",
               str(lake_dir)]
    write_jsonl(feed, [status(i, f"post number {i}") for i in range(1, 301)])
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(tweet_ids(lake_dir)) < 100:
        time.sleep(0.05)
    # More posts arrive while it runs; it is killed in the middle of things.
    with feed.open("ab") as handle:
        for i in range(301, 601):
            handle.write(orjson.dumps(status(i, f"post number {i}")) + b"\n")
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(tweet_ids(lake_dir)) >= 100
    # The restart goes on from the saved cursor; SIGTERM stops it cleanly.
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and len(tweet_ids(lake_dir)) < 600:
        time.sleep(0.1)
    deadline = time.monotonic() + 90
    lake = Lake(str(lake_dir))
    while time.monotonic() < deadline and len(lake.read("tweet_sentiments")) < 600:
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
    ids = [r for r in Lake(str(lake_dir)).read("tweets", ["id"]).column("id").to_pylist()]
    assert sorted(ids) == list(range(1, 601))  # every post once
    sentiment_ids = Lake(str(lake_dir)).read("tweet_sentiments", ["tweetid"])
    assert sorted(sentiment_ids.column("tweetid").to_pylist()) == list(range(1, 601))


@pytest.mark.slow
def test_run_collects_from_a_jetstream_and_resumes_without_doubling(tmp_path):
    import threading

    from socialsight.config import load_settings
    from socialsight.pipeline import Pipeline
    from socialsight.sources.spec import parse
    from tests.test_sources_bluesky import (
        GERMAN_POST,
        PHOTO_POST,
        QUOTE_POST,
        REPLY_POST,
        jetstream,
    )

    messages = [orjson.dumps(e).decode() for e in (PHOTO_POST, QUOTE_POST, REPLY_POST,
                                                   GERMAN_POST)]
    ready, finished, holder = threading.Event(), threading.Event(), {}

    def serve() -> None:
        async def main() -> None:
            async with jetstream(messages) as fake:
                holder["url"] = fake.url
                ready.set()
                while not finished.is_set():
                    await asyncio.sleep(0.05)

        asyncio.run(main())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10)
    settings = load_settings(lake=str(tmp_path / "lake"))
    settings.collect.bluesky_endpoint = holder["url"]
    settings.collect.batch_seconds = 0.1
    lake = Lake(settings.lake)
    try:
        for _ in range(2):  # the second run resumes from the saved cursor
            stop = asyncio.Event()
            pipeline = Pipeline(lake, settings, [parse("bluesky:*", settings.collect)],
                                enrich=False)

            def tick(status, stop=stop, pipeline=pipeline) -> None:
                if status.collect.posts + status.collect.duplicates >= 1 and \
                        pipeline.collector.cursors.load("bluesky:*"):
                    stop.set()

            pipeline.run(stop=stop, on_tick=tick)
    finally:
        finished.set()
        thread.join(10)
    posts = lake.read("tweets").to_pylist()
    assert len(posts) == 4 and {p["platform"] for p in posts} == {"bluesky"}
    photo = next(p for p in posts if p["extended_entities"]["media"])
    assert photo["extended_entities"]["media"][0]["media_url_https"].startswith(
        "https://cdn.bsky.app/img/feed_fullsize/plain/")

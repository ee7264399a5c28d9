"""``socialsight enrich`` and ``retry`` on posts whose photos a real loopback server serves:
rows a user can query, every failure an error row, nothing lost or doubled after kill -9."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, ClassVar

import pytest

from socialsight.explore.overview import pipeline_status
from socialsight.lake.store import Lake
from socialsight.query.engine import Engine
from tests.conftest import loopback_server, status, write_jsonl
from tests.test_media_fetch import _png_header

SRC = Path(__file__).resolve().parents[1] / "src"


def _skimage_data() -> Path:
    spec = importlib.util.find_spec("skimage")
    if spec is None or spec.origin is None:
        pytest.skip("scikit-image (test photos) is not installed")
    return Path(spec.origin).parent / "data"


class PhotoHandler(BaseHTTPRequestHandler):
    """Serves scikit-image's sample photos, plus broken and unreliable answers."""

    folder: ClassVar[Path]
    hits: ClassVar[dict[str, int]] = {}
    fail_until: ClassVar[dict[str, int]] = {}
    delay: ClassVar[float] = 0.0

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, code: int, body: bytes, ctype: str = "image/png") -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        name = self.path.split("?")[0].rsplit("/", 1)[-1]
        self.hits[name] = self.hits.get(name, 0) + 1
        if self.delay:
            time.sleep(self.delay)
        if self.hits[name] <= self.fail_until.get(name, 0):
            self._send(503, b"busy", "text/plain")
        elif name == "login.jpg":
            self._send(200, b"<!DOCTYPE html><html><body>Sign in</body></html>", "image/jpeg")
        elif name == "cut.png":
            self._send(200, (self.folder / "coffee.png").read_bytes()[:5000])
        elif name == "bomb.png":
            self._send(200, _png_header(100_000, 100_000))
        elif name == "huge.jpg":  # 50 MB
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(50_000_000))
            self.end_headers()
            with contextlib.suppress(OSError):
                self.wfile.write(b"\xff\xd8\xff" + b"\0" * 1_000_000)
        elif name == "to-loopback.jpg":
            port = self.server.server_address[1]
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{port}/coffee.png")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif name == "slow.jpg":
            time.sleep(2)
            self._send(200, (self.folder / "coffee.png").read_bytes())
        elif (self.folder / name).is_file():
            self._send(200, (self.folder / name).read_bytes())
        else:
            self._send(404, b"not found", "text/plain")


@pytest.fixture
def photos() -> Iterator[str]:
    """The base URL of a photo server on loopback (fresh counters for each test)."""
    PhotoHandler.folder = _skimage_data()
    PhotoHandler.hits, PhotoHandler.fail_until, PhotoHandler.delay = {}, {}, 0.0
    with loopback_server(PhotoHandler) as port:
        yield f"http://localhost:{port}"


@pytest.fixture
def enrich_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCIALSIGHT_FETCH_ALLOW_HOSTS", "localhost")
    monkeypatch.setenv("SOCIALSIGHT_FETCH_BACKOFF_SECONDS", "0")
    monkeypatch.setenv("SOCIALSIGHT_ENRICH_WORKERS", "1")


def rows(lake_dir: Path) -> list[dict[str, Any]]:
    table = Lake(str(lake_dir)).read("media_rekognition")
    return sorted(table.to_pylist(), key=lambda r: (r["tweetid"], r["mediaid"]))


def label_names(row: dict[str, Any]) -> set[str]:
    return {label["name"] for label in row["image_labels"]["labels"]}


@pytest.mark.slow
def test_enrich_fills_media_rekognition_and_the_seed_queries_read_it(
        cli, tmp_path, photos, enrich_env):
    posts = write_jsonl(tmp_path / "posts.jsonl", [
        status(1, "Morning fuel #coffee", photos=[f"{photos}/coffee.png"]),
        status(2, "Launch day!", photos=[f"{photos}/astronaut.png"]),
        status(3, "Read the fine print", photos=[f"{photos}/page.png"]),
        status(4, "My cat and my ride", photos=[f"{photos}/chelsea.png",
                                                f"{photos}/motorcycle_left.png"]),
        status(5, "RT coffee again", photos=[f"{photos}/coffee.png"]),  # the same photo
        status(6, "no photo here"),
        status(7, "Look at this", photos=[f"{photos}/rocket.jpg"], sensitive=True,
               urls=["https://shop.example.com/deal"]),
    ])
    assert cli("import", str(posts)).exit_code == 0
    result = cli("enrich")
    assert result.exit_code == 0, result.output
    assert "photos written" in result.output
    got = rows(tmp_path / "lake")
    assert [(r["tweetid"], r["mediaid"]) for r in got] == [
        (1, "10"), (2, "20"), (3, "30"), (4, "40"), (4, "41"), (5, "50"), (7, "70")]
    by_post = {(r["tweetid"], r["mediaid"]): r for r in got}
    assert all(not r["analysis_errors"] for r in got)
    assert "Coffee" in label_names(by_post[1, "10"])
    assert "Cat" in label_names(by_post[4, "40"])
    assert by_post[1, "10"]["text"] == "Morning fuel #coffee"
    # The astronaut has one face; the coffee has none, and was not even looked for.
    assert len(by_post[2, "20"]["image_labels"]["facedetails"]) == 1
    assert by_post[2, "20"]["image_labels"]["celebrityrecognition"]["unrecognizedfaces"]
    assert not by_post[1, "10"]["image_labels"]["facedetails"]
    lines = [t["detectedtext"] for t in by_post[3, "30"]["image_labels"]["textdetections"]
             if t["type"] == "LINE"]
    assert any("Region-based" in line for line in lines)
    # A re-posted photo is analysed once and stored once.
    assert by_post[1, "10"]["sha256"] == by_post[5, "50"]["sha256"]
    assert by_post[1, "10"]["image_labels"] == by_post[5, "50"]["image_labels"]
    assert PhotoHandler.hits["coffee.png"] == 1
    assert len(list((tmp_path / "lake" / "_media").glob("??/*.*"))) == 6

    engine = Engine(Lake(str(tmp_path / "lake")))

    def seed(name: str) -> list[Any]:
        return [next(iter(r.values())) for r in engine.execute(_seed(name)).table.to_pylist()]

    assert {"Coffee", "Cat", "Person", "Text", "Motorcycle"} <= set(seed("top_labels"))
    assert seed("top_emotions")[0] == "HAPPY"  # the astronaut's smile
    assert seed("suspect_content") == [7]  # marked sensitive by its author
    assert seed("top_celebrities") == []  # no one is enrolled yet


def _seed(name: str) -> str:
    from socialsight.query.engine import seed_queries

    return seed_queries()[name]


def test_a_second_run_has_nothing_to_do_and_writes_nothing(cli, tmp_path, photos, enrich_env):
    posts = write_jsonl(tmp_path / "posts.jsonl", [
        status(1, "coffee", photos=[f"{photos}/coffee.png"])])
    cli("import", str(posts))
    assert cli("enrich").exit_code == 0
    files = sorted((tmp_path / "lake").rglob("*.parquet"))
    again = cli("enrich")
    assert again.exit_code == 0 and "everything is analysed already" in again.output
    assert sorted((tmp_path / "lake").rglob("*.parquet")) == files
    assert PhotoHandler.hits["coffee.png"] == 1
    # New posts are picked up by the next run, and old photos come from the cache.
    more = write_jsonl(tmp_path / "more.jsonl", [
        status(2, "coffee again", photos=[f"{photos}/coffee.png"]),
        status(3, "rocket", photos=[f"{photos}/rocket.jpg"])])
    cli("import", str(more))
    third = cli("enrich")
    assert third.exit_code == 0
    assert [r["tweetid"] for r in rows(tmp_path / "lake")] == [1, 2, 3]
    assert PhotoHandler.hits["coffee.png"] == 2  # fetched again, but not analysed again
    assert re.search(r"already analysed \(cache\)\s*│\s*1\b", third.output)
    assert re.search(r"distinct photos analysed\s*│\s*1\b", third.output)


def test_every_broken_photo_is_an_error_row_and_the_run_goes_on(
        cli, tmp_path, photos, enrich_env, monkeypatch):
    monkeypatch.setenv("SOCIALSIGHT_FETCH_RETRIES", "0")
    monkeypatch.setenv("SOCIALSIGHT_FETCH_READ_TIMEOUT_SECONDS", "0.5")
    posts = write_jsonl(tmp_path / "posts.jsonl", [
        status(1, "html", photos=[f"{photos}/login.jpg"]),
        status(2, "cut off", photos=[f"{photos}/cut.png"]),
        status(3, "gone", photos=[f"{photos}/missing.jpg"]),
        status(4, "own network", photos=["http://127.0.0.1:9/x.jpg"]),
        status(5, "busy", photos=[f"{photos}/coffee.png"]),
        status(6, "fine", photos=[f"{photos}/chelsea.png"]),
        status(7, "bomb", photos=[f"{photos}/bomb.png"]),
        status(8, "50 MB", photos=[f"{photos}/huge.jpg"]),
        status(9, "redirect", photos=[f"{photos}/to-loopback.jpg"]),
        status(10, "slow", photos=[f"{photos}/slow.jpg"]),
    ])
    PhotoHandler.fail_until["coffee.png"] = 1
    cli("import", str(posts))
    result = cli("enrich")
    assert result.exit_code == 0, result.output
    assert "socialsight retry" in result.output
    got = {r["tweetid"]: r for r in rows(tmp_path / "lake")}
    assert len(got) == 10
    assert not got[6]["analysis_errors"] and "Cat" in label_names(got[6])
    reasons = {t: r["analysis_errors"][0]["analysis"] + ": " + r["analysis_errors"][0]["error"]
               for t, r in got.items() if r["analysis_errors"]}
    assert "not an image" in reasons[1]
    assert reasons[2].startswith("decode")
    assert "HTTP 404" in reasons[3]
    assert "127.0.0.1" in reasons[4]
    assert "HTTP 503" in reasons[5]
    assert "cannot read the image header" in reasons[7]
    assert "over the limit of 15,000,000" in reasons[8]
    assert "127.0.0.1" in reasons[9] and "non-public" in reasons[9]
    assert "timed out" in reasons[10]
    errors = Lake(str(tmp_path / "lake")).read("errors").to_pylist()
    assert sorted(e["post_id"] for e in errors) == [1, 2, 3, 4, 5, 7, 8, 9, 10]
    assert {e["stage"] for e in errors} == {"fetch", "decode"}
    assert {e["error_class"] for e in errors if e["stage"] == "decode"} == {"MediaError"}
    transient = {e["post_id"] for e in errors if e["transient"]}
    assert transient == {5, 10}
    listed = cli("errors")
    assert "9 errors" in listed.output

    # retry: the busy server now answers; the rest fail the same way, nothing is doubled.
    again = cli("retry")
    assert again.exit_code == 0, again.output
    got = {r["tweetid"]: r for r in rows(tmp_path / "lake")}
    assert len(got) == 10 and len(rows(tmp_path / "lake")) == 10
    assert not got[5]["analysis_errors"] and "Coffee" in label_names(got[5])
    assert got[1]["analysis_errors"] and got[4]["analysis_errors"]
    assert len(Lake(str(tmp_path / "lake")).read("errors")) == 9  # no error logged twice
    listed = cli("errors")
    assert "8 errors" in listed.output and "HTTP 503" not in listed.output
    assert "HTTP 503" in cli("errors", "--all").output
    # the dashboard's overview lists the same errors as still wrong
    engine = Engine(Lake(str(tmp_path / "lake")))
    try:
        pipeline = pipeline_status(engine)
    finally:
        engine.close()
    assert sum(e["errors"] for e in pipeline["errors"]) == 8
    assert pipeline["photos_failed"] == 8
    assert not any("HTTP 503" in e["reason"] for e in pipeline["recent_errors"])


@pytest.mark.slow
def test_a_killed_enrich_resumes_with_nothing_lost_or_doubled(tmp_path, photos, cli):
    names = ["coffee.png", "chelsea.png", "rocket.jpg", "astronaut.png", "page.png",
             "motorcycle_left.png"]
    posts = write_jsonl(tmp_path / "posts.jsonl", [
        status(i + 1, name, photos=[f"{photos}/{name}"]) for i, name in enumerate(names)])
    cli("import", str(posts))
    lake_dir = tmp_path / "lake"
    env = {**os.environ, "SOCIALSIGHT_FETCH_ALLOW_HOSTS": "localhost",
           "SOCIALSIGHT_ENRICH_WORKERS": "1", "SOCIALSIGHT_ENRICH_BATCH_PHOTOS": "1",
           "PYTHONPATH": str(SRC)}
    PhotoHandler.delay = 0.3
    proc = subprocess.Popen([sys.executable, "-m", "socialsight", "enrich", "--lake",
                             str(lake_dir)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if len(Lake(str(lake_dir)).files("media_rekognition")) >= 2:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "enrich finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = rows(lake_dir)
    assert 2 <= len(before) < len(names)
    PhotoHandler.delay = 0.0
    finish = subprocess.run([sys.executable, "-m", "socialsight", "enrich", "--lake",
                             str(lake_dir)], env=env, capture_output=True, timeout=300)
    assert finish.returncode == 0, finish.stderr.decode()
    after = rows(lake_dir)
    assert [r["tweetid"] for r in after] == list(range(1, len(names) + 1))
    assert all(not r["analysis_errors"] for r in after)
    kept = {r["tweetid"]: r["image_labels"] for r in before}
    assert all(kept[t] == r["image_labels"] for r in after if (t := r["tweetid"]) in kept)


def test_gating_can_be_switched_off(cli, tmp_path, photos, enrich_env):
    posts = write_jsonl(tmp_path / "posts.jsonl", [
        status(1, "coffee", photos=[f"{photos}/coffee.png"])])
    cli("import", str(posts))
    assert cli("enrich", "--no-gate").exit_code == 0
    row = rows(tmp_path / "lake")[0]
    # Looked for, and found none: an empty list, where gating leaves it null.
    assert row["image_labels"]["facedetails"] == []


def test_enrich_on_an_empty_lake_says_what_to_do(cli):
    result = cli("enrich")
    assert result.exit_code == 1
    assert "socialsight import" in result.output


def test_errors_lists_one_stage_and_refuses_a_stage_that_does_not_exist(cli, tmp_path):
    posts = tmp_path / "posts.jsonl"
    posts.write_bytes(b'{"not a post": true}\n')
    cli("import", str(posts))
    assert "1 errors" in cli("errors", "--stage", "import").output
    assert "no errors recorded" in cli("errors", "--stage", "fetch").output
    wrong = cli("errors", "--stage", "nosuch")
    assert wrong.exit_code == 2 and "no stage 'nosuch'" in wrong.output
    assert "import, collect, fetch, decode, analyse, analyse-text" in wrong.output


@pytest.mark.slow
def test_a_dead_analysis_process_costs_no_photo():
    from socialsight.config import VisionSettings
    from socialsight.scale.local import Analyser

    coffee = (_skimage_data() / "coffee.png").read_bytes()
    analyser = Analyser(VisionSettings(), 50_000_000, workers=2)
    try:
        assert not next(analyser.map([coffee])).errors  # the workers are up
        pids = analyser.worker_pids()
        assert pids
        for pid in pids:  # as the OOM killer would
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
        results = list(analyser.map([coffee, coffee]))
        assert [r.errors for r in results] == [[], []]
        labels = results[0].image_labels
        assert labels is not None and "Coffee" in {lb["name"] for lb in labels["labels"]}
    finally:
        analyser.close()


def test_enrich_reads_every_posts_text_into_the_text_tables(cli, tmp_path, enrich_env):
    posts = write_jsonl(tmp_path / "posts.jsonl", [
        status(1, "Tim Cook opened the new Apple store in Paris today, I love it! 😍",
               ms=1_562_974_837_000),
        status(2, "Worst service ever at the Apple store in London. Never again 😡",
               ms=1_562_974_837_000),
        status(3, "Je suis très content de mon nouveau téléphone, merci beaucoup !",
               ms=1_563_061_237_000),
        status(4, "RT @fan: Apple is great https://t.co/abc", ms=1_563_061_237_000),
    ])
    cli("import", str(posts))
    result = cli("enrich")
    assert result.exit_code == 0, result.output
    lake = Lake(str(tmp_path / "lake"))
    sentiments = {r["tweetid"]: r for r in lake.read("tweet_sentiments").to_pylist()}
    assert sorted(sentiments) == [1, 2, 3, 4]  # every post gets a row
    assert sentiments[1]["sentiment"] == "POSITIVE" and sentiments[2]["sentiment"] == "NEGATIVE"
    assert sentiments[3]["lang"] == "fr" and sentiments[3]["sentiment"] is None
    assert "not supported" in sentiments[3]["skipped"]
    assert sentiments[4]["text"] == "Apple is great"
    assert sentiments[4]["originaltext"].startswith("RT @fan: ")
    found = {(r["tweetid"], r["entity"], r["type"])
             for r in lake.read("tweet_entities").to_pylist()}
    assert {(1, "Tim Cook", "PERSON"), (1, "Paris", "LOCATION"),
            (2, "London", "LOCATION")} <= found
    assert not any(t == 3 for t, _, _ in found)
    phrases = {r["keyphrase"] for r in lake.read("tweet_keyphrases").to_pylist()}
    assert "the new Apple store" in phrases

    engine = Engine(lake)
    over_time = engine.execute(_seed("sentiment_over_time")).table.to_pylist()
    assert {(r["day"], r["sentiment"], r["share"]) for r in over_time} == {
        ("2019-07-12", "POSITIVE", 50.0), ("2019-07-12", "NEGATIVE", 50.0),
        ("2019-07-13", "POSITIVE", 100.0)}
    # Every mention is kept; the example query counts those more likely right than not
    # (score > 0.5): "Apple is great", one word opening a post, scores lower than the
    # Apple of "the new Apple store" (language/calibration.py).
    apples = [r for r in lake.read("tweet_entities").to_pylist() if r["entity"] == "Apple"]
    assert sorted(r["tweetid"] for r in apples) == [1, 2, 4]
    assert max(r["score"] for r in apples if r["tweetid"] == 4) < min(
        r["score"] for r in apples if r["tweetid"] == 1)
    top = engine.execute(_seed("top_entities")).table.to_pylist()
    assert {"type": "ORGANIZATION", "entity": "Apple", "mentions": 2} in top

    again = cli("enrich")
    assert "everything is analysed already" in again.output
    assert len(Lake(str(tmp_path / "lake")).read("tweet_sentiments")) == 4


def test_a_failed_text_analysis_is_an_error_row_that_retry_fixes(
        cli, tmp_path, enrich_env, monkeypatch):
    from socialsight.language import sentiment
    from socialsight.models import runtime

    posts = write_jsonl(tmp_path / "posts.jsonl", [
        status(1, "What a wonderful launch in Houston today!"),
        status(2, "Terrible traffic in Boston again")])
    cli("import", str(posts))
    # A damaged install: the sentiment lexicon no longer matches its sha256.
    package, file, _ = runtime.PACKAGE_FILES["vader_lexicon.txt"]
    with monkeypatch.context() as damaged:
        damaged.setitem(runtime.PACKAGE_FILES, "vader_lexicon.txt", (package, file, "0" * 64))
        sentiment.Vader.reset()
        result = cli("enrich")
    assert result.exit_code == 0, result.output
    assert "2 posts could not be fully analysed" in result.output
    lake = Lake(str(tmp_path / "lake"))
    rows = lake.read("tweet_sentiments").to_pylist()
    assert len(rows) == 2 and all(r["skipped"].startswith("error: ConfigError") for r in rows)
    errors = lake.read("errors").to_pylist()
    assert {e["stage"] for e in errors} == {"analyse-text"}
    assert {e["error_class"] for e in errors} == {"ConfigError"}  # the class raised

    sentiment.Vader.reset()  # repaired
    assert cli("retry").exit_code == 0
    rows = {r["tweetid"]: r for r in Lake(str(tmp_path / "lake")).read("tweet_sentiments")
            .to_pylist()}
    assert len(rows) == 2
    assert rows[1]["sentiment"] == "POSITIVE" and rows[2]["sentiment"] == "NEGATIVE"
    entities = {r["entity"] for r in lake.read("tweet_entities").to_pylist()}
    assert entities == {"Houston", "Boston", "today"}
    assert "no errors recorded" in cli("errors").output
    assert "2 errors" in cli("errors", "--all").output


def test_a_medium_a_post_lists_twice_is_planned_once(cli, tmp_path):
    """A post whose media list names one medium twice (the same id: a hostile or broken
    client) gets one media_rekognition row for it, not two with the same key."""
    from socialsight.enrich.plan import Plan

    post = status(1, "twice", photos=["https://pbs.example/a.jpg", "https://pbs.example/b.jpg",
                                      "https://pbs.example/c.jpg"])
    for where in ("entities", "extended_entities"):
        media = post.get(where, {}).get("media") or []
        if len(media) > 1:
            media[1]["id"], media[1]["id_str"] = media[0]["id"], media[0]["id_str"]
    assert cli("import", str(write_jsonl(tmp_path / "posts.jsonl", [post]))).exit_code == 0
    plan = Plan(Lake(str(tmp_path / "lake")))
    assert plan.total == 2
    [(_, refs)] = plan.files
    assert [r.mediaid for r in refs] == ["10", "12"]

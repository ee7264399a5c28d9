"""``socialsight enrich --executor ray``: real models on a real local Ray cluster write the
same lake, row for row, as the local executor; a bad cluster or a missing Ray is one line."""

from __future__ import annotations

import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

# Imported here first, Ray's log handler keeps pytest's stderr, not the stderr of one
# CLI call (closed after it). Its usage statistics stay off: nothing leaves the machine.
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
import ray

from socialsight.lake.store import Lake
from tests.conftest import status, write_jsonl
from tests.test_enrich import PhotoHandler, enrich_env, photos  # noqa: F401

pytestmark = pytest.mark.ray

# What each analysis table is keyed by, and the columns that legitimately differ
# between two runs (when the error was seen).
TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "media_rekognition": (("tweetid", "mediaid"), ()),
    "tweet_sentiments": (("tweetid",), ()),
    "tweet_entities": (("tweetid", "beginoffset", "entity"), ()),
    "tweet_keyphrases": (("tweetid", "beginoffset", "keyphrase"), ()),
    "errors": (("error_id",), ("occurred_at",)),
}


def _posts(base: str) -> list[dict[str, Any]]:
    return [
        status(1, "Morning fuel at Blue Bottle in Oakland #coffee",
               photos=[f"{base}/coffee.png"]),
        status(2, "Eileen Collins launched from Florida today, what a day!",
               photos=[f"{base}/astronaut.png"]),
        status(3, "Read the fine print", photos=[f"{base}/page.png"]),
        status(4, "My cat and my ride", photos=[f"{base}/chelsea.png",
                                                f"{base}/motorcycle_left.png"]),
        status(5, "RT coffee again", photos=[f"{base}/coffee.png"]),  # the same photo
        status(6, "Terrible service, never again."),
        status(7, "Look at this", photos=[f"{base}/rocket.jpg"], sensitive=True),
        status(8, "broken", photos=[f"{base}/login.jpg", f"{base}/missing.jpg"]),
        status(9, "Ce matin à Paris, un café avec Marie", photos=[f"{base}/horse.png"]),
    ]


def _table(lake_dir: Path, name: str) -> list[dict[str, Any]]:
    keys, ignored = TABLES[name]
    rows = Lake(str(lake_dir)).read(name).to_pylist()
    for row in rows:
        for column in ignored:
            row.pop(column)
    return sorted(rows, key=lambda r: tuple(str(r[k]) for k in keys))


def _fail_here(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the ray executor analysed in the driver process")


def _files(lake_dir: Path) -> list[str]:
    """The analysis tables' files: their names derive from their rows."""
    return sorted(str(f.relative_to(lake_dir)) for name in TABLES if name != "errors"
                  for f in (lake_dir / name).rglob("*.parquet"))


@pytest.mark.slow
def test_ray_executor_writes_the_same_lake_as_the_local_one(
        cli, tmp_path, photos, enrich_env, monkeypatch):  # noqa: F811
    posts = write_jsonl(tmp_path / "posts.jsonl", _posts(photos))
    local, on_ray, run = tmp_path / "local", tmp_path / "ray", tmp_path / "run"
    for lake in (local, on_ray):
        assert cli("import", str(posts), "--lake", str(lake)).exit_code == 0

    result = cli("enrich", "--lake", str(local))
    assert result.exit_code == 0, result.output

    with monkeypatch.context() as patch:  # only the cluster's actors may analyse
        patch.setattr("socialsight.scale.local.analyse_photos", _fail_here)
        patch.setattr("socialsight.scale.local.analyse_texts", _fail_here)
        result = cli("enrich", "--lake", str(on_ray), "--executor", "ray", "--workers", "2")
        assert result.exit_code == 0, result.output
        assert "photos written" in result.output
        # `run` collects and analyses on the cluster too (one actor, this time).
        result = cli("run", "--once", f"file:{posts}", "--lake", str(run),
                     "--executor", "ray", "--workers", "1")
        assert result.exit_code == 0, result.output
        assert "analysed 9 posts and 10 photos" in " ".join(result.output.split())

    for lake in (on_ray, run):
        for name in TABLES:
            assert _table(lake, name) == _table(local, name), f"{name} of {lake.name} differs"
        assert _files(lake) == _files(local)
    media = {(r["tweetid"], r["mediaid"]): r for r in _table(on_ray, "media_rekognition")}
    assert len(media) == 10
    assert "Cat" in {label["name"] for label in media[4, "40"]["image_labels"]["labels"]}
    assert len(media[2, "20"]["image_labels"]["facedetails"]) == 1
    assert {e["analysis"] for e in media[8, "80"]["analysis_errors"]} == {"fetch"}
    entities = {(r["entity"], r["type"]) for r in _table(on_ray, "tweet_entities")}
    assert ("Eileen Collins", "PERSON") in entities
    assert {r["stage"] for r in _table(on_ray, "errors")} == {"fetch"}
    # The local clusters the runs started are gone, and a new run has nothing to do.
    assert not ray.is_initialized()
    again = cli("enrich", "--lake", str(on_ray), "--executor", "ray")
    assert again.exit_code == 0 and "everything is analysed already" in again.output


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("address, message", [
    (f"127.0.0.1:{_closed_port()}", "cannot reach the Ray cluster at 127.0.0.1:"),
    ("ray://127.0.0.1", "invalid Ray address 'ray://127.0.0.1'"),
    ("head-node", "invalid Ray address 'head-node'"),
], ids=["closed-port", "ray-scheme", "bare-host"])  # ids fixed: pytest-xdist's workers agree
def test_a_bad_address_is_one_line_before_anything_runs(
        cli, tmp_path, photos, enrich_env, address, message):  # noqa: F811
    posts = write_jsonl(tmp_path / "posts.jsonl", [
        status(1, "coffee", photos=[f"{photos}/coffee.png"])])
    assert cli("import", str(posts)).exit_code == 0
    for command in (["enrich"], ["run", "--once", f"file:{posts}"]):
        result = cli(*command, "--address", address)
        assert result.exit_code == 1, result.output
        assert message in result.output
        assert "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1
    assert not PhotoHandler.hits  # nothing was fetched, let alone analysed
    assert not Lake(str(tmp_path / "lake")).has_data("media_rekognition")


def test_without_ray_installed_the_error_says_how_to_install_it(
        cli, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` meets without Ray
    posts = write_jsonl(tmp_path / "posts.jsonl", [status(1, "hello")])
    assert cli("import", str(posts)).exit_code == 0
    monkeypatch.setenv("SOCIALSIGHT_ENRICH_EXECUTOR", "ray")
    result = cli("enrich")
    assert result.exit_code == 1
    assert "pip install 'socialsight[ray]'" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not Lake(str(tmp_path / "lake")).has_data("tweet_sentiments")


def test_address_and_the_local_executor_do_not_go_together(cli, tmp_path):
    result = cli("enrich", "--executor", "local", "--address", "auto")
    assert result.exit_code == 2
    assert "--executor ray" in result.output


@pytest.mark.slow
def test_a_killed_actor_costs_no_photo(tmp_path, monkeypatch):
    from socialsight.config import load_settings
    from socialsight.scale.ray import RayAnalyser
    from tests.test_enrich import _skimage_data

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOCIALSIGHT_ENRICH_WORKERS", "1")
    coffee = (_skimage_data() / "coffee.png").read_bytes()
    analyser = RayAnalyser(load_settings())
    try:
        assert ray.is_initialized()
        (actor,) = analyser.actors
        pid = ray.get(actor.ready.remote())
        os.kill(pid, signal.SIGKILL)  # as the OOM killer would
        results = list(analyser.map([coffee, coffee]))
        assert [r.errors for r in results] == [[], []]
        labels = results[0].image_labels
        assert labels is not None and "Coffee" in {lb["name"] for lb in labels["labels"]}
        assert ray.get(actor.ready.remote()) != pid  # a new process took over
    finally:
        analyser.close()
    assert not ray.is_initialized()  # the cluster it started is shut down


@pytest.mark.slow
def test_actors_asked_for_a_gpu_they_do_not_have_stop_the_run_in_one_line(
        cli, tmp_path, photos, enrich_env, monkeypatch):  # noqa: F811
    from socialsight.models import runtime

    if runtime.on_gpu():
        pytest.skip("this machine has a GPU")
    posts = write_jsonl(tmp_path / "posts.jsonl", [
        status(1, "coffee", photos=[f"{photos}/coffee.png"])])
    assert cli("import", str(posts)).exit_code == 0
    monkeypatch.setenv("SOCIALSIGHT_VISION_DEVICE", "cuda")
    result = cli("enrich", "--executor", "ray", "--workers", "1")
    assert result.exit_code == 1, result.output
    assert "the analysis actors cannot start" in result.output
    assert "onnxruntime-gpu" in result.output and "Traceback" not in result.output
    assert not Lake(str(tmp_path / "lake")).has_data("media_rekognition")
    assert not ray.is_initialized()

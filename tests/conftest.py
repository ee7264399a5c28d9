"""Shared test fixtures: real lakes in tmp_path, real posts, the real CLI."""

from __future__ import annotations

import contextlib
import gzip
import threading
from collections.abc import Callable, Iterable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from socialsight.cli import app
from socialsight.lake.store import Lake
from socialsight.posts.canonical import format_v1_time

SHARED = Path(__file__).resolve().parents[2] / "shared"
SHARED_V1 = SHARED / "fixtures" / "twitter-v1"
HERE = Path(__file__).parent / "fixtures"


@pytest.fixture
def shared_v1() -> Path:
    """The real v1.1 tweets in ../shared (skips when that folder is absent)."""
    if not SHARED_V1.is_dir():
        pytest.skip("../shared/fixtures is not present")
    return SHARED_V1


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake(str(tmp_path / "lake"))


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., Any]:
    """Run ``socialsight ARGS``; returns the click Result (exit_code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)
    for key in ("SOCIALSIGHT_LAKE", "SOCIALSIGHT_CONFIG"):
        monkeypatch.delenv(key, raising=False)
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(app, list(args), catch_exceptions=False)

    return run


@contextlib.contextmanager
def loopback_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[int]:
    """A real HTTP server on 127.0.0.1 answering with ``handler``; yields its port."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()


def write_jsonl(path: Path, records: Iterable[Any], gz: bool = False) -> Path:
    data = b"".join(orjson.dumps(r) + b"\n" for r in records)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def status(
    id: int,
    text: str,
    *,
    ms: int = 1_562_974_837_000,
    user: tuple[int, str, str] = (42, "shopper", "Sam Shopper"),
    urls: Iterable[str] = (),
    photos: Iterable[str] = (),
    hashtags: Iterable[str] = (),
    sensitive: bool = False,
    retweet_of: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A Twitter v1.1 status as the streaming API sends it."""
    uid, screen, name = user
    url_entities = [
        {"url": f"https://t.co/u{i}", "expanded_url": u, "display_url": u.split("//")[-1][:26],
         "indices": [len(text) + 1, len(text) + 24]}
        for i, u in enumerate(urls)
    ]
    media = [
        {"id": id * 10 + i, "id_str": str(id * 10 + i), "indices": [0, 23],
         "media_url": p.replace("https://", "http://"), "media_url_https": p,
         "url": f"https://t.co/m{i}", "display_url": f"pic.twitter.com/m{i}",
         "expanded_url": f"https://twitter.com/{screen}/status/{id}/photo/{i + 1}",
         "type": "photo",
         "sizes": {k: {"w": 1200, "h": 800, "resize": "fit"}
                   for k in ("thumb", "small", "medium", "large")}}
        for i, p in enumerate(photos)
    ]
    out: dict[str, Any] = {
        "created_at": format_v1_time(ms), "id": id, "id_str": str(id), "text": text,
        "source": '<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>',
        "truncated": False, "in_reply_to_status_id": None, "in_reply_to_user_id": None,
        "user": {"id": uid, "id_str": str(uid), "name": name, "screen_name": screen,
                 "followers_count": 120, "verified": False, "lang": None,
                 "created_at": "Wed Aug 29 11:56:16 +0000 2012"},
        "geo": None, "coordinates": None, "place": None, "is_quote_status": False,
        "quote_count": 0, "reply_count": 0, "retweet_count": 0, "favorite_count": 0,
        "entities": {"hashtags": [{"text": h, "indices": [0, len(h) + 1]} for h in hashtags],
                     "urls": url_entities, "user_mentions": [], "symbols": []},
        "favorited": False, "retweeted": False, "possibly_sensitive": sensitive,
        "filter_level": "low", "lang": "en", "timestamp_ms": str(ms),
    }
    if media:
        out["entities"]["media"] = media[:1]
        out["extended_entities"] = {"media": media}
    if retweet_of is not None:
        out["retweeted_status"] = retweet_of
    return out

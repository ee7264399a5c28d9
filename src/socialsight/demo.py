"""The demo: a small corpus collected and analysed by the real pipeline, on loopback.

``examples/demo/`` holds 26 posts written for the demo — 20 from X (v1.1 statuses),
3 Mastodon statuses and 3 Bluesky Jetstream events — and the real, freely licensed
photos they show (see its PHOTOS.md). The photos are served by an HTTP server on
127.0.0.1; the posts, their photo URLs pointed at it, are collected by
``socialsight run``'s own pipeline from a ``file:`` source, then every post and
photo is analysed — the same code as a live collection, with the fetch guards
allowing only that loopback server. One person, Grace Hopper, is enrolled first, so
the known-people query has someone to find, and two brands the posts talk about,
Brewlab and Kindle, by their names, so the Brands page has mentions to show.
"""

from __future__ import annotations

import functools
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from socialsight.config import Settings
from socialsight.lake.store import Lake
from socialsight.pipeline import Pipeline, Status
from socialsight.sources.follow import FollowFiles

CORPUS = Path(__file__).resolve().parents[2] / "examples" / "demo"
ENROL = ("Grace Hopper", "grace-hopper.jpg", "https://en.wikipedia.org/wiki/Grace_Hopper")
BRANDS = ("Brewlab", "Kindle")  # enrolled by their names (word marks)
QUERIES = ("top_labels", "top_emotions", "top_celebrities", "suspect_content",
           "product_links", "sentiment_over_time", "top_entities")


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def photo_server(folder: Path) -> Iterator[str]:
    """The base URL of an HTTP server on 127.0.0.1 serving ``folder``."""
    handler = functools.partial(_Quiet, directory=str(folder))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def run_demo(lake: Lake, settings: Settings, corpus: Path = CORPUS,
             on_tick: Callable[[Status], None] | None = None) -> Status:
    """Collect and analyse the demo corpus into ``lake``."""
    from socialsight import brands
    from socialsight.media.photo import decode, read_bytes
    from socialsight.people import enrol

    settings.fetch.allow_hosts = ["localhost"]
    settings.collect.batch_seconds = 0.5
    name, photo, url = ENROL
    path = str(corpus / "photos" / photo)

    def load(source: str) -> tuple[Any, str]:
        import hashlib

        data = read_bytes(source, settings.fetch)
        return decode(data, settings.fetch, source), hashlib.sha256(data).hexdigest()

    with lake.lock():
        enrol(lake, name, [path], [url], load)
    for brand in BRANDS:
        brands.enrol(lake, brand, [], [brand], load)
    with photo_server(corpus / "photos") as base, tempfile.TemporaryDirectory() as tmp:
        posts = Path(tmp) / "demo-posts.jsonl"
        text = "".join(path.read_text(encoding="utf-8")
                       for path in sorted(corpus.glob("posts*.jsonl")))
        posts.write_text(text.replace("{photos}", base), encoding="utf-8")
        source = FollowFiles(str(posts), follow=False)
        return Pipeline(lake, settings, [source]).run(on_tick=on_tick)

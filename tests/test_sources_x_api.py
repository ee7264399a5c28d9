"""X API v2 sources against a real HTTP server on loopback that speaks X's formats.

The server answers recent search pages, the stream-rules endpoint (GET, POST add and
delete, dry_run) and the filtered stream (chunked newline-delimited JSON with
``\\r\\n`` keep-alives), and records every request. Waits go through a virtual clock,
so the tests check X's schedule (seconds to wait) without waiting.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson
import pytest

from socialsight.config import load_settings
from socialsight.errors import ConfigError
from socialsight.posts.canonical import Deletion
from socialsight.sources.base import Item
from socialsight.sources.spec import parse
from socialsight.sources.x_api import (
    RULES_PATH,
    SEARCH_PATH,
    STREAM_PATH,
    Pacing,
    Schedule,
    StreamRule,
    XRequestRefused,
    XSearch,
    XStream,
)
from tests.conftest import loopback_server

FIXTURES = Path(__file__).parent / "fixtures" / "twitter_v2"
TOKEN = "AAAAAAAAAAAAAAAAAAAAAFakeBearerTokenForLoopbackTests%3D"
NOW = 1_666_290_000.0  # 2022-10-20T18:20:00Z, the virtual clock's start
RULE_ID = "1582788861225496576"

JSON = dict[str, Any]
Reply = Callable[[BaseHTTPRequestHandler], None]


# --- X's payloads -----------------------------------------------------------------------


def load(name: str) -> JSON:
    path = FIXTURES / name
    text = path.read_text()
    return json.loads(text.splitlines()[0] if path.suffix == ".jsonl" else text)


def page(n: int) -> JSON:
    return load(f"recent_search_page{n}.json")


def last_page() -> JSON:
    """Page 2 as the last page of its poll: no next_token."""
    obj = page(2)
    del obj["meta"]["next_token"]
    return obj


def photo_response(tweet_id: str, created_at: str, text: str, alt_text: str,
                   tag: str = "kindle") -> JSON:
    """A v2 response with one tweet, its author and its photo (alt text included)."""
    media_key = f"3_{int(tweet_id) - 7}"
    link = "https://t.co/Kd8Rm2PqZx"
    body = f"{text} #{tag} {link}"
    start = body.index(f"#{tag}")
    return {
        "data": [{
            "id": tweet_id, "edit_history_tweet_ids": [tweet_id], "text": body,
            "author_id": "1012345678901234567", "created_at": created_at,
            "conversation_id": tweet_id, "lang": "en", "possibly_sensitive": False,
            "reply_settings": "everyone", "attachments": {"media_keys": [media_key]},
            "public_metrics": {"retweet_count": 0, "reply_count": 1, "like_count": 12,
                               "quote_count": 0, "impression_count": 310},
            "entities": {
                "hashtags": [{"start": start, "end": start + len(tag) + 1, "tag": tag}],
                "urls": [{"start": len(body) - len(link), "end": len(body), "url": link,
                          "expanded_url": f"https://twitter.com/nookreader/status/{tweet_id}"
                                          "/photo/1",
                          "display_url": "pic.twitter.com/Kd8Rm2PqZx", "media_key": media_key}],
            },
        }],
        "includes": {
            "media": [{"media_key": media_key, "type": "photo", "width": 1536, "height": 2048,
                       "url": f"https://pbs.twimg.com/media/Ff{tweet_id[-6:]}WAAEr9Qk.jpg",
                       "alt_text": alt_text}],
            "users": [{"id": "1012345678901234567", "name": "Nook Reader",
                       "username": "nookreader", "verified": False,
                       "created_at": "2016-02-02T09:12:45.000Z",
                       "public_metrics": {"followers_count": 845, "following_count": 301,
                                          "tweet_count": 5120, "listed_count": 9}}],
        },
    }


NEW_ID = "1582801255529065276"  # 2022-10-19T18:30:01Z, newer than page 1
NEW_PAGE = {
    **photo_response(NEW_ID, "2022-10-19T18:30:01.000Z", "Reading nook finally done 📚",
                     "A Kindle Paperwhite on a knitted blanket next to a mug of tea"),
    "meta": {"newest_id": NEW_ID, "oldest_id": NEW_ID, "result_count": 1},
}
EMPTY_PAGE = {"meta": {"result_count": 0}}
PAGE1_NEWEST = "1582773610870407249"

STREAM_A = load("filtered_stream.jsonl")  # 1583091924990873099, no photo
B_ID = "1583093862759017276"  # 2022-10-20T13:52:44Z


def stream_message(response: JSON) -> JSON:
    """A stream line: one tweet (an object, not a list) and the rules it matched."""
    return {**response, "data": response["data"][0],
            "matching_rules": [{"id": RULE_ID, "tag": "socialsight"}]}


STREAM_B = stream_message(photo_response(
    B_ID, "2022-10-20T13:52:44.000Z", "New shelf, same old favourites",
    "Paperbacks stacked on a pine shelf beside an e-reader"))
OLD_ID = "1583090700253801276"  # 2022-10-20T13:40:10Z, older than A: a backfilled post
STREAM_OLD = stream_message(photo_response(
    OLD_ID, "2022-10-20T13:40:10.000Z", "Morning pages", "An open notebook beside a pen"))
DISCONNECT = {"errors": [{
    "title": "operational-disconnect", "disconnect_type": "UpstreamOperationalDisconnect",
    "detail": "This stream has been disconnected upstream for operational reasons.",
    "type": "https://api.twitter.com/2/problems/operational-disconnect"}]}
TOO_MANY = {"title": "Too Many Requests", "detail": "Too Many Requests",
            "type": "about:blank", "status": 429}
UNAVAILABLE = {"title": "Service Unavailable", "detail": "Service Unavailable",
               "type": "about:blank", "status": 503}


def limits(remaining: int, reset_in: float, limit: int = 450) -> dict[str, str]:
    return {"x-rate-limit-limit": str(limit), "x-rate-limit-remaining": str(remaining),
            "x-rate-limit-reset": str(int(NOW + reset_in))}


# --- the fake X: replies -----------------------------------------------------------------


def send_json(h: BaseHTTPRequestHandler, status: int, body: Any,
              headers: dict[str, str] | None = None) -> None:
    data = orjson.dumps(body)
    h.send_response(status)
    h.send_header("content-type", "application/json; charset=utf-8")
    h.send_header("content-length", str(len(data)))
    for name, value in (headers or {}).items():
        h.send_header(name, value)
    h.end_headers()
    h.wfile.write(data)


def json_reply(status: int, body: Any, headers: dict[str, str] | None = None) -> Reply:
    return lambda h: send_json(h, status, body, headers)


def line(obj: Any) -> bytes:
    return orjson.dumps(obj) + b"\r\n"


HEARTBEAT = b"\r\n"


def chunk(h: BaseHTTPRequestHandler, data: bytes) -> None:
    h.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
    h.wfile.flush()


def stream_reply(*parts: bytes, end: str = "close",
                 headers: dict[str, str] | None = None) -> Reply:
    """A 200 stream of ``parts``; then a clean end, a drop mid-chunk, or keep-alives."""

    def reply(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("content-type", "application/json; charset=utf-8")
        h.send_header("transfer-encoding", "chunked")
        h.send_header("connection", "close")
        for name, value in (headers or {}).items():
            h.send_header(name, value)
        h.end_headers()
        for part in parts:
            chunk(h, part)
        h.close_connection = True
        if end == "close":
            h.wfile.write(b"0\r\n\r\n")
        elif end == "drop":  # the connection dies inside a chunk
            h.wfile.write(b"400\r\n" + line(STREAM_OLD)[:40])
            h.wfile.flush()
        elif end == "stall":  # connected, but nothing comes, not even keep-alives
            time.sleep(2)
        else:
            hold(h)

    return reply


def hold(h: BaseHTTPRequestHandler) -> None:
    """Keep-alive heartbeats until the client goes away (at most a few seconds)."""
    deadline = time.monotonic() + 4
    try:
        while time.monotonic() < deadline:
            chunk(h, HEARTBEAT)
            time.sleep(0.02)
    except OSError:
        pass


def hang_up(h: BaseHTTPRequestHandler) -> None:
    """Close the connection without an answer."""
    h.close_connection = True


def default_reply(h: BaseHTTPRequestHandler) -> None:
    if urlsplit(h.path).path == STREAM_PATH:
        stream_reply(end="hold")(h)
    else:
        send_json(h, 503, UNAVAILABLE)


# --- the fake X: server -------------------------------------------------------------------


@dataclass
class Seen:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    body: Any


class FakeX:
    """X API v2 on loopback: scripted replies per path, a real rule store, a request log."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: list[Seen] = []
        self.replies: dict[str, list[Reply]] = defaultdict(list)
        self.rules: list[JSON] = []
        self.rule_ids = iter(range(int(RULE_ID), int(RULE_ID) + 1000))
        self.base_url = ""

    def script(self, path: str, *replies: Reply) -> None:
        self.replies[path].extend(replies)

    def requests(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path == path]

    def serve(self, h: BaseHTTPRequestHandler) -> None:
        url = urlsplit(h.path)
        size = int(h.headers.get("content-length") or 0)
        raw = h.rfile.read(size) if size else b""
        seen = Seen(h.command, url.path, dict(parse_qsl(url.query)),
                    {k.lower(): v for k, v in h.headers.items()},
                    orjson.loads(raw) if raw else None)
        with self.lock:
            self.seen.append(seen)
            reply = self.replies[url.path].pop(0) if self.replies[url.path] else None
        if reply is not None:
            reply(h)
        elif url.path == RULES_PATH:
            self.rules_endpoint(h, seen)
        else:
            default_reply(h)

    def rules_endpoint(self, h: BaseHTTPRequestHandler, seen: Seen) -> None:
        sent = {"sent": "2022-10-20T18:20:00.000Z"}
        if seen.method == "GET":
            body: JSON = {"meta": {**sent, "result_count": len(self.rules)}}
            if self.rules:
                body["data"] = list(self.rules)
            return send_json(h, 200, body, limits(449, 900))
        dry = seen.params.get("dry_run") == "true"
        if "delete" in seen.body:
            ids = set(seen.body["delete"]["ids"])
            gone = [r for r in self.rules if r["id"] in ids]
            if not dry:
                self.rules = [r for r in self.rules if r["id"] not in ids]
            summary = {"deleted": len(gone), "not_deleted": len(ids) - len(gone)}
            return send_json(h, 200, {"meta": {**sent, "summary": summary}})
        bad = [r for r in seen.body["add"] if r["value"].count("(") != r["value"].count(")")]
        if bad:
            errors = [{"value": r["value"], "details": ["Rules must contain balanced parentheses"],
                       "title": "Invalid Rule",
                       "type": "https://api.twitter.com/2/problems/invalid-rules"} for r in bad]
            summary = {"created": 0, "not_created": len(bad), "valid": 0, "invalid": len(bad)}
            return send_json(h, 400, {"errors": errors, "meta": {**sent, "summary": summary}})
        created = [{**r, "id": str(next(self.rule_ids))} for r in seen.body["add"]]
        if not dry:
            self.rules += created
        summary = {"created": len(created), "not_created": 0, "valid": len(created),
                   "invalid": 0}
        return send_json(h, 201, {"data": created, "meta": {**sent, "summary": summary}})


class Switch:
    """The fake X that the module's one server answers as (a new one per test)."""

    fake = FakeX()

    @classmethod
    def handler(cls) -> type[BaseHTTPRequestHandler]:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                cls.fake.serve(self)

            def do_POST(self) -> None:
                cls.fake.serve(self)

        return Handler


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """One loopback server for the module (stopping one takes half a second)."""
    with loopback_server(Switch.handler()) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def x(server: str) -> FakeX:
    Switch.fake = FakeX()
    Switch.fake.base_url = server
    return Switch.fake


class Clock:
    """A virtual clock: sleeping moves it on at once and records how long."""

    def __init__(self) -> None:
        self.now = NOW
        self.waits: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)

    def pacing(self, **kwargs: Any) -> Pacing:
        return Pacing(sleep=self.sleep, clock=lambda: self.now, **kwargs)


def take(stream: AsyncIterator[Item], count: int) -> list[Item]:
    """The first ``count`` items of a source (failing after a few seconds)."""

    async def run() -> list[Item]:
        items: list[Item] = []
        try:
            async with asyncio.timeout(4):
                async for item in stream:
                    items.append(item)
                    if len(items) == count:
                        break
        finally:
            await stream.aclose()  # type: ignore[attr-defined]
        return items

    return asyncio.run(run())


def ids(item: Item) -> list[int]:
    return [post["id"] for post in item.posts]


def search(x: FakeX, clock: Clock, **kwargs: Any) -> XSearch:
    return XSearch("kindle has:images", token=TOKEN, base_url=x.base_url,
                   pacing=clock.pacing(), **kwargs)


def stream(x: FakeX, clock: Clock, **kwargs: Any) -> XStream:
    return XStream(["kindle has:images"], token=TOKEN, base_url=x.base_url,
                   pacing=clock.pacing(), **kwargs)


# --- the token ----------------------------------------------------------------------------


@pytest.fixture
def no_token_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    monkeypatch.chdir(tmp_path)  # no socialsight.toml
    for name in ("X_BEARER_TOKEN", "SOCIALSIGHT_X_BEARER_TOKEN",
                 "SOCIALSIGHT_COLLECT_X_BEARER_TOKEN", "SOCIALSIGHT_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_bearer_token_comes_from_the_settings_or_the_environment(
        no_token_env: pytest.MonkeyPatch) -> None:
    no_token_env.setenv("X_BEARER_TOKEN", " abc \n")
    assert parse("x:search:kindle", load_settings().collect).token == "abc"
    no_token_env.setenv("SOCIALSIGHT_X_BEARER_TOKEN", "xyz")
    assert parse("x:search:kindle", load_settings().collect).token == "xyz"
    no_token_env.setenv("SOCIALSIGHT_COLLECT_X_BEARER_TOKEN", "from-setting")
    assert parse("x:stream:kindle", load_settings().collect).token == "from-setting"
    no_token_env.delenv("SOCIALSIGHT_COLLECT_X_BEARER_TOKEN")
    no_token_env.delenv("SOCIALSIGHT_X_BEARER_TOKEN")
    no_token_env.setenv("X_BEARER_TOKEN", "  ")
    with pytest.raises(ConfigError, match="X_BEARER_TOKEN"):
        parse("x:search:kindle", load_settings().collect)


def test_the_token_is_never_printed(no_token_env: pytest.MonkeyPatch) -> None:
    secret = "AAAA-very-secret-bearer-token"
    no_token_env.setenv("X_BEARER_TOKEN", secret)
    settings = load_settings()
    assert secret not in repr(settings) and secret not in str(settings)
    assert secret not in settings.model_dump_json()
    with pytest.raises(ConfigError) as refused:
        parse("x:nonsense", settings.collect)
    assert secret not in str(refused.value)


def test_a_source_without_a_token_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("X_BEARER_TOKEN", "SOCIALSIGHT_X_BEARER_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match="bearer token"):
        XSearch("kindle")
    monkeypatch.setenv("X_BEARER_TOKEN", TOKEN)
    assert XStream(["kindle has:images"]).token == TOKEN
    assert XSearch("kindle").key == "x:search:kindle"


def test_a_refused_token_stops_the_source(x: FakeX) -> None:
    x.script(SEARCH_PATH, json_reply(401, {
        "title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}))
    with pytest.raises(XRequestRefused, match=r"HTTP 401.*Unauthorized"):
        take(search(x, Clock()).stream(None), 1)


# --- X's waiting schedule ------------------------------------------------------------------


def test_backoff_follows_x_guidance() -> None:
    clock = Clock()
    backoff = Schedule(clock.pacing())
    assert [backoff.network() for _ in range(3)] == [0.25, 0.5, 0.75]
    assert [backoff.http() for _ in range(8)] == [5, 10, 20, 40, 80, 160, 320, 320]
    assert [backoff.rate(None) for _ in range(3)] == [60, 120, 240]
    assert backoff.rate(NOW + 42) == 43  # until x-rate-limit-reset, plus a second
    backoff.reset()
    assert (backoff.network(), backoff.http()) == (0.25, 5)
    for _ in range(100):
        last = backoff.network()
    assert last == 16


# --- recent search --------------------------------------------------------------------------


def test_search_pages_then_polls_for_newer_posts(x: FakeX) -> None:
    x.script(SEARCH_PATH,
             json_reply(200, page(1), limits(449, 900)),
             json_reply(200, last_page(), limits(448, 900)),
             json_reply(429, TOO_MANY, limits(0, 300)),
             json_reply(200, NEW_PAGE, limits(0, 900)),
             json_reply(200, EMPTY_PAGE, limits(449, 1800)))
    clock = Clock()
    first, second, third, fourth = take(search(x, clock).stream(None), 4)

    assert ids(first) == [int(t["id"]) for t in page(1)["data"]]
    assert first.problems == [] and first.cursor is None  # the poll is not over yet
    assert ids(second) == [int(t["id"]) for t in page(2)["data"] if "id" in t]
    assert [p.reason for p in second.problems] == ["v2 tweet #4 has no id"]
    assert second.problems[0].location.startswith(x.base_url + SEARCH_PATH)
    assert second.cursor == PAGE1_NEWEST  # newest of the whole poll
    assert ids(third) == [int(NEW_ID)] and third.cursor == NEW_ID
    assert fourth.posts == [] and fourth.cursor == NEW_ID

    post = third.posts[0]
    assert post["text"].startswith("Reading nook finally done 📚 #kindle")
    assert post["user"]["screen_name"] == "nookreader"
    assert post["entities"]["hashtags"][0]["text"] == "kindle"
    [photo] = post["extended_entities"]["media"]
    assert photo["media_url_https"].startswith("https://pbs.twimg.com/media/")
    assert photo["ext_alt_text"] == "A Kindle Paperwhite on a knitted blanket next to a mug of tea"
    assert json.loads(post["raw_json"])["data"]["id"] == NEW_ID
    photos = [m["ext_alt_text"] for p in first.posts for m in p["extended_entities"]["media"]]
    assert "A lopsided heart in latte foam, labelled day 1" in photos

    requests = x.requests(SEARCH_PATH)
    assert len(requests) == 5
    assert {r.headers["authorization"] for r in requests} == {f"Bearer {TOKEN}"}
    r1, r2, r3, r4, r5 = (r.params for r in requests)
    assert r1["query"] == "kindle has:images" and r1["max_results"] == "100"
    assert "attachments.media_keys" in r1["expansions"].split(",")
    assert {"url", "alt_text", "width", "height"} <= set(r1["media.fields"].split(","))
    assert {"username", "verified", "public_metrics"} <= set(r1["user.fields"].split(","))
    assert "since_id" not in r1 and "next_token" not in r1
    assert r2["next_token"] == page(1)["meta"]["next_token"] and "since_id" not in r2
    assert r3 == r4  # the 429'd request, again
    assert r3["since_id"] == PAGE1_NEWEST and "next_token" not in r3
    assert r5["since_id"] == NEW_ID

    # poll interval; 429 → until its reset; poll interval; remaining 0 → until reset
    assert clock.waits == [60, 300 - 60 + 1, 60, 900 - 361 + 1]


def test_search_resumes_after_its_cursor(x: FakeX) -> None:
    x.script(SEARCH_PATH, json_reply(200, NEW_PAGE))
    [item] = take(search(x, Clock()).stream(PAGE1_NEWEST), 1)
    assert x.requests(SEARCH_PATH)[0].params["since_id"] == PAGE1_NEWEST
    assert ids(item) == [int(NEW_ID)] and item.cursor == NEW_ID


def test_search_starts_over_when_its_cursor_is_older_than_seven_days(x: FakeX) -> None:
    stale = "1519056945277198339"
    x.script(SEARCH_PATH,
             json_reply(400, {
                 "errors": [{"parameters": {"since_id": [stale]},
                             "message": f"Invalid 'since_id':'{stale}'. 'since_id' must be a "
                                        "tweet id created after 2022-10-13T18:20:00.000Z."}],
                 "title": "Invalid Request",
                 "detail": "One or more parameters to your request was invalid.",
                 "type": "https://api.twitter.com/2/problems/invalid-request"}),
             json_reply(200, NEW_PAGE))
    gap, item = take(search(x, Clock()).stream(stale), 2)
    assert gap.posts == [] and gap.cursor is None
    assert "7 days" in gap.problems[0].reason and stale in gap.problems[0].reason
    assert "since_id" not in x.requests(SEARCH_PATH)[1].params
    assert item.cursor == NEW_ID


def test_first_poll_can_be_limited_to_some_pages(x: FakeX) -> None:
    x.script(SEARCH_PATH, json_reply(200, page(1)), json_reply(200, EMPTY_PAGE))
    clock = Clock()
    first, second = take(search(x, clock, first_poll_pages=1).stream(None), 2)
    assert first.cursor == PAGE1_NEWEST  # older pages are left alone
    assert x.requests(SEARCH_PATH)[1].params["since_id"] == PAGE1_NEWEST
    assert second.cursor == PAGE1_NEWEST


# --- stream rules ------------------------------------------------------------------------------


def test_rules_are_added_and_stale_socialsight_rules_deleted(x: FakeX) -> None:
    x.rules = [{"id": "1", "value": "kindle has:images", "tag": "socialsight:kindle"},
               {"id": "2", "value": "old rule", "tag": "socialsight:kindle"},
               {"id": "3", "value": "cats has:images", "tag": "mine"}]
    before = list(x.rules)
    source = XStream(["kindle has:images", "#booktok has:images"], name="kindle", prune=True,
                     token=TOKEN, base_url=x.base_url, pacing=Clock().pacing())
    assert source.key == "x:stream:kindle"

    preview = asyncio.run(source.sync_rules(dry_run=True))
    assert x.rules == before
    assert [r.value for r in preview.added] == ["#booktok has:images"]
    assert [r.value for r in preview.deleted] == ["old rule"]
    assert [r.value for r in preview.kept] == ["kindle has:images"]

    asyncio.run(source.sync_rules())
    assert [(r["value"], r["tag"]) for r in x.rules] == [
        ("kindle has:images", "socialsight:kindle"), ("cats has:images", "mine"),
        ("#booktok has:images", "socialsight:kindle")]

    posts = [(s.params, s.body, s.headers["content-type"])
             for s in x.requests(RULES_PATH) if s.method == "POST"]
    delete = {"delete": {"ids": ["2"]}}
    add = {"add": [{"value": "#booktok has:images", "tag": "socialsight:kindle"}]}
    assert posts == [({"dry_run": "true"}, delete, "application/json"),
                     ({"dry_run": "true"}, add, "application/json"),
                     ({}, delete, "application/json"), ({}, add, "application/json")]
    assert all(s.headers["authorization"] == f"Bearer {TOKEN}" for s in x.seen)


def test_rules_of_others_are_left_alone_without_prune(x: FakeX) -> None:
    x.rules = [{"id": "2", "value": "old rule", "tag": "socialsight"}]
    source = XStream([StreamRule("kindle has:images", "books")], token=TOKEN,
                     base_url=x.base_url, pacing=Clock().pacing())
    changes = asyncio.run(source.sync_rules())
    assert changes.deleted == []
    assert [(r["value"], r["tag"]) for r in x.rules] == [
        ("old rule", "socialsight"), ("kindle has:images", "books")]


def test_an_invalid_rule_is_refused_with_x_reasons(x: FakeX) -> None:
    source = XStream(["kindle (has:images"], token=TOKEN, base_url=x.base_url,
                     pacing=Clock().pacing())
    with pytest.raises(XRequestRefused, match=r"Invalid Rule.*balanced parentheses"):
        asyncio.run(source.sync_rules())
    assert x.rules == []


# --- the filtered stream ---------------------------------------------------------------------


def test_stream_reads_lines_and_reconnects_on_x_schedule(x: FakeX) -> None:
    x.script(STREAM_PATH,
             stream_reply(HEARTBEAT, line(STREAM_A), HEARTBEAT, b'{"data": {"id": "158\r\n',
                          line(DISCONNECT), headers=limits(49, 900, limit=50)),
             stream_reply(HEARTBEAT, end="drop"),  # dies inside a chunk
             hang_up,  # then a connection that gets no answer
             json_reply(503, UNAVAILABLE),
             json_reply(429, {"title": "ConnectionException",
                              "detail": "This stream is currently at the maximum allowed "
                                        "connection limit.",
                              "connection_issue": "TooManyConnections",
                              "type": "https://api.twitter.com/2/problems/streaming-connection"},
                        limits(0, 120, limit=50)),
             stream_reply(HEARTBEAT, line(STREAM_B), end="hold"))
    clock = Clock()
    source = stream(x, clock, backfill_minutes=3)
    assert source.key == "x:stream:kindle has:images"
    a, bad, b = take(source.stream(None), 3)

    a_id = int(STREAM_A["data"]["id"])
    assert ids(a) == [a_id] and a.cursor == str(a_id) and a.problems == []
    assert a.posts[0]["user"]["screen_name"] == "lumenbrewco"
    assert json.loads(a.posts[0]["raw_json"])["matching_rules"][0]["tag"] == "coffee brands"
    assert bad.posts == [] and bad.cursor is None
    [problem] = bad.problems
    assert problem.reason.startswith("malformed JSON") and problem.raw == '{"data": {"id": "158'
    assert problem.location == f"{STREAM_PATH} #1:4"
    assert ids(b) == [int(B_ID)] and b.cursor == B_ID
    [photo] = b.posts[0]["extended_entities"]["media"]
    assert photo["ext_alt_text"] == "Paperbacks stacked on a pine shelf beside an e-reader"

    # the rule was added before the first connection
    assert [(s.method, s.path) for s in x.seen[:3]] == [
        ("GET", RULES_PATH), ("POST", RULES_PATH), ("GET", STREAM_PATH)]
    assert x.rules[0]["value"] == "kindle has:images" and x.rules[0]["tag"] == "socialsight"
    connects = x.requests(STREAM_PATH)
    assert len(connects) == 6
    assert {c.headers["authorization"] for c in connects} == {f"Bearer {TOKEN}"}
    assert "attachments.media_keys" in connects[0].params["expansions"]
    assert "backfill_minutes" not in connects[0].params  # nothing was missed yet
    assert {c.params.get("backfill_minutes") for c in connects[1:]} == {"3"}

    # clean end and drop of working streams: at once; no answer: 0.25 s; 503: 5 s;
    # 429: until x-rate-limit-reset
    assert clock.waits == [0.25, 5, 120 - 5.25 + 1]


def test_stream_resumes_with_backfill_and_keeps_the_newest_cursor(x: FakeX) -> None:
    x.rules = [{"id": RULE_ID, "value": "kindle has:images", "tag": "socialsight"}]
    x.script(STREAM_PATH, stream_reply(line(STREAM_OLD), line(STREAM_B), end="hold"))
    cursor = STREAM_A["data"]["id"]
    old, new = take(stream(x, Clock(), backfill_minutes=2).stream(cursor), 2)
    assert [s.method for s in x.requests(RULES_PATH)] == ["GET"]  # the rule was there
    assert x.requests(STREAM_PATH)[0].params["backfill_minutes"] == "2"
    assert ids(old) == [int(OLD_ID)] and old.cursor == cursor  # older than the cursor
    assert ids(new) == [int(B_ID)] and new.cursor == B_ID


def test_stream_line_that_is_not_a_v2_message_is_a_problem(x: FakeX) -> None:
    x.rules = [{"id": RULE_ID, "value": "kindle has:images", "tag": "socialsight"}]
    x.script(STREAM_PATH, stream_reply(line([1, 2]), line(STREAM_B), end="hold"))
    odd, good = take(stream(x, Clock()).stream(None), 2)
    assert odd.problems[0].reason == "not an X API v2 stream message"
    assert odd.problems[0].raw.strip() == "[1,2]"
    assert ids(good) == [int(B_ID)]
    assert "backfill_minutes" not in x.requests(STREAM_PATH)[0].params


def test_a_silent_stream_is_dropped_and_reconnected(x: FakeX) -> None:
    x.rules = [{"id": RULE_ID, "value": "kindle has:images", "tag": "socialsight"}]
    x.script(STREAM_PATH, stream_reply(HEARTBEAT, end="stall"),
             stream_reply(line(STREAM_B), end="hold"))
    clock = Clock()
    source = XStream(["kindle has:images"], token=TOKEN, base_url=x.base_url,
                     pacing=clock.pacing(stall_seconds=0.1))
    started = time.monotonic()
    [item] = take(source.stream(None), 1)
    assert time.monotonic() - started < 1.5  # did not wait for the server to hang up
    assert ids(item) == [int(B_ID)]
    assert len(x.requests(STREAM_PATH)) == 2
    assert clock.waits == []  # it had worked: reconnect at once


def test_an_edited_post_on_the_stream_names_the_versions_it_replaces(x: FakeX) -> None:
    """The filtered stream sends no deletions; an edit comes as a new post whose
    edit history lists the older versions, which the lake must forget."""
    first, second = "1583093100000000000", "1583093500000000000"  # B's earlier versions
    edited = {**STREAM_B, "data": {**STREAM_B["data"],
                                   "edit_history_tweet_ids": [first, second, B_ID]}}
    x.rules = [{"id": RULE_ID, "value": "kindle has:images", "tag": "socialsight"}]
    x.script(STREAM_PATH, stream_reply(line(STREAM_A), line(edited), end="hold"))
    plain, item = take(stream(x, Clock()).stream(None), 2)
    assert plain.deletions == []  # an edit history of one id: never edited
    assert ids(item) == [int(B_ID)] and item.cursor == B_ID
    assert item.deletions == [Deletion("x", int(first), first, reason="edited"),
                              Deletion("x", int(second), second, reason="edited")]

"""Mastodon: statuses → canonical posts, and the live source against a real loopback server.

The server speaks Mastodon's formats as documented and as its streaming server
(streaming/index.js) writes them: SSE with a ``:)`` greeting, ``:thump`` heartbeats,
``event: update`` / ``event: delete`` / ``event: status.update``, chunked transfer;
tag and public timelines with ``min_id``/``limit``, Link headers and
X-RateLimit-* headers; 401 for a stream without a token; redirects to a streaming
host. Statuses follow https://docs.joinmastodon.org/entities/Status/.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import aclosing, contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import pyarrow as pa
import pytest

from socialsight.lake.schema import TWEET_ROWS
from socialsight.posts.canonical import Deletion, derived_id, partition_of
from socialsight.posts.html import render
from socialsight.posts.mastodon import StatusError, from_status
from socialsight.sources.base import Item
from socialsight.sources.mastodon import (
    MastodonPublicMedia,
    MastodonTag,
    SSEParser,
    newest,
)
from tests.conftest import loopback_server

# --- realistic statuses ---------------------------------------------------------------

BOOKISH = {
    "id": "109245", "username": "bookish", "acct": "bookish", "display_name": "Bookish Bea 📖",
    "locked": False, "bot": False, "discoverable": True, "group": False,
    "created_at": "2022-11-05T00:00:00.000Z",
    "note": "<p>Reader &amp; reviewer. <a href=\"https://mastodon.social/tags/books\" "
            "class=\"mention hashtag\" rel=\"tag\">#<span>books</span></a></p>",
    "url": "https://mastodon.social/@bookish", "uri": "https://mastodon.social/users/bookish",
    "avatar": "https://files.mastodon.social/accounts/avatars/109/245/original/a1b2c3.png",
    "avatar_static": "https://files.mastodon.social/accounts/avatars/109/245/original/a1b2c3.png",
    "header": "https://files.mastodon.social/accounts/headers/109/245/original/d4e5f6.jpg",
    "header_static": "https://files.mastodon.social/accounts/headers/109/245/original/d4e5f6.jpg",
    "followers_count": 1530, "following_count": 310, "statuses_count": 4210,
    "last_status_at": "2024-08-20", "emojis": [], "fields": [],
}
URSULA_FAN = {
    "id": "109301", "username": "ursula_fan", "acct": "ursula_fan@fosstodon.org",
    "display_name": "Anarres Reader", "locked": False, "bot": False, "discoverable": True,
    "group": False, "created_at": "2021-03-02T00:00:00.000Z", "note": "<p>SF &amp; tea.</p>",
    "url": "https://fosstodon.org/@ursula_fan", "uri": "https://fosstodon.org/users/ursula_fan",
    "avatar": "https://files.mastodon.social/cache/accounts/avatars/109/301/original/77aa.png",
    "avatar_static": "https://files.mastodon.social/cache/accounts/avatars/109/301/original/77aa.png",
    "header": "https://files.mastodon.social/cache/accounts/headers/109/301/original/88bb.png",
    "header_static": "https://files.mastodon.social/cache/accounts/headers/109/301/original/88bb.png",
    "followers_count": 88, "following_count": 120, "statuses_count": 932,
    "last_status_at": "2024-08-19", "emojis": [], "fields": [],
}
CURATOR = {**BOOKISH, "id": "109999", "username": "curator", "acct": "curator",
           "display_name": "Shelf Curator", "url": "https://mastodon.social/@curator",
           "uri": "https://mastodon.social/users/curator", "note": ""}

SHELF_ALT = "A wooden bookshelf with three Le Guin paperbacks and a mug of tea in front."
SHELF = {
    "id": "113001000000100001", "type": "image",
    "url": "https://files.mastodon.social/media_attachments/files/113/001/000/000/100/001/"
           "original/5e1f0c2a9b.jpg",
    "preview_url": "https://files.mastodon.social/media_attachments/files/113/001/000/000/100/"
                   "001/small/5e1f0c2a9b.jpg",
    "remote_url": None, "preview_remote_url": None, "text_url": None,
    "meta": {"original": {"width": 1920, "height": 1440, "size": "1920x1440",
                          "aspect": 1.3333333333333333},
             "small": {"width": 554, "height": 416, "size": "554x416",
                       "aspect": 1.3317307692307692},
             "focus": {"x": 0.0, "y": 0.1}},
    "description": SHELF_ALT, "blurhash": "UJF~gd%M_3ay~qt7xuayIUofM{of?bj[ofWB",
}
COVER = {  # a remote image the instance has not cached: only remote_url
    "id": "113001000000100002", "type": "image", "url": None,
    "preview_url": None, "remote_url": "https://cdn.fosstodon.org/media/cover-lhod.png",
    "preview_remote_url": None, "text_url": None,
    "meta": {"original": {"width": 800, "height": 1200, "size": "800x1200", "aspect": 0.6667}},
    "description": None, "blurhash": None,
}
VIDEO = {
    "id": "22546306", "type": "video",
    "url": "https://files.mastodon.social/media_attachments/files/022/546/306/original/"
           "dab9a597f68b9745.mp4",
    "preview_url": "https://files.mastodon.social/media_attachments/files/022/546/306/small/"
                   "dab9a597f68b9745.png",
    "remote_url": None, "text_url": None,
    "meta": {"length": "0:01:28.65", "duration": 88.65, "fps": 24, "size": "1280x720",
             "width": 1280, "height": 720, "aspect": 1.7777777777777777,
             "original": {"width": 1280, "height": 720, "frame_rate": "6159375/249269",
                          "duration": 88.654, "bitrate": 862056}},
    "description": "A page-turning timelapse", "blurhash": "U58E0g8_0M.94T?bIr00?bD%NGoM?bD%oLt7",
}
GIFV = {
    "id": "21130559", "type": "gifv",
    "url": "https://files.mastodon.social/media_attachments/files/021/130/559/original/"
           "bc84838f77991326.mp4",
    "preview_url": "https://files.mastodon.social/media_attachments/files/021/130/559/small/"
                   "bc84838f77991326.png",
    "remote_url": None, "text_url": None,
    "meta": {"original": {"width": 600, "height": 332}}, "description": None, "blurhash": None,
}

RICH_CONTENT = (
    "<p>Finished “The Left Hand of Darkness” 📚 &amp; loved it! Thanks "
    "<span class=\"h-card\" translate=\"no\"><a href=\"https://fosstodon.org/@ursula_fan\" "
    "class=\"u-url mention\">@<span>ursula_fan</span></a></span> for the tip.</p>"
    "<p>Review: <a href=\"https://www.example.org/reviews/2024/08/left-hand-of-darkness-le-guin\" "
    "target=\"_blank\" rel=\"nofollow noopener noreferrer\" translate=\"no\">"
    "<span class=\"invisible\">https://www.</span><span class=\"ellipsis\">"
    "example.org/reviews/2024/08/le</span><span class=\"invisible\">"
    "ft-hand-of-darkness-le-guin</span></a><br />Shelf pic below :blobcat: it&#39;s cozy</p>"
    "<p><a href=\"https://mastodon.social/tags/Books\" class=\"mention hashtag\" rel=\"tag\">"
    "#<span>Books</span></a> <a href=\"https://mastodon.social/tags/SciFi\" "
    "class=\"mention hashtag\" rel=\"tag\">#<span>SciFi</span></a> "
    "<a href=\"https://mastodon.social/tags/Qualit%C3%A4tslesen\" class=\"mention hashtag\" "
    "rel=\"tag\">#<span>Qualitätslesen</span></a></p>"
)
RICH_TEXT = (
    "Finished “The Left Hand of Darkness” 📚 & loved it! Thanks @ursula_fan for the tip."
    "\n\nReview: https://www.example.org/reviews/2024/08/left-hand-of-darkness-le-guin"
    "\nShelf pic below :blobcat: it's cozy"
    "\n\n#Books #SciFi #Qualitätslesen"
)


def status(sid: str, **over: Any) -> dict[str, Any]:
    """A public status of @bookish on mastodon.social (Status entity, REST/streaming shape)."""
    out: dict[str, Any] = {
        "id": sid, "created_at": "2024-08-20T09:15:02.123Z",
        "in_reply_to_id": None, "in_reply_to_account_id": None,
        "sensitive": False, "spoiler_text": "", "visibility": "public", "language": "en",
        "uri": f"https://mastodon.social/users/bookish/statuses/{sid}",
        "url": f"https://mastodon.social/@bookish/{sid}",
        "replies_count": 0, "reblogs_count": 0, "favourites_count": 0, "edited_at": None,
        "content": f"<p>Reading log {sid[-2:]} <a href=\"https://mastodon.social/tags/books\" "
                   "class=\"mention hashtag\" rel=\"tag\">#<span>books</span></a></p>",
        "reblog": None, "application": {"name": "Web", "website": None},
        "account": BOOKISH, "media_attachments": [], "mentions": [],
        "tags": [{"name": "books", "url": "https://mastodon.social/tags/books"}],
        "emojis": [], "card": None, "poll": None,
    }
    out.update(over)
    return out


RICH = status(
    "113001000000000001", content=RICH_CONTENT, replies_count=2, reblogs_count=5,
    favourites_count=17, application={"name": "Ivory for iOS",
                                      "website": "https://tapbots.com/ivory/"},
    media_attachments=[SHELF, VIDEO, COVER, GIFV],
    mentions=[{"id": "109301", "username": "ursula_fan", "acct": "ursula_fan@fosstodon.org",
               "url": "https://fosstodon.org/@ursula_fan"}],
    tags=[{"name": "books", "url": "https://mastodon.social/tags/books"},
          {"name": "scifi", "url": "https://mastodon.social/tags/scifi"},
          {"name": "qualitätslesen", "url": "https://mastodon.social/tags/qualit%C3%A4tslesen"},
          {"name": "readingchallenge", "url": "https://mastodon.social/tags/readingchallenge"}],
    emojis=[{"shortcode": "blobcat", "url": "https://files.mastodon.social/custom_emojis/"
             "images/000/011/739/original/blobcat.png", "static_url": "https://files."
             "mastodon.social/custom_emojis/images/000/011/739/static/blobcat.png",
             "visible_in_picker": True}],
)
SENSITIVE = status(
    "113001000000000002", sensitive=True, spoiler_text="Injury photo", language="de",
    uri="https://fosstodon.org/users/ursula_fan/statuses/112998877766655544",
    url="https://fosstodon.org/@ursula_fan/112998877766655544", account=URSULA_FAN,
    in_reply_to_id="113000999999999999", in_reply_to_account_id="109245",
    content="<p><span class=\"h-card\"><a href=\"https://mastodon.social/@bookish\" "
            "class=\"u-url mention\">@<span>bookish</span></a></span> Papierschnitt vom "
            "Umblättern 🩹 <a href=\"https://mastodon.social/tags/books\" "
            "class=\"mention hashtag\" rel=\"tag\">#<span>books</span></a></p>",
    mentions=[{"id": "109245", "username": "bookish", "acct": "bookish",
               "url": "https://mastodon.social/@bookish"}],
    media_attachments=[{**SHELF, "id": "113001000000100003", "description": "A paper cut."}],
)
REBLOG = status(
    "113001000000000009", created_at="2024-08-20T10:00:00.000Z", content="", language=None,
    uri="https://mastodon.social/users/curator/statuses/113001000000000009/activity", url=None,
    account=CURATOR, tags=[], reblog=RICH, application=None,
)


# --- conversion ------------------------------------------------------------------------


def test_rich_status_text_and_entities() -> None:
    post = from_status(RICH, "mastodon.social")
    text = post["text"]
    assert text == RICH_TEXT
    assert post["id"] == derived_id("mastodon", RICH["uri"])
    assert post["id_str"] == RICH["uri"]
    assert post["platform"] == "mastodon"
    assert (post["lang"], post["possibly_sensitive"], post["source"]) == ("en", False,
                                                                           "Ivory for iOS")
    assert (post["reply_count"], post["retweet_count"], post["favorite_count"]) == (2, 5, 17)
    assert post["created_at"] == "Tue Aug 20 09:15:02 +0000 2024"
    assert post["timestamp_ms"] == 1724145302123
    ents = post["entities"]
    # indices are code points: the 📚 before the mention counts as one
    mention = ents["user_mentions"][0]
    assert mention["indices"] == [58, 69] and text[58:69] == "@ursula_fan"
    assert mention["screen_name"] == "ursula_fan@fosstodon.org"
    assert mention["id"] == derived_id("mastodon", "https://fosstodon.org/@ursula_fan")
    tags = [(h["text"], h["indices"]) for h in ents["hashtags"]]
    assert [t for t, _ in tags] == ["Books", "SciFi", "Qualitätslesen", "readingchallenge"]
    for name, (start, end) in tags[:3]:
        assert text[start:end] == "#" + name
    assert tags[3][1] is None  # in ``tags`` but not in the text
    (url,) = ents["urls"]
    assert url["expanded_url"] == url["url"] == (
        "https://www.example.org/reviews/2024/08/left-hand-of-darkness-le-guin")
    assert url["display_url"] == "example.org/reviews/2024/08/le…"
    assert text[url["indices"][0]:url["indices"][1]] == url["url"]


def test_photos_alt_text_and_user() -> None:
    post = from_status(RICH, "mastodon.social")
    media = post["extended_entities"]["media"]
    assert [m["id_str"] for m in media] == [SHELF["id"], VIDEO["id"], COVER["id"], GIFV["id"]]
    shelf, _, cover, _ = media
    assert shelf["type"] == "photo" and shelf["media_url_https"] == SHELF["url"]
    assert shelf["ext_alt_text"] == SHELF_ALT
    assert shelf["sizes"]["large"] == {"w": 1920, "h": 1440, "resize": "fit"}
    assert cover["media_url_https"] == COVER["remote_url"] and cover["ext_alt_text"] is None
    user = post["user"]
    assert user["id"] == derived_id("mastodon", BOOKISH["url"])
    assert user["id_str"] == BOOKISH["url"]
    assert (user["screen_name"], user["name"]) == ("bookish", "Bookish Bea 📖")
    assert (user["followers_count"], user["friends_count"], user["statuses_count"]) == (
        1530, 310, 4210)
    assert user["verified"] is None
    assert user["description"] == "Reader & reviewer. #books"
    assert orjson.loads(post["raw_json"]) == RICH


def test_a_video_and_a_gifv_are_their_preview_images() -> None:
    # Mastodon's preview_url is the still it made of the MP4: analysed in place of it.
    video, gifv = (m for m in from_status(RICH, "mastodon.social")["extended_entities"]["media"]
                   if m["type"] != "photo")
    assert (video["type"], gifv["type"]) == ("video", "animated_gif")
    assert video["media_url_https"] == video["media_url"] == VIDEO["preview_url"]
    assert gifv["media_url_https"] == GIFV["preview_url"]
    assert (video["expanded_url"], gifv["expanded_url"]) == (VIDEO["url"], GIFV["url"])
    assert video["ext_alt_text"] == "A page-turning timelapse"
    assert video["sizes"]["large"] == {"w": 1280, "h": 720, "resize": "fit"}
    # a remote one the instance has not cached: its remote preview; none at all: left out
    remote = {**GIFV, "url": None, "preview_url": None,
              "remote_url": "https://cdn.fosstodon.org/media/loop.mp4",
              "preview_remote_url": "https://cdn.fosstodon.org/media/loop.png"}
    audio = {**VIDEO, "id": "1", "type": "audio"}
    bare = {**VIDEO, "id": "2", "preview_url": None}
    (medium,) = from_status(status("113001000000000011", media_attachments=[
        remote, audio, bare]), "mastodon.social")["extended_entities"]["media"]
    assert medium["media_url_https"] == "https://cdn.fosstodon.org/media/loop.png"
    assert medium["expanded_url"] == "https://cdn.fosstodon.org/media/loop.mp4"


def test_sensitive_reply_with_spoiler() -> None:
    post = from_status(SENSITIVE, "mastodon.social")
    text = post["text"]
    assert text == "Injury photo\n\n@bookish Papierschnitt vom Umblättern 🩹 #books"
    assert post["possibly_sensitive"] is True and post["lang"] == "de"
    (mention,) = post["entities"]["user_mentions"]
    start, end = mention["indices"]
    assert text[start:end] == "@bookish"
    # a mention and an author of the same account get the same id
    assert mention["id"] == from_status(RICH, "mastodon.social")["user"]["id"]
    assert post["in_reply_to_user_id"] == mention["id"]
    assert post["in_reply_to_screen_name"] == "bookish"
    (tag,) = post["entities"]["hashtags"]
    assert text[tag["indices"][0]:tag["indices"][1]] == "#books"
    assert post["extended_entities"]["media"][0]["ext_alt_text"] == "A paper cut."


def test_reblog_is_a_retweet() -> None:
    post = from_status(REBLOG, "mastodon.social")
    original = from_status(RICH, "mastodon.social")
    text = post["text"]
    assert text == "RT @bookish: " + RICH_TEXT
    assert post["id_str"] == REBLOG["uri"] and post["id"] != original["id"]
    assert post["user"]["screen_name"] == "curator"
    rt, fan = post["entities"]["user_mentions"]
    assert rt["indices"] == [3, 11] and text[3:11] == "@bookish"
    assert rt["id"] == original["user"]["id"]
    assert text[fan["indices"][0]:fan["indices"][1]] == "@ursula_fan"
    for tag in post["entities"]["hashtags"][:3]:
        assert text[tag["indices"][0]:tag["indices"][1]] == "#" + tag["text"]
    assert post["extended_entities"]["media"] == original["extended_entities"]["media"]
    assert post["lang"] == "en"  # the reblog has none; the original's
    embedded = post["retweeted_status"]
    assert embedded["id"] == original["id"] and embedded["text"] == RICH_TEXT


def test_quote_post() -> None:  # Mastodon 4.5: a Quote entity with the quoted status
    quoting = status("113001000000000010", quote={"state": "accepted",
                                                  "quoted_status": SENSITIVE})
    post = from_status(quoting, "mastodon.social")
    assert post["is_quote_status"] is True
    assert post["quoted_status_id"] == derived_id("mastodon", SENSITIVE["uri"])
    assert post["quoted_status"]["text"].startswith("Injury photo")
    assert from_status(RICH, "mastodon.social")["is_quote_status"] is False


def test_posts_fit_the_tweets_table() -> None:
    posts = [from_status(s, "mastodon.social") for s in (RICH, SENSITIVE, REBLOG)]
    for post in posts:
        post["dt"] = partition_of(post["timestamp_ms"])
    table = pa.Table.from_pylist(posts, schema=TWEET_ROWS)
    media = table.column("extended_entities").to_pylist()[0]["media"]
    assert [m["ext_alt_text"] for m in media] == [
        SHELF_ALT, "A page-turning timelapse", None, None]
    assert [m["type"] for m in media] == ["photo", "video", "photo", "animated_gif"]
    assert table.column("retweeted_status").to_pylist()[2]["id"] == posts[0]["id"]


@pytest.mark.parametrize(("bad", "reason"), [
    ({k: v for k, v in RICH.items() if k != "created_at"}, "created_at"),
    ({**RICH, "created_at": "yesterday"}, "ISO 8601"),
    ({**RICH, "uri": None, "url": None}, "neither uri nor url"),
    ({**RICH, "account": None}, "account"),
    ({**RICH, "content": ["<p>x</p>"]}, "content"),
])
def test_malformed_status_is_a_value_error(bad: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        from_status(bad, "mastodon.social")
    with pytest.raises(StatusError):
        from_status("not a status", "mastodon.social")  # type: ignore[arg-type]


@pytest.mark.parametrize(("html", "text"), [
    ("<p>one</p><p>two<br>three</p>", "one\n\ntwo\nthree"),
    ("<p>a &lt;b&gt; &amp; &quot;c&quot; &#x1F600;</p>", "a <b> & \"c\" 😀"),
    ("plain, no tags", "plain, no tags"),
    ("<p>#tag </p><p>next</p>", "#tag\n\nnext"),
    ("<blockquote><p>quoted</p></blockquote><ul><li>x</li><li>y</li></ul>", "quoted\n\nx\ny"),
])
def test_html_to_text(html: str, text: str) -> None:
    assert render(html)[0] == text


def test_sse_parser_and_ids() -> None:
    parser = SSEParser()
    lines = [":)", "event: update", "data: {\"id\":\"1\"}", "", ":thump", "event: delete",
             "data:2", "", "data: a", "data: b", ""]
    events = [e for e in map(parser.feed, lines) if e is not None]
    assert [(e.type, e.data) for e in events] == [
        ("update", "{\"id\":\"1\"}"), ("delete", "2"), ("message", "a\nb")]
    assert newest("99", "100") == "100" and newest(None, "5") == "5"


# --- a Mastodon instance on loopback ---------------------------------------------------

S = [status(f"1130010000000001{n:02d}") for n in range(10)]  # S[0] < S[1] < ... by id


class FakeMastodon:
    """What the loopback instance holds and does; tests script it."""

    def __init__(self) -> None:
        self.timeline: list[dict[str, Any]] = []
        self.streams: list[Any] = []  # per connection: an int status, a redirect, or steps
        self.rate_limit_next = 0  # timeline requests still to answer with 429
        self.requests: list[tuple[str, dict[str, str], str | None, float]] = []
        self.on_timeline: Callable[[FakeMastodon, int], None] | None = None
        self.lock = threading.Lock()

    def log(self, path: str, query: dict[str, str], auth: str | None) -> None:
        with self.lock:
            self.requests.append((path, query, auth, time.monotonic()))

    def calls(self, prefix: str) -> list[tuple[str, dict[str, str], str | None, float]]:
        return [r for r in self.requests if r[0].startswith(prefix)]


def make_handler(fake: FakeMastodon) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            split = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(split.query).items()}
            fake.log(split.path, query, self.headers.get("Authorization"))
            path = split.path.removeprefix("/streaming-host")
            if path.startswith("/api/v1/streaming/"):
                self._stream()
            elif path.startswith(("/api/v1/timelines/tag/", "/api/v1/timelines/public")):
                self._timeline(split.path, query)
            else:
                self._json(404, {"error": "Record not found"})

        def _json(self, code: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = orjson.dumps(body)
            self.send_response(code)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def _timeline(self, path: str, query: dict[str, str]) -> None:
            with fake.lock:
                number = len(fake.calls("/api/v1/timelines"))
                limited = fake.rate_limit_next > 0
                fake.rate_limit_next -= limited
            if fake.on_timeline is not None:
                fake.on_timeline(fake, number)
            reset = (datetime.now(UTC) + timedelta(seconds=0.3)).strftime(
                "%Y-%m-%dT%H:%M:%S.%fZ")
            limits = {"X-RateLimit-Limit": "300", "X-RateLimit-Reset": reset}
            if limited:
                self._json(429, {"error": "Too many requests"},
                           {**limits, "X-RateLimit-Remaining": "0"})
                return
            key = lambda s: int(s["id"])  # noqa: E731
            rows = sorted(fake.timeline, key=key)
            limit = int(query.get("limit", "20"))
            if "only_media" in query:
                rows = [s for s in rows if s["media_attachments"]]
            if "min_id" in query:  # the page just above min_id
                rows = [s for s in rows if key(s) > int(query["min_id"])][:limit]
            else:
                rows = rows[-limit:]
            page = sorted(rows, key=key, reverse=True)
            base = f"http://{self.headers['Host']}{path}"
            links = {}
            if page:
                links["Link"] = (f"<{base}?max_id={page[-1]['id']}>; rel=\"next\", "
                                 f"<{base}?min_id={page[0]['id']}>; rel=\"prev\"")
            self._json(200, page, {**limits, "X-RateLimit-Remaining": "299", **links})

        def _stream(self) -> None:
            with fake.lock:
                script = fake.streams.pop(0) if fake.streams else [("hold",)]
            if isinstance(script, int):
                self._json(script, {"error": "Missing access token"}
                           if script == 401 else {"error": "Unknown channel requested"})
                return
            if isinstance(script, tuple) and script[0] == "redirect":
                self.send_response(302)
                self.send_header("Location", script[1] + self.path)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.close_connection = True
            try:
                self._chunk(":)\n")
                for step in script:
                    if step[0] == "send":
                        self._chunk(step[1])
                    elif step[0] == "drop":  # half an event, then the connection is gone
                        data = step[1].encode()
                        self.wfile.write(b"%x\r\n" % (len(data) + 64) + data)
                        self.wfile.flush()
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                    elif step[0] == "hold":
                        self._hold()
                        return
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                return

        def _hold(self) -> None:
            deadline = time.monotonic() + 4
            while time.monotonic() < deadline:
                self._chunk(":thump\n")
                time.sleep(0.05)

        def _chunk(self, text: str) -> None:
            data = text.encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

    return Handler


def update(s: dict[str, Any], event: str = "update") -> tuple[str, str]:
    return ("send", f"event: {event}\ndata: {orjson.dumps(s).decode()}\n\n")


@contextmanager
def instance(fake: FakeMastodon) -> Iterator[str]:
    with loopback_server(make_handler(fake)) as port:
        yield f"http://127.0.0.1:{port}"


FAST = {"backoff_seconds": 0.02, "max_backoff_seconds": 0.1, "poll_seconds": 0.05,
        "heartbeat_timeout": 2.0, "timeout": 2.0}


async def take(source: Any, cursor: str | None,
               done: Callable[[list[Item]], bool]) -> list[Item]:
    """Items of ``source.stream(cursor)`` until ``done`` says so (at most 4 s)."""
    items: list[Item] = []

    async def run() -> None:
        async with aclosing(source.stream(cursor)) as stream:
            async for item in stream:
                items.append(item)
                if done(items):
                    return

    await asyncio.wait_for(run(), 4)
    return items


def posts_of(items: list[Item]) -> list[str]:
    return [p["id_str"] for item in items for p in item.posts]


def has(status_: dict[str, Any]) -> Callable[[list[Item]], bool]:
    return lambda items: status_["uri"] in posts_of(items)


@pytest.fixture(autouse=True)
def _no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOCIALSIGHT_MASTODON_TOKEN", raising=False)


def test_stream_survives_bad_events_and_a_dropped_connection() -> None:
    bad = {k: v for k, v in status("113001000000000150").items() if k != "created_at"}
    after_drop = status("113001000000000160")  # its event is cut by the drop
    while_away = status("113001000000000170")  # posted while the stream was down
    later = status("113001000000000180")
    rich = {**RICH, "id": "113001000000000100"}
    edited = {**S[1], "edited_at": "2024-08-20T09:20:00.000Z",
              "content": "<p>Reading log, edited</p>"}
    fake = FakeMastodon()
    fake.timeline = [rich, S[1], after_drop, while_away]
    fake.streams = [
        [update(rich), ("send", ":thump\n"), ("send", "event: delete\ndata: 10990\n\n"),
         ("send", "event: update\ndata: {\"id\":\"113001000000000140\",\"content\n\n"),
         update(S[1]), update(edited, "status.update"), update(bad),
         ("send", "event: filters_changed\ndata: undefined\n\n"),
         ("drop", f"event: update\ndata: {orjson.dumps(after_drop).decode()[:90]}")],
        [update(later), ("hold",)],
    ]
    with instance(fake) as base:
        source = MastodonTag(base, "#Books", **FAST)
        items = asyncio.run(take(source, None, has(later)))
    assert source.key == f"mastodon:{base.split('//')[1]}#books"
    assert posts_of(items) == [rich["uri"], S[1]["uri"], after_drop["uri"],
                               while_away["uri"], later["uri"]]
    # a status.update event is an edit; a delete event names a local id
    assert [(p["id_str"], p["text"]) for item in items for p in item.edits] == [
        (S[1]["uri"], "Reading log, edited")]
    assert [d for item in items for d in item.deletions] == [
        Deletion("mastodon", None, None, local_id="10990", instance=source.host)]
    reasons = [p.reason for item in items for p in item.problems]
    assert len(reasons) == 2
    assert reasons[0].startswith("malformed update event")
    assert "created_at" in reasons[1] and bad["id"] in reasons[1]
    assert all(p.raw for item in items for p in item.problems)
    photo = items[0].posts[0]["extended_entities"]["media"][0]
    assert photo["ext_alt_text"] == SHELF_ALT
    # the reconnection caught up from the newest id seen, then streamed again
    (catch_up,) = fake.calls("/api/v1/timelines/tag/")
    assert catch_up[1]["min_id"] == bad["id"] and catch_up[1]["limit"] == "40"
    streams = fake.calls("/api/v1/streaming/hashtag")
    assert len(streams) == 2 and streams[0][1] == {"tag": "Books"}
    cursors = [item.cursor for item in items if item.posts]
    assert cursors[-1] == later["id"]
    assert cursors == sorted(cursors, key=int)


def test_resume_catches_up_page_by_page_through_a_rate_limit() -> None:
    fake = FakeMastodon()
    fake.timeline = S[:6]
    fake.rate_limit_next = 1
    fake.streams = [[update(S[7]), ("hold",)]]
    with instance(fake) as base:
        source = MastodonTag(base, "books", token="test-token", page_limit=2, **FAST)
        items = asyncio.run(take(source, S[1]["id"], has(S[7])))
    # nothing after the cursor is lost, nothing before it is read again
    assert posts_of(items) == [s["uri"] for s in (S[2], S[3], S[4], S[5], S[7])]
    calls = fake.calls("/api/v1/timelines/tag/books")
    assert [c[1]["min_id"] for c in calls] == [S[1]["id"], S[1]["id"], S[3]["id"], S[5]["id"]]
    assert calls[1][3] - calls[0][3] >= 0.2  # waited for X-RateLimit-Reset
    assert {c[2] for c in fake.requests} == {"Bearer test-token"}
    assert [i.cursor for i in items if i.posts] == [S[3]["id"], S[5]["id"], S[7]["id"]]


def test_streaming_refused_falls_back_to_polling() -> None:
    sensitive = {**SENSITIVE, "id": "113001000000000103"}
    bad = {"id": "113001000000000101", "uri": "https://x.example/1"}  # no created_at
    fake = FakeMastodon()
    fake.timeline = [S[0], bad, sensitive]
    fake.streams = [401]

    def publish(fake: FakeMastodon, number: int) -> None:
        if number == 2:  # after the first poll, a new status appears
            fake.timeline.append(S[4])

    fake.on_timeline = publish
    with instance(fake) as base:
        source = MastodonTag(base, "books", stream_retry_seconds=60, **FAST)
        items = asyncio.run(take(source, None, has(S[4])))
    assert posts_of(items) == [S[0]["uri"], sensitive["uri"], S[4]["uri"]]
    assert len(fake.calls("/api/v1/streaming/")) == 1  # not retried before stream_retry
    polls = fake.calls("/api/v1/timelines/tag/books")
    assert "min_id" not in polls[0][1]  # from now: the newest page
    assert all(p[1].get("min_id") == sensitive["id"] for p in polls[1:])
    assert all(p[2] is None for p in fake.requests)  # no token, no Authorization
    # a status that cannot be read is a problem; polling goes on
    (problem,) = [p for i in items for p in i.problems]
    assert bad["id"] in problem.reason and "created_at" in problem.reason
    assert "/api/v1/timelines/tag/books" in (problem.location or "")
    assert orjson.loads(problem.raw or "") == bad


def test_public_media_polls_when_the_stream_host_refuses_then_streams_again() -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    dead_port = closed.getsockname()[1]
    closed.close()  # nothing listens there: connection refused
    fake = FakeMastodon()
    photo = {**S[3], "media_attachments": [SHELF]}
    fake.timeline = [S[1], S[2], photo]
    with instance(fake) as base:
        # another origin (localhost, not 127.0.0.1): the token must follow the redirect
        streaming_host = base.replace("127.0.0.1", "localhost") + "/streaming-host"
        fake.streams = [("redirect", f"http://127.0.0.1:{dead_port}"),
                        ("redirect", streaming_host),
                        [update({**S[8], "media_attachments": [SHELF]}), ("hold",)]]
        source = MastodonPublicMedia(base, token="tok", stream_retry_seconds=0.15, **FAST)
        items = asyncio.run(take(source, None, lambda items: S[8]["uri"] in posts_of(items)))
    assert source.key.endswith("/public:media")
    assert posts_of(items)[0] == photo["uri"]  # only statuses with media
    assert posts_of(items)[-1] == S[8]["uri"]
    polls = fake.calls("/api/v1/timelines/public")
    assert polls and all(p[1]["only_media"] == "true" for p in polls)
    streams = fake.calls("/streaming-host/api/v1/streaming/public")
    assert len(streams) == 1
    assert streams[0][1] == {"only_media": "true"} and streams[0][2] == "Bearer tok"


def test_delete_events_name_the_status_and_status_updates_are_edits() -> None:
    read, unseen = S[2], S[9]
    edited = {**read, "edited_at": "2024-08-20T09:30:00.000Z",
              "content": "<p>Reading log, now with the right title</p>"}
    fake = FakeMastodon()
    fake.streams = [[
        update(read),
        ("send", f"event: delete\ndata: {read['id']}\n\n"),  # a status this source read
        ("send", f"event: delete\ndata: {unseen['id']}\n\n"),  # one it never saw
        ("send", "event: delete\ndata: not an id\n\n"),
        update(edited, "status.update"),
        ("send", "event: delete\ndata: 113001000000000199\n\n"),
        ("hold",)]]
    with instance(fake) as base:
        source = MastodonTag(base, "books", **FAST)
        items = asyncio.run(take(source, None, lambda items: len(
            [d for i in items for d in i.deletions]) == 3))
    host = base.split("//")[1]
    (post,) = [p for item in items for p in item.posts]
    deletions = [d for item in items for d in item.deletions]
    assert deletions == [
        Deletion("mastodon", post["id"], read["uri"], local_id=read["id"], instance=host),
        Deletion("mastodon", None, None, local_id=unseen["id"], instance=host),
        Deletion("mastodon", None, None, local_id="113001000000000199", instance=host)]
    assert all(d.forgets_post and d.reason == "deleted" for d in deletions)
    # what the lake keeps lets a local id find its post: raw_json's $.id
    assert orjson.loads(post["raw_json"])["id"] == read["id"]
    (edit,) = [p for item in items for p in item.edits]
    assert (edit["id"], edit["text"]) == (post["id"], "Reading log, now with the right title")
    (problem,) = [p for item in items for p in item.problems]
    assert problem.reason == "malformed delete event: its data is no status id"
    assert problem.raw == "not an id" and (problem.location or "").endswith("#delete")
    assert [i.cursor for i in items if i.posts] == [read["id"]]  # deletes move no cursor


def test_the_memory_of_local_ids_is_bounded() -> None:
    source = MastodonTag("mastodon.social", "books", max_remembered=2, token="")
    posts, _, _ = source._convert([(s, None) for s in S[:3]], "test")
    assert list(source.remembered) == [S[1]["id"], S[2]["id"]]
    assert source.remembered[S[2]["id"]] == (posts[2]["id"], S[2]["uri"])

"""Bluesky: Jetstream events → canonical posts, and the live source against a real
websocket server on loopback that speaks Jetstream's protocol (``/subscribe`` with
``wantedCollections`` and ``cursor``, JSON text frames in ``time_us`` order, replay
from a cursor).

The events are written in the shapes Jetstream sends (its README's examples) with
records in the ``app.bsky.feed.post`` lexicon: rich-text facets with UTF-8 byte
ranges, ``app.bsky.embed.images`` and ``app.bsky.embed.recordWithMedia`` embeds with
blob refs, replies with strong refs, identity and account events.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import pyarrow as pa
import pytest
from websockets.asyncio.server import ServerConnection, serve

from socialsight.lake.schema import TWEET_ROWS
from socialsight.posts.bluesky import MalformedEventError, convert_jetstream, from_jetstream
from socialsight.posts.canonical import Deletion, derived_id, partition_of
from socialsight.sources.base import Item
from socialsight.sources.bluesky import Filter, Jetstream, parse_cursor

ALICE = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
BOB = "did:plc:z72i7hdynmk6r22z27h6tvur"
CAROL = "did:plc:vwzwgnygau7ed7b7wt5ux7y2"
DAVE = "did:web:dave.example.com"

BLOB_1 = "bafkreiaxqg6vzj4wbyb7x2ytnmukb5fkxxq3vvkxgdhsn6rrtqe2ffyn5e"
BLOB_2 = "bafkreigf3fhhbm2tbkgnmz2c5zyqhp7kvyjxmpwlw7mpxx3e3a5i4ic2pa"
BLOB_3 = "bafkreib5kxo4wtnd5bg2uxpmsv3iqxw6jiyzk7kcmvajspp7ixbcs7ijbm"

T0 = 1_725_911_162_329_308  # time_us of the first event


def facet(text: str, shown: str, feature: dict[str, Any]) -> dict[str, Any]:
    """A facet over ``shown`` in ``text`` as a client writes it: UTF-8 byte offsets."""
    start = text.encode().index(shown.encode())
    return {"index": {"byteStart": start, "byteEnd": start + len(shown.encode())},
            "features": [feature]}


def blob(cid: str, size: int = 412_345) -> dict[str, Any]:
    return {"$type": "blob", "ref": {"$link": cid}, "mimeType": "image/jpeg", "size": size}


def commit(did: str, time_us: int, rkey: str, record: dict[str, Any] | None,
           operation: str = "create", collection: str = "app.bsky.feed.post") -> dict[str, Any]:
    body: dict[str, Any] = {"rev": f"3l3qo2vutsw{time_us % 100:02d}", "operation": operation,
                            "collection": collection, "rkey": rkey}
    if record is not None:
        body["record"] = record
        body["cid"] = "bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi"
    return {"did": did, "time_us": time_us, "kind": "commit", "commit": body}


# --- the events ----------------------------------------------------------------------

PHOTO_TEXT = ("Reading nook tour 📚✨ full story: example.com/nook-tour… #Kindle "
              "thanks @bob.bsky.social")
PHOTO_POST = commit(ALICE, T0 + 1, "3l3qo2vuowo2b", {
    "$type": "app.bsky.feed.post",
    "text": PHOTO_TEXT,
    "createdAt": "2024-09-09T19:46:02.102Z",
    "langs": ["en"],
    "facets": [
        facet(PHOTO_TEXT, "example.com/nook-tour…", {
            "$type": "app.bsky.richtext.facet#link",
            "uri": "https://example.com/nook-tour-2024?utm=bsky"}),
        facet(PHOTO_TEXT, "#Kindle", {"$type": "app.bsky.richtext.facet#tag", "tag": "Kindle"}),
        facet(PHOTO_TEXT, "@bob.bsky.social", {
            "$type": "app.bsky.richtext.facet#mention", "did": BOB}),
    ],
    "embed": {"$type": "app.bsky.embed.images", "images": [
        {"alt": "A window seat with cushions and a Kindle", "image": blob(BLOB_1),
         "aspectRatio": {"width": 2000, "height": 1500}},
        {"alt": "", "image": blob(BLOB_2)},
    ]},
})
IDENTITY = {"did": CAROL, "time_us": T0 + 2, "kind": "identity",
            "identity": {"did": CAROL, "handle": "carol.example.org", "seq": 1409752997,
                         "time": "2024-09-09T19:46:02.870Z"}}
QUOTE_TEXT = "積読がまた増えた😅 #本"
QUOTE_POST = commit(CAROL, T0 + 3, "3l3qo3abcde2k", {
    "$type": "app.bsky.feed.post",
    "text": QUOTE_TEXT,
    "createdAt": "2024-09-09T19:46:03.000Z",
    "langs": ["ja"],
    "facets": [facet(QUOTE_TEXT, "#本", {"$type": "app.bsky.richtext.facet#tag", "tag": "本"})],
    "embed": {"$type": "app.bsky.embed.recordWithMedia",
              "record": {"$type": "app.bsky.embed.record", "record": {
                  "uri": f"at://{ALICE}/app.bsky.feed.post/3l3qo2vuowo2b",
                  "cid": "bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi"}},
              "media": {"$type": "app.bsky.embed.images", "images": [
                  {"alt": "本棚の写真", "image": blob(BLOB_3)}]}},
})
LIKE = commit(BOB, T0 + 4, "3l3qo4likeaaa", {
    "$type": "app.bsky.feed.like", "createdAt": "2024-09-09T19:46:04.102Z",
    "subject": {"cid": "bafyreidc6sydkkbchcyg62v77wbhzvb2mvytlmsychqgwf2xojjtirmzj4",
                "uri": f"at://{ALICE}/app.bsky.feed.post/3l3qo2vuowo2b"}},
    collection="app.bsky.feed.like")
MALFORMED = '{"did": "did:plc:ewvi7nxzyoun6zhxrhs64oiz", "time_us": 17259111623'  # cut short
REPLY_POST = commit(BOB, T0 + 6, "3l3qo6replyzz", {
    "$type": "app.bsky.feed.post",
    "text": "Love the cushions! Which kindle is that?",
    "createdAt": "2024-09-09T19:46:06.000Z",
    "langs": ["en"],
    "reply": {
        "root": {"uri": f"at://{ALICE}/app.bsky.feed.post/3l3qo2vuowo2b",
                 "cid": "bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi"},
        "parent": {"uri": f"at://{ALICE}/app.bsky.feed.post/3l3qo2vuowo2b",
                   "cid": "bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi"}},
})
DELETE = commit(ALICE, T0 + 7, "3l3qo2vuowo2b", None, operation="delete")
ACCOUNT = {"did": CAROL, "time_us": T0 + 8, "kind": "account",
           "account": {"active": True, "did": CAROL, "seq": 1409753013,
                       "time": "2024-09-09T19:46:08.870Z"}}
NO_TEXT = commit(DAVE, T0 + 9, "3l3qo9notextx", {
    "$type": "app.bsky.feed.post", "createdAt": "2024-09-09T19:46:09.000Z"})
UPDATE = commit(ALICE, T0 + 10, "3l3qo2vuowo2b", {
    "$type": "app.bsky.feed.post", "text": "edited", "createdAt": "2024-09-09T19:46:02.102Z"},
    operation="update")
GERMAN_POST = commit(DAVE, T0 + 11, "3l3qoagermanx", {
    "$type": "app.bsky.feed.post",
    "text": "Neue Bücher für den Urlaub – Empfehlungen?",
    "createdAt": "2024-09-09T21:46:11+02:00",
    "langs": ["de", "en"],
    "tags": ["books"],
    "labels": {"$type": "com.atproto.label.defs#selfLabels", "values": [{"val": "nudity"}]},
})

MESSAGES: list[str] = [
    orjson.dumps(PHOTO_POST).decode(),
    orjson.dumps(IDENTITY).decode(),
    orjson.dumps(QUOTE_POST).decode(),
    orjson.dumps(LIKE).decode(),
    MALFORMED,
    orjson.dumps(REPLY_POST).decode(),
    orjson.dumps(DELETE).decode(),
    orjson.dumps(ACCOUNT).decode(),
    orjson.dumps(NO_TEXT).decode(),
    orjson.dumps(UPDATE).decode(),
    orjson.dumps(GERMAN_POST).decode(),
]
LAST_TIME_US = T0 + 11


def uri(event: dict[str, Any]) -> str:
    return f"at://{event['did']}/app.bsky.feed.post/{event['commit']['rkey']}"


POST_URIS = [uri(e) for e in (PHOTO_POST, QUOTE_POST, REPLY_POST, GERMAN_POST)]


# --- a Jetstream on loopback -----------------------------------------------------------


class FakeJetstream:
    """Serves ``messages`` (JSON texts, ``time_us`` ascending) like Jetstream's /subscribe.

    With ``?cursor=T`` it replays from the first event whose ``time_us`` is at least T
    (a malformed message belongs to the cursor of the event before it). Connection
    number n is dropped after ``drops[n]`` messages: ``how`` is "close" (a close frame,
    1001 going away, as on a restart) or "abort" (the TCP connection just ends).
    """

    def __init__(self, messages: list[str], drops: tuple[int, ...] = (),
                 how: str = "close") -> None:
        self.messages = messages
        self.drops = drops
        self.how = how
        self.requests: list[dict[str, list[str]]] = []
        self.url = ""
        self.times = []
        last = 0
        for text in messages:
            with contextlib.suppress(orjson.JSONDecodeError):
                last = orjson.loads(text).get("time_us", last)
            self.times.append(last)

    async def handler(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        parts = urlsplit(ws.request.path)
        if parts.path != "/subscribe":
            await ws.close(1008, "unknown path")
            return
        query = parse_qs(parts.query)
        number = len(self.requests)
        self.requests.append(query)
        cursor = int(query["cursor"][0]) if "cursor" in query else 0
        todo = [m for m, t in zip(self.messages, self.times, strict=True) if t >= cursor]
        drop = self.drops[number] if number < len(self.drops) else None
        for sent, message in enumerate(todo):
            if drop is not None and sent == drop:
                break
            await ws.send(message)
        else:
            await ws.wait_closed()  # the live tail: nothing new, keep the socket open
            return
        if self.how == "abort":
            await (await ws.ping())  # the client has everything sent so far...
            ws.transport.abort()  # ...when the TCP connection just ends
        else:
            await ws.close(1001, "going away")


@contextlib.asynccontextmanager
async def jetstream(messages: list[str], drops: tuple[int, ...] = (),
                    how: str = "close") -> AsyncIterator[FakeJetstream]:
    fake = FakeJetstream(messages, drops, how)
    async with serve(fake.handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        fake.url = f"ws://127.0.0.1:{port}/subscribe"
        yield fake


def source(url: str, filters: str | tuple[str, ...] = (), **options: Any) -> Jetstream:
    settings: dict[str, Any] = {"batch_size": 3, "batch_seconds": 0.05,
                                "backoff_initial": 0.01, "backoff_max": 0.05}
    settings.update(options)
    return Jetstream(filters, url, **settings)


async def collect(src: Jetstream, cursor: str | None,
                  done: Callable[[list[Item]], bool], timeout: float = 3.0) -> list[Item]:
    """Items from ``src`` until ``done(items)``; the stream is closed after."""
    items: list[Item] = []
    async with asyncio.timeout(timeout), contextlib.aclosing(src.stream(cursor)) as stream:
        async for item in stream:
            items.append(item)
            if done(items):
                break
    return items


def posts_of(items: list[Item]) -> list[dict[str, Any]]:
    return [post for item in items for post in item.posts]


def cursor_reached(time_us: int) -> Callable[[list[Item]], bool]:
    return lambda items: bool(items) and items[-1].cursor is not None and int(
        items[-1].cursor) >= time_us


def run(coro: Any) -> Any:
    return asyncio.run(coro)


# --- the whole stream ------------------------------------------------------------------


@pytest.fixture(scope="module")
def streamed() -> tuple[list[Item], list[dict[str, list[str]]]]:
    async def go() -> tuple[list[Item], list[dict[str, list[str]]]]:
        async with jetstream(MESSAGES) as fake:
            items = await collect(source(fake.url), None, cursor_reached(LAST_TIME_US))
            return items, fake.requests

    return run(go())


def by_uri(items: list[Item]) -> dict[str, dict[str, Any]]:
    return {post["id_str"]: post for post in posts_of(items)}


def test_asks_for_posts_only(streamed: Any) -> None:
    _, requests = streamed
    assert requests[0]["wantedCollections"] == ["app.bsky.feed.post"]
    assert "cursor" not in requests[0]  # no cursor: the live tail


def test_only_new_posts_become_posts(streamed: Any) -> None:
    items, _ = streamed
    assert [p["id_str"] for p in posts_of(items)] == POST_URIS  # not likes, deletes, updates
    assert items[-1].cursor == str(LAST_TIME_US)
    assert all(len(item.posts) + len(item.problems) <= 3 for item in items)  # small batches


def test_photo_post(streamed: Any) -> None:
    post = by_uri(streamed[0])[uri(PHOTO_POST)]
    assert post["id"] == derived_id("bluesky", uri(PHOTO_POST))
    assert 2**62 <= post["id"] < 2**63
    assert post["platform"] == "bluesky"
    assert post["text"] == PHOTO_TEXT
    assert post["created_at"] == "Mon Sep 09 19:46:02 +0000 2024"
    assert post["timestamp_ms"] == 1_725_911_162_102
    assert post["lang"] == "en"
    assert post["user"] == {"id": derived_id("bluesky", ALICE), "id_str": ALICE,
                            "screen_name": ALICE, "name": None}
    assert post["raw_json"] == MESSAGES[0]  # the message exactly as received
    assert post["is_quote_status"] is False and post["in_reply_to_status_id"] is None

    media = post["extended_entities"]["media"]
    assert [m["media_url_https"] for m in media] == [
        f"https://cdn.bsky.app/img/feed_fullsize/plain/{ALICE}/{BLOB_1}@jpeg",
        f"https://cdn.bsky.app/img/feed_fullsize/plain/{ALICE}/{BLOB_2}@jpeg",
    ]
    assert [(m["id_str"], m["type"], m["ext_alt_text"]) for m in media] == [
        (BLOB_1, "photo", "A window seat with cushions and a Kindle"),
        (BLOB_2, "photo", None),  # an empty alt is no alt text
    ]
    assert media[0]["expanded_url"] == f"https://bsky.app/profile/{ALICE}/post/3l3qo2vuowo2b"


def test_facet_byte_offsets_become_character_indices(streamed: Any) -> None:
    post = by_uri(streamed[0])[uri(PHOTO_POST)]
    ents = post["entities"]
    # "📚✨" are 7 bytes but 2 characters: the link starts at byte 38, character 33.
    assert ents["urls"] == [{"url": "example.com/nook-tour…",
                             "expanded_url": "https://example.com/nook-tour-2024?utm=bsky",
                             "display_url": "example.com/nook-tour…", "indices": [33, 55]}]
    assert ents["hashtags"] == [{"text": "Kindle", "indices": [56, 63]}]
    assert ents["user_mentions"] == [{"id": derived_id("bluesky", BOB), "id_str": BOB,
                                      "screen_name": "bob.bsky.social", "name": None,
                                      "indices": [71, 87]}]
    for entity, shown in ((ents["urls"][0], "example.com/nook-tour…"),
                          (ents["hashtags"][0], "#Kindle"),
                          (ents["user_mentions"][0], "@bob.bsky.social")):
        start, end = entity["indices"]
        assert PHOTO_TEXT[start:end] == shown


def test_quote_with_media_in_japanese(streamed: Any) -> None:
    post = by_uri(streamed[0])[uri(QUOTE_POST)]
    assert post["lang"] == "ja"
    assert post["user"]["screen_name"] == "carol.example.org"  # learnt from the identity event
    assert post["entities"]["hashtags"] == [{"text": "本", "indices": [10, 12]}]
    assert QUOTE_TEXT[10:12] == "#本"
    quoted = f"at://{ALICE}/app.bsky.feed.post/3l3qo2vuowo2b"
    assert post["is_quote_status"] is True
    assert post["quoted_status_id"] == derived_id("bluesky", quoted)
    assert post["quoted_status_id_str"] == quoted
    [photo] = post["extended_entities"]["media"]
    assert photo["media_url_https"] == (
        f"https://cdn.bsky.app/img/feed_fullsize/plain/{CAROL}/{BLOB_3}@jpeg")
    assert photo["ext_alt_text"] == "本棚の写真"


def test_reply_names_its_parent(streamed: Any) -> None:
    post = by_uri(streamed[0])[uri(REPLY_POST)]
    parent = f"at://{ALICE}/app.bsky.feed.post/3l3qo2vuowo2b"
    assert post["in_reply_to_status_id"] == derived_id("bluesky", parent)
    assert post["in_reply_to_status_id_str"] == parent
    assert post["in_reply_to_user_id"] == derived_id("bluesky", ALICE)
    assert post["in_reply_to_user_id_str"] == ALICE
    assert post["extended_entities"]["media"] == []


def test_other_language_tags_and_labels(streamed: Any) -> None:
    post = by_uri(streamed[0])[uri(GERMAN_POST)]
    assert post["lang"] == "de"
    assert post["timestamp_ms"] == 1_725_911_171_000  # 21:46:11+02:00 is 19:46:11 UTC
    assert post["created_at"] == "Mon Sep 09 19:46:11 +0000 2024"
    assert post["entities"]["hashtags"] == [{"text": "books", "indices": None}]
    assert post["possibly_sensitive"] is True  # self-labelled nudity


def test_bad_messages_are_problems(streamed: Any) -> None:
    problems = [p for item in streamed[0] for p in item.problems]
    assert len(problems) == 2
    malformed, no_text = problems
    assert malformed.reason.startswith("malformed JSON from Jetstream")
    assert malformed.raw == MALFORMED
    assert no_text.reason == "malformed Jetstream event: the post record has no 'text' string"
    assert no_text.location is not None and no_text.location.endswith(f"?cursor={T0 + 9}")


def test_a_delete_commit_is_a_deletion_and_an_update_an_edit(streamed: Any) -> None:
    items, _ = streamed
    photo = uri(PHOTO_POST)
    assert [d for item in items for d in item.deletions] == [
        Deletion("bluesky", derived_id("bluesky", photo), photo)]
    (edit,) = [p for item in items for p in item.edits]
    assert (edit["id"], edit["id_str"], edit["text"]) == (
        derived_id("bluesky", photo), photo, "edited")
    assert edit["raw_json"] == orjson.dumps(UPDATE).decode()


def test_posts_fit_the_tweets_table(streamed: Any) -> None:
    rows = [{**p, "dt": partition_of(p["timestamp_ms"])} for p in posts_of(streamed[0])]
    table = pa.Table.from_pylist(rows, schema=TWEET_ROWS)
    assert table.num_rows == 4
    assert table.column("dt").to_pylist() == ["2024-09-09"] * 4


# --- the adapter alone -------------------------------------------------------------------


@pytest.mark.parametrize("event", [
    DELETE, UPDATE, LIKE, IDENTITY, ACCOUNT, {"kind": "heartbeat", "payload": ""},
    {"did": ALICE, "time_us": T0, "kind": "sync", "sync": {}},  # a kind added later
], ids=["delete", "update", "like", "identity", "account", "heartbeat", "unknown-kind"])
def test_events_that_are_not_posts(event: dict[str, Any]) -> None:
    assert from_jetstream(event) is None


@pytest.mark.parametrize(("event", "reason"), [
    ([1, 2], "a JSON list, not an object"),
    ({"did": ALICE, "time_us": T0}, "no 'kind'"),
    ({"did": ALICE, "time_us": T0, "kind": "commit"}, "without a 'commit' object"),
    ({**PHOTO_POST, "did": "alice"}, "'did' is not a DID"),
    ({**PHOTO_POST, "time_us": "soon"}, "'time_us' is not a non-negative integer"),
    ({**PHOTO_POST, "commit": {**PHOTO_POST["commit"], "operation": "upsert"}},
     "unknown commit operation 'upsert'"),
    ({**PHOTO_POST, "commit": {**PHOTO_POST["commit"], "rkey": None}}, "commit.rkey"),
    ({**PHOTO_POST, "commit": {**PHOTO_POST["commit"], "record": "text"}}, "without a 'record'"),
    (NO_TEXT, "no 'text' string"),
])
def test_malformed_events_raise(event: Any, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as caught:
        from_jetstream(event)
    assert isinstance(caught.value, MalformedEventError)


def test_out_of_range_facets_and_odd_dates() -> None:
    text = "short 🙂"
    event = commit(ALICE, T0, "3l3qoxoddity2", {
        "text": text, "createdAt": "yesterday",
        "facets": [
            {"index": {"byteStart": 6, "byteEnd": 99}, "features": [
                {"$type": "app.bsky.richtext.facet#tag", "tag": "gone"}]},
            {"index": {"byteStart": 7, "byteEnd": 10}, "features": [  # inside the emoji
                {"$type": "app.bsky.richtext.facet#tag", "tag": "half"}]},
            {"index": {"byteStart": 0, "byteEnd": 5}, "features": [
                {"$type": "app.bsky.richtext.facet#poll", "id": "x"}]},
        ],
        "embed": {"$type": "app.bsky.embed.images", "images": [
            {"alt": "legacy blob", "image": {"cid": BLOB_1, "mimeType": "image/png"}}]},
    })
    post = from_jetstream(event)
    assert post is not None
    assert post["timestamp_ms"] == T0 // 1000  # an unreadable createdAt: Jetstream's time
    assert post["entities"]["hashtags"] == [{"text": "half", "indices": [6, 7]}]
    assert post["extended_entities"]["media"][0]["id_str"] == BLOB_1


VIDEO_BLOB = "bafkreihwihm6kpd6zuwhhlro75p5qks5qtrcu55jp3gddbv6dmvbs4lpyy"


def video_post(did: str, rkey: str, embed: dict[str, Any]) -> dict[str, Any]:
    return commit(did, T0, rkey, {"$type": "app.bsky.feed.post", "text": "watch this",
                                  "createdAt": "2024-09-09T19:46:02.102Z", "embed": embed})


def the_medium(event: dict[str, Any]) -> dict[str, Any]:
    post = from_jetstream(event)
    assert post is not None
    (medium,) = post["extended_entities"]["media"]
    return medium


def test_a_video_is_its_thumbnail_from_the_video_service() -> None:
    # As the AppView writes a video's view: the DID and the CID URI-encoded.
    video = {"$type": "app.bsky.embed.video", "alt": "A cat on a sofa",
             "aspectRatio": {"width": 1080, "height": 1920},
             "video": {**blob(VIDEO_BLOB, 5_000_000), "mimeType": "video/mp4"}}
    medium = the_medium(video_post(ALICE, "3l3qovideo001", video))
    assert medium["type"] == "video" and medium["id_str"] == VIDEO_BLOB
    assert medium["media_url_https"] == (
        "https://video.bsky.app/watch/did%3Aplc%3Aewvi7nxzyoun6zhxrhs64oiz/"
        f"{VIDEO_BLOB}/thumbnail.jpg")
    assert medium["media_url"].startswith("http://video.bsky.app/watch/did%3Aplc%3A")
    assert medium["ext_alt_text"] == "A cat on a sofa"
    assert medium["expanded_url"] == f"https://bsky.app/profile/{ALICE}/post/3l3qovideo001"
    # a did:web with a port keeps its %3A encoded once more, as encodeURIComponent does
    dave = the_medium(video_post("did:web:dave.example.com%3A8080", "3l3qovideo002", video))
    assert dave["media_url_https"].startswith(
        "https://video.bsky.app/watch/did%3Aweb%3Adave.example.com%253A8080/")
    # a GIF is a video presented as one; inside recordWithMedia it is the post's own
    gif = the_medium(video_post(CAROL, "3l3qovideo003", {
        "$type": "app.bsky.embed.recordWithMedia",
        "record": {"$type": "app.bsky.embed.record", "record": {
            "uri": f"at://{ALICE}/app.bsky.feed.post/3l3qo2vuowo2b",
            "cid": "bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi"}},
        "media": {**video, "presentation": "gif"}}))
    assert gif["type"] == "animated_gif"
    assert gif["media_url_https"].startswith("https://video.bsky.app/watch/did%3Aplc%3Avwzwg")


def test_a_video_view_uses_its_thumbnail_and_a_video_without_a_blob_is_none() -> None:
    thumb = "https://video.cdn.example/watch/abc/thumbnail.jpg"
    view = {"$type": "app.bsky.embed.video#view", "cid": VIDEO_BLOB, "thumbnail": thumb,
            "playlist": "https://video.cdn.example/watch/abc/playlist.m3u8"}
    medium = the_medium(video_post(ALICE, "3l3qovideo004", view))
    assert (medium["type"], medium["media_url_https"]) == ("video", thumb)
    inner = the_medium(video_post(ALICE, "3l3qovideo005", {
        "$type": "app.bsky.embed.recordWithMedia#view", "media": {**view, "thumbnail": None}}))
    assert inner["media_url_https"].endswith(f"/{VIDEO_BLOB}/thumbnail.jpg")
    post = from_jetstream(video_post(ALICE, "3l3qovideo006", {"$type": "app.bsky.embed.video"}))
    assert post is not None and post["extended_entities"]["media"] == []


# --- filters ---------------------------------------------------------------------------


def converted(*events: dict[str, Any]) -> dict[str, dict[str, Any]]:
    posts = [from_jetstream(e) for e in events]
    return {p["id_str"]: p for p in posts if p is not None}


@pytest.mark.parametrize(("filters", "expected"), [
    ("", POST_URIS),
    ("#kindle", [uri(PHOTO_POST)]),  # a tag facet, any case
    ("kindle", [uri(PHOTO_POST), uri(REPLY_POST)]),  # a word in the text, or a tag
    ("KINDLE CUSHIONS", [uri(REPLY_POST)]),  # every word of a filter
    ("#本", [uri(QUOTE_POST)]),
    ("#books", [uri(GERMAN_POST)]),  # a record tag
    ("bücher,#本", [uri(QUOTE_POST), uri(GERMAN_POST)]),  # alternatives
    ("kind", []),  # words, not substrings
    ("#cushions", []),  # a hashtag filter wants a tag
])
def test_filters(filters: str, expected: list[str]) -> None:
    posts = converted(PHOTO_POST, QUOTE_POST, REPLY_POST, GERMAN_POST)
    keep = Filter.parse(filters)
    assert [u for u, p in posts.items() if keep.matches(p)] == expected


def test_keys() -> None:
    assert Jetstream("#kindle").key == "bluesky:#kindle"
    assert Jetstream(["Kindle", " #Books ", "kindle"]).key == "bluesky:kindle,#books"
    assert Jetstream("kindle,#books").key == "bluesky:kindle,#books"
    assert Jetstream().key == "bluesky:*"


def test_the_source_filters() -> None:
    async def go() -> list[Item]:
        async with jetstream(MESSAGES) as fake:
            return await collect(source(fake.url, "#kindle,bücher"), None,
                                 cursor_reached(LAST_TIME_US))

    items = run(go())
    assert [p["id_str"] for p in posts_of(items)] == [uri(PHOTO_POST), uri(GERMAN_POST)]
    assert items[-1].cursor == str(LAST_TIME_US)  # the cursor passes filtered events too


# --- cursors, drops and reconnection ---------------------------------------------------------


def test_resumes_from_the_cursor_it_yielded() -> None:
    async def go() -> tuple[list[Item], list[Item], FakeJetstream]:
        async with jetstream(MESSAGES) as fake:
            first = await collect(source(fake.url, batch_size=1), None,
                                  lambda items: any(i.posts for i in items))
            # The collector saved first[-1].cursor, then the process stopped.
            second = await collect(source(fake.url), first[-1].cursor,
                                   cursor_reached(LAST_TIME_US))
            return first, second, fake

    first, second, fake = run(go())
    assert first[-1].cursor == str(T0 + 1)
    assert fake.requests[1]["cursor"] == [str(T0 + 1)]
    seen = [p["id_str"] for p in posts_of(first + second)]
    assert set(seen) == set(POST_URIS)  # nothing lost
    assert seen.count(uri(PHOTO_POST)) == 2  # the boundary event, replayed once
    assert len(seen) == len(POST_URIS) + 1


@pytest.mark.parametrize("how", ["close", "abort"])
def test_reconnects_after_the_server_drops(how: str) -> None:
    async def go() -> tuple[list[Item], FakeJetstream]:
        async with jetstream(MESSAGES, drops=(3, 4), how=how) as fake:
            items = await collect(source(fake.url), None, cursor_reached(LAST_TIME_US))
            return items, fake

    items, fake = run(go())
    assert len(fake.requests) == 3
    assert fake.requests[1]["cursor"] == [str(T0 + 3)]  # the last event read before the drop
    assert fake.requests[2]["cursor"] == [str(T0 + 6)]
    seen = [p["id_str"] for p in posts_of(items)]
    assert set(seen) == set(POST_URIS)
    duplicates = {u for u in seen if seen.count(u) > 1}
    assert duplicates <= {uri(QUOTE_POST), uri(REPLY_POST)}  # only boundary events
    reasons = [p.reason for i in items for p in i.problems]  # a drop is not a problem
    assert [r.split(":")[0] for r in reasons] == [
        "malformed JSON from Jetstream", "malformed Jetstream event"]


def test_oversized_message_is_a_problem_and_the_stream_goes_on() -> None:
    huge = commit(ALICE, T0 + 5, "3l3qo5hugeone", {
        "text": "x" * 5000, "createdAt": "2024-09-09T19:46:05.000Z"})
    messages = [*MESSAGES[:4], orjson.dumps(huge).decode(), *MESSAGES[5:]]

    async def go() -> list[Item]:
        async with jetstream(messages) as fake:
            return await collect(source(fake.url, max_message_bytes=2048), None,
                                 cursor_reached(LAST_TIME_US))

    items = run(go())
    problems = [p for i in items for p in i.problems]
    assert problems[0].reason.startswith("Jetstream message of ")
    assert problems[0].reason.endswith("bytes, larger than 2048")
    assert problems[0].raw is not None and len(problems[0].raw) == 4096
    assert problems[0].location is not None and problems[0].location.endswith(f"={T0 + 5}")
    assert [p["id_str"] for p in posts_of(items)] == POST_URIS


def test_unreachable_endpoint_is_a_transient_problem_and_retried() -> None:
    async def go() -> list[Item]:
        async with serve(lambda ws: ws.close(), "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
        # The server is closed: nothing listens on that port any more.
        src = source(f"ws://127.0.0.1:{port}/subscribe", open_timeout=1)
        return await collect(src, "1725911162329308", lambda items: len(items) >= 2)

    items = run(go())
    for item in items:
        [problem] = item.problems
        assert problem.reason.startswith("cannot reach Jetstream")
        assert problem.transient
        assert item.cursor == "1725911162329308" and item.posts == []


def test_refused_connection_is_a_terminal_problem() -> None:
    def refuse(ws: ServerConnection, request: Any) -> Any:
        return ws.respond(HTTPStatus.BAD_REQUEST, "invalid cursor\n")

    async def go() -> list[Item]:
        async with serve(FakeJetstream([]).handler, "127.0.0.1", 0,
                         process_request=refuse) as server:
            port = server.sockets[0].getsockname()[1]
            src = source(f"ws://127.0.0.1:{port}/subscribe")
            return await collect(src, None, lambda items: len(items) >= 2)

    items = run(go())
    assert [(p.reason, p.transient) for i in items for p in i.problems] == [
        ("Jetstream refused the connection: HTTP 400", False)] * 2  # and it keeps trying


def test_bad_cursor() -> None:
    assert parse_cursor(None) is None
    assert parse_cursor("1725911162329308") == 1725911162329308
    with pytest.raises(ValueError, match="not a Jetstream cursor"):
        parse_cursor("2024-09-09")

    async def go() -> None:
        await collect(Jetstream(), "-5", lambda items: True)

    with pytest.raises(ValueError, match="not a Jetstream cursor"):
        run(go())


# --- deletions and edits ------------------------------------------------------------------

LIKE_DELETE = commit(BOB, T0 + 20, "3l3qo4likeaaa", None, operation="delete",
                     collection="app.bsky.feed.like")
REPOST_DELETE = commit(BOB, T0 + 21, "3l3qo5rpstaaa", None, operation="delete",
                       collection="app.bsky.feed.repost")
OTHER_DELETE = commit(DAVE, T0 + 22, "3l3qoagermanx", None, operation="delete")
OTHER_UPDATE = commit(DAVE, T0 + 23, "3l3qoagermanx", {
    "$type": "app.bsky.feed.post", "text": "Nichts mehr über Bücher",
    "createdAt": "2024-09-09T21:46:11+02:00"}, operation="update")
NO_RKEY_DELETE = {**OTHER_DELETE, "time_us": T0 + 24,
                  "commit": {k: v for k, v in OTHER_DELETE["commit"].items() if k != "rkey"}}


@pytest.mark.parametrize(("event", "posts", "edits", "deletions", "control"), [
    (PHOTO_POST, 1, 0, 0, False),
    (UPDATE, 0, 1, 0, False),
    (DELETE, 0, 0, 1, False),
    (LIKE, 0, 0, 0, True),
    (LIKE_DELETE, 0, 0, 0, True),  # a like taken back is no post deleted
    (REPOST_DELETE, 0, 0, 0, True),
    (IDENTITY, 0, 0, 0, True),
    (ACCOUNT, 0, 0, 0, True),
], ids=["create", "update", "delete", "like", "like-delete", "repost-delete", "identity",
        "account"])
def test_what_each_event_gives(event: dict[str, Any], posts: int, edits: int,
                               deletions: int, control: bool) -> None:
    got = convert_jetstream(event)
    assert (len(got.posts), len(got.edits), len(got.deletions), got.control) == (
        posts, edits, deletions, control)


def test_a_delete_without_its_rkey_is_malformed() -> None:
    with pytest.raises(MalformedEventError, match=r"commit\.rkey"):
        convert_jetstream(NO_RKEY_DELETE)


def test_a_filtered_stream_reports_every_deletion_and_edit() -> None:
    """Deletes carry no text, and an edit may drop the word the filter matched: both
    come through a filter that the post itself would not pass."""
    messages = [orjson.dumps(e).decode() for e in (
        PHOTO_POST, LIKE_DELETE, REPOST_DELETE, OTHER_DELETE, OTHER_UPDATE, NO_RKEY_DELETE)]

    async def go() -> list[Item]:
        async with jetstream(messages) as fake:
            return await collect(source(fake.url, "#kindle"), None, cursor_reached(T0 + 24))

    items = run(go())
    german = uri(GERMAN_POST)
    assert [p["id_str"] for p in posts_of(items)] == [uri(PHOTO_POST)]
    assert [d for item in items for d in item.deletions] == [
        Deletion("bluesky", derived_id("bluesky", german), german)]
    assert [(p["id_str"], p["text"]) for item in items for p in item.edits] == [
        (german, "Nichts mehr über Bücher")]
    (problem,) = [p for item in items for p in item.problems]
    assert "commit.rkey" in problem.reason

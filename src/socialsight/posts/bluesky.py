"""Bluesky posts, as Jetstream sends them, → canonical posts.

Jetstream (github.com/bluesky-social/jetstream) turns the AT Protocol firehose into
JSON events: ``{"did", "time_us", "kind": "commit"|"identity"|"account", ...}``. A new
post is a commit whose ``operation`` is ``create`` in the ``app.bsky.feed.post``
collection; its ``record`` is the post as its author's client wrote it (lexicon
``app.bsky.feed.post``): ``text``, ``createdAt``, ``langs``, rich-text ``facets``,
an ``embed``, a ``reply`` reference, self-``labels`` and extra ``tags``.

This adapter rewrites such an event in the v1.1 status shape:

- the post's id is :func:`~socialsight.posts.canonical.derived_id` of its ``at://``
  URI, and ``id_str`` is that URI; the author's id is derived from their DID;
- facets become ``entities``: their indices count UTF-8 *bytes*, v1.1 indices count
  characters, so each index is converted;
- photos (``app.bsky.embed.images``, also inside ``app.bsky.embed.recordWithMedia``)
  become ``extended_entities.media`` entries pointing at Bluesky's image CDN, with
  the blob's CID as their id and the author's alt text as ``ext_alt_text``;
- a video (``app.bsky.embed.video``, also inside ``recordWithMedia``) becomes a v1.1
  ``video`` (``animated_gif`` when its ``presentation`` is ``gif``) whose
  ``media_url_https`` is its preview image: the thumbnail Bluesky's video service
  serves for the author's DID and the video blob's CID, or the ``thumbnail`` a
  view-shaped embed (``app.bsky.embed.video#view``) names;
- a reply names its parent post and author, a quote (``app.bsky.embed.record``)
  its quoted post.

A post's ``delete`` commit (no record, only its ``rkey``) is a
:class:`~socialsight.posts.canonical.Deletion` of the post's ``at://`` URI, and an
``update`` commit (the whole new record) an edit: the post again, to replace the
lake's version (:func:`convert_jetstream`). Commits in other collections (likes,
reposts, follows: their deletes too), identity and account events are control
messages. An event that is not Jetstream's shape raises :class:`MalformedEventError`
saying why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

import orjson

from socialsight.errors import InputError
from socialsight.posts.canonical import (
    Conversion,
    Deletion,
    Post,
    derived_id,
    format_v1_time,
    parse_iso_time,
    partition_of,
)

JSON = dict[str, Any]

PLATFORM = "bluesky"
POST_COLLECTION = "app.bsky.feed.post"
CDN_FULLSIZE = "https://cdn.bsky.app/img/feed_fullsize/plain/{did}/{cid}@jpeg"
# The still Bluesky's video service makes of a video (DID and CID URI-encoded, as the
# AppView writes them into a video embed's view).
VIDEO_THUMBNAIL = "https://video.bsky.app/watch/{did}/{cid}/thumbnail.jpg"
WEB_POST = "https://bsky.app/profile/{did}/post/{rkey}"

# Jetstream event kinds that never carry a post.
NOT_POSTS = frozenset({"identity", "account", "heartbeat"})
OPERATIONS = frozenset({"create", "update", "delete"})

# Facet feature $type → entity list it feeds.
FACET_FEATURES = {
    "app.bsky.richtext.facet#mention": "user_mentions",
    "app.bsky.richtext.facet#link": "urls",
    "app.bsky.richtext.facet#tag": "hashtags",
}
# Embeds whose photos or video are the post's own, and where in the embed they are
# (the record's shape, and the view's an AppView answers with).
MEDIA_EMBEDS = {
    "app.bsky.embed.images": (),
    "app.bsky.embed.video": (),
    "app.bsky.embed.video#view": (),
    "app.bsky.embed.recordWithMedia": ("media",),
    "app.bsky.embed.recordWithMedia#view": ("media",),
}
IMAGES = "app.bsky.embed.images"
# A video's ``presentation`` → its v1.1 media type (anything else is a video).
VIDEO_TYPES = {"gif": "animated_gif"}
# Embeds that quote another record, and where its strongRef ({uri, cid}) is.
QUOTE_EMBEDS = {
    "app.bsky.embed.record": ("record",),
    "app.bsky.embed.recordWithMedia": ("record", "record"),
}
# Self-labels (com.atproto.label.defs#selfLabels) that mark adult or graphic content.
SENSITIVE_LABELS = frozenset({"porn", "sexual", "nudity", "graphic-media", "gore"})


class MalformedEventError(InputError, ValueError):
    """A Jetstream message that is not an event of the shape Jetstream sends."""


def _fail(reason: str) -> MalformedEventError:
    return MalformedEventError(f"malformed Jetstream event: {reason}")


# --- small readers -------------------------------------------------------------------


def _dig(obj: Any, path: Iterable[str]) -> Any:
    for key in path:
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj


def _dicts(items: Any) -> list[JSON]:
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _required_str(obj: JSON, key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise _fail(f"{where}.{key} is missing or not a string")
    return value


def post_uri(did: str, rkey: str) -> str:
    """The ``at://`` URI of a post."""
    return f"at://{did}/{POST_COLLECTION}/{rkey}"


def did_of(uri: str) -> str | None:
    """The repository DID of an ``at://`` URI (None when it is not one)."""
    if not uri.startswith("at://"):
        return None
    did = uri[len("at://"):].split("/", 1)[0]
    return did if did.startswith("did:") else None


def user_id(did: str) -> int:
    """The stable 63-bit id of a Bluesky account."""
    return derived_id(PLATFORM, did)


def cdn_url(did: str, cid: str) -> str:
    """The CDN address of a photo blob, full size, as JPEG."""
    return CDN_FULLSIZE.format(did=did, cid=cid)


def video_thumbnail_url(did: str, cid: str) -> str:
    """The address of the preview image of a video blob."""
    safe = "!~*'()"  # what JavaScript's encodeURIComponent leaves as it is
    return VIDEO_THUMBNAIL.format(did=quote(did, safe=safe), cid=quote(cid, safe=safe))


# --- time ----------------------------------------------------------------------------


def _timestamp(record: JSON, time_us: int) -> int:
    """Epoch ms of the post: its ``createdAt`` (stable across Jetstream instances);
    Jetstream's ``time_us`` when the client wrote a date that cannot be read."""
    created = record.get("createdAt")
    if isinstance(created, str):
        try:
            ms = parse_iso_time(created)
            partition_of(ms)  # years outside 1..9999 cannot be a partition
            if ms >= 0:
                return ms
        except (ValueError, OverflowError, OSError):
            pass
    return time_us // 1000


# --- facets → entities ---------------------------------------------------------------


class _ByteIndex:
    """Converts UTF-8 byte offsets of a text into character offsets."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.data = text.encode("utf-8")

    def chars(self, start: Any, end: Any) -> tuple[int, int] | None:
        """Character [start, end) of byte [start, end); None when out of range."""
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
            return None
        if not 0 <= start <= end <= len(self.data):
            return None
        # A range that cuts a character in two covers all of it.
        return self._before(start), self._before(end) + (not self._boundary(end))

    def _before(self, offset: int) -> int:
        """Whole characters in the first ``offset`` bytes."""
        return len(self.data[:offset].decode("utf-8", "ignore"))

    def _boundary(self, offset: int) -> bool:
        return offset == len(self.data) or self.data[offset] & 0xC0 != 0x80

    def slice(self, span: tuple[int, int]) -> str:
        return self.text[span[0]:span[1]]


def _mention(feature: JSON, span: tuple[int, int], index: _ByteIndex) -> JSON | None:
    did = feature.get("did")
    if not isinstance(did, str):
        return None
    shown = index.slice(span).lstrip("@") or None
    return {"id": user_id(did), "id_str": did, "screen_name": shown, "name": None,
            "indices": list(span)}


def _link(feature: JSON, span: tuple[int, int], index: _ByteIndex) -> JSON | None:
    uri = feature.get("uri")
    if not isinstance(uri, str):
        return None
    shown = index.slice(span)
    return {"url": shown, "expanded_url": uri, "display_url": shown, "indices": list(span)}


def _tag(feature: JSON, span: tuple[int, int], index: _ByteIndex) -> JSON | None:
    tag = feature.get("tag")
    if not isinstance(tag, str):
        return None
    return {"text": tag, "indices": list(span)}


ENTITY_MAKERS = {"user_mentions": _mention, "urls": _link, "hashtags": _tag}


def entities(record: JSON, text: str) -> JSON:
    """v1.1 ``entities`` from the record's facets (and its extra ``tags``).

    A facet whose byte range does not fit the text, or a feature of a kind this
    adapter does not know, is left out here; ``raw_json`` still has it.
    """
    out: JSON = {"hashtags": [], "urls": [], "user_mentions": [], "symbols": []}
    index = _ByteIndex(text)
    for facet in _dicts(record.get("facets")):
        span = index.chars(_dig(facet, ("index", "byteStart")), _dig(facet, ("index", "byteEnd")))
        if span is None:
            continue
        for feature in _dicts(facet.get("features")):
            kind = FACET_FEATURES.get(str(feature.get("$type")))
            entity = ENTITY_MAKERS[kind](feature, span, index) if kind is not None else None
            if kind is not None and entity is not None:
                out[kind].append(entity)
    seen = {tag["text"].lower() for tag in out["hashtags"]}
    for tag in record.get("tags") or []:
        if isinstance(tag, str) and tag.lower() not in seen:
            seen.add(tag.lower())
            out["hashtags"].append({"text": tag, "indices": None})
    return out


# --- embeds → photos, quotes ---------------------------------------------------------


def _embed_of(record: JSON, table: dict[str, tuple[str, ...]]) -> Any:
    embed = record.get("embed")
    if not isinstance(embed, dict) or not isinstance(embed.get("$type"), str) or (
            embed["$type"] not in table):
        return None
    return _dig(embed, table[embed["$type"]])


def blob_cid(blob: Any) -> str | None:
    """The CID of a blob: ``{"$type": "blob", "ref": {"$link": cid}}`` or legacy ``{"cid"}``."""
    if not isinstance(blob, dict):
        return None
    cid = _dig(blob, ("ref", "$link"))
    if not isinstance(cid, str):
        cid = blob.get("cid")
    return cid if isinstance(cid, str) and cid else None


def _medium(cid: str, kind: str, url: str, alt: Any, web_url: str) -> JSON:
    return {
        "id": cid,
        "id_str": cid,
        "type": kind,
        "media_url_https": url,
        "media_url": "http://" + url[len("https://"):] if url.startswith("https://") else url,
        "url": None,
        "display_url": None,
        "expanded_url": web_url,
        "indices": None,
        "sizes": None,  # the record has only an aspect ratio, not a size
        "ext_alt_text": alt if isinstance(alt, str) and alt else None,
    }


def _images(embed: JSON, did: str, web_url: str) -> list[JSON]:
    out = []
    for image in _dicts(embed.get("images")):
        cid = blob_cid(image.get("image"))
        if cid is not None:
            out.append(_medium(cid, "photo", cdn_url(did, cid), image.get("alt"), web_url))
    return out


def _video(embed: JSON, did: str, web_url: str) -> list[JSON]:
    view = str(embed.get("$type", "")).endswith("#view")
    cid = embed.get("cid") if view else blob_cid(embed.get("video"))
    if not isinstance(cid, str) or not cid:
        return []
    thumbnail = embed.get("thumbnail") if view else None
    url = thumbnail if isinstance(thumbnail, str) and thumbnail.startswith(
        ("https://", "http://")) else video_thumbnail_url(did, cid)
    kind = VIDEO_TYPES.get(str(embed.get("presentation")), "video")
    return [_medium(cid, kind, url, embed.get("alt"), web_url)]


MEDIA_READERS: dict[str, Callable[[JSON, str, str], list[JSON]]] = {
    IMAGES: _images,
    "app.bsky.embed.video": _video,
    "app.bsky.embed.video#view": _video,
}


def media(record: JSON, did: str, web_url: str) -> list[JSON]:
    """``extended_entities.media`` entries for the record's embedded images or video."""
    embed = _embed_of(record, MEDIA_EMBEDS)
    if not isinstance(embed, dict):
        return []
    reader = MEDIA_READERS.get(str(embed.get("$type", IMAGES)))
    return reader(embed, did, web_url) if reader is not None else []


def _post_ref(uri: Any) -> tuple[int, str, str] | None:
    """(derived id, uri, author DID) of an ``at://`` URI naming a post."""
    if not isinstance(uri, str) or f"/{POST_COLLECTION}/" not in uri:
        return None
    did = did_of(uri)
    return None if did is None else (derived_id(PLATFORM, uri), uri, did)


def _quote_fields(record: JSON) -> JSON:
    ref = _embed_of(record, QUOTE_EMBEDS)
    quoted = _post_ref(ref.get("uri") if isinstance(ref, dict) else None)
    return {
        "is_quote_status": quoted is not None,
        "quoted_status_id": quoted[0] if quoted else None,
        "quoted_status_id_str": quoted[1] if quoted else None,
        "quoted_status": None,  # Jetstream sends only the reference
    }


def _reply_fields(record: JSON, handles: dict[str, str]) -> JSON:
    parent = _post_ref(_dig(record, ("reply", "parent", "uri")))
    pid, puri, pdid = parent if parent else (None, None, None)
    return {
        "in_reply_to_status_id": pid,
        "in_reply_to_status_id_str": puri,
        "in_reply_to_user_id": user_id(pdid) if pdid else None,
        "in_reply_to_user_id_str": pdid,
        "in_reply_to_screen_name": handles.get(pdid, pdid) if pdid else None,
    }


def _sensitive(record: JSON) -> bool:
    values = _dicts(_dig(record, ("labels", "values")))
    return any(str(v.get("val")) in SENSITIVE_LABELS for v in values)


# --- the event -----------------------------------------------------------------------


def _commit(event: JSON) -> tuple[str, int, JSON] | None:
    """(did, time_us, commit) of a commit event; None for events that are not posts."""
    kind = event.get("kind")
    if not isinstance(kind, str):
        raise _fail("no 'kind'")
    if kind != "commit":
        return None  # identity, account, heartbeat, and kinds added later
    did = _required_str(event, "did", "event")
    if not did.startswith("did:"):
        raise _fail(f"'did' is not a DID: {did!r}")
    time_us = event.get("time_us")
    if not isinstance(time_us, int) or isinstance(time_us, bool) or time_us < 0:
        raise _fail(f"'time_us' is not a non-negative integer: {time_us!r}")
    commit = event.get("commit")
    if not isinstance(commit, dict):
        raise _fail("a commit event without a 'commit' object")
    if not isinstance(commit.get("operation"), str) or commit["operation"] not in OPERATIONS:
        raise _fail(f"unknown commit operation {commit.get('operation')!r}")
    return did, time_us, commit


def _user(did: str, handle: str | None) -> JSON:
    return {"id": user_id(did), "id_str": did, "screen_name": handle or did, "name": None}


def convert_jetstream(event: JSON, raw: str | None = None,
                      handles: dict[str, str] | None = None) -> Conversion:
    """What a Jetstream event gives: a new post, an edit (``update``), a deletion, or a
    control message (every event that is not a commit on a post).

    ``raw`` is the message as received (kept as ``raw_json``; the event re-encoded
    when not given); ``handles`` maps DIDs to handles learnt from identity events.
    Raises :class:`MalformedEventError` (a ValueError) for events Jetstream does not send.
    """
    if not isinstance(event, dict):
        raise _fail(f"a JSON {type(event).__name__}, not an object")
    found = _commit(event)
    if found is None or found[2].get("collection") != POST_COLLECTION:
        return Conversion(control=True)
    did, time_us, commit = found
    rkey = _required_str(commit, "rkey", "commit")
    operation = commit["operation"]
    if operation == "delete":
        uri = post_uri(did, rkey)
        return Conversion(deletions=[Deletion(PLATFORM, derived_id(PLATFORM, uri), uri)])
    record = commit.get("record")
    if not isinstance(record, dict):
        raise _fail(f"a{'n' if operation == 'update' else ''} {operation} without a "
                    "'record' object")
    text = record.get("text")
    if not isinstance(text, str):
        raise _fail("the post record has no 'text' string")
    post = _post(did, rkey, time_us, record, text, handles or {},
                 raw if raw is not None else orjson.dumps(event).decode())
    return Conversion(edits=[post]) if operation == "update" else Conversion(posts=[post])


def from_jetstream(event: JSON, raw: str | None = None,
                   handles: dict[str, str] | None = None) -> Post | None:
    """The canonical post of a Jetstream event; None when the event is not a new post
    (an edit, a deletion, a control message: :func:`convert_jetstream` tells them apart).
    Raises :class:`MalformedEventError` (a ValueError) for events Jetstream does not send.
    """
    conversion = convert_jetstream(event, raw, handles)
    return conversion.posts[0] if conversion.posts else None


def _post(did: str, rkey: str, time_us: int, record: JSON, text: str,
          handles: dict[str, str], raw: str) -> Post:
    uri = post_uri(did, rkey)
    ms = _timestamp(record, time_us)
    langs = record.get("langs")
    post: Post = {
        "id": derived_id(PLATFORM, uri),
        "id_str": uri,
        "platform": PLATFORM,
        "text": text,
        "created_at": format_v1_time(ms),
        "timestamp_ms": ms,
        "lang": langs[0] if isinstance(langs, list) and langs and isinstance(
            langs[0], str) else None,
        "user": _user(did, handles.get(did)),
        "entities": entities(record, text),
        "extended_entities": {"media": media(record, did, WEB_POST.format(did=did, rkey=rkey))},
        "possibly_sensitive": _sensitive(record),
        "truncated": False,
        "retweeted": False,
        "favorited": False,
        "source": None,
        # A post just created has no replies, reposts, likes or quotes yet.
        "reply_count": 0,
        "retweet_count": 0,
        "favorite_count": 0,
        "quote_count": 0,
        "coordinates": None,
        "geo": None,
        "place": None,
        "retweeted_status": None,
        "raw_json": raw,
    }
    post.update(_reply_fields(record, handles))
    post.update(_quote_fields(record))
    return post

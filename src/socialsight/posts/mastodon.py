"""Mastodon statuses (REST timelines, streaming ``update`` events) → canonical posts.

A Mastodon Status (https://docs.joinmastodon.org/entities/Status/) carries its text
as sanitized HTML and its entities as lists beside it. This adapter renders the HTML
as plain text with :mod:`socialsight.posts.html` (``<br>`` → a newline, paragraphs
apart by a blank line, entities unescaped, link URLs written out whole) and finds each
entity in that text, so ``indices`` point into ``text`` as in v1.1 (code points, end exclusive):

- hashtags are the ``#tag`` links of the content (``class="hashtag"`` or
  ``rel="tag"``), then any name of ``tags`` the content does not link;
- user mentions are the ``@user`` links, matched to ``mentions`` by URL;
- urls are every other link; ``display_url`` is the visible part Mastodon marks
  (``<span class="invisible">`` hidden, ``…`` added after ``class="ellipsis"``);
- media are the attachments of type ``image`` (v1.1 ``photo``), ``gifv`` (an MP4 that
  plays as a GIF: ``animated_gif``) and ``video``, with their alt text in
  ``ext_alt_text``; a photo's URL is its ``url`` (or ``remote_url``), a gifv's or
  video's is its ``preview_url`` (or ``preview_remote_url``), the still Mastodon made
  of it, and the video itself is its ``expanded_url``. ``audio`` and ``unknown`` are
  left out.

Ids: Mastodon's own status ids are local to each instance, so a post's id is
``derived_id("mastodon", uri)`` (the ActivityPub id, the same on every instance) and
``id_str`` is that uri. The status's own (local) id stays in ``raw_json`` (``$.id``):
it is all Mastodon's streaming ``delete`` event names, so it is how a deletion finds
the post (with the instance that delivered it). An account is
``derived_id("mastodon", url)`` of its profile URL, with the URL in ``id_str``; a
mention's id is derived the same way, so mentions and authors join. ``screen_name``
is ``acct`` as the instance gives it (``user`` for its own accounts, ``user@host``
for others).

A reblog becomes a v1.1 retweet: ``text`` is ``RT @acct: <the original's text>``,
its entities are the original's (shifted past the prefix, after a mention of the
original's author), its photos and sensitivity are the original's, and
``retweeted_status`` holds the original. Counts are the reblog's own.
Replies keep ``in_reply_to_user_id``/``in_reply_to_screen_name`` where the parent's
author is among the mentions; the parent status's own id is instance-local and is
left in ``raw_json`` only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import orjson

from socialsight.errors import InputError
from socialsight.posts.canonical import (
    Post,
    as_int,
    checked_time,
    derived_id,
    format_v1_time,
    parse_iso_time,
    v1_time_of_iso,
)
from socialsight.posts.html import Anchor, render

JSON = dict[str, Any]
PLATFORM = "mastodon"

# Status counts → v1.1 counts (quotes_count exists on servers that have quote posts).
STATUS_COUNTS = {
    "replies_count": "reply_count",
    "reblogs_count": "retweet_count",
    "favourites_count": "favorite_count",
    "quotes_count": "quote_count",
}
ACCOUNT_FIELDS = {
    "acct": "screen_name",
    "display_name": "name",
    "url": "url",
    "locked": "protected",
    "avatar": "profile_image_url_https",
    "header": "profile_banner_url",
}
ACCOUNT_COUNTS = {
    "followers_count": "followers_count",
    "following_count": "friends_count",
    "statuses_count": "statuses_count",
}
# Attachment type → v1.1 media type, and the attachment's fields that hold the image (its
# own, or the preview still of a gifv or video), first found first; the types not here
# (audio, unknown) are skipped.
MEDIA_TYPES = {"image": "photo", "gifv": "animated_gif", "video": "video"}
IMAGE_FIELDS = {"photo": ("url", "remote_url"),
                "animated_gif": ("preview_url", "preview_remote_url"),
                "video": ("preview_url", "preview_remote_url")}
# Size names of an attachment's ``meta`` → v1.1 ``sizes`` names.
MEDIA_SIZES = {"original": "large"}
SPOILER_GAP = "\n\n"


class StatusError(InputError, ValueError):
    """A Mastodon status that cannot be read; the message says why."""


# --- small pieces ---------------------------------------------------------------------


def instance_host(instance: str) -> str:
    """``mastodon.social`` for ``mastodon.social`` or ``https://mastodon.social/``."""
    text = instance.strip()
    if "://" in text:
        return urlsplit(text).netloc
    return text.strip("/")


def _rename(source: Mapping[str, Any], table: Mapping[str, str]) -> JSON:
    return {new: source.get(old) for old, new in table.items()}


def _counts(source: Mapping[str, Any], table: Mapping[str, str]) -> JSON:
    return {new: as_int(source.get(old)) for old, new in table.items()}


def _dicts(items: Any) -> list[JSON]:
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _v1_time(value: Any) -> str | None:
    return v1_time_of_iso(value)


def account_key(url: Any, acct: Any, instance: str) -> str | None:
    """What an account's id is derived from: its profile URL, else its full handle."""
    if _text(url):
        return str(url)
    if not _text(acct):
        return None
    handle = str(acct) if "@" in str(acct) else f"{acct}@{instance_host(instance)}"
    return f"acct:{handle}"


def _account_id(key: str | None) -> int | None:
    return None if key is None else derived_id(PLATFORM, key)


# --- entities -------------------------------------------------------------------------


@dataclass
class _Content:
    """A status's text and entities, before any reblog or spoiler prefix."""

    text: str
    hashtags: list[JSON]
    mentions: list[JSON]
    urls: list[JSON]

    def shifted(self, prefix: str) -> _Content:
        n = len(prefix)
        return _Content(prefix + self.text, *(
            [_shift(e, n) for e in entities]
            for entities in (self.hashtags, self.mentions, self.urls)))


def _shift(entity: JSON, n: int) -> JSON:
    indices = entity.get("indices")
    if not indices:
        return dict(entity)
    return {**entity, "indices": [indices[0] + n, indices[1] + n]}


def _label(text: str, anchor: Anchor) -> str:
    return text[anchor.start:anchor.end]


def _is_hashtag(anchor: Anchor, label: str, tag_names: set[str]) -> bool:
    if "hashtag" in anchor.classes or "tag" in anchor.rels:
        return True
    return label.startswith("#") and label[1:].casefold() in tag_names


def _is_mention(anchor: Anchor, label: str, mentions: _Mentions) -> bool:
    if "mention" in anchor.classes or anchor.href in mentions.by_url:
        return True
    return label.startswith("@") and mentions.named(label) is not None


@dataclass
class _Mentions:
    """A status's ``mentions``, findable by URL and by ``@name``."""

    items: list[JSON]
    by_url: dict[str, JSON] = field(default_factory=dict)
    by_name: dict[str, JSON] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for item in self.items:
            if _text(item.get("url")):
                self.by_url.setdefault(item["url"], item)
            for key in ("acct", "username"):
                if _text(item.get(key)):
                    self.by_name.setdefault(str(item[key]).casefold(), item)

    def named(self, label: str) -> JSON | None:
        return self.by_name.get(label.lstrip("@").casefold())

    def find(self, anchor: Anchor, label: str) -> JSON | None:
        return self.by_url.get(anchor.href or "") or self.named(label)


def _mention_entity(item: JSON | None, anchor: Anchor | None, label: str,
                    instance: str) -> JSON:
    item = item or {}
    href = anchor.href if anchor is not None else None
    key = account_key(item.get("url") or href, item.get("acct"), instance)
    return {
        "id": _account_id(key),
        "id_str": key,
        "screen_name": item.get("acct") or item.get("username") or label.lstrip("@") or None,
        "name": None,
        "indices": None if anchor is None else [anchor.start, anchor.end],
    }


def _unlinked_tag(text: str, name: str, taken: set[int]) -> list[int] | None:
    pattern = re.compile(r"(?<!\w)#" + re.escape(name) + r"(?!\w)", re.IGNORECASE)
    for match in pattern.finditer(text):
        if match.start() not in taken:
            return [match.start(), match.end()]
    return None


def _content(status: JSON, instance: str) -> _Content:
    html = status.get("content")
    if html is not None and not isinstance(html, str):
        raise StatusError("status content is not a string")
    text, anchors = render(html or "")
    tags = [t for t in _dicts(status.get("tags")) if _text(t.get("name"))]
    tag_names = {str(t["name"]).casefold() for t in tags}
    mentions = _Mentions(_dicts(status.get("mentions")))
    out = _Content(text, [], [], [])
    linked_tags: set[str] = set()
    mentioned: set[int] = set()
    for anchor in anchors:
        label = _label(text, anchor)
        if _is_hashtag(anchor, label, tag_names):
            name = label[1:] if label.startswith("#") else label
            linked_tags.add(name.casefold())
            out.hashtags.append({"text": name, "indices": [anchor.start, anchor.end]})
        elif _is_mention(anchor, label, mentions):
            item = mentions.find(anchor, label)
            if item is not None:
                mentioned.add(id(item))
            out.mentions.append(_mention_entity(item, anchor, label, instance))
        elif _text(anchor.href):
            out.urls.append({"url": anchor.href, "expanded_url": anchor.href,
                             "display_url": anchor.display or label,
                             "indices": [anchor.start, anchor.end]})
    taken = {h["indices"][0] for h in out.hashtags}
    for tag in tags:
        name = str(tag["name"])
        if name.casefold() not in linked_tags:
            linked_tags.add(name.casefold())
            out.hashtags.append({"text": name, "indices": _unlinked_tag(text, name, taken)})
    for item in mentions.items:
        if id(item) not in mentioned:
            out.mentions.append(_mention_entity(item, None, "", instance))
    return out


# --- media ----------------------------------------------------------------------------


def _size(meta: Any, name: str) -> JSON | None:
    info = meta.get(name) if isinstance(meta, dict) else None
    if not isinstance(info, dict):
        return None
    width, height = as_int(info.get("width")), as_int(info.get("height"))
    if width is None or height is None:
        return None
    return {"w": width, "h": height, "resize": "fit"}


def _medium(item: JSON) -> JSON | None:
    kind = MEDIA_TYPES.get(str(item.get("type")))
    if kind is None:
        return None
    url = next(filter(None, (_text(item.get(name)) for name in IMAGE_FIELDS[kind])), None)
    if url is None:
        return None
    own = _text(item.get("remote_url")) or _text(item.get("url")) or url
    native = None if item.get("id") is None else str(item["id"])
    sizes: JSON = {name: None for name in ("thumb", "large", "medium", "small")}
    sizes.update({v1: _size(item.get("meta"), name) for name, v1 in MEDIA_SIZES.items()})
    return {
        "id": native,
        "id_str": native,
        "type": kind,
        "media_url_https": url,
        "media_url": url,
        "url": None,
        "display_url": None,
        "expanded_url": own,
        "indices": None,
        "sizes": sizes,
        "ext_alt_text": _text(item.get("description")),
    }


def media(status: JSON) -> list[JSON]:
    """The v1.1 media entities of a status's image, gifv and video attachments."""
    return [m for m in map(_medium, _dicts(status.get("media_attachments"))) if m is not None]


# --- the post -------------------------------------------------------------------------


def _user(account: JSON, instance: str) -> JSON:
    out = _rename(account, ACCOUNT_FIELDS)
    out.update(_counts(account, ACCOUNT_COUNTS))
    key = account_key(account.get("url"), account.get("acct"), instance)
    out["id"] = _account_id(key)
    out["id_str"] = key
    note = account.get("note")
    out["description"] = render(note)[0] if isinstance(note, str) else None
    out["created_at"] = _v1_time(account.get("created_at"))
    out["verified"] = None  # Mastodon verifies profile links, not accounts
    return out


def native_id(status: JSON) -> str:
    """The status's id across the fediverse: its ``uri`` (or, lacking one, its ``url``)."""
    native = _text(status.get("uri")) or _text(status.get("url"))
    if native is None:
        raise StatusError("status has neither uri nor url")
    return native


def _timestamp(status: JSON) -> int:
    created = status.get("created_at")
    if not isinstance(created, str):
        raise StatusError("status has no created_at")
    try:
        return checked_time(parse_iso_time(created))
    except (ValueError, InputError) as exc:
        raise StatusError(str(exc)) from exc


def _account(status: JSON) -> JSON:
    account = status.get("account")
    if not isinstance(account, dict):
        raise StatusError("status has no account")
    return account


def _source(status: JSON) -> str | None:
    app = status.get("application")
    return _text(app.get("name")) if isinstance(app, dict) else None


def _reply_fields(status: JSON, instance: str) -> JSON:
    parent_account = status.get("in_reply_to_account_id")
    item = next((m for m in _dicts(status.get("mentions"))
                 if parent_account is not None and str(m.get("id")) == str(parent_account)),
                None)
    key = None if item is None else account_key(item.get("url"), item.get("acct"), instance)
    return {
        "in_reply_to_status_id": None,
        "in_reply_to_status_id_str": None,
        "in_reply_to_user_id": _account_id(key),
        "in_reply_to_user_id_str": key,
        "in_reply_to_screen_name": None if item is None else item.get("acct"),
    }


def _quoted(status: JSON) -> JSON | None:
    """The quoted status of a quote post (Mastodon 4.5's ``quote``), when it is shown."""
    quote = status.get("quote")
    inner = quote.get("quoted_status") if isinstance(quote, dict) else None
    return inner if isinstance(inner, dict) else None


def _quote_fields(status: JSON, instance: str) -> JSON:
    quoted = _quoted(status)
    embedded = _embedded(quoted, instance)
    return {
        "is_quote_status": isinstance(status.get("quote"), dict),
        "quoted_status_id": None if embedded is None else embedded["id"],
        "quoted_status_id_str": None if embedded is None else embedded["id_str"],
        "quoted_status": embedded,
    }


def _embedded(status: JSON | None, instance: str) -> Post | None:
    if status is None:
        return None
    try:
        return to_post(status, instance, embed=False)
    except StatusError:
        return None


def _own_content(status: JSON, instance: str) -> _Content:
    content = _content(status, instance)
    spoiler = _text(status.get("spoiler_text"))
    return content.shifted(spoiler + SPOILER_GAP) if spoiler else content


def _retweet_content(original: JSON, instance: str) -> _Content:
    author = _account(original)
    acct = str(author.get("acct") or author.get("username") or "")
    prefix = f"RT @{acct}: "
    content = _own_content(original, instance).shifted(prefix)
    rt = _mention_entity({"url": author.get("url"), "acct": acct}, None, acct, instance)
    rt["indices"] = [3, 4 + len(acct)]
    content.mentions.insert(0, rt)
    return content


def to_post(status: JSON, instance: str, embed: bool = True) -> Post:
    """One status as a canonical post, without ``raw_json``; raises StatusError.

    ``embed`` adds the reblogged and quoted statuses as ``retweeted_status`` and
    ``quoted_status``; embedded posts do not embed further.
    """
    if not isinstance(status, dict):
        raise StatusError("status is not a JSON object")
    native = native_id(status)
    ts = _timestamp(status)
    account = _account(status)
    reblog = status.get("reblog")
    original = reblog if isinstance(reblog, dict) else None
    own = original or status
    content = _retweet_content(original, instance) if original else _own_content(
        status, instance)
    post: Post = {
        "id": derived_id(PLATFORM, native),
        "id_str": native,
        "platform": PLATFORM,
        "text": content.text,
        "truncated": False,
        "created_at": format_v1_time(ts),
        "timestamp_ms": ts,
        "lang": _text(status.get("language")) or _text(own.get("language")),
        "possibly_sensitive": own.get("sensitive"),
        "source": _source(status),
        **_counts(status, STATUS_COUNTS),
        "user": _user(account, instance),
        "entities": {"hashtags": content.hashtags, "urls": content.urls,
                     "user_mentions": content.mentions, "symbols": []},
        "extended_entities": {"media": media(own)},
        "coordinates": None,
        "geo": None,
        "place": None,
    }
    post.update(_reply_fields(status, instance))
    if embed:
        post.update(_quote_fields(own, instance))
        post["retweeted_status"] = _embedded(original, instance)
    return post


def from_status(status: dict[str, Any], instance: str, raw: str | None = None) -> Post:
    """A Mastodon Status (as the REST or streaming API of ``instance`` gives it) as a
    canonical post, with ``raw_json`` = ``raw`` (the text as received) or the status
    re-serialised. Raises :class:`StatusError` (a ValueError) with the reason when the
    status cannot be read."""
    post = to_post(status, instance)
    post["raw_json"] = raw if raw is not None else orjson.dumps(status).decode()
    return post

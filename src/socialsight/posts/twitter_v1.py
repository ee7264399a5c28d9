"""Twitter API v1.1 statuses (search, timelines, stream lines) → canonical posts.

A v1.1 status already is the canonical shape; this adapter only settles what
varies between endpoints: the full text (``full_text`` in extended mode,
``extended_tweet.full_text`` on the stream, the original's full text behind a
retweet's ``RT @name:`` prefix), the entities that go with that text, media ids
as strings (as the seed's DDL declares them) and ``timestamp_ms``.

A stream's status deletion notice (``{"delete": {"status": {"id", "id_str",
"user_id", "user_id_str"}, "timestamp_ms"}}``, v1.1 "Streaming message types") is
no post: :func:`from_delete` makes it a :class:`~socialsight.posts.canonical.Deletion`.
The other stream messages (``limit``, ``status_withheld``, ``scrub_geo``, ...) are
control messages.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from socialsight.errors import InputError
from socialsight.lake.schema import MEDIA
from socialsight.posts.canonical import (
    Conversion,
    Deletion,
    Post,
    as_dict,
    as_int,
    as_text,
    checked_id,
    checked_time,
    parse_v1_time,
)

# A medium's fields the lake keeps as strings.
TEXT_FIELDS = tuple(f.name for f in MEDIA if pa.types.is_string(f.type))

# Keys whose presence marks a v1.1 status.
SIGNATURE = ("created_at", "user")

# Stream messages that are not posts: https://developer.twitter.com streaming message types.
CONTROL_KEYS = frozenset(
    {"delete", "scrub_geo", "limit", "status_withheld", "user_withheld", "disconnect",
     "warning", "friends", "event", "for_user", "control"}
)


def is_delete(obj: dict[str, Any]) -> bool:
    """A stream's status deletion notice: ``delete`` and at most its ``timestamp_ms``."""
    return "delete" in obj and len(obj) <= 3 and CONTROL_KEYS.issuperset(
        k for k in obj if k != "timestamp_ms")


def from_delete(obj: dict[str, Any]) -> Conversion:
    """The deletion a status deletion notice gives; a problem when it names no post."""
    notice = as_dict(obj.get("delete"))
    status = as_dict(notice.get("status"))
    try:
        post_id = checked_id(status.get("id_str") or status.get("id"), "deleted status")
    except InputError as exc:
        return Conversion(problems=[f"a delete message without a usable status id: {exc}"])
    return Conversion(deletions=[Deletion("x", post_id, str(post_id))])


def is_v1_status(obj: dict[str, Any]) -> bool:
    return (
        isinstance(obj.get("user"), dict)
        and isinstance(obj.get("created_at"), str)
        and ("id" in obj or "id_str" in obj)
        and ("text" in obj or "full_text" in obj or "extended_tweet" in obj)
    )


def full_text(status: dict[str, Any]) -> str:
    """The untruncated text of a v1.1 status (without following retweets)."""
    ext = status.get("extended_tweet")
    if isinstance(ext, dict) and isinstance(ext.get("full_text"), str):
        return str(ext["full_text"])
    if isinstance(status.get("full_text"), str):
        return str(status["full_text"])
    return str(status.get("text") or "")


def _entities_of(status: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    ext = status.get("extended_tweet")
    if isinstance(ext, dict) and isinstance(ext.get("entities"), dict):
        return ext["entities"], as_dict(ext.get("extended_entities"))
    return as_dict(status.get("entities")), as_dict(status.get("extended_entities"))


def _fix_media(media: Any) -> list[dict[str, Any]]:
    out = []
    for item in media if isinstance(media, list) else []:
        if not isinstance(item, dict):
            continue
        m = dict(item)
        native = m.get("id_str") or m.get("id")
        m["id"] = None if native is None else str(native)
        m["id_str"] = m["id"]
        for field in TEXT_FIELDS:  # a medium with a URL that is no string has none
            if field in m:
                m[field] = as_text(m[field])
        out.append(m)
    return out


def _fix_mentions(mentions: Any) -> list[dict[str, Any]]:
    out = []
    for item in mentions if isinstance(mentions, list) else []:
        if isinstance(item, dict):
            m = dict(item)
            m["id"] = as_int(m.get("id_str") or m.get("id"))
            out.append(m)
    return out


def _embedded(status: Any) -> dict[str, Any] | None:
    if not isinstance(status, dict):
        return None
    entities, extended = _entities_of(status)
    return {
        **status,
        "id": as_int(status.get("id_str") or status.get("id")),
        "text": full_text(status),
        "entities": entities,
        "extended_entities": {"media": _fix_media(extended.get("media"))},
    }


def from_v1(obj: dict[str, Any], platform: str = "x") -> Post:
    """One v1.1 status as a canonical post; raises InputError when it has no usable id."""
    post_id = checked_id(obj.get("id_str") or obj.get("id"), "status")
    post = dict(obj)
    post["id"] = post_id
    post["id_str"] = str(post_id)
    post["platform"] = platform

    retweeted = obj.get("retweeted_status")
    quoted = obj.get("quoted_status")
    if isinstance(retweeted, dict):
        author = as_dict(retweeted.get("user")).get("screen_name") or ""
        post["text"] = f"RT @{author}: {full_text(retweeted)}"
        post["truncated"] = False
    else:
        text = full_text(obj)
        if text != obj.get("text"):
            post["truncated"] = False
        post["text"] = text

    entities, extended = _entities_of(obj)
    post["entities"] = {
        **entities,
        "user_mentions": _fix_mentions(entities.get("user_mentions")),
    }
    ext = dict(extended)
    ext["media"] = _fix_media(ext.get("media"))
    post["extended_entities"] = ext
    post["retweeted_status"] = _embedded(retweeted)
    post["quoted_status"] = _embedded(quoted)

    user = obj.get("user")
    if isinstance(user, dict):
        post["user"] = {**user, "id": as_int(user.get("id_str") or user.get("id"))}
    for key in ("in_reply_to_status_id", "in_reply_to_user_id", "quoted_status_id"):
        post[key] = as_int(obj.get(f"{key}_str") or obj.get(key))

    ts = as_int(obj.get("timestamp_ms"))
    if ts is None:
        try:
            ts = parse_v1_time(str(obj.get("created_at")))
        except ValueError as exc:
            raise InputError(str(exc)) from exc
    post["timestamp_ms"] = checked_time(ts)
    return post

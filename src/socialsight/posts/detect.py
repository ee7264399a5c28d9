"""Which format is this record? One table of (name, test, converter), tried in order.

Formats are detected per record, so one file may mix v1.1 statuses, v2 responses
and twarc2 lines. A record no format claims raises UnknownFormatError.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from socialsight.errors import UnknownFormatError
from socialsight.posts import bluesky, mastodon, twarc2, twitter_v1, twitter_v2
from socialsight.posts.canonical import Conversion


class Format(NamedTuple):
    name: str
    matches: Callable[[dict[str, Any]], bool]
    convert: Callable[[dict[str, Any]], Conversion]


def _v1_control(obj: dict[str, Any]) -> bool:
    return len(obj) <= 3 and bool(twitter_v1.CONTROL_KEYS.intersection(obj))


def _single(convert: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], Conversion]:
    def run(obj: dict[str, Any]) -> Conversion:
        return Conversion(posts=[convert(obj)])

    return run


def _is_jetstream(obj: dict[str, Any]) -> bool:
    return "did" in obj and "time_us" in obj and "kind" in obj


def _jetstream(obj: dict[str, Any]) -> Conversion:
    return bluesky.convert_jetstream(obj)


def _is_mastodon(obj: dict[str, Any]) -> bool:
    return {"uri", "content", "account", "created_at"} <= obj.keys()


def _mastodon(obj: dict[str, Any]) -> Conversion:
    instance = urlsplit(str(obj.get("uri") or obj.get("url") or "")).hostname or ""
    return Conversion(posts=[mastodon.from_status(obj, instance)])


FORMATS: tuple[Format, ...] = (
    # A status deletion notice names the post to forget; the other stream messages
    # (limit, status_withheld, scrub_geo, ...) are control messages.
    Format("twitter-v1-delete", twitter_v1.is_delete, twitter_v1.from_delete),
    Format("twitter-v1-control", _v1_control, lambda obj: Conversion(control=True)),
    Format("twitter-v1", twitter_v1.is_v1_status, _single(twitter_v1.from_v1)),
    # A v2 tweet that was edited names its older versions: they become deletions.
    Format("twarc2", twarc2.is_twarc2, twarc2.convert_twarc2),
    Format("twitter-v2", twitter_v2.is_v2_response, twitter_v2.from_v2_response),
    Format("twitter-v2-tweet", twitter_v2.is_v2_tweet, twitter_v2.convert_v2_tweet),
    # Saved live streams: Bluesky Jetstream events (a post's delete commit is a
    # deletion, its update an edit; a like or an identity event is a control message),
    # Mastodon statuses as the REST and streaming APIs give them.
    Format("bluesky-jetstream", _is_jetstream, _jetstream),
    Format("mastodon", _is_mastodon, _mastodon),
)


# JSON values that are never posts, by their Python type: (one, many).
NOT_OBJECTS: dict[type, tuple[str, str]] = {
    int: ("a number", "numbers"), float: ("a number", "numbers"),
    str: ("a string", "strings"), bool: ("true or false", "true/false values"),
    type(None): ("null", "nulls"), list: ("an array", "arrays"),
}


def not_an_object(obj: Any) -> tuple[str, str] | None:
    """What ``obj`` is, (one, many), when it is not a JSON object; None when it is one."""
    if isinstance(obj, dict):
        return None
    return NOT_OBJECTS.get(type(obj), (type(obj).__name__, type(obj).__name__))


def detect(obj: Any) -> Format:
    """The format of one decoded JSON record."""
    shape = not_an_object(obj)
    if shape is not None:
        raise UnknownFormatError(f"expected a JSON object, got {shape[0]}")
    for fmt in FORMATS:
        if fmt.matches(obj):
            return fmt
    keys = ", ".join(sorted(obj)[:8]) or "no keys"
    raise UnknownFormatError(f"unknown record shape (keys: {keys})")


def convert(obj: Any) -> tuple[str, Conversion]:
    """Detect and convert one record; returns the format name and what it gave."""
    fmt = detect(obj)
    return fmt.name, fmt.convert(obj)

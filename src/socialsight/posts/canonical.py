"""The canonical post: a dict in the Twitter v1.1 status shape of ``lake.schema.TWEETS``.

Every adapter turns its platform's record into this shape. Helpers here are the
pieces they share: stable ids for non-Twitter posts, v1.1 timestamps, and the
fields every canonical post must carry.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from socialsight.errors import InputError

Post = dict[str, Any]

PLATFORMS = ("x", "bluesky", "mastodon", "file")

# Derived ids live in [2**62, 2**63): Twitter's snowflake ids are below 2**61 for
# decades to come, so a derived id never collides with a real tweet id.
_DERIVED_BASE = 1 << 62
_DERIVED_MASK = _DERIVED_BASE - 1
# A post id is a positive bigint (tweets.id): 1 .. 2**63 - 1.
MAX_ID = (1 << 63) - 1


def derived_id(platform: str, native_id: str) -> int:
    """A stable 63-bit id for a post that has no Twitter id."""
    digest = hashlib.blake2b(f"{platform}:{native_id}".encode(), digest_size=8).digest()
    return _DERIVED_BASE | (int.from_bytes(digest, "big") & _DERIVED_MASK)


_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES = tuple(_MONTHS)


def parse_v1_time(value: str) -> int:
    """Epoch milliseconds of a v1.1 ``created_at`` such as ``Fri Jul 12 23:40:37 +0000 2019``."""
    try:
        _, mon, day, hms, offset, year = value.split()
        hh, mm, ss = hms.split(":")
        dt = datetime(int(year), _MONTHS[mon], int(day), int(hh), int(mm), int(ss), tzinfo=UTC)
        sign = -1 if offset[0] == "-" else 1
        shift = sign * (int(offset[1:3]) * 3600 + int(offset[3:5]) * 60)
    except (ValueError, KeyError, IndexError) as exc:
        raise ValueError(f"not a Twitter v1.1 timestamp: {value!r}") from exc
    return int(dt.timestamp() - shift) * 1000


def parse_iso_time(value: str) -> int:
    """Epoch milliseconds of an ISO 8601 time (``2022-10-19T16:21:19.000Z``)."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"not an ISO 8601 timestamp: {value!r}") from exc
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def format_v1_time(ms: int) -> str:
    """The v1.1 ``created_at`` string for epoch milliseconds (always UTC)."""
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return (
        f"{_DAYS[dt.weekday()]} {_MONTH_NAMES[dt.month - 1]} {dt.day:02d} "
        f"{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d} +0000 {dt.year}"
    )


def v1_time_of_iso(value: Any) -> str | None:
    """The v1.1 ``created_at`` of an ISO 8601 time; None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        return format_v1_time(parse_iso_time(value))
    except ValueError:
        return None


def partition_of(ms: int) -> str:
    """The ``dt`` partition (UTC date) of epoch milliseconds."""
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}"


def checked_time(ms: Any) -> int:
    """``ms`` when it is a post's time: epoch milliseconds of a UTC date in years
    1 to 9999 (a partition can be named after it); InputError otherwise."""
    if not isinstance(ms, int) or isinstance(ms, bool):
        raise InputError(f"post has no time (epoch milliseconds): {ms!r}")
    try:
        partition_of(ms)
    except (ValueError, OverflowError, OSError) as exc:
        raise InputError(f"post time out of range (years 1 to 9999): {ms} ms") from exc
    return ms


def checked_id(value: Any, what: str) -> int:
    """A post id (an int or a numeric string) in 1 .. 2**63 - 1; InputError otherwise."""
    number = as_int(value)
    if number is None:
        raise InputError(f"{what} has no numeric id")
    if not 0 < number <= MAX_ID:
        shown = str(number) if abs(number) < 10**30 else "of more than 30 digits"
        raise InputError(f"{what} id {shown} is out of range (1 to 2^63-1)")
    return number


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one (input may put anything
    where an object belongs)."""
    return value if isinstance(value, dict) else {}


def as_int(value: Any) -> int | None:
    """An int from an int or a numeric string; None for anything else."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        try:
            return int(value)
        except ValueError:  # digits int() does not take (superscripts), or too many
            return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


class Conversion:
    """What one input record turned into: posts, per-item problems, or a control message.

    A v2 response holds many tweets, so one record can give several posts and, when
    some of its tweets are unusable, several problems (reasons) beside them.
    Each post carries its ``raw_json``: the object as received.
    """

    __slots__ = ("control", "posts", "problems")

    def __init__(
        self,
        posts: list[Post] | None = None,
        problems: list[str] | None = None,
        control: bool = False,
    ) -> None:
        self.posts = posts or []
        self.problems = problems or []
        self.control = control

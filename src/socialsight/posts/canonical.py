"""The canonical post: a dict in the Twitter v1.1 status shape of ``lake.schema.TWEETS``.

Every adapter turns its platform's record into this shape. Helpers here are the
pieces they share: stable ids for non-Twitter posts, v1.1 timestamps, and the
fields every canonical post must carry; and what an adapter gives for one record
(:class:`Conversion`): posts, problems, the platform's deletions (:class:`Deletion`)
and edits.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
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


def as_text(value: Any) -> str | None:
    """``value`` when it is a string, else None (a number or a list where a URL belongs
    loses that field, not the post)."""
    return value if isinstance(value, str) else None


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


# Why a platform says a post is gone, named as X's batch compliance results name it
# (https://docs.x.com/x-api/compliance/batch-compliance/quickstart), with "edited" for
# a version an edit replaced: what it means, and whether the post (or, for a user,
# every post of theirs) must go. Only ``scrub_geo`` keeps the post: its location must go.
REASONS: dict[str, tuple[str, bool]] = {
    "deleted": ("deleted on the platform", True),
    "edited": ("replaced by an edit (X gives each version a new id)", True),
    "bounced": ("failed X's compliance check", True),
    "protected": ("its account became protected (private)", True),
    "suspended": ("its account was suspended", True),
    "deactivated": ("its account was deactivated", True),
    "scrub_geo": ("its author removed its location: only the geo data must go", False),
}


@dataclass(frozen=True)
class Deletion:
    """A platform says a post (or all of a user's posts) is gone, or replaced by an edit:
    the lake forgets it.

    It names its target in one of three ways, read in this order: the post's ids
    (``post_id`` and/or ``native_id``, as ``tweets.id`` and ``tweets.id_str`` hold
    them); an instance-local id (Mastodon's ``delete`` event: ``local_id`` on
    ``instance``, which is ``$.id`` of the post's ``raw_json`` where that instance
    delivered it); or a user (``user_id``, ``tweets.user.id``: X's user compliance).
    """

    platform: str  # x | bluesky | mastodon
    post_id: int | None  # the canonical tweets.id, where the message names the post
    native_id: str | None  # tweets.id_str as the lake stores it (a tweet id, an at:// uri)
    local_id: str | None = None  # Mastodon's delete event: the instance-local status id
    instance: str | None = None  # ... and the instance it is local to (a host name)
    reason: str = "deleted"  # a key of REASONS (X may add others: they count as deleted)
    user_id: int | None = None  # every post of this user (X user compliance)

    def __post_init__(self) -> None:
        names_post = self.post_id is not None or self.native_id is not None
        if self.user_id is not None and names_post:
            raise ValueError("a Deletion names a post or a user, not both")
        if not (names_post or self.user_id is not None or self.local_id is not None):
            raise ValueError("a Deletion must name a post, a local id or a user")
        if self.local_id is not None and not self.instance:
            raise ValueError("a local id needs the instance it is local to")

    @property
    def forgets_post(self) -> bool:
        """True when the post (or the user's posts) must go; False when only a part
        must (``scrub_geo``: its location)."""
        return REASONS.get(self.reason, ("", True))[1]


class Conversion:
    """What one input record turned into: posts, per-item problems, the platform's
    deletions and edits, or a control message.

    A v2 response holds many tweets, so one record can give several posts and, when
    some of its tweets are unusable, several problems (reasons) beside them; a tweet
    edited on X names the ids of its older versions, which become ``deletions`` beside
    it. ``edits`` are posts that replace an earlier version with the same id (a Bluesky
    ``update`` commit, a Mastodon ``status.update``). ``control`` marks a message that
    is none of these (a rate-limit notice, a like, a withheld status).
    Each post carries its ``raw_json``: the object as received.
    """

    __slots__ = ("control", "deletions", "edits", "posts", "problems")

    def __init__(
        self,
        posts: list[Post] | None = None,
        problems: list[str] | None = None,
        control: bool = False,
        deletions: list[Deletion] | None = None,
        edits: list[Post] | None = None,
    ) -> None:
        self.posts = posts or []
        self.problems = problems or []
        self.control = control
        self.deletions = deletions or []
        self.edits = edits or []

    @property
    def empty(self) -> bool:
        """True when the record gave nothing at all: no post, problem, deletion or edit,
        and it is no control message either."""
        return not (self.posts or self.problems or self.deletions or self.edits
                    or self.control)

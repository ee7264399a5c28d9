"""What every live source is: an async stream of batches of canonical posts, with a cursor.

A source (X, Bluesky, Mastodon, a followed file) reads its platform and yields
:class:`Item` objects: the canonical posts it converted (dicts in the ``tweets``
shape, see :mod:`socialsight.posts.canonical`), the problems it met (a malformed
message, a post it could not convert: each becomes an ``errors`` row, and the stream
goes on), the platform's **deletions** and **edits**, and the **cursor** after them —
whatever lets the source resume right after these posts (a Jetstream ``time_us``, a
Mastodon status id, an X ``since_id`` or ``next_token``, a byte offset in a file).

Deletions (:class:`~socialsight.posts.canonical.Deletion`) are what the platform says
is gone: a v1.1 ``delete`` notice in a followed file, a Bluesky post's delete commit,
Mastodon's ``delete`` event, the older versions an X edit replaces. A source reports
every one it reads, whether or not the lake holds that post (it cannot know): the
collector forgets those the lake has. Edits are posts that replace the version with
the same id (a Bluesky ``update``, a Mastodon ``status.update``); a filtering source
reports them whether or not they still match its filter, since the lake may hold
an earlier version that did. What the lake does not hold, an edit does not add.

The collector commits posts to the lake in batches and saves a source's cursor only
once every post before it is committed; after a crash the source is restarted from
the last saved cursor, re-reads what came after it, and the lake's de-duplication by
post id drops what was committed already. So a source must accept the cursor it
yielded and replay from there (at-least-once), and reconnect by itself after a
dropped connection, with backoff, until the collector stops it.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from socialsight.config import CollectSettings
from socialsight.posts.canonical import Deletion, Post


@dataclass
class Problem:
    """Something a source could not use: where it came from, why, and the raw message."""

    reason: str
    raw: str | None = None
    location: str | None = None  # a URL, a stream name, "file.jsonl:12", ...
    transient: bool = False


@dataclass
class Item:
    """Posts read since the last item, problems met, deletions and edits the platform
    announced, and where to resume after them."""

    posts: list[Post] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    cursor: str | None = None  # None: no new resume point (keep the last one)
    deletions: list[Deletion] = field(default_factory=list)
    edits: list[Post] = field(default_factory=list)  # replace the post with the same id


class Source(abc.ABC):
    """A live source of posts. Subclasses set ``platform`` and implement :meth:`stream`."""

    platform: str = "file"

    @classmethod
    def from_spec(cls, rest: str, settings: CollectSettings) -> Source:
        """The source that ``KIND:REST`` names on the command line or in
        ``collect.sources`` (:mod:`socialsight.sources.spec`); ``rest`` is the part
        after ``KIND:``, never blank."""
        raise NotImplementedError(f"{cls.__name__} cannot be named in one word")

    @property
    @abc.abstractmethod
    def key(self) -> str:
        """A stable name for this source and its filter (its cursor is saved under it),
        such as ``bluesky:#kindle`` or ``mastodon:mastodon.social#books``."""

    @abc.abstractmethod
    def stream(self, cursor: str | None) -> AsyncIterator[Item]:
        """Items from ``cursor`` on (None: from now, or from the start for a file),
        for as long as the caller iterates; reconnects by itself after failures."""

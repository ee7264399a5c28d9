"""Bluesky, live: Jetstream's websocket of new posts, filtered here by keywords and tags.

Jetstream (github.com/bluesky-social/jetstream) serves the whole network's commits as
JSON over a websocket. This source subscribes to ``app.bsky.feed.post`` only
(``?wantedCollections=``), converts each commit with
:func:`socialsight.posts.bluesky.convert_jetstream`, keeps the new posts that match
its filters, and yields them in small batches, each with the ``time_us`` of the last
event read as its cursor.

Deletions and edits. A post's ``delete`` commit carries only its URI, so no filter
can apply: every post deleted on the network becomes a
:class:`~socialsight.posts.canonical.Deletion` (the collector forgets those the lake
holds). An ``update`` commit is an edit, reported whether or not the new text still
matches the filters (the lake may hold the version that did).

Jetstream keeps about a day or more of events and replays them from a cursor
(``?cursor=<time_us>``, unix microseconds, the same on every instance), so after a
dropped connection or a restart the source asks for everything from the last
``time_us`` on: nothing is lost, and the event at the boundary may come twice (the
lake drops the duplicate by post id). A cursor older than the instance's retention
replays from the oldest event it still has.

Filters, like X's ``track``: ``kindle`` matches a post whose text has the word
kindle (also as ``#kindle``) or that is tagged kindle; ``#kindle`` matches only the
tag (a tag facet, a record tag, or ``#kindle`` written in the text); words in one
filter must all match (``kindle paperwhite``); filters are alternatives. Matching
ignores case. No filters: every post.

What cannot be used becomes a :class:`~socialsight.sources.base.Problem` and the
stream goes on: a message that is not JSON, an event of the wrong shape, a message
larger than ``max_message_bytes``, and a failure to connect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import AsyncGenerator, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson

from socialsight.config import CollectSettings
from socialsight.net import Backoff
from socialsight.posts.bluesky import POST_COLLECTION, convert_jetstream
from socialsight.posts.canonical import Deletion, Post
from socialsight.sources.base import Item, Problem, Source

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "wss://jetstream2.us-east.bsky.network/subscribe"
RAW_LIMIT = 4096  # how much of an oversized message a Problem keeps
HARD_LIMIT_FACTOR = 16  # the websocket refuses frames this many times the guard
CLOSE_TOO_BIG = 1009


# --- filters -------------------------------------------------------------------------


def _word(term: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w]){re.escape(term)}(?![\w])", re.IGNORECASE)


@dataclass(frozen=True)
class Filter:
    """Keywords and ``#hashtags``; a post matches when any one of them does."""

    terms: tuple[str, ...] = ()
    _patterns: tuple[tuple[tuple[str, re.Pattern[str]], ...], ...] = field(
        default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        patterns = tuple(
            tuple((word.casefold(), _word(word)) for word in term.split()) for term in self.terms)
        object.__setattr__(self, "_patterns", patterns)

    @classmethod
    def parse(cls, filters: Iterable[str] | str) -> Filter:
        """Filters from a list and/or comma-separated text; blanks dropped, case folded."""
        items = [filters] if isinstance(filters, str) else list(filters)
        terms: list[str] = []
        for item in items:
            for part in item.split(","):
                term = " ".join(part.split()).casefold()
                if term and term not in terms:
                    terms.append(term)
        return cls(tuple(terms))

    def matches(self, post: Post) -> bool:
        if not self.terms:
            return True
        text = str(post.get("text") or "")
        hashtags = post.get("entities", {}).get("hashtags") or []
        tags = {str(h.get("text") or "").casefold() for h in hashtags}
        return any(all(self._word_matches(word, pattern, text, tags) for word, pattern in term)
                   for term in self._patterns)

    @staticmethod
    def _word_matches(word: str, pattern: re.Pattern[str], text: str, tags: set[str]) -> bool:
        if word.startswith("#"):
            return word[1:] in tags or pattern.search(text) is not None
        return word in tags or pattern.search(text) is not None


# --- batching ------------------------------------------------------------------------


@dataclass
class _Batch:
    """What was read since the last item, and when that item went out."""

    size: int
    seconds: float
    posts: list[Post] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    deletions: list[Deletion] = field(default_factory=list)
    edits: list[Post] = field(default_factory=list)
    time_us: int | None = None
    sent_time_us: int | None = None
    sent_at: float = field(default_factory=time.monotonic)

    def count(self) -> int:
        return len(self.posts) + len(self.problems) + len(self.deletions) + len(self.edits)

    def pending(self) -> bool:
        return self.count() > 0 or self.time_us != self.sent_time_us

    def wait(self) -> float | None:
        """Seconds until the pending batch is due; None when nothing is pending."""
        if not self.pending():
            return None
        return max(0.0, self.sent_at + self.seconds - time.monotonic())

    def due(self) -> bool:
        if self.count() >= self.size:
            return True
        left = self.wait()
        return left is not None and left <= 0

    def take(self) -> Item:
        item = Item(self.posts, self.problems,
                    None if self.time_us is None else str(self.time_us),
                    self.deletions, self.edits)
        self.posts, self.problems, self.deletions, self.edits = [], [], [], []
        self.sent_time_us, self.sent_at = self.time_us, time.monotonic()
        return item


def parse_cursor(cursor: str | None) -> int | None:
    """A Jetstream cursor (``time_us``, unix microseconds) from its saved text."""
    if cursor is None or cursor == "":
        return None
    text = cursor.strip()
    if not text.isdigit():
        raise ValueError(f"not a Jetstream cursor (unix microseconds): {cursor!r}")
    return int(text)


def _size(message: str | bytes, limit: int) -> int:
    """The message's size in bytes (a text's length suffices when it is surely small)."""
    if isinstance(message, bytes) or len(message) * 4 <= limit:
        return len(message)
    return len(message.encode("utf-8", "surrogatepass"))


# --- the source ----------------------------------------------------------------------


class Jetstream(Source):
    """New Bluesky posts from a Jetstream instance, filtered by keywords and hashtags."""

    platform = "bluesky"

    def __init__(
        self,
        filters: Iterable[str] | str = (),
        endpoint: str = DEFAULT_ENDPOINT,
        *,
        batch_size: int = 200,
        batch_seconds: float = 2.0,
        max_message_bytes: int = 1 << 20,
        backoff_initial: float = 1.0,
        backoff_max: float = 60.0,
        open_timeout: float = 10.0,
        max_handles: int = 100_000,
    ) -> None:
        self.filter = Filter.parse(filters)
        self.endpoint = endpoint
        self.batch_size = max(1, batch_size)
        self.batch_seconds = batch_seconds
        self.max_message_bytes = max_message_bytes
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.open_timeout = open_timeout
        self.max_handles = max_handles
        self.handles: dict[str, str] = {}  # DID → handle, from identity events

    @classmethod
    def from_spec(cls, rest: str, settings: CollectSettings) -> Jetstream:
        """``bluesky:FILTERS``: comma-separated words and ``#tags``, or ``*`` for every post."""
        filters = [] if rest.strip() == "*" else [f.strip() for f in rest.split(",")
                                                   if f.strip()]
        return cls(filters, settings.bluesky_endpoint, backoff_initial=settings.backoff_seconds,
                   backoff_max=settings.max_backoff_seconds)

    @property
    def key(self) -> str:
        return "bluesky:" + (",".join(self.filter.terms) or "*")

    def url(self, time_us: int | None) -> str:
        """The subscribe URL: posts only, the size limit, and the cursor if any."""
        parts = urlsplit(self.endpoint)
        query = [(k, v) for k, v in parse_qsl(parts.query) if k not in {
            "wantedCollections", "cursor", "maxMessageSizeBytes"}]
        query.append(("wantedCollections", POST_COLLECTION))
        query.append(("maxMessageSizeBytes", str(self._hard_limit())))
        if time_us is not None:
            query.append(("cursor", str(time_us)))
        return urlunsplit(parts._replace(query=urlencode(query)))

    def _hard_limit(self) -> int:
        return self.max_message_bytes * HARD_LIMIT_FACTOR

    def _location(self, time_us: int | None) -> str:
        return self.endpoint if time_us is None else f"{self.endpoint}?cursor={time_us}"

    async def stream(self, cursor: str | None) -> AsyncGenerator[Item, None]:
        """Items from ``cursor`` on (None: the live tail); reconnects with backoff."""
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

        batch = _Batch(self.batch_size, self.batch_seconds, time_us=parse_cursor(cursor))
        batch.sent_time_us = batch.time_us
        backoff = Backoff(self.backoff_initial, self.backoff_max, jitter=0.5)
        while True:
            url = self.url(batch.time_us)
            read_before = batch.time_us
            try:
                async with connect(url, max_size=self._hard_limit(),
                                   open_timeout=self.open_timeout,
                                   user_agent_header="socialsight") as ws:
                    log.info("connected to %s", url)
                    async with contextlib.aclosing(self._session(ws, batch)) as items:
                        async for item in items:
                            yield item
            except ConnectionClosed as exc:
                log.warning("Jetstream connection closed: %s", exc)
                if exc.sent is not None and exc.sent.code == CLOSE_TOO_BIG:
                    batch.problems.append(Problem(
                        f"a message after cursor {batch.time_us} is larger than "
                        f"{self._hard_limit()} bytes; the connection was closed",
                        location=self._location(batch.time_us)))
            except InvalidStatus as exc:
                status = exc.response.status_code
                batch.problems.append(Problem(
                    f"Jetstream refused the connection: HTTP {status}",
                    location=self.endpoint, transient=status >= 500 or status == 429))
            except (OSError, TimeoutError, WebSocketException) as exc:
                batch.problems.append(Problem(
                    f"cannot reach Jetstream: {type(exc).__name__}: {exc}",
                    location=self.endpoint, transient=True))
            if batch.pending():
                yield batch.take()
            if batch.time_us != read_before:  # it read something: start over
                backoff.reset()
            await asyncio.sleep(backoff.next())

    async def _session(self, ws: Any, batch: _Batch) -> AsyncGenerator[Item, None]:
        """Items from one connection, until it closes (ConnectionClosed propagates)."""
        while True:
            try:
                message = await asyncio.wait_for(ws.recv(), batch.wait())
            except TimeoutError:
                message = None
            if message is not None:
                self._read(message, batch)
            if batch.due():
                yield batch.take()

    # --- one message ---------------------------------------------------------------

    def _read(self, message: str | bytes, batch: _Batch) -> None:
        text = message if isinstance(message, str) else message.decode("utf-8", "replace")
        size = _size(message, self.max_message_bytes)
        error = None
        try:
            event = orjson.loads(message)
        except orjson.JSONDecodeError as exc:
            event, error = None, f"malformed JSON from Jetstream: {exc}"
        time_us = event.get("time_us") if isinstance(event, dict) else None
        if isinstance(time_us, int) and not isinstance(time_us, bool):
            batch.time_us = max(time_us, batch.time_us or 0)
        where = self._location(time_us if isinstance(time_us, int) else batch.time_us)
        if size > self.max_message_bytes:
            batch.problems.append(Problem(
                f"Jetstream message of {size} bytes, larger than {self.max_message_bytes}",
                raw=text[:RAW_LIMIT], location=where))
            return
        if error is not None:
            batch.problems.append(Problem(error, raw=text, location=where))
            return
        self._learn_handle(event)
        try:
            conversion = convert_jetstream(event, raw=text, handles=self.handles)
        except ValueError as exc:
            batch.problems.append(Problem(str(exc), raw=text, location=where))
            return
        batch.posts += [post for post in conversion.posts if self.filter.matches(post)]
        batch.deletions += conversion.deletions
        batch.edits += conversion.edits

    def _learn_handle(self, event: Any) -> None:
        """Remember the handle an identity event announces for its DID."""
        if not isinstance(event, dict) or event.get("kind") != "identity":
            return
        identity = event.get("identity")
        did = identity.get("did") if isinstance(identity, dict) else None
        handle = identity.get("handle") if isinstance(identity, dict) else None
        if not isinstance(did, str):
            return
        self.handles.pop(did, None)
        if isinstance(handle, str) and handle:
            self.handles[did] = handle
            if len(self.handles) > self.max_handles:
                self.handles.pop(next(iter(self.handles)))

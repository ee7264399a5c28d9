"""Mastodon: a hashtag or the public media timeline of one instance, streamed live.

The streaming API (https://docs.joinmastodon.org/methods/streaming/) sends
server-sent events on a long-lived HTTP response: ``event: update`` with a Status
as JSON in ``data:``, ``event: delete`` with a status id, ``event: status.update``
with an edited Status, and heartbeat comments (``:thump``) every 15 seconds. Since
Mastodon 4.2 these streams need a user token on most instances; where streaming is
refused (401/403, an unknown path, a non-SSE answer) or its host cannot be reached,
this source polls the REST timeline instead (``/api/v1/timelines/tag/:tag``,
``/api/v1/timelines/public?only_media=true``, 40 statuses a page), and tries
streaming again every ``stream_retry_seconds``.

Cursor: the newest status id seen (Mastodon ids are numeric strings, in time order,
local to the instance). Each (re)connection first opens the stream, then catches up
with ``min_id=<cursor>`` pages of the timeline, then reads the stream, whose events
waited in the connection meanwhile — so nothing between a drop (or a restart) and
the new stream is lost; what arrives twice the lake drops by post id.

Rate limits: a 429 waits for ``Retry-After`` or ``X-RateLimit-Reset`` (an ISO 8601
time), and ``X-RateLimit-Remaining: 0`` waits for the reset before the next call.
Connection failures back off exponentially from ``backoff_seconds`` to
``max_backoff_seconds``; a stream silent for ``heartbeat_timeout`` seconds is
dropped and reopened. A malformed event or status becomes a :class:`Problem` and the
stream goes on.

Deletions and edits. A ``delete`` event's data is the status id local to this
instance (no JSON, no uri): it becomes a
:class:`~socialsight.posts.canonical.Deletion` with that ``local_id`` and this
instance's host as ``instance``; where this source read the status itself (the last
``max_remembered`` statuses, in memory), the deletion names the post's id and uri
too. In the lake, a post's ``raw_json`` is the status as this instance gave it, so
its ``$.id`` is that local id. A ``status.update`` event is an edit: the converted
status, to replace the lake's version.

The token comes from the ``token`` argument or the setting ``collect.mastodon_token``
(by default the ``SOCIALSIGHT_MASTODON_TOKEN`` environment variable); without one,
streaming is tried once in a while and public timelines are polled.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urljoin

import httpx
import orjson

from socialsight.config import CollectSettings
from socialsight.errors import ConfigError
from socialsight.net import Backoff, RateLimit, retry_after
from socialsight.posts.canonical import Deletion, Post
from socialsight.posts.mastodon import StatusError, from_status, instance_host
from socialsight.sources.base import Item, Problem, Source

log = logging.getLogger(__name__)

PAGE_LIMIT = 40  # the most statuses a timeline page gives
MAX_RAW = 4096
# Events that carry a Status: a new one, or an edit of one (its ``edits``); a
# ``delete`` event carries a local status id; every other event is skipped.
STATUS_EVENTS = frozenset({"update", "status.update"})
EDIT_EVENT = "status.update"
DELETE_EVENT = "delete"
MAX_LOCAL_ID = 100  # characters: Mastodon's ids are digits, other servers' (Pleroma) flakes
# Answers of the streaming endpoint after which only polling makes sense for a while.
STREAM_REFUSED = frozenset({400, 401, 403, 404, 405, 406, 410, 501})


def _id_key(status_id: str) -> tuple[int, str]:
    """Sort key of Mastodon ids: numeric strings by value, anything else after them."""
    return (len(status_id), status_id) if status_id.isdigit() else (1 << 30, status_id)


def newest(a: str | None, b: str | None) -> str | None:
    """The newer of two status ids (None counts as older than any)."""
    if a is None or b is None:
        return a if b is None else b
    return a if _id_key(a) >= _id_key(b) else b


# --- server-sent events ---------------------------------------------------------------


@dataclass
class Event:
    type: str
    data: str
    id: str | None = None


class SSEParser:
    """Server-sent events from lines (https://html.spec.whatwg.org/#event-stream-interpretation)."""

    def __init__(self) -> None:
        self._type = ""
        self._data: list[str] = []
        self.last_id: str | None = None
        self.retry_ms: int | None = None

    def feed(self, line: str) -> Event | None:
        """Take one line (without its end); an event when a blank line ends one."""
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment: Mastodon's ":)" greeting and ":thump" heartbeats
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            self._type = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self.last_id = value
        elif name == "retry" and value.isdigit():
            self.retry_ms = int(value)
        return None

    def _dispatch(self) -> Event | None:
        event_type, data = self._type or "message", self._data
        self._type, self._data = "", []
        if not data:
            return None
        return Event(event_type, "\n".join(data), self.last_id)


# --- failures that decide what happens next -------------------------------------------


class _StreamUnavailable(Exception):
    """Streaming is refused or unreachable: poll for a while."""


class _Reconnect(Exception):
    """The stream failed in a way that may pass: reconnect after a backoff."""

    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.wait = wait


class _Refused(Exception):
    """The timeline answered with an error that waiting will not fix."""

    def __init__(self, reason: str, raw: str) -> None:
        super().__init__(reason)
        self.raw = raw


@dataclass
class _State:
    """One run of :meth:`MastodonTimeline.stream`: cursor, backoff, rate-limit wait."""

    cursor: str | None
    backoff: Backoff
    stream_after: float = 0.0  # monotonic time before which streaming is not tried
    rest_after: float = 0.0  # monotonic time before which the REST API is not called

    def advance(self, ids: Iterable[str]) -> str | None:
        for status_id in ids:
            self.cursor = newest(self.cursor, status_id)
        return self.cursor


def _raw(text: str) -> str:
    return text[:MAX_RAW]


# --- the sources ----------------------------------------------------------------------


class MastodonTimeline(Source):
    """A timeline of one Mastodon instance, streamed, or polled where it cannot be."""

    platform = "mastodon"
    stream_path = ""
    timeline_path = ""

    def __init__(
        self,
        instance: str,
        *,
        token: str | None = None,
        poll_seconds: float = 30.0,
        backoff_seconds: float = 1.0,
        max_backoff_seconds: float = 60.0,
        heartbeat_timeout: float = 60.0,
        stream_retry_seconds: float = 300.0,
        max_rate_wait: float = 900.0,
        page_limit: int = PAGE_LIMIT,
        timeout: float = 30.0,
        max_remembered: int = 100_000,
    ) -> None:
        text = instance.strip().rstrip("/")
        self.base_url = text if "://" in text else f"https://{text}"
        self.host = instance_host(text)
        if token is None:
            secret = CollectSettings().mastodon_token
            token = None if secret is None else secret.get_secret_value()
        self.token = token or None
        self.poll_seconds = poll_seconds
        self.backoff_seconds = backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.heartbeat_timeout = heartbeat_timeout
        self.stream_retry_seconds = stream_retry_seconds
        self.max_rate_wait = max_rate_wait
        self.page_limit = max(1, min(page_limit, PAGE_LIMIT))
        self.timeout = timeout
        self.max_remembered = max_remembered
        # local status id → (post id, uri) of the statuses read, oldest first
        self.remembered: dict[str, tuple[int, str]] = {}

    # what differs between timelines
    def stream_params(self) -> dict[str, str]:
        return {}

    def timeline_params(self) -> dict[str, str]:
        return {}

    # --- the loop ---------------------------------------------------------------------

    async def stream(self, cursor: str | None) -> AsyncIterator[Item]:
        state = _State(cursor, Backoff(self.backoff_seconds, self.max_backoff_seconds))
        async with self._client() as client:
            while True:
                if time.monotonic() >= state.stream_after:
                    async with aclosing(self._stream_round(client, state)) as items:
                        async for item in items:
                            yield item
                else:
                    async with aclosing(self._catch_up(client, state)) as items:
                        async for item in items:
                            yield item
                    await asyncio.sleep(max(0.0, min(
                        self.poll_seconds, state.stream_after - time.monotonic())))

    async def _stream_round(self, client: httpx.AsyncClient,
                            state: _State) -> AsyncGenerator[Item, None]:
        """One stream connection, from opening to its end; then the wait before the next."""
        try:
            async with aclosing(self._stream_session(client, state)) as items:
                async for item in items:
                    yield item
            log.info("%s: the stream ended; reconnecting", self.key)
            wait = state.backoff.next()
        except _StreamUnavailable as exc:
            log.warning("%s: streaming unavailable (%s); polling the timeline", self.key, exc)
            state.stream_after = time.monotonic() + self.stream_retry_seconds
            return
        except _Reconnect as exc:
            wait = exc.wait if exc.wait is not None and exc.wait > 0 else state.backoff.next()
            log.warning("%s: %s; reconnecting in %.1f s", self.key, exc, wait)
        await asyncio.sleep(wait)

    def _client(self) -> httpx.AsyncClient:
        headers = {"User-Agent": "socialsight", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        timeout = httpx.Timeout(self.timeout, read=max(self.timeout, self.heartbeat_timeout))
        return httpx.AsyncClient(headers=headers, timeout=timeout)

    # --- streaming --------------------------------------------------------------------

    async def _open_stream(self, client: httpx.AsyncClient) -> httpx.Response:
        """The open SSE response, following the instance's redirect to its streaming host
        (with the token: the instance itself names that host)."""
        url: str = self.base_url + self.stream_path
        params: dict[str, str] | None = self.stream_params()
        timeout = httpx.Timeout(self.timeout, read=self.heartbeat_timeout)
        for _ in range(4):
            request = client.build_request("GET", url, params=params, timeout=timeout,
                                           headers={"Accept": "text/event-stream"})
            try:
                response = await client.send(request, stream=True, follow_redirects=False)
            except httpx.ConnectError as exc:
                raise _StreamUnavailable(f"cannot connect: {exc}") from exc
            except httpx.RequestError as exc:
                raise _Reconnect(f"stream request failed: {exc!r}") from exc
            if response.is_redirect and "location" in response.headers:
                await response.aclose()
                url, params = urljoin(str(response.url), response.headers["location"]), None
                if url.startswith("http://") and self.base_url.startswith("https://"):
                    raise _StreamUnavailable(f"refusing a redirect to plain http: {url}")
                continue
            return await self._checked_stream(response)
        raise _StreamUnavailable("too many redirects")

    async def _checked_stream(self, response: httpx.Response) -> httpx.Response:
        status = response.status_code
        if status == 200 and "text/event-stream" in response.headers.get("content-type", ""):
            return response
        try:
            body = (await response.aread()).decode("utf-8", "replace")[:200]
        except httpx.RequestError:
            body = ""
        finally:
            await response.aclose()
        reason = f"streaming answered {status}: {body.strip()}"
        if status == 200 or status in STREAM_REFUSED:
            raise _StreamUnavailable(reason)
        wait = retry_after(response.headers) if status == 429 else None
        raise _Reconnect(reason, None if wait is None else min(wait, self.max_rate_wait))

    async def _stream_session(self, client: httpx.AsyncClient,
                              state: _State) -> AsyncGenerator[Item, None]:
        response = await self._open_stream(client)
        location = str(response.url)
        try:
            if state.cursor is not None:
                async with aclosing(self._catch_up(client, state)) as items:
                    async for item in items:
                        yield item
            parser = SSEParser()
            async for line in response.aiter_lines():
                state.backoff.reset()
                event = parser.feed(line)
                found = None if event is None else self._on_event(event, state, location)
                if found is not None:
                    yield found
        except httpx.RequestError as exc:
            raise _Reconnect(f"stream dropped: {exc!r}") from exc
        finally:
            await response.aclose()

    def _on_event(self, event: Event, state: _State, location: str) -> Item | None:
        where = f"{location}#{event.type}"
        if event.type == DELETE_EVENT:
            return self._on_delete(event.data, where)
        if event.type not in STATUS_EVENTS:
            log.debug("%s: %s event %s", self.key, event.type, event.data[:40])
            return None
        try:
            status = orjson.loads(event.data)
        except orjson.JSONDecodeError as exc:
            return Item(problems=[Problem(f"malformed {event.type} event: {exc}",
                                          _raw(event.data), where)])
        posts, problems, ids = self._convert([(status, event.data)], where)
        if event.type == EDIT_EVENT:
            return Item(problems=problems, cursor=state.advance(ids), edits=posts)
        return Item(posts, problems, state.advance(ids))

    def _on_delete(self, data: str, where: str) -> Item:
        """A ``delete`` event: its data is the deleted status's id on this instance."""
        local_id = data.strip()
        if not local_id or len(local_id) > MAX_LOCAL_ID or any(c.isspace() for c in local_id):
            return Item(problems=[Problem("malformed delete event: its data is no status id",
                                          _raw(data), where)])
        post_id, uri = self.remembered.get(local_id, (None, None))
        return Item(deletions=[Deletion("mastodon", post_id, uri, local_id=local_id,
                                        instance=self.host)])

    def _remember(self, local_id: str, post: Post) -> None:
        """Keep the local id of a status read (the oldest forgotten past the limit)."""
        self.remembered.pop(local_id, None)
        self.remembered[local_id] = (post["id"], post["id_str"])
        if len(self.remembered) > self.max_remembered:
            self.remembered.pop(next(iter(self.remembered)))

    # --- polling ----------------------------------------------------------------------

    async def _catch_up(self, client: httpx.AsyncClient,
                        state: _State) -> AsyncGenerator[Item, None]:
        """Timeline pages newer than the cursor, oldest first, until a page is not full
        (without a cursor: the newest page only)."""
        while True:
            before = state.cursor
            params = {**self.timeline_params(), "limit": str(self.page_limit)}
            if before is not None:
                params["min_id"] = before
            url = self.base_url + self.timeline_path
            try:
                response = await self._get(client, url, params, state)
            except _Refused as exc:
                yield Item(problems=[Problem(str(exc), exc.raw, url)])
                return
            if response is None:
                return
            page, item = self._page(response, state)
            yield item
            if before is None or len(page) < self.page_limit or state.cursor == before:
                return

    def _page(self, response: httpx.Response, state: _State) -> tuple[list[Any], Item]:
        where = str(response.url)
        try:
            page = orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            page = None
            reason = f"timeline page is not JSON: {exc}"
        else:
            reason = "timeline page is not a JSON array"
        if not isinstance(page, list):
            return [], Item(problems=[Problem(reason, _raw(response.text), where)])
        pairs = [(status, None) for status in page]
        pairs.sort(key=lambda pair: _id_key(str(_status_id(pair[0]) or "")))
        posts, problems, ids = self._convert(pairs, where)
        return page, Item(posts, problems, state.advance(ids))

    async def _get(self, client: httpx.AsyncClient, url: str, params: dict[str, str],
                   state: _State) -> httpx.Response | None:
        """A timeline page, waiting out rate limits and retrying what may pass; None
        when the instance stays unreachable (the caller tries again later)."""
        backoff = Backoff(self.backoff_seconds, self.max_backoff_seconds)
        for _attempt in range(6):
            await asyncio.sleep(max(0.0, state.rest_after - time.monotonic()))
            try:
                response = await client.get(url, params=params)
            except httpx.RequestError as exc:
                log.warning("%s: %s failed: %r", self.key, url, exc)
                await asyncio.sleep(backoff.next())
                continue
            self._note_limits(response, state)
            if response.status_code == 429:
                wait = self._rate_wait(response, backoff)
                log.warning("%s: rate limited; waiting %.1f s", self.key, wait)
                state.rest_after = time.monotonic() + wait
                continue
            if response.status_code >= 500:
                await asyncio.sleep(backoff.next())
                continue
            if response.status_code >= 400:
                raise _Refused(f"timeline answered {response.status_code}",
                               _raw(response.text))
            return response
        return None

    def _rate_wait(self, response: httpx.Response, backoff: Backoff) -> float:
        wait = retry_after(response.headers)
        if wait is None or wait <= 0:
            return backoff.next()
        return min(wait, self.max_rate_wait)

    def _note_limits(self, response: httpx.Response, state: _State) -> None:
        if response.status_code != 429 and RateLimit.of(response.headers).remaining == 0:
            wait = retry_after(response.headers)
            if wait is not None and wait > 0:
                state.rest_after = time.monotonic() + min(wait, self.max_rate_wait)

    # --- conversion -------------------------------------------------------------------

    def _convert(self, pairs: Sequence[tuple[Any, str | None]],
                 where: str) -> tuple[list[Post], list[Problem], list[str]]:
        """Posts and problems of (status, raw text) pairs, and the ids they carried."""
        posts: list[Post] = []
        problems: list[Problem] = []
        ids: list[str] = []
        for status, raw in pairs:
            status_id = _status_id(status)
            if status_id is not None:
                ids.append(status_id)
            try:
                posts.append(from_status(status, self.base_url, raw))
                if status_id is not None:
                    self._remember(status_id, posts[-1])
            except StatusError as exc:
                text = raw if raw is not None else orjson.dumps(status).decode()
                name = "status" if status_id is None else f"status {status_id}"
                problems.append(Problem(f"unusable {name}: {exc}", _raw(text), where))
        return posts, problems, ids


def _status_id(status: Any) -> str | None:
    value = status.get("id") if isinstance(status, dict) else None
    return None if value is None else str(value)


class MastodonTag(MastodonTimeline):
    """Public statuses with one hashtag on one instance: ``mastodon:HOST#TAG``."""

    stream_path = "/api/v1/streaming/hashtag"

    def __init__(self, instance: str, hashtag: str, **options: Any) -> None:
        super().__init__(instance, **options)
        self.hashtag = hashtag.strip().lstrip("#")
        if not self.hashtag:
            raise ValueError("a Mastodon hashtag source needs a hashtag")
        self.timeline_path = f"/api/v1/timelines/tag/{quote(self.hashtag, safe='')}"

    @classmethod
    def from_spec(cls, rest: str, settings: CollectSettings) -> MastodonTag:
        """``mastodon:HOST#TAG``; ``rest`` is ``HOST#TAG``."""
        host, hash_, tag = rest.partition("#")
        if not hash_ or not host.strip() or not tag.strip():
            raise ConfigError(f"'mastodon:{rest}': write mastodon:HOST#TAG, e.g. "
                              "mastodon:mastodon.social#books")
        token = settings.mastodon_token
        return cls(host.strip(), tag.strip(), token=token.get_secret_value() if token else "",
                   poll_seconds=settings.mastodon_poll_seconds,
                   backoff_seconds=settings.backoff_seconds,
                   max_backoff_seconds=settings.max_backoff_seconds)

    @property
    def key(self) -> str:
        return f"mastodon:{self.host}#{self.hashtag.lower()}"

    def stream_params(self) -> dict[str, str]:
        return {"tag": self.hashtag}


class MastodonPublicMedia(MastodonTimeline):
    """Every public status with media that one instance knows (the ``public:media``
    stream; ``local`` keeps the instance's own accounts only)."""

    stream_path = "/api/v1/streaming/public"
    timeline_path = "/api/v1/timelines/public"

    def __init__(self, instance: str, local: bool = False, **options: Any) -> None:
        super().__init__(instance, **options)
        self.local = local
        if local:
            self.stream_path = "/api/v1/streaming/public/local"

    @property
    def key(self) -> str:
        return f"mastodon:{self.host}/public:{'local:' if self.local else ''}media"

    def stream_params(self) -> dict[str, str]:
        return {"only_media": "true"}

    def timeline_params(self) -> dict[str, str]:
        return {"only_media": "true", **({"local": "true"} if self.local else {})}

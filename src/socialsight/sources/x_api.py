"""X (Twitter) API v2 sources: recent search, polled, and the filtered stream.

Both ask X for the same fields (:data:`FIELDS`: authors, photos with their alt text,
referenced tweets, places) and hand every response, or stream line, to
:func:`socialsight.posts.twitter_v2.from_v2_response`; its posts, problems and
deletions become one :class:`~socialsight.sources.base.Item`.

Deletions. Neither recent search nor the filtered stream says when a post is deleted
(X sends that on its compliance streams, Enterprise only, and in batch compliance
results, which ``socialsight forget --from`` reads: :mod:`socialsight.posts.compliance`).
What they do say is edits: an edited post comes with a new id and lists the ids of
its older versions, which become deletions (reason ``edited``) beside it.

Authentication is an app's Bearer Token (OAuth 2.0 app-only), the setting
``collect.x_bearer_token``: by default ``SOCIALSIGHT_X_BEARER_TOKEN`` or
``X_BEARER_TOKEN`` from the environment (:func:`bearer_token`).

Waiting follows X's guidance (docs.x.com, "Handling disconnections" and "Rate
limits"); :class:`Pacing` holds the numbers:

========================================  ==========================================
``x-rate-limit-remaining: 0``             wait until ``x-rate-limit-reset`` (epoch s)
HTTP 429                                  until ``x-rate-limit-reset``; without it
                                          60 s, doubling each time
network error (refused, reset, stalled)   0.25 s more each try, up to 16 s; the first
                                          reconnect after a working stream drops is
                                          immediate
HTTP 5xx                                  5 s, doubling each time, up to 320 s
other HTTP 4xx (bad token, bad query)     :class:`XRequestRefused`, a ConfigError: the
                                          same call would fail the same way
========================================  ==========================================

Cursors. :class:`XSearch`'s cursor is the newest post id of the last finished poll
(``since_id`` of the next one); within a poll pages come newest first, so only the
poll's last page carries the cursor and a crash mid-poll re-reads the whole poll.
:class:`XStream`'s cursor is the newest post id seen, but the filtered stream cannot
replay: after a restart or a dropped connection, posts published while the
connection was down are missed — unless ``backfill_minutes`` (1-5; X grants it to
Enterprise projects only) asks X to resend the last minutes on reconnect, which
covers gaps of up to five minutes (the lake drops the duplicates).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from socialsight.config import CollectSettings
from socialsight.errors import ConfigError
from socialsight.net import Backoff, RateLimit
from socialsight.posts.canonical import as_int
from socialsight.posts.twitter_v2 import describe_errors, from_v2_response, is_v2_response
from socialsight.sources.base import Item, Problem, Source

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.x.com"
USER_AGENT = "socialsight"

SEARCH_PATH = "/2/tweets/search/recent"
STREAM_PATH = "/2/tweets/search/stream"
RULES_PATH = "/2/tweets/search/stream/rules"

# Tag of the stream rules socialsight adds ("socialsight" or "socialsight:<name>").
RULE_TAG = "socialsight"

# What every search page and stream line asks for: what posts.twitter_v2 maps.
FIELDS: dict[str, str] = {
    "expansions": ",".join((
        "author_id", "attachments.media_keys", "referenced_tweets.id",
        "referenced_tweets.id.author_id", "entities.mentions.username",
        "in_reply_to_user_id", "geo.place_id")),
    "tweet.fields": ",".join((
        "attachments", "author_id", "conversation_id", "created_at",
        "edit_history_tweet_ids", "entities", "geo", "in_reply_to_user_id", "lang",
        "note_tweet", "possibly_sensitive", "public_metrics", "referenced_tweets")),
    "user.fields": ",".join((
        "created_at", "description", "location", "name", "profile_image_url", "protected",
        "public_metrics", "url", "username", "verified")),
    "media.fields": "url,type,width,height,alt_text,preview_image_url",
    "place.fields": "country,country_code,full_name,geo,name,place_type",
}

Sleep = Callable[[float], Awaitable[None]]


def bearer_token(settings: CollectSettings | None = None) -> str:
    """The app's Bearer Token: the setting ``collect.x_bearer_token``, whose default is
    ``SOCIALSIGHT_X_BEARER_TOKEN``, else ``X_BEARER_TOKEN``, from the environment."""
    token = (settings or CollectSettings()).x_bearer_token
    if token is None:
        raise ConfigError(
            "the X API needs a bearer token: set X_BEARER_TOKEN (or "
            "SOCIALSIGHT_X_BEARER_TOKEN, or the setting collect.x_bearer_token) to your "
            "app's Bearer Token from the X developer portal")
    return token.get_secret_value()


def from_spec(rest: str, settings: CollectSettings) -> Source:
    """``search:QUERY`` or ``stream:RULE``, the part of an ``x:`` spec after ``x:``."""
    mode, _, query = rest.partition(":")
    if mode == "search" and query.strip():
        return XSearch.from_spec(query, settings)
    if mode == "stream" and query.strip():
        return XStream.from_spec(query, settings)
    raise ConfigError(f"'x:{rest}': write x:search:QUERY or x:stream:RULE")


class XRequestRefused(ConfigError):
    """X refused a request in a way that retrying cannot fix (400, 401, 403, 404...)."""

    def __init__(self, status: int, path: str, body: Any) -> None:
        self.status, self.path, self.body = status, path, body
        super().__init__(f"X API refused {path} (HTTP {status}): {describe_errors(body)}")

    def mentions(self, parameter: str) -> bool:
        """True when X's error names this request parameter."""
        errors = self.body.get("errors") if isinstance(self.body, dict) else None
        return any(isinstance(e, dict) and parameter in (e.get("parameters") or {})
                   for e in errors or [])


@dataclass(frozen=True)
class Pacing:
    """How the X sources wait; X's guidance by default. ``sleep`` and ``clock`` are
    replaceable so that tests need not wait."""

    poll_seconds: float = 60.0  # between two recent-search polls
    network_step: float = 0.25  # linear backoff after a network error...
    network_max: float = 16.0  # ...up to this
    http_first: float = 5.0  # exponential backoff after a 5xx...
    http_max: float = 320.0  # ...up to this
    rate_first: float = 60.0  # after a 429 without x-rate-limit-reset, doubling...
    rate_max: float = 900.0  # ...up to one rate-limit window
    reset_margin: float = 1.0  # added to x-rate-limit-reset, for clock skew
    stall_seconds: float = 30.0  # no byte for this long (heartbeats come every 20 s): reconnect
    connect_seconds: float = 10.0
    sleep: Sleep = asyncio.sleep
    clock: Callable[[], float] = time.time


class Schedule:
    """X's reconnect schedule, one :class:`~socialsight.net.Backoff` per kind of failure:
    linear for network errors, exponential for HTTP errors and rate limits."""

    def __init__(self, pacing: Pacing) -> None:
        p = self.pacing = pacing
        self.network_errors = Backoff(p.network_step, p.network_max, linear=True)
        self.http_errors = Backoff(p.http_first, p.http_max)
        self.rate_limits = Backoff(p.rate_first, p.rate_max)

    def reset(self) -> None:
        for backoff in (self.network_errors, self.http_errors, self.rate_limits):
            backoff.reset()

    def network(self) -> float:
        return self.network_errors.next()

    def http(self) -> float:
        return self.http_errors.next()

    def rate(self, reset_at: float | None) -> float:
        """Until ``reset_at`` (epoch seconds) and a margin, else the next backoff."""
        wait = self.rate_limits.next()
        if reset_at is not None:
            return RateLimit(reset=reset_at).wait(self.pacing.clock()) + self.pacing.reset_margin
        return wait


class Api:
    """One X API client: bearer auth, the rate-limit headers, retries on X's schedule."""

    def __init__(self, base_url: str, token: str, pacing: Pacing) -> None:
        self.pacing = pacing
        self.backoff = Schedule(pacing)
        self.limit = RateLimit()
        self.http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT},
            timeout=httpx.Timeout(pacing.stall_seconds, connect=pacing.connect_seconds))

    async def aclose(self) -> None:
        await self.http.aclose()

    async def pause(self, seconds: float, why: str, level: int = logging.INFO) -> None:
        if seconds > 0:
            log.log(level, "X API: waiting %.2f s (%s)", seconds, why)
            await self.pacing.sleep(seconds)

    async def respect_limit(self) -> None:
        """Wait for the window to reset when the last response said none is left."""
        if self.limit.exhausted and self.limit.reset is not None:
            limit, self.limit = self.limit, RateLimit()
            wait = limit.wait(self.pacing.clock()) + self.pacing.reset_margin
            await self.pause(wait, f"rate limit of {limit.limit} used up")

    def note(self, response: httpx.Response) -> None:
        self.limit = RateLimit.of(response.headers)

    async def after_failure(self, response: httpx.Response) -> None:
        """Wait as X asks after a 429 or a 5xx; raise XRequestRefused for the rest."""
        status = response.status_code
        if status == 429:
            await self.pause(self.backoff.rate(RateLimit.of(response.headers).reset),
                             f"429 on {response.url.path}")
            self.limit = RateLimit()  # already waited for this reset
        elif status >= 500:
            await self.pause(self.backoff.http(), f"HTTP {status} on {response.url.path}")
        else:
            raise XRequestRefused(status, response.url.path, _body(response))

    async def call(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
                   body: Any = None) -> httpx.Response:
        """The first successful response; waits through network errors, 429s and 5xx."""
        while True:
            await self.respect_limit()
            try:
                response = await self.http.request(method, path, params=params, json=body)
            except httpx.TransportError as exc:
                await self.pause(self.backoff.network(), f"{path}: {exc!r}")
                continue
            self.note(response)
            if response.is_success:
                self.backoff.reset()
                return response
            await self.after_failure(response)


def _body(response: httpx.Response) -> Any:
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return response.text[:500]


def _newest(current: int | None, ids: Sequence[Any]) -> int | None:
    known = [i for i in (current, *(as_int(x) for x in ids)) if i is not None]
    return max(known) if known else None


def _problems(reasons: list[str], raw: str, location: str) -> list[Problem]:
    return [Problem(reason, raw=raw, location=location) for reason in reasons]


# --- recent search --------------------------------------------------------------------


class XSearch(Source):
    """X API v2 recent search (the last 7 days), polled every ``pacing.poll_seconds``.

    Each poll pages through ``next_token`` and asks only for posts newer than the
    previous poll's newest (``since_id``). The first poll, without a cursor, reads
    everything recent search holds for the query, or ``first_poll_pages`` pages of it.
    """

    platform = "x"

    def __init__(self, query: str, *, token: str | None = None,
                 base_url: str = DEFAULT_BASE_URL, max_results: int = 100,
                 first_poll_pages: int | None = None, pacing: Pacing | None = None) -> None:
        if not query.strip():
            raise ConfigError("an X search needs a query")
        if not 10 <= max_results <= 100:
            raise ConfigError(f"X recent search takes 10 to 100 results a page, not {max_results}")
        self.query = query.strip()
        self.token = token or bearer_token()
        self.base_url = base_url
        self.max_results = max_results
        self.first_poll_pages = first_poll_pages
        self.pacing = pacing or Pacing()

    @classmethod
    def from_spec(cls, rest: str, settings: CollectSettings) -> XSearch:
        """``x:search:QUERY``; ``rest`` is the query."""
        return cls(rest, token=bearer_token(settings), base_url=settings.x_base_url,
                   pacing=Pacing(poll_seconds=settings.x_poll_seconds))

    @property
    def key(self) -> str:
        return f"x:search:{self.query}"

    async def stream(self, cursor: str | None) -> AsyncIterator[Item]:
        api = Api(self.base_url, self.token, self.pacing)
        since = cursor
        try:
            while True:
                async for item in self._poll(api, since):
                    since = item.cursor or since
                    yield item
                await api.pause(self.pacing.poll_seconds, "until the next poll", logging.DEBUG)
        finally:
            await api.aclose()

    def _params(self, since: str | None, token: str | None) -> dict[str, str]:
        params = {**FIELDS, "query": self.query, "max_results": str(self.max_results)}
        if since is not None:
            params["since_id"] = since
        if token is not None:
            params["next_token"] = token
        return params

    async def _poll(self, api: Api, since: str | None) -> AsyncIterator[Item]:
        """Every page newer than ``since``; the last one's item carries the new cursor."""
        newest, token, pages = as_int(since), None, 0
        while True:
            try:
                response = await api.call("GET", SEARCH_PATH, params=self._params(since, token))
            except XRequestRefused as exc:
                if since is None or exc.status != 400 or not exc.mentions("since_id"):
                    raise
                yield Item(problems=[self._stale(since, exc)])
                since, newest, token, pages = None, None, None, 0
                continue
            location = str(response.url)
            try:
                obj = orjson.loads(response.content)
            except orjson.JSONDecodeError as exc:
                yield Item(problems=[Problem(f"malformed JSON from X search: {exc}",
                                             raw=response.text, location=location,
                                             transient=True)])
                await api.pause(api.backoff.http(), "malformed search page")
                continue
            meta = obj.get("meta") if isinstance(obj, dict) else None
            meta = meta if isinstance(meta, dict) else {}
            conversion = from_v2_response(obj) if isinstance(obj, dict) else None
            posts = conversion.posts if conversion else []
            deletions = conversion.deletions if conversion else []
            reasons = conversion.problems if conversion else ["not an X API v2 response"]
            newest = _newest(newest, [meta.get("newest_id"), *(p["id"] for p in posts)])
            token = meta.get("next_token") if isinstance(meta.get("next_token"), str) else None
            pages += 1
            limit = self.first_poll_pages if since is None else None
            done = token is None or (limit is not None and pages >= limit)
            yield Item(posts, _problems(reasons, response.text, location),
                       cursor=str(newest) if done and newest is not None else None,
                       deletions=deletions)
            if done:
                return

    def _stale(self, since: str, exc: XRequestRefused) -> Problem:
        log.warning("X search %r: since_id %s refused (%s); starting over", self.query, since, exc)
        return Problem(
            f"X recent search no longer reaches post {since} (it keeps 7 days): posts "
            "between it and the oldest post recent search still has are missing",
            location=f"{self.key} since_id={since}")


# --- filtered stream --------------------------------------------------------------------


@dataclass(frozen=True)
class StreamRule:
    """One filtered-stream rule: its text (X's rule syntax) and tag."""

    value: str
    tag: str | None = None


@dataclass
class RuleChanges:
    """What :meth:`XStream.sync_rules` changed (or, with ``dry_run``, would change)."""

    added: list[StreamRule] = field(default_factory=list)
    deleted: list[StreamRule] = field(default_factory=list)
    kept: list[StreamRule] = field(default_factory=list)


def _duplicate(error: dict[str, Any]) -> bool:
    """X's answer to adding a rule that exists already: harmless."""
    return error.get("title") == "DuplicateRule" or str(error.get("type", "")).endswith(
        "/duplicate-rules")


def _ours(tag: Any) -> bool:
    return isinstance(tag, str) and (tag == RULE_TAG or tag.startswith(RULE_TAG + ":"))


class XStream(Source):
    """X API v2 filtered stream: makes sure ``rules`` exist, then reads matching posts.

    Rules already present (same text, whatever their tag) are kept; missing ones are
    added, tagged ``socialsight`` (``socialsight:<name>`` with a ``name``). With
    ``prune``, rules tagged by socialsight that are not wanted any more are deleted;
    other rules are never touched. An app has one rule set and one stream: every post
    that any of its rules matches comes through, and is kept.
    """

    platform = "x"

    def __init__(self, rules: Sequence[str | StreamRule], *, name: str | None = None,
                 prune: bool = False, backfill_minutes: int = 0, token: str | None = None,
                 base_url: str = DEFAULT_BASE_URL, pacing: Pacing | None = None) -> None:
        self.tag = RULE_TAG if name is None else f"{RULE_TAG}:{name}"
        given = [r if isinstance(r, StreamRule) else StreamRule(r) for r in rules]
        self.rules = [StreamRule(r.value.strip(), r.tag or self.tag)
                      for r in given if r.value.strip()]
        if not self.rules:
            raise ConfigError("an X stream needs at least one rule")
        if not 0 <= backfill_minutes <= 5:
            raise ConfigError(f"X backfills 1 to 5 minutes (0: none), not {backfill_minutes}")
        self.name = name or ",".join(r.value for r in self.rules)
        self.prune = prune
        self.backfill_minutes = backfill_minutes
        self.token = token or bearer_token()
        self.base_url = base_url
        self.pacing = pacing or Pacing()

    @classmethod
    def from_spec(cls, rest: str, settings: CollectSettings) -> XStream:
        """``x:stream:RULE``; ``rest`` is the rule."""
        return cls([rest], token=bearer_token(settings), base_url=settings.x_base_url)

    @property
    def key(self) -> str:
        return f"x:stream:{self.name}"

    # -- rules ----------------------------------------------------------------------

    async def sync_rules(self, api: Api | None = None, dry_run: bool = False) -> RuleChanges:
        """Add the missing rules (and, with ``prune``, delete stale socialsight ones).

        ``dry_run`` has X check the changes without making them.
        """
        own = api or Api(self.base_url, self.token, self.pacing)
        try:
            return await self._sync_rules(own, dry_run)
        finally:
            if api is None:
                await own.aclose()

    async def _sync_rules(self, api: Api, dry_run: bool) -> RuleChanges:
        existing = await self.list_rules(api)
        have = {r["value"] for r in existing}
        wanted = {r.value for r in self.rules}
        changes = RuleChanges(
            added=[r for r in self.rules if r.value not in have],
            kept=[r for r in self.rules if r.value in have])
        stale = [r for r in existing
                 if self.prune and _ours(r.get("tag")) and r["value"] not in wanted]
        changes.deleted = [StreamRule(r["value"], r.get("tag")) for r in stale]
        params = {"dry_run": "true"} if dry_run else None
        if stale:
            await self._post_rules(api, {"delete": {"ids": [r["id"] for r in stale]}}, params)
        if changes.added:
            add = [{"value": r.value, **({"tag": r.tag} if r.tag else {})}
                   for r in changes.added]
            await self._post_rules(api, {"add": add}, params)
        log.info("X stream rules: %d added, %d deleted, %d kept%s", len(changes.added),
                 len(changes.deleted), len(changes.kept), " (dry run)" if dry_run else "")
        return changes

    async def list_rules(self, api: Api) -> list[dict[str, Any]]:
        """Every rule of the app's stream: dicts with id, value and tag."""
        rules: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            params = {"max_results": "1000", **({"pagination_token": token} if token else {})}
            obj = _body(await api.call("GET", RULES_PATH, params=params))
            obj = obj if isinstance(obj, dict) else {}
            rules += [r for r in obj.get("data") or [] if isinstance(r, dict) and "value" in r]
            token = (obj.get("meta") or {}).get("next_token")
            if not isinstance(token, str):
                return rules

    async def _post_rules(self, api: Api, body: dict[str, Any],
                          params: dict[str, str] | None) -> None:
        response = await api.call("POST", RULES_PATH, params=params, body=body)
        obj = _body(response)
        errors = obj.get("errors") if isinstance(obj, dict) else None
        refused = [e for e in errors or [] if isinstance(e, dict) and not _duplicate(e)]
        if refused:
            raise XRequestRefused(response.status_code, RULES_PATH, {"errors": refused})

    # -- the stream ------------------------------------------------------------------

    async def stream(self, cursor: str | None) -> AsyncIterator[Item]:
        api = Api(self.base_url, self.token, self.pacing)
        try:
            await self._sync_rules(api, dry_run=False)
            async for item in self._connections(api, cursor):
                yield item
        finally:
            await api.aclose()

    def _params(self, gap: bool) -> dict[str, str]:
        params = dict(FIELDS)
        if gap and self.backfill_minutes:
            params["backfill_minutes"] = str(self.backfill_minutes)
        return params

    async def _connections(self, api: Api, cursor: str | None) -> AsyncIterator[Item]:
        """Connect, read, and reconnect on X's schedule, for as long as the caller reads."""
        newest = as_int(cursor)
        gap = cursor is not None  # resuming: posts may have come while we were away
        number = 0
        while True:
            await api.respect_limit()
            number += 1
            established = False
            try:
                async with api.http.stream("GET", STREAM_PATH, params=self._params(gap)) as resp:
                    api.note(resp)
                    if resp.status_code != 200:
                        await resp.aread()
                        await api.after_failure(resp)
                        continue
                    line_no = 0
                    async for line in resp.aiter_lines():
                        line_no += 1
                        if not established:
                            established = True
                            api.backoff.reset()
                        item = self._read_line(line, f"{STREAM_PATH} #{number}:{line_no}", newest)
                        if item is not None:
                            newest = as_int(item.cursor) or newest
                            yield item
                log.info("X stream closed by the server; reconnecting")
            except httpx.TransportError as exc:
                log.warning("X stream connection %d failed: %r", number, exc)
            gap = True  # from here on, posts may be missed while reconnecting
            delay = 0.0 if established else api.backoff.network()
            await api.pause(delay, "reconnecting to the X stream")

    def _read_line(self, line: str, location: str, newest: int | None) -> Item | None:
        """One stream line as an item; None for keep-alive heartbeats and notices."""
        text = line.strip()
        if not text:
            return None
        try:
            obj = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            return Item(problems=[Problem(f"malformed JSON on the X stream: {exc}",
                                          raw=line, location=location)])
        if not is_v2_response(obj):
            return Item(problems=[Problem("not an X API v2 stream message", raw=line,
                                          location=location)])
        if obj.get("data") is None:
            log.warning("X stream says: %s", describe_errors(obj))
            return None
        conversion = from_v2_response(obj)
        top = _newest(newest, [p["id"] for p in conversion.posts])
        return Item(conversion.posts, _problems(conversion.problems, line, location),
                    cursor=None if top is None else str(top), deletions=conversion.deletions)

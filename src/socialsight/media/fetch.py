"""Photos over HTTP: guarded, bounded, retried, and sniffed — one error per failure, no crash.

:class:`Fetcher` downloads concurrently (asyncio + httpx) with connect/read timeouts,
retries with backoff on timeouts, dropped connections, 5xx and 429 (honouring
``Retry-After``), a per-host concurrency limit, a byte limit enforced while the body
streams in, and a pixel limit read from the image header. Each photo has
``fetch.total_timeout_seconds`` in all — redirects, retries and their waits included,
waiting for a turn at a busy host not — so a server trickling bytes (each within the
read timeout) cannot hold a download slot for long. Every URL and redirect
passes :mod:`socialsight.media.guard` first, and the connection goes to the address
the guard checked. What comes back must be a JPEG, PNG, GIF or WebP by its first
bytes, whatever the server's Content-Type says.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from socialsight.config import FetchSettings
from socialsight.errors import FetchError, MediaError, SocialsightError
from socialsight.media.guard import AddressPolicy, Target
from socialsight.media.sniff import describe, dimensions, sniff
from socialsight.net import Backoff, retry_after

log = logging.getLogger(__name__)
T = TypeVar("T")

REDIRECTS = {301, 302, 303, 307, 308}
MAX_REDIRECTS = 5
RETRY_AFTER_CAP = 30.0


@dataclass(frozen=True)
class Photo:
    """A downloaded photo: its bytes and what they are."""

    url: str
    data: bytes
    mime: str
    width: int
    height: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class Failure:
    """A URL that could not be fetched, and why (becomes an error row)."""

    url: str
    error: SocialsightError


class Budget:
    """The time one fetch has left: spent while it resolves, downloads or waits to retry."""

    def __init__(self, url: str, seconds: float) -> None:
        self.url, self.seconds, self.left = url, seconds, seconds

    async def spend(self, work: Awaitable[T]) -> T:
        """``work``, cut off (a FetchError) when the fetch's time is up."""
        started = time.monotonic()
        deadline = asyncio.timeout(max(self.left, 0.0))
        try:
            async with deadline:
                return await work
        except TimeoutError as exc:
            if not deadline.expired():
                raise
            raise FetchError(f"gave up on {self.url[:200]} after {self.seconds:g} s "
                            "(fetch.total_timeout_seconds)") from exc
        finally:
            self.left -= time.monotonic() - started


class Fetcher:
    """Downloads photos under one settings object; use ``async with``."""

    def __init__(self, settings: FetchSettings | None = None) -> None:
        self.settings = settings or FetchSettings()
        self.policy = AddressPolicy(self.settings.allow_hosts)
        self._hosts: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(self.settings.per_host))
        self._client: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Fetcher:
        s = self.settings
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(s.read_timeout_seconds, connect=s.connect_timeout_seconds),
            follow_redirects=False, headers={"User-Agent": s.user_agent},
            limits=httpx.Limits(max_connections=s.concurrency),
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def fetch_many(self, urls: Iterable[str]) -> list[Photo | Failure]:
        """Every URL's photo or failure, in the order given."""
        limit = asyncio.Semaphore(self.settings.concurrency)

        async def one(url: str) -> Photo | Failure:
            async with limit:
                try:
                    return await self.fetch(url)
                except SocialsightError as exc:
                    return Failure(url, exc)

        return list(await asyncio.gather(*(one(u) for u in urls)))

    async def fetch(self, url: str) -> Photo:
        """One photo; raises FetchError (worth retrying later) or MediaError (not)."""
        budget = Budget(url, self.settings.total_timeout_seconds)
        backoff = Backoff(self.settings.backoff_seconds)
        while True:
            try:
                return await self._follow(url, budget)
            except (ValueError, httpx.InvalidURL) as exc:  # a URL no request can be made of
                raise MediaError(f"not a usable URL: {url[:200]!r} ({exc})") from exc
            except FetchError as exc:
                if backoff.tries >= self.settings.retries or budget.left <= 0:
                    raise
                delay = backoff.next()
                asked = getattr(exc, "retry_after", None)
                if asked is not None and asked > 0:
                    delay = asked
                log.debug("retrying %s in %.1fs: %s", url, delay, exc)
                await budget.spend(asyncio.sleep(min(delay, RETRY_AFTER_CAP)))

    async def _follow(self, url: str, budget: Budget) -> Photo:
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            target = await budget.spend(self.policy.check(current))
            async with self._hosts[target.host]:  # waiting for a turn costs no budget
                outcome = await budget.spend(self._get(target))
            if isinstance(outcome, Photo):
                return outcome
            current = urljoin(current, outcome)
        raise MediaError(f"more than {MAX_REDIRECTS} redirects from {url[:200]}")

    async def _get(self, target: Target) -> Photo | str:
        """The photo at ``target``, or the Location it redirects to."""
        assert self._client is not None, "use Fetcher in 'async with'"
        request = self._client.build_request("GET", _pinned(target), headers={
            "Host": _host_header(target)}, extensions=(
                {"sni_hostname": target.host} if target.scheme == "https" else {}))
        try:
            response = await self._client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise FetchError(f"timed out fetching {target.url[:200]}") from exc
        except httpx.TransportError as exc:
            raise FetchError(f"cannot fetch {target.url[:200]}: {exc}") from exc
        try:
            return await self._read(target, response)
        finally:
            await response.aclose()

    async def _read(self, target: Target, response: httpx.Response) -> Photo | str:
        status = response.status_code
        if status in REDIRECTS and "location" in response.headers:
            return response.headers["location"]
        if status == 429 or status >= 500:
            error = FetchError(f"HTTP {status} from {target.url[:200]}")
            error.retry_after = retry_after(response.headers)  # type: ignore[attr-defined]
            raise error
        if status != 200:
            raise MediaError(f"HTTP {status} from {target.url[:200]}")
        limit = self.settings.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise MediaError(f"photo is {int(declared):,} bytes, over the limit of {limit:,}")
        body = bytearray()
        try:
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > limit:
                    raise MediaError(f"photo is over the limit of {limit:,} bytes")
        except httpx.TimeoutException as exc:
            raise FetchError(f"timed out reading {target.url[:200]}") from exc
        except httpx.TransportError as exc:
            raise FetchError(f"connection dropped reading {target.url[:200]}: {exc}") from exc
        data = bytes(body)
        mime = sniff(data)
        if mime is None:
            raise MediaError(f"not an image ({describe(data)}) at {target.url[:200]}")
        width, height = dimensions(data, self.settings.max_pixels)
        return Photo(target.url, data, mime, width, height)


def _pinned(target: Target) -> str:
    """The URL with its host replaced by the checked address (no second DNS look-up)."""
    parts = urlsplit(target.url)
    host = (f"[{target.address}]" if isinstance(target.address, ipaddress.IPv6Address)
            else str(target.address))
    return urlunsplit((parts.scheme, f"{host}:{target.port}", parts.path or "/",
                       parts.query, ""))


def _host_header(target: Target) -> str:
    default = 443 if target.scheme == "https" else 80
    host = f"[{target.host}]" if ":" in target.host else target.host
    return host if target.port == default else f"{host}:{target.port}"

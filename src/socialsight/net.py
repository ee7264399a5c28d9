"""How socialsight waits on other servers: backoff, ``Retry-After`` and rate-limit headers.

Every client of someone else's server (the X, Mastodon and Bluesky sources, the photo
fetcher) waits the same way:

- :class:`Backoff`: the next wait after a failure, growing from ``first`` by
  ``factor`` (or by ``first`` each time, ``linear``) up to ``cap``, each wait drawn
  from ``[d * (1 - jitter), d]`` so that many clients do not retry in step.
- :func:`retry_after`: the seconds a server asks to wait, from ``Retry-After``
  (seconds or an HTTP date), else from a rate-limit reset header
  (``x-rate-limit-reset``, X's epoch seconds; ``x-ratelimit-reset``, Mastodon's ISO
  8601 time or epoch seconds).
- :class:`RateLimit`: the limit, what is left and when it resets, from either
  spelling of the rate-limit headers (X's ``x-rate-limit-*``, Mastodon's
  ``x-ratelimit-*``).

And, for the servers socialsight runs itself: :func:`is_loopback`, which the dashboard
and the AWS API ask of the address they listen on, and :func:`read_limited`, how both
read a request's body without ever holding more of it than they accept.
"""

from __future__ import annotations

import ipaddress
import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from socialsight.errors import InputError


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (``127.0.0.1``, ``[::1]``)."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass
class Backoff:
    """Waits after consecutive failures: ``first``, then ``factor`` times more each
    failure (``linear``: ``first`` more each failure), never more than ``cap``; with
    ``jitter`` (0-1) each wait is drawn at random from ``[d * (1 - jitter), d]``.
    :meth:`reset` after a success starts over from ``first``."""

    first: float
    cap: float = math.inf
    factor: float = 2.0
    jitter: float = 0.0
    linear: bool = False
    tries: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.first < 0 or self.cap < 0 or self.factor < 1 or not 0 <= self.jitter <= 1:
            raise ValueError(f"not a backoff: {self!r}")

    def next(self) -> float:
        """The wait before the next try (and count one more failure)."""
        self.tries += 1
        if self.linear:
            delay = self.first * self.tries
        else:
            try:
                delay = self.first * self.factor ** (self.tries - 1)
            except OverflowError:  # long past any cap
                delay = math.inf if self.first else 0.0
        delay = min(delay, self.cap)
        if self.jitter:
            delay *= random.uniform(1.0 - self.jitter, 1.0)
        return delay

    def reset(self) -> None:
        self.tries = 0


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value whatever its case (httpx's Headers and plain dicts alike)."""
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value.strip() if value is not None and value.strip() else None


def reset_time(value: str | None) -> float | None:
    """A rate-limit reset header as epoch seconds: epoch seconds, or an ISO 8601 time."""
    if value is None:
        return None
    number = _number(value)
    if number is not None:
        return number
    try:
        at = datetime.fromisoformat(value.strip())  # "...Z" too, since Python 3.11
    except ValueError:
        return None
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds the server asks to wait (may be 0 or less when that time has passed):
    ``Retry-After`` in seconds or as an HTTP date, else a rate-limit reset time
    (``x-rate-limit-reset``, ``x-ratelimit-reset``); None when it says nothing usable."""
    clock = time.time() if now is None else now
    value = _header(headers, "retry-after")
    if value is not None:
        seconds = _number(value)
        if seconds is not None:
            return seconds
        try:
            return parsedate_to_datetime(value).timestamp() - clock
        except (TypeError, ValueError, IndexError, OverflowError):
            pass
    reset = RateLimit.of(headers).reset
    return None if reset is None else reset - clock


@dataclass(frozen=True)
class RateLimit:
    """The rate-limit headers of one response: ``x-rate-limit-*`` (X) or
    ``x-ratelimit-*`` (Mastodon)."""

    limit: int | None = None
    remaining: int | None = None
    reset: float | None = None  # epoch seconds

    @classmethod
    def of(cls, headers: Mapping[str, str]) -> RateLimit:
        def get(name: str) -> str | None:
            return _header(headers, f"x-rate-limit-{name}") or _header(
                headers, f"x-ratelimit-{name}")

        def integer(name: str) -> int | None:
            number = _number(get(name))
            return None if number is None else int(number)

        return cls(integer("limit"), integer("remaining"), reset_time(get("reset")))

    @property
    def exhausted(self) -> bool:
        """No call left in this window, and the headers say when it resets."""
        return self.remaining == 0 and self.reset is not None

    def wait(self, now: float | None = None) -> float:
        """Seconds until the window resets (0 when unknown or past)."""
        clock = time.time() if now is None else now
        return 0.0 if self.reset is None else max(0.0, self.reset - clock)


async def read_limited(request: Any, limit: int,  # a Starlette Request: headers, stream()
                       too_large: Callable[[int], Exception],
                       cut_short: Callable[[int], Exception] | None = None) -> bytes:
    """A request's body of at most ``limit`` bytes, refused as the bytes arrive.

    A declared ``Content-Length`` over the limit is refused before a byte is read; a body
    sent without one (chunked), or longer than it said, as soon as it passes the limit.
    ``too_large(size)`` makes the error, with the size known so far; ``cut_short(size)``
    the error for a client that went away before its body ended (by default an
    :class:`InputError`: a request cut short is the client's, not a fault to log).
    """
    from starlette.requests import ClientDisconnect

    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise too_large(int(declared))
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large(size)
            chunks.append(chunk)
    except ClientDisconnect:
        raise (cut_short or _cut_short)(size) from None
    return b"".join(chunks)


def _cut_short(size: int) -> Exception:
    return InputError(f"the request ended after {size:,} bytes, before its body did "
                      "(the client went away)")

"""socialsight.net: the one backoff, Retry-After and rate-limit reading of every client."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import pytest

from socialsight.net import Backoff, RateLimit, is_loopback, retry_after

NOW = 1_700_000_000.0  # 2023-11-14T22:13:20Z


def test_backoff_grows_by_its_factor_up_to_its_cap_and_starts_over() -> None:
    backoff = Backoff(5, 320)
    assert [backoff.next() for _ in range(8)] == [5, 10, 20, 40, 80, 160, 320, 320]
    backoff.reset()
    assert backoff.next() == 5
    assert [Backoff(1, 100, factor=3).next() for _ in range(2)] == [1, 1]  # each its own
    three = Backoff(1, 100, factor=3)
    assert [three.next() for _ in range(5)] == [1, 3, 9, 27, 81]


def test_linear_backoff_adds_its_first_wait_each_time() -> None:
    backoff = Backoff(0.25, 16, linear=True)
    assert [backoff.next() for _ in range(3)] == [0.25, 0.5, 0.75]
    assert [backoff.next() for _ in range(100)][-1] == 16


def test_backoff_never_overflows() -> None:
    backoff = Backoff(1, 60)
    assert [backoff.next() for _ in range(5000)][-1] == 60
    assert Backoff(1).next() == 1  # no cap


def test_jitter_stays_within_its_bounds() -> None:
    backoff = Backoff(1, 8, jitter=0.5)
    for expected in (1, 2, 4, 8, 8):
        wait = backoff.next()
        assert expected * 0.5 <= wait <= expected
    waits = {Backoff(10, jitter=1.0).next() for _ in range(50)}
    assert all(0 <= w <= 10 for w in waits) and len(waits) > 1


@pytest.mark.parametrize("bad", [{"first": -1}, {"first": 1, "jitter": 1.5},
                                 {"first": 1, "factor": 0.5}])
def test_a_backoff_that_makes_no_sense_is_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Backoff(**bad)


def test_retry_after_in_seconds() -> None:
    assert retry_after({"Retry-After": "7"}, NOW) == 7
    assert retry_after(httpx.Headers({"retry-after": " 0 "}), NOW) == 0
    assert retry_after({"Retry-After": "1.5"}, NOW) == 1.5


def test_retry_after_as_an_http_date() -> None:
    when = format_datetime(datetime.fromtimestamp(NOW + 120, UTC), usegmt=True)
    assert retry_after({"Retry-After": when}, NOW) == 120
    past = format_datetime(datetime.fromtimestamp(NOW - 5, UTC), usegmt=True)
    assert retry_after({"Retry-After": past}, NOW) == -5  # past: the caller does not wait


def test_reset_headers_epoch_and_iso() -> None:
    assert retry_after({"x-rate-limit-reset": str(int(NOW) + 42)}, NOW) == 42  # X
    assert retry_after({"X-RateLimit-Reset": "2023-11-14T22:18:20.000Z"}, NOW) == 300  # Mastodon
    assert retry_after({"X-RateLimit-Reset": "2023-11-14T22:18:20+00:00"}, NOW) == 300
    assert retry_after({"X-RateLimit-Reset": str(NOW + 9)}, NOW) == 9
    # Retry-After wins over a reset time
    assert retry_after({"Retry-After": "3", "x-rate-limit-reset": str(NOW + 42)}, NOW) == 3


@pytest.mark.parametrize("headers", [{}, {"Retry-After": "soon"}, {"Retry-After": ""},
                                     {"X-RateLimit-Reset": "tomorrow"},
                                     {"Retry-After": "nan"}])
def test_nothing_usable_is_none(headers: dict[str, str]) -> None:
    assert retry_after(headers, NOW) is None


def test_rate_limit_headers_of_x_and_of_mastodon() -> None:
    x = RateLimit.of(httpx.Headers({"x-rate-limit-limit": "450", "x-rate-limit-remaining": "0",
                                    "x-rate-limit-reset": str(int(NOW) + 60)}))
    assert x == RateLimit(450, 0, NOW + 60)
    assert x.exhausted and x.wait(NOW) == 60 and x.wait(NOW + 100) == 0
    mastodon = RateLimit.of({"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "299",
                             "X-RateLimit-Reset": "2023-11-14T22:18:20.000Z"})
    assert mastodon == RateLimit(300, 299, NOW + 300) and not mastodon.exhausted
    assert RateLimit.of({"x-rate-limit-remaining": "0"}).exhausted is False  # no reset known
    assert RateLimit.of({"x-rate-limit-limit": "lots"}) == RateLimit()
    assert RateLimit().wait(NOW) == 0


@pytest.mark.parametrize(("host", "loopback"), [
    ("localhost", True), ("LOCALHOST", True), ("127.0.0.1", True), ("127.1.2.3", True),
    ("::1", True), ("[::1]", True), ("0.0.0.0", False), ("192.168.1.2", False),
    ("example.com", False), ("", False)])
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_a_zero_backoff_stays_zero() -> None:
    backoff = Backoff(0, 60)
    assert [backoff.next() for _ in range(5000)][-1] == 0


def test_a_body_cut_short_by_the_client_is_the_clients_error_not_a_crash():
    import asyncio

    from starlette.requests import ClientDisconnect

    from socialsight.errors import InputError
    from socialsight.net import read_limited

    class Gone:
        def __init__(self) -> None:
            self.headers = {"content-length": "100"}

        async def stream(self):
            yield b"x" * 40
            raise ClientDisconnect()

    with pytest.raises(InputError, match="ended after 40 bytes"):
        asyncio.run(read_limited(Gone(), 1000, lambda size: ValueError(size)))
    with pytest.raises(KeyError):
        asyncio.run(read_limited(Gone(), 1000, lambda size: ValueError(size), KeyError))

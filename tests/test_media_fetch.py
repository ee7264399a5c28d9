"""Photo fetch against a real HTTP server on loopback: photos come back whole, and every
hostile or broken answer is one clear error while the other photos still arrive."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import struct
import time
import zlib
from collections.abc import Iterator
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler
from typing import Any, ClassVar

import pytest
from PIL import Image

from socialsight.config import FetchSettings
from socialsight.errors import FetchError, MediaError, RefusedURLError
from socialsight.media.fetch import Failure, Fetcher, Photo
from socialsight.media.guard import AddressPolicy
from tests.conftest import loopback_server


def _jpeg(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` (a decompression bomb's shape)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk
            + struct.pack(">I", zlib.crc32(chunk)))


JPEG = _jpeg()


class Handler(BaseHTTPRequestHandler):
    hits: ClassVar[dict[str, int]] = {}

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes = b"", ctype: str = "image/jpeg",
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        self.hits[path] = self.hits.get(path, 0) + 1
        port = self.server.server_address[1]
        if path == "/photo.jpg":
            self._send(200, JPEG)
        elif path == "/host":
            ok = self.headers["Host"] == f"localhost:{port}"
            self._send(200 if ok else 400, JPEG if ok else b"wrong host", "image/jpeg")
        elif path == "/page.jpg":
            self._send(200, b"<!DOCTYPE html><html><body>login</body></html>")
        elif path == "/truncated.jpg":
            self._send(200, JPEG[:40])
        elif path == "/bomb.png":
            self._send(200, _png_header(100_000, 100_000), "image/png")
        elif path == "/huge.jpg":
            self._send(200, JPEG + b"\0" * 3_000_000)
        elif path == "/huge-chunked.jpg":
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.end_headers()
            self.wfile.write(JPEG + b"\0" * 3_000_000)
            self.close_connection = True
        elif path == "/to-loopback":
            self._send(302, headers={"Location": f"http://127.0.0.1:{port}/photo.jpg"})
        elif path == "/relative":
            self._send(301, headers={"Location": "/photo.jpg"})
        elif path == "/loop":
            self._send(302, headers={"Location": "/loop"})
        elif path == "/flaky.jpg":
            if self.hits[path] < 3:
                self._send(503, b"busy", "text/plain", {"Retry-After": "0"})
            else:
                self._send(200, JPEG)
        elif path == "/slow.jpg":
            time.sleep(1.5)
            self._send(200, JPEG)
        elif path == "/gone.jpg":
            self._send(404, b"not found", "text/plain")
        elif path == "/trickle.jpg":  # a byte at a time, each well within the read timeout
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(JPEG)))
            self.end_headers()
            with contextlib.suppress(OSError):
                for byte in JPEG[:400]:  # 20 s at most: the rest never comes
                    self.wfile.write(bytes([byte]))
                    time.sleep(0.05)
        elif path == "/busy.jpg":
            self._send(503, b"busy", "text/plain", {"Retry-After": "1"})
        elif path == "/busy-until.jpg":  # Retry-After as an HTTP date, 5 s from now
            self._send(503, b"busy", "text/plain",
                       {"Retry-After": formatdate(time.time() + 5, usegmt=True)})
        elif path == "/pause.jpg":
            time.sleep(0.5)
            self._send(200, JPEG)
        else:
            self._send(404, b"", "text/plain")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with loopback_server(Handler) as port:
        yield f"localhost:{port}"


def fetch(urls: list[str], **settings: Any) -> list[Photo | Failure]:
    options = {"allow_hosts": ["localhost"], "backoff_seconds": 0.0, **settings}

    async def run() -> list[Photo | Failure]:
        async with Fetcher(FetchSettings(**options)) as fetcher:
            return await fetcher.fetch_many(urls)

    return asyncio.run(run())


def one(url: str, **settings: Any) -> Photo | Failure:
    return fetch([url], **settings)[0]


def test_a_photo_comes_back_whole_with_its_size_and_hash(server):
    photo = one(f"http://{server}/photo.jpg")
    assert isinstance(photo, Photo)
    assert photo.data == JPEG
    assert (photo.mime, photo.width, photo.height) == ("image/jpeg", 64, 48)
    assert photo.sha256 == hashlib.sha256(JPEG).hexdigest()


def test_the_server_sees_the_host_the_url_named(server):
    # The connection goes to the checked address, but the Host header is the URL's.
    assert isinstance(one(f"http://{server}/host"), Photo)


@pytest.mark.parametrize(("path", "reason"), [
    ("/page.jpg", "not an image (an HTML page)"),
    ("/truncated.jpg", "cannot read the image header"),
    ("/bomb.png", "cannot read the image header"),
    ("/gone.jpg", "HTTP 404"),
    ("/loop", "more than 5 redirects"),
])
def test_what_is_not_a_usable_photo_is_a_terminal_error(server, path, reason):
    failure = one(f"http://{server}{path}")
    assert isinstance(failure, Failure)
    assert isinstance(failure.error, MediaError)
    assert reason in str(failure.error)
    assert not failure.error.transient


def test_too_many_pixels_is_refused_from_the_header(server):
    failure = one(f"http://{server}/photo.jpg", max_pixels=1000)
    assert isinstance(failure, Failure) and "over the limit of 1,000" in str(failure.error)


@pytest.mark.parametrize("path", ["/huge.jpg", "/huge-chunked.jpg"])
def test_a_body_over_the_byte_limit_is_cut_off(server, path):
    failure = one(f"http://{server}{path}", max_bytes=1_000_000)
    assert isinstance(failure, Failure) and isinstance(failure.error, MediaError)
    assert "over the limit" in str(failure.error)


def test_redirects_are_followed_and_checked_again(server):
    assert isinstance(one(f"http://{server}/relative"), Photo)
    failure = one(f"http://{server}/to-loopback")  # allowed: localhost; not: 127.0.0.1
    assert isinstance(failure, Failure) and isinstance(failure.error, RefusedURLError)
    assert "127.0.0.1" in str(failure.error)


def test_5xx_is_retried_until_it_passes(server):
    Handler.hits.pop("/flaky.jpg", None)
    assert isinstance(one(f"http://{server}/flaky.jpg", retries=3), Photo)
    assert Handler.hits["/flaky.jpg"] == 3


def test_a_slow_server_times_out_as_a_transient_error(server):
    failure = one(f"http://{server}/slow.jpg", read_timeout_seconds=0.3, retries=1)
    assert isinstance(failure, Failure) and isinstance(failure.error, FetchError)
    assert failure.error.transient and "timed out" in str(failure.error)


def test_a_trickling_server_is_cut_off_by_the_overall_deadline(server):
    failure = one(f"http://{server}/trickle.jpg", read_timeout_seconds=5.0,
                  total_timeout_seconds=0.5, retries=3)
    assert isinstance(failure, Failure) and isinstance(failure.error, FetchError)
    assert failure.error.transient  # `socialsight retry` tries it again later
    assert "gave up on" in str(failure.error) and "after 0.5 s" in str(failure.error)


def test_retries_and_their_waits_count_against_the_deadline(server):
    Handler.hits.pop("/busy.jpg", None)
    failure = one(f"http://{server}/busy.jpg", retries=10, total_timeout_seconds=0.5)
    assert isinstance(failure, Failure) and "gave up on" in str(failure.error)
    assert Handler.hits["/busy.jpg"] == 1  # the 1 s Retry-After did not fit in 0.5 s



def test_retry_after_as_an_http_date_is_honoured(server):
    Handler.hits.pop("/busy-until.jpg", None)
    failure = one(f"http://{server}/busy-until.jpg", retries=10, total_timeout_seconds=0.5)
    assert isinstance(failure, Failure) and "gave up on" in str(failure.error)
    assert Handler.hits["/busy-until.jpg"] == 1  # waited as asked, not retried at once

@pytest.mark.slow
def test_waiting_for_a_turn_at_a_busy_host_costs_no_deadline(server):
    # Six photos of one host, one at a time, 0.5 s each: the last starts after 2.5 s.
    results = fetch([f"http://{server}/pause.jpg?{i}" for i in range(6)], per_host=1,
                    total_timeout_seconds=2.0)
    assert [type(r).__name__ for r in results] == ["Photo"] * 6


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/x.jpg", "http://[::1]/x.jpg", "http://169.254.169.254/latest/meta-data",
    "http://10.0.0.1/x.jpg", "http://192.168.1.1/x.jpg", "http://0.0.0.0/x.jpg",
    "file:///etc/passwd", "ftp://example.com/x.jpg", "http:///nohost",
])
def test_the_machines_own_network_is_refused_by_default(url):
    async def check() -> None:
        await AddressPolicy().check(url)

    with pytest.raises(RefusedURLError):
        asyncio.run(check())


@pytest.mark.parametrize("url", [
    "http://a..b/x.jpg", "http://" + "a" * 70 + ".example/x.jpg", "http://" + "h" * 100_000,
    "http://[::1/x.jpg", "http://example.com:99999/x.jpg", "http://exa\x00mple.com/x.jpg",
])
def test_a_malformed_url_is_that_photos_error_and_the_rest_are_fetched(server, url):
    """A post's URL no request can be made of (an empty or overlong host label, a broken
    IPv6 literal, a NUL) was an exception that stopped enrich at every run."""
    results = fetch([url, f"http://{server}/photo.jpg"])
    assert isinstance(results[0], Failure) and isinstance(results[0].error, MediaError)
    assert not results[0].error.transient and len(str(results[0].error)) < 500
    assert isinstance(results[1], Photo)


def test_a_url_too_long_for_a_request_is_a_terminal_error(server):
    for url in (f"http://{server}/" + "x" * 70_000, f"http://{server}/x\x00.jpg"):
        failure = one(url)
        assert isinstance(failure, Failure) and isinstance(failure.error, MediaError), url[:60]
        assert not failure.error.transient


def test_the_allow_list_takes_hosts_and_networks():
    policy = AddressPolicy(["localhost", "10.0.0.0/8"])

    async def target(url: str) -> str:
        return str((await policy.check(url)).address)

    assert asyncio.run(target("http://10.1.2.3/x.jpg")) == "10.1.2.3"
    assert asyncio.run(target("http://localhost/x.jpg")) in ("127.0.0.1", "::1")
    with pytest.raises(RefusedURLError):
        asyncio.run(target("http://192.168.0.1/x.jpg"))


def test_one_bad_photo_does_not_stop_the_others(server):
    results = fetch([f"http://{server}/photo.jpg", f"http://{server}/page.jpg",
                     "http://127.0.0.1:9/x.jpg", f"http://{server}/relative"])
    assert [type(r).__name__ for r in results] == ["Photo", "Failure", "Failure", "Photo"]

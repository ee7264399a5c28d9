"""`socialsight serve`: the command a user runs, on a real port."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from socialsight.lake.store import Lake
from tests.aws.conftest import boto_client


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALSIGHT_")}
    return {**env, **extra}


@contextmanager
def serving(*args: str, env: dict[str, str] | None = None,
            wait_for: str = "") -> Iterator[tuple[str, str]]:
    """``socialsight serve ARGS`` running: (the URL it printed, what it printed by then)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "socialsight", "serve", *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=env if env is not None else clean_env())
    try:
        assert proc.stdout is not None
        output = ""
        deadline = time.monotonic() + 60
        while ("http://" not in output or wait_for not in output) and (
                time.monotonic() < deadline and proc.poll() is None):
            output += proc.stdout.readline()
        url = re.search(r"http://\S+?:\d+/", output)
        assert url, output
        yield url.group(0), output
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
    assert proc.returncode == 0


def refused(*args: str, env: dict[str, str] | None = None) -> str:
    """What ``socialsight serve ARGS`` says when it refuses to start: one line, no traceback."""
    run = subprocess.run([sys.executable, "-m", "socialsight", "serve", *args],
                         capture_output=True, text=True, timeout=60,
                         env=env if env is not None else clean_env())
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1, \
        run.stderr
    return run.stderr


@pytest.mark.slow
def test_serve_prints_its_address_and_serves_the_lake(demo_lake: Lake) -> None:
    with serving("--lake", demo_lake.url, "--port", "0") as (url, _):
        assert re.fullmatch(r"http://localhost:\d+/", url)
        answer = httpx.get(url + "api/overview", timeout=30)
        assert answer.json()["totals"]["posts"] == 26


@pytest.mark.slow
def test_serve_without_a_lake_answers_the_aws_api_and_names_the_command(
        tmp_path: Path) -> None:
    nowhere = tmp_path / "nowhere"
    with serving("--lake", str(nowhere), "--port", "0", wait_for="works") as (url, said):
        assert f"socialsight demo --lake {nowhere}" in said
        comprehend = boto_client("comprehend", url.rstrip("/"))
        answer = comprehend.detect_sentiment(Text="What a lovely day!", LanguageCode="en")
        assert answer["Sentiment"] == "POSITIVE"
        page = httpx.get(url, timeout=30)
        assert page.status_code == 503
        assert "There is no lake at" in page.text and "socialsight demo --lake" in page.text
        api = httpx.get(url + "api/overview", timeout=30)
        assert api.status_code == 503 and "socialsight import FILE" in api.json()["error"]


@pytest.mark.slow
def test_serve_says_when_the_port_is_taken(demo_lake: Lake) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        said = refused("--lake", demo_lake.url, "--port", str(port))
    assert f"cannot listen on 127.0.0.1:{port}" in said and "--port" in said


@pytest.mark.slow
@pytest.mark.parametrize("port", ["99999", "-1"])
def test_a_port_that_does_not_exist_is_a_one_line_error(tmp_path: Path, port: str) -> None:
    said = refused("--lake", str(tmp_path), "--port", port)
    assert f"port {port} does not exist" in said and "--port" in said


@pytest.mark.slow
@pytest.mark.parametrize(("host", "printed"), [("127.0.0.2", "http://127.0.0.2:"),
                                               ("::1", "http://[::1]:")])
def test_serve_on_another_loopback_address_answers_at_the_url_it_prints(
        demo_lake: Lake, host: str, printed: str) -> None:
    try:
        socket.create_server((host, 0), family=socket.getaddrinfo(host, 0)[0][0]).close()
    except OSError:
        pytest.skip(f"this machine cannot listen on {host}")
    with serving("--lake", demo_lake.url, "--host", host, "--port", "0") as (url, _):
        assert url.startswith(printed)
        assert httpx.get(url + "api/overview", timeout=30).status_code == 200
        assert httpx.get(url + "api/overview", headers={"Host": "attacker.example"},
                         timeout=30).status_code == 421


@pytest.mark.slow
def test_an_empty_token_in_the_environment_means_no_token(demo_lake: Lake) -> None:
    env = clean_env(SOCIALSIGHT_SERVE_TOKEN="")
    with serving("--lake", demo_lake.url, "--port", "0", env=env) as (url, _):
        assert httpx.get(url + "api/overview", timeout=30).status_code == 200


def test_a_token_of_spaces_is_refused(demo_lake: Lake) -> None:
    said = refused("--lake", demo_lake.url, "--port", "0",
                   env=clean_env(SOCIALSIGHT_SERVE_TOKEN=" " * 16))
    assert "at least 16 characters that are not spaces" in said


def test_answers_are_not_held_back_on_a_kept_alive_connection(demo_lake: Lake) -> None:
    """TCP_NODELAY on the connections `serve` accepts: without it, every answer on a
    kept-alive connection (boto3 keeps them) waits ~40 ms for the client's delayed ACK."""
    from socialsight.web.app import create_app
    from socialsight.web.server import listen, run, server
    from tests.web.conftest import dashboard_settings

    sock = listen("127.0.0.1", 0)
    uv = server(create_app(demo_lake, dashboard_settings(demo_lake)))
    ready = threading.Event()
    thread = threading.Thread(target=run, args=(uv, sock, lambda url: ready.set()),
                              daemon=True)
    thread.start()
    try:
        assert ready.wait(30)
        client = http.client.HTTPConnection(*sock.getsockname()[:2], timeout=30)
        for _ in range(3):  # one connection, kept alive
            client.request("GET", "/api/overview", headers={"Host": "localhost"})
            assert client.getresponse().read()
        accepted = _peer_of(client.sock)
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        accepted.close()
        client.close()
    finally:
        uv.should_exit = True
        thread.join(10)


def _peer_of(client: socket.socket) -> socket.socket:
    """The socket this process accepted for ``client``'s connection (a duplicate)."""
    for name in os.listdir("/proc/self/fd"):
        try:
            fd = os.dup(int(name))
        except OSError:
            continue
        try:
            sock = socket.socket(fileno=fd)
        except OSError:
            os.close(fd)
            continue
        try:
            if (sock.type == socket.SOCK_STREAM
                    and sock.getsockname() == client.getpeername()
                    and sock.getpeername() == client.getsockname()):
                return sock
        except OSError:
            pass
        sock.close()
    raise AssertionError("the server's end of the connection was not found")

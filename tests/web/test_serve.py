"""`socialsight serve`: the command a user runs, on a real port."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import httpx

from socialsight.lake.store import Lake


def test_serve_prints_its_address_and_serves_the_lake(demo_lake: Lake) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALSIGHT_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "socialsight", "serve", "--lake", demo_lake.url, "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        assert proc.stdout is not None
        line = ""
        deadline = time.monotonic() + 60
        while "http://" not in line and time.monotonic() < deadline:
            line += proc.stdout.readline()
        url = re.search(r"http://localhost:\d+/", line)
        assert url, line
        answer = httpx.get(url.group(0) + "api/overview", timeout=30)
        assert answer.json()["totals"]["posts"] == 26
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
    assert proc.returncode == 0


def test_serve_says_when_there_is_no_lake(tmp_path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "socialsight", "serve", "--lake", str(tmp_path / "nowhere")],
        capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "no lake at" in run.stderr


def test_serve_says_when_the_port_is_taken(demo_lake: Lake) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = subprocess.run(
            [sys.executable, "-m", "socialsight", "serve", "--lake", demo_lake.url,
             "--port", str(port)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in run.stderr and "--port" in run.stderr

"""Analysis worker processes live and die with the process that started them.

``enrich`` and ``run`` analyse in worker processes; a parent killed by kill -9 (the OOM
killer, a container stop) must not leave them behind, each holding its models.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tests.conftest import loopback_server, status, write_jsonl

SRC = Path(__file__).resolve().parents[1] / "src"
GONE_SECONDS = 20.0  # guards a hang; workers normally go within a second or two


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state, ppid, ...)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()


def alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))) and int(fields[1]) == pid:
            out.append(int(entry))
    return out


def workers(pid: int) -> list[int]:
    """The multiprocessing workers ``pid`` started (not its resource tracker)."""
    found = []
    for child in children(pid):
        with contextlib.suppress(OSError):
            if b"--multiprocessing-fork" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(child)
    return found


class Hang(BaseHTTPRequestHandler):
    """A photo server that answers nothing until the test ends: enrich stays busy."""

    release: ClassVar[threading.Event] = threading.Event()

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.release.wait(60)
        with contextlib.suppress(OSError):
            self.send_error(404)


@pytest.fixture
def hanging() -> Iterator[str]:
    Hang.release = threading.Event()
    with loopback_server(Hang) as port:
        yield f"http://localhost:{port}"
        Hang.release.set()


def kill_and_watch(command: list[str], env: dict[str, str], log: Path) -> None:
    """Start ``command``, wait for its 2 workers, kill -9 it: every child must go."""
    if not Path("/proc/self/stat").exists():
        pytest.skip("needs /proc to find the worker processes")
    with log.open("wb") as err:
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=err)
    started: list[int] = []
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            if len(workers(proc.pid)) >= 2:
                break
            time.sleep(0.05)
        if proc.poll() is not None:
            pytest.fail(f"ended before its workers were seen: {log.read_text()[-2000:]}")
        assert len(workers(proc.pid)) >= 2, "no worker processes within 180 s"
        started = children(proc.pid)  # the workers and multiprocessing's resource tracker
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + GONE_SECONDS
        while time.monotonic() < deadline and any(alive(pid) for pid in started):
            time.sleep(0.1)
        left = [pid for pid in started if alive(pid)]
        assert not left, f"processes {left} outlived their parent"
    finally:
        for pid in started:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
        proc.wait()


@pytest.mark.slow
def test_enrich_workers_die_with_enrich_killed_by_kill_9(cli, tmp_path, hanging):
    posts = write_jsonl(tmp_path / "posts.jsonl", [
        status(1, "What a lovely morning in Paris!"),
        status(2, "The train is late again, I hate this."),
        status(3, "Look at this", photos=[f"{hanging}/photo.jpg"]),
    ])
    assert cli("import", str(posts)).exit_code == 0
    env = {**os.environ, "PYTHONPATH": str(SRC), "SOCIALSIGHT_FETCH_ALLOW_HOSTS": "localhost"}
    # The posts' text goes to the 2 workers; then the photo's fetch keeps enrich busy.
    kill_and_watch([sys.executable, "-m", "socialsight", "enrich", "--workers", "2",
                    "--lake", str(tmp_path / "lake")], env, tmp_path / "enrich.log")


@pytest.mark.slow
def test_run_workers_die_with_run_killed_by_kill_9(tmp_path):
    feed = write_jsonl(tmp_path / "feed.jsonl", [
        status(1, "What a lovely morning in Paris!"),
        status(2, "The train is late again, I hate this.")])
    env = {**os.environ, "PYTHONPATH": str(SRC), "SOCIALSIGHT_COLLECT_BATCH_SECONDS": "0.2"}
    # run's workers are started by its enrich thread, and kept while it follows the file.
    kill_and_watch([sys.executable, "-m", "socialsight", "run", f"file:{feed}", "--workers",
                    "2", "--lake", str(tmp_path / "lake")], env, tmp_path / "run.log")


@pytest.mark.slow
def test_workers_outlive_the_thread_that_started_them():
    # Linux signals a process when the *thread* that started it ends: workers started on
    # a short-lived thread must stay, as long as this process is there.
    from socialsight.config import VisionSettings
    from socialsight.scale.local import Analyser

    analyser = Analyser(VisionSettings(batch_size=1), 1_000, workers=2)  # a batch a worker
    not_a_photo = b"not a photo"  # a decode error: the workers start, no model loads
    try:
        assert analyser.worker_pids() == set()  # they start with the first batches
        starter = threading.Thread(target=lambda: list(analyser.map([not_a_photo] * 2)))
        starter.start()
        starter.join()
        pids = analyser.worker_pids()
        assert len(pids) == 2
        time.sleep(1.5)  # the signal has come and the parent watch has looked
        assert all(alive(pid) for pid in pids)
        assert [r.errors[0][0] for r in analyser.map([not_a_photo])] == ["decode"]
        assert analyser.worker_pids() == pids  # the same workers did it
    finally:
        analyser.close()

"""An ASGI app under uvicorn on a free loopback port, for tests that need a real server."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(app: Any) -> tuple[Any, threading.Thread, int]:
    """``app`` served on 127.0.0.1: (the uvicorn server, its thread, its port)."""
    import uvicorn

    port = free_port()
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    return uv, thread, port


def stop(uv: Any, thread: threading.Thread) -> None:
    uv.should_exit = True
    thread.join(10)

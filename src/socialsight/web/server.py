"""Running the dashboard: uvicorn on the configured address, until Ctrl-C.

The listening socket is made here (:func:`listen`), so that a port in use is a plain
error before uvicorn starts, and handed to uvicorn (:func:`run`). It is a TCP socket
by name (``IPPROTO_TCP``) and has ``TCP_NODELAY`` set, which connections accepted on
it inherit; asyncio sets it again on each of them. Without it, every answer on a
kept-alive connection (boto3 keeps its connections) waited ~40 ms for the client's
delayed ACK (Nagle's algorithm).
"""

from __future__ import annotations

import contextlib
import errno
import socket
import threading
from collections.abc import Callable
from typing import Any

from socialsight.config import Settings
from socialsight.errors import ConfigError
from socialsight.lake.store import Lake

MAX_PORT = 65535


def serve(lake: Lake, settings: Settings, on_ready: Callable[[str], None]) -> None:
    """Serve ``lake``'s dashboard; ``on_ready(url)`` once it listens. Returns on Ctrl-C."""
    from socialsight.web.app import create_app

    app = create_app(lake, settings)  # refuses an open address without a token
    sock = listen(settings.serve.host, settings.serve.port)
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn has shut down by then
        run(server(app), sock, on_ready)


def server(app: Any) -> Any:
    """The uvicorn server of ``app`` (``should_exit = True`` stops :func:`run`)."""
    import uvicorn

    return uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))


def run(uv: Any, sock: socket.socket, on_ready: Callable[[str], None]) -> None:
    """``uv`` serving on ``sock`` until it is told to exit; ``on_ready(url)`` once it listens."""
    def announce() -> None:
        while not uv.started and not uv.should_exit:
            threading.Event().wait(0.05)
        if uv.started:
            host, port = sock.getsockname()[:2]
            on_ready(url(host, port))

    threading.Thread(target=announce, daemon=True).start()
    uv.run(sockets=[sock])


def url(host: str, port: int) -> str:
    """The address to give people: localhost for 127.0.0.1, else the address bound."""
    if host == "127.0.0.1":
        return f"http://localhost:{port}/"
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to (host, port), or a ConfigError that says what to do instead."""
    if not 0 <= port <= MAX_PORT:
        raise ConfigError(f"port {port} does not exist: choose one from 1 to {MAX_PORT} with "
                          "--port (0: any free port)")
    name = host.strip("[]")
    family = socket.AF_INET6 if ":" in name else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((name, port))
    except (OSError, OverflowError) as exc:
        sock.close()
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        hint = ("another program is using it: choose another with --port"
                if getattr(exc, "errno", None) == errno.EADDRINUSE else
                "check --host: it must be an address of this machine")
        raise ConfigError(f"cannot listen on {host}:{port} ({reason}): {hint}") from exc
    sock.set_inheritable(True)
    return sock

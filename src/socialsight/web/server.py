"""Running the dashboard: uvicorn on the configured address, until Ctrl-C."""

from __future__ import annotations

import contextlib
import errno
import socket
import threading
from collections.abc import Callable

from socialsight.config import Settings
from socialsight.errors import ConfigError
from socialsight.lake.store import Lake


def serve(lake: Lake, settings: Settings, on_ready: Callable[[str], None]) -> None:
    """Serve ``lake``'s dashboard; ``on_ready(url)`` once it listens. Returns on Ctrl-C."""
    import uvicorn

    from socialsight.web.app import create_app

    host, port = settings.serve.host, settings.serve.port
    app = create_app(lake, settings)  # refuses an open address without a token
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                           access_log=False))

    def announce() -> None:
        while not server.started and not server.should_exit:
            threading.Event().wait(0.05)
        if server.started:
            bound = server.servers[0].sockets[0].getsockname()[1]
            shown = "localhost" if host in ("127.0.0.1", "::1", "localhost") else host
            on_ready(f"http://{shown}:{bound}/")

    sock = listen(host, port)
    threading.Thread(target=announce, daemon=True).start()
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn has shut down by then
        server.run(sockets=[sock])


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to (host, port), or a ConfigError that says what to do instead."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        hint = ("another program is using it: choose another with --port"
                if exc.errno == errno.EADDRINUSE else "check --host")
        raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror}): {hint}") from exc
    sock.set_inheritable(True)
    return sock

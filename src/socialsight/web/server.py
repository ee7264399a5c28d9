"""Running the dashboard: uvicorn on the configured address, until Ctrl-C."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

from socialsight.config import Settings
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

    threading.Thread(target=announce, daemon=True).start()
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn has shut down by then
        server.run()

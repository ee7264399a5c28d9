"""The AWS API's fixtures: socialsight serve on a loopback port, and boto3 clients for it.

- ``aws_lake``: an empty lake of the session (collections and the gallery live in it).
- ``aws_server``: the app under uvicorn on 127.0.0.1; yields its base URL.
- ``aws_client``: ``aws_client("rekognition")`` is boto3's own client pointed at it
  (``endpoint_url``), signing with a throw-away key pair, retries off.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from socialsight.config import Settings, load_settings
from socialsight.lake.store import Lake

ACCESS_KEY = "AKIDSOCIALSIGHTTEST"
SECRET_KEY = "socialsight-test-secret-key-0123456789"


@pytest.fixture(scope="session")
def aws_lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    return Lake(str(tmp_path_factory.mktemp("aws") / "lake"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(lake: Lake, settings: Settings) -> tuple[Any, threading.Thread, str]:
    """``create_app`` under uvicorn on a free loopback port: (server, thread, base URL)."""
    import uvicorn

    from socialsight.web.app import create_app

    port = _free_port()
    app = create_app(lake, settings)
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("socialsight serve did not start")
        time.sleep(0.05)
    return uv, thread, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def aws_server(aws_lake: Lake) -> Iterator[str]:
    uv, thread, url = start_server(aws_lake, load_settings(lake=aws_lake.url))
    yield url
    uv.should_exit = True
    thread.join(10)


def boto_client(service: str, url: str, access_key: str = ACCESS_KEY,
                secret_key: str = SECRET_KEY) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(service, endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id=access_key, aws_secret_access_key=secret_key,
                        config=Config(retries={"max_attempts": 1}))


@pytest.fixture(scope="session")
def aws_client(aws_server: str) -> Callable[[str], Any]:
    return lambda service: boto_client(service, aws_server)

"""The AWS API's fixtures: socialsight serve on a loopback port, and boto3 clients for it.

- ``aws_lake``: an empty lake of the session (collections and the gallery live in it).
- ``aws_server``: the app under uvicorn on 127.0.0.1; yields its base URL.
- ``aws_client``: ``aws_client("rekognition")`` is boto3's own client pointed at it
  (``endpoint_url``), signing with a throw-away key pair, retries off.
- ``own_server``: a server on a lake of the test's own, with a Rekognition client.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from socialsight.config import Settings, load_settings
from socialsight.lake.store import Lake
from tests import liveserver

ACCESS_KEY = "AKIDSOCIALSIGHTTEST"
SECRET_KEY = "socialsight-test-secret-key-0123456789"


@pytest.fixture(scope="session")
def aws_lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    return Lake(str(tmp_path_factory.mktemp("aws") / "lake"))


def start_server(lake: Lake, settings: Settings) -> tuple[Any, threading.Thread, str]:
    """``create_app`` under uvicorn on a free loopback port: (server, thread, base URL)."""
    from socialsight.web.app import create_app

    uv, thread, port = liveserver.start(create_app(lake, settings))
    return uv, thread, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def aws_server(aws_lake: Lake) -> Iterator[str]:
    uv, thread, url = start_server(aws_lake, load_settings(lake=aws_lake.url))
    yield url
    liveserver.stop(uv, thread)


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


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[tuple[Lake, Any]]:
    """A server on a lake of the test's own (its gallery starts empty)."""
    lake = Lake(str(tmp_path / "lake"))
    uv, thread, url = start_server(lake, load_settings(lake=lake.url))
    yield lake, boto_client("rekognition", url)
    uv.should_exit = True
    thread.join(10)

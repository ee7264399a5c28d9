"""An S3-compatible server on loopback for the tests: moto's server mode, a real HTTP API.

One server per test session (it starts in about a second); each test gets a bucket
of its own and the usual AWS environment (endpoint, region, credentials) pointing at
it, so the code under test finds the server exactly as it would find AWS or MinIO.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

REGION = "us-east-1"


@dataclass(frozen=True)
class S3Server:
    endpoint: str

    def client(self) -> object:
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name=REGION,
                            aws_access_key_id="testing", aws_secret_access_key="testing")


@contextlib.contextmanager
def moto_server() -> Iterator[S3Server]:
    """A moto S3 server on 127.0.0.1 (a free port); stopped at the end."""
    moto_server_module = pytest.importorskip("moto.server")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = moto_server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0,
                                                   verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield S3Server(f"http://{host}:{port}")
    finally:
        server.stop()


def new_bucket(server: S3Server, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket, and the AWS environment that reaches it; returns its name."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    bucket = f"lake-{uuid.uuid4().hex[:12]}"
    server.client().create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    return bucket

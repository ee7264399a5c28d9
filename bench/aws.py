"""Drop-in AWS API benchmark: boto3 through `socialsight serve` beside the same models in process.

    python -m bench.aws [--rounds 20]

`socialsight serve` runs as users run it, in its own process (its own socket, made by
web/server.py, served by uvicorn; no lake), and boto3's own clients call it as they
would call AWS (JSON 1.1, SigV4-signed, one kept-alive connection per client). Each
operation is timed against the peer: the same analysis called in this process, no HTTP,
no JSON. Photos: the demo's (examples/demo/photos); texts: a short post, and a 100 KB
text (AWS's limit for DetectEntities) with fewer rounds. One more row sends
DetectSentiment with http.client on one kept-alive connection, without an SDK's cost:
what is left is the server's (a connection whose answers wait for delayed ACKs, without
TCP_NODELAY, costs ~40 ms a call). Median milliseconds a call, after one warm-up call
each. Prints a Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PHOTOS = Path(__file__).resolve().parents[1] / "examples" / "demo" / "photos"
TEXT = "Loving the new espresso bar on Main Street, the baristas are great! #coffee"
LONG_ROUNDS = 3  # calls of the 100 KB text (seconds each)


def _median_ms(call: Callable[[], Any], rounds: int) -> float:
    call()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


@contextmanager
def serving(lake: str) -> Iterator[str]:
    """`socialsight serve --lake LAKE --port 0` in its own process; yields its URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALSIGHT_")}
    proc = subprocess.Popen([sys.executable, "-m", "socialsight", "serve", "--lake", lake,
                             "--port", "0"], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        said = ""
        while "http://" not in said and proc.poll() is None:
            said += proc.stdout.readline()
        found = re.search(r"http://[^\s/]+", said)
        if not found:
            raise SystemExit(f"serve did not start: {said}")
        yield found.group(0).replace("localhost", "127.0.0.1")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)


def long_text(size: int = 100_000) -> str:
    """Paragraphs of posts naming people, places and companies: ``size`` bytes (ASCII)."""
    sentences = [TEXT, "Just met Tim Cook at the Microsoft office in London, what a day!",
                 "The new Foot Locker store in Boston opened on Monday with 300 people "
                 "waiting outside.",
                 "Barack Obama spoke at Harvard University about the climate in 2024."]
    out, i = [], 0
    while sum(map(len, out)) < size:
        out.append(sentences[i % len(sentences)] + ("\n\n" if i % 7 == 6 else " "))
        i += 1
    return "".join(out)[:size].rstrip()


def plain_sentiment(url: str) -> Callable[[], Any]:
    """DetectSentiment over one kept-alive http.client connection (loopback: unsigned)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
    body = json.dumps({"Text": TEXT, "LanguageCode": "en"})
    headers = {"Content-Type": "application/x-amz-json-1.1",
               "X-Amz-Target": "Comprehend_20171127.DetectSentiment"}

    def call() -> Any:
        connection.request("POST", "/", body, headers)
        response = connection.getresponse()
        data = response.read()
        assert response.status == 200, data
        return data
    return call


def main() -> None:
    from socialsight.lake.store import Lake

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "lake").mkdir()
        with serving(str(Path(folder) / "lake")) as url:
            measure(url, Lake(str(Path(folder) / "lake")), args.rounds)


def measure(url: str, lake: Any, rounds_asked: int) -> None:
    """Print the table: each operation through `serve` at ``url`` and in process."""
    import boto3
    from botocore.config import Config
    from PIL import Image

    from socialsight.aws import comprehend, rekognition
    from socialsight.aws.core import AwsContext
    from socialsight.config import load_settings

    settings = load_settings(lake=lake.url)
    options: dict[str, Any] = {
        "endpoint_url": url, "region_name": "us-east-1", "aws_access_key_id": "bench",
        "aws_secret_access_key": "bench",
        "config": Config(retries={"max_attempts": 1}, read_timeout=600)}
    rek = boto3.client("rekognition", **options)
    com = boto3.client("comprehend", **options)
    ctx = AwsContext(settings, lake)
    coffee = (PHOTOS / "coffee.jpg").read_bytes()
    portrait = (PHOTOS / "grace-hopper.jpg").read_bytes()
    banner = (PHOTOS / "sale-banner.png").read_bytes()
    long = long_text()

    def direct(op: str, body: dict[str, Any], ops: Any = rekognition) -> Callable[[], Any]:
        return lambda: ops.OPERATIONS[op](body, ctx)

    rows = [
        ("DetectLabels (coffee)", rounds_asked,
         lambda: rek.detect_labels(Image={"Bytes": coffee}),
         lambda: rekognition.labels(Image.open(PHOTOS / "coffee.jpg").convert("RGB"),
                                    settings.vision)),
        ("DetectFaces ALL (portrait)", rounds_asked,
         lambda: rek.detect_faces(Image={"Bytes": portrait}, Attributes=["ALL"]),
         direct("DetectFaces", {"Image": {"Bytes": _b64(portrait)}, "Attributes": ["ALL"]})),
        ("DetectText (banner)", rounds_asked,
         lambda: rek.detect_text(Image={"Bytes": banner}),
         direct("DetectText", {"Image": {"Bytes": _b64(banner)}})),
        ("DetectSentiment", rounds_asked,
         lambda: com.detect_sentiment(Text=TEXT, LanguageCode="en"),
         direct("DetectSentiment", {"Text": TEXT, "LanguageCode": "en"}, comprehend)),
        ("DetectSentiment, http.client (no SDK)", rounds_asked, plain_sentiment(url),
         direct("DetectSentiment", {"Text": TEXT, "LanguageCode": "en"}, comprehend)),
        ("BatchDetectEntities (25 texts)", rounds_asked,
         lambda: com.batch_detect_entities(TextList=[TEXT] * 25, LanguageCode="en"),
         direct("BatchDetectEntities", {"TextList": [TEXT] * 25, "LanguageCode": "en"},
                comprehend)),
        ("DetectEntities (100 KB text)", min(rounds_asked, LONG_ROUNDS),
         lambda: com.detect_entities(Text=long, LanguageCode="en"),
         direct("DetectEntities", {"Text": long, "LanguageCode": "en"}, comprehend)),
    ]
    print("| operation (median of N calls) | N | boto3 → serve | same analysis in process "
          "| HTTP + JSON + SigV4 |")
    print("|---|---:|---:|---:|---:|")
    for name, rounds, api, peer in rows:
        through = _median_ms(api, rounds)
        inside = _median_ms(peer, rounds)
        print(f"| {name} | {rounds} | {through:,.1f} ms | {inside:,.1f} ms | "
              f"{through - inside:+,.1f} ms |", flush=True)


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


if __name__ == "__main__":
    main()

"""Drop-in AWS API benchmark: boto3 through `socialsight serve` beside the same models in process.

    python -m bench.aws [--rounds 20]

`socialsight serve`'s app runs under uvicorn on loopback (an empty lake); boto3's own
clients call it as they would call AWS (JSON 1.1, SigV4-signed). Each operation is timed
against the peer: the same analysis called in this process, no HTTP, no JSON. Photos:
the demo's (examples/demo/photos); texts: short posts. Median milliseconds a call, after
one warm-up call each. Prints a Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

PHOTOS = Path(__file__).resolve().parents[1] / "examples" / "demo" / "photos"
TEXT = "Loving the new espresso bar on Main Street, the baristas are great! #coffee"


def _median_ms(call: Callable[[], Any], rounds: int) -> float:
    call()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    import boto3
    from botocore.config import Config
    from PIL import Image

    from socialsight.aws import comprehend, rekognition
    from socialsight.aws.core import AwsContext
    from socialsight.config import load_settings
    from socialsight.lake.store import Lake
    from socialsight.web.app import create_app
    from tests import liveserver

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        lake = Lake(str(Path(folder) / "lake"))
        settings = load_settings(lake=lake.url)
        uv, thread, port = liveserver.start(create_app(lake, settings))
        url = f"http://127.0.0.1:{port}"
        options: dict[str, Any] = {
            "endpoint_url": url, "region_name": "us-east-1", "aws_access_key_id": "bench",
            "aws_secret_access_key": "bench", "config": Config(retries={"max_attempts": 1})}
        rek = boto3.client("rekognition", **options)
        com = boto3.client("comprehend", **options)
        ctx = AwsContext(settings, lake)
        coffee = (PHOTOS / "coffee.jpg").read_bytes()
        portrait = (PHOTOS / "grace-hopper.jpg").read_bytes()
        banner = (PHOTOS / "sale-banner.png").read_bytes()

        def direct(op: str, body: dict[str, Any], ops: Any = rekognition) -> Callable[[], Any]:
            return lambda: ops.OPERATIONS[op](body, ctx)

        rows = [
            ("DetectLabels (coffee)", lambda: rek.detect_labels(Image={"Bytes": coffee}),
             lambda: rekognition.labels(Image.open(PHOTOS / "coffee.jpg").convert("RGB"),
                                        settings.vision)),
            ("DetectFaces ALL (portrait)",
             lambda: rek.detect_faces(Image={"Bytes": portrait}, Attributes=["ALL"]),
             direct("DetectFaces", {"Image": {"Bytes": _b64(portrait)}, "Attributes": ["ALL"]})),
            ("DetectText (banner)", lambda: rek.detect_text(Image={"Bytes": banner}),
             direct("DetectText", {"Image": {"Bytes": _b64(banner)}})),
            ("DetectSentiment", lambda: com.detect_sentiment(Text=TEXT, LanguageCode="en"),
             direct("DetectSentiment", {"Text": TEXT, "LanguageCode": "en"}, comprehend)),
            ("BatchDetectEntities (25 texts)",
             lambda: com.batch_detect_entities(TextList=[TEXT] * 25, LanguageCode="en"),
             direct("BatchDetectEntities", {"TextList": [TEXT] * 25, "LanguageCode": "en"},
                    comprehend)),
        ]
        print(f"| operation ({args.rounds} calls, median) | boto3 → serve | same analysis "
              "in process | HTTP + JSON + SigV4 |")
        print("|---|---:|---:|---:|")
        for name, api, peer in rows:
            through = _median_ms(api, args.rounds)
            inside = _median_ms(peer, args.rounds)
            print(f"| {name} | {through:,.1f} ms | {inside:,.1f} ms | "
                  f"{through - inside:+,.1f} ms |", flush=True)
        liveserver.stop(uv, thread)


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


if __name__ == "__main__":
    main()

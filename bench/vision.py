"""Image analysis benchmark: photos/s per analysis and end to end, beside decode-only.

    python -m bench.vision [--rounds 5] [--workers 2]

The photo set is the real photos shipped in scikit-image's wheel (two with text, one
with a face, four without either), decoded from PNG/JPEG bytes each time as the
pipeline would. Per analysis: median latency on one thread. End to end:
``socialsight.vision.analyze.analyze`` on every photo with all analyses on, in
``--workers`` processes of one thread each (the survey found that beats one process of
two threads), beside the ceiling: decoding and resizing the same photos in as many
processes. Prints a Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import resource
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from PIL import Image

from bench.run import _median_seconds

PHOTOS = ("page.png", "motorcycle_left.png", "astronaut.png", "coffee.png", "chelsea.png",
          "rocket.jpg", "hubble_deep_field.jpg")


def photo_bytes() -> list[bytes]:
    spec = importlib.util.find_spec("skimage")
    if spec is None or spec.origin is None:
        raise SystemExit("install scikit-image (its wheel carries the photos): make test")
    folder = Path(spec.origin).parent / "data"
    return [(folder / name).read_bytes() for name in PHOTOS]


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image.convert("RGB")


def decode_and_resize(data: bytes) -> int:
    return decode(data).resize((224, 224), Image.Resampling.BICUBIC).width


def analyze_one(data: bytes) -> int:
    from socialsight.vision.analyze import analyze

    return len(analyze(decode(data)).labels)


def _warm(_: int = 0) -> None:
    analyze_one(photo_bytes()[0])


def _rate(work: Callable[[bytes], int], items: list[bytes], workers: int,
          warm: Callable[[int], None] | None = None) -> float:
    with ProcessPoolExecutor(workers) as pool:
        if warm is not None:
            list(pool.map(warm, range(workers)))
        t0 = time.perf_counter()
        list(pool.map(work, items, chunksize=1))
        return len(items) / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    from socialsight.vision import faces, labels, moderation, text

    photos = photo_bytes()
    images = [decode(p) for p in photos]
    for image in images[:1]:  # load every session once
        labels.detect_labels(image)
        moderation.explicit_score(image)
        text.detect_text(image)
        faces.detect_faces(image)
    per = {
        "decode + resize (ceiling)": lambda: [decode_and_resize(p) for p in photos],
        "labels": lambda: [labels.detect_labels(i) for i in images],
        "moderation": lambda: [moderation.explicit_score(i) for i in images],
        "text": lambda: [text.detect_text(i) for i in images],
        "faces": lambda: [faces.detect_faces(i) for i in images],
    }
    print(f"{len(photos)} photos x {args.rounds} rounds; one thread per process\n")
    print("| analysis | median per photo | photos/s, one process |")
    print("|---|---:|---:|")
    for name, run in per.items():
        ms = _median_seconds(run, args.rounds) * 1000 / len(photos)
        print(f"| {name} | {ms:,.1f} ms | {1000 / ms:,.1f} |")
    items = photos * args.rounds
    ceiling = _rate(decode_and_resize, items, args.workers)
    end_to_end = _rate(analyze_one, items, args.workers, _warm)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"\n| end to end, {args.workers} processes | photos/s | target |")
    print("|---|---:|---|")
    print(f"| all analyses (labels, moderation, text, faces) | {end_to_end:,.1f} | ≥ 8 |")
    print(f"| decode + resize only (ceiling) | {ceiling:,.1f} | — |")
    print(f"\npeak memory of a worker: {peak:,.0f} MiB")


if __name__ == "__main__":
    main()

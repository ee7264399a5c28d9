"""DetectLabels, offline: an ImageNet classifier's classes with their WordNet ancestors.

Rekognition returns a label and every ancestor of it (Espresso, Coffee, Beverage,
Food), each with the confidence of its most confident descendant, names in Title
Case, parents nearest first. This module does the same with EfficientNet-Lite0
(ImageNet-1k) and WordNet 3.0 hypernyms precomputed into ``imagenet_labels.json``.
Labels under ``min_confidence`` (0–100) are dropped; at most ``max_labels`` are kept.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from socialsight.models import runtime
from socialsight.models.base import OnnxModel

MODEL = "efficientnet_lite0.onnx"
CLASSES = "imagenet_labels.json"
SIZE = 224


@dataclass
class Label:
    name: str
    confidence: float
    parents: list[str] = field(default_factory=list)
    # (left, top, width, height) relative, and confidence: where each instance is
    instances: list[tuple[tuple[float, float, float, float], float]] = field(
        default_factory=list)

    def as_rekognition(self) -> dict[str, Any]:
        """The label as a row of ``image_labels.labels`` (the seed's column names)."""
        return {"name": self.name, "confidence": self.confidence,
                "instances": [{"boundingbox": {"width": w, "height": h, "left": x, "top": y},
                               "confidence": c} for (x, y, w, h), c in self.instances],
                "parents": [{"name": p} for p in self.parents]}


class Classifier(OnnxModel):
    """EfficientNet-Lite0: ImageNet's 1000 classes (logits) of each preprocessed photo."""

    name = "labels"
    file = MODEL


def title(name: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in name.replace("_", " ").split())


@functools.cache
def classes(directory: str | None = None) -> list[dict[str, Any]]:
    with open(runtime.model_path(CLASSES, directory), encoding="utf-8") as handle:
        classes: list[dict[str, Any]] = json.load(handle)["classes"]
    return classes


def preprocess(image: Image.Image) -> np.ndarray:
    """RGB, bicubic resize of the short side to 256, centre crop 224, (x - 127) / 128, NCHW."""
    image = image.convert("RGB")
    scale = (SIZE / 0.875) / min(image.size)
    width, height = (max(SIZE, round(image.width * scale)), max(SIZE, round(image.height * scale)))
    image = image.resize((width, height), Image.Resampling.BICUBIC)
    left, top = (width - SIZE) // 2, (height - SIZE) // 2
    image = image.crop((left, top, left + SIZE, top + SIZE))
    array = (np.asarray(image, dtype=np.float32) - 127.0) / 128.0
    return array.transpose(2, 0, 1)[np.newaxis]


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def class_scores(image: Image.Image, threads: int = 1,
                 directory: str | None = None) -> np.ndarray:
    """The classifier's confidence (0–100) in each of the 1000 ImageNet classes."""
    return batch_scores([preprocess(image)], threads, directory)[0]


def batch_scores(inputs: list[np.ndarray], threads: int = 1,
                 directory: str | None = None) -> np.ndarray:
    """:func:`class_scores` of several preprocessed photos in one run of the model."""
    logits = np.stack([out[0] for out in Classifier(threads, directory).predict(inputs)])
    return np.asarray(_softmax(logits) * 100.0)


def scores_by_name(scores: np.ndarray, directory: str | None = None) -> dict[str, float]:
    return {c["name"]: float(s) for c, s in zip(classes(directory), scores, strict=True)}


def detect_labels(image: Image.Image, min_confidence: float = 55.0, max_labels: int = 20,
                  threads: int = 1, directory: str | None = None) -> list[Label]:
    """The labels of one photo, most confident first."""
    return labels_from_scores(class_scores(image, threads, directory), classes(directory),
                              min_confidence, max_labels)


def labels_from_scores(scores: np.ndarray, classes: list[dict[str, Any]],
                       min_confidence: float, max_labels: int) -> list[Label]:
    """Classes and their ancestors; an ancestor scores the sum of its descendants'
    probabilities (capped at 100), so "Cat" is sure when the tabby/tiger-cat split is not."""
    best: dict[str, Label] = {}
    for index in np.argsort(scores)[::-1][:50]:
        entry, score = classes[int(index)], float(scores[int(index)])
        chain = [title(entry["name"]), *(title(p) for p in entry["parents"])]
        for depth, name in enumerate(chain):
            label = best.get(name)
            if label is None:
                best[name] = Label(name, score, chain[depth + 1:])
            else:
                label.confidence = min(100.0, label.confidence + score) if depth else max(
                    label.confidence, score)
    kept = [lb for lb in best.values() if lb.confidence >= min_confidence]
    kept.sort(key=lambda lb: (-lb.confidence, lb.name))
    return [Label(lb.name, round(lb.confidence, 3), lb.parents) for lb in kept[:max_labels]]

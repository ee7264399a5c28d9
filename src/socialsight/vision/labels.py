"""DetectLabels, offline: an ImageNet classifier's classes as Rekognition names things.

Rekognition returns a label and every ancestor of it (Espresso, Coffee, Beverage,
Food), names in Title Case, parents nearest first, with the label's categories and
aliases. This module does the same with EfficientNet-Lite0 (ImageNet-1k) and the
hand-curated vocabulary of :mod:`socialsight.vision.vocabulary`: each class becomes its
label in the right word sense, a label's confidence is the probability mass of every
class under it (Dog is sure when the classifier splits its mass between three breeds,
Building when it splits it between church, palace and boathouse), and the scene labels
the classes imply (Outdoors, Building, Water, ...) are scored the same way. Breed- and
species-level labels (``fine``) are given only above :data:`FINE_CONFIDENCE`. The
classifier reads two views of each photo, the whole and its centre, and their scores are
averaged (:func:`views`): on the development photos of bench/labels.py that raised both
recall and precision. Labels
under ``min_confidence`` (0–100) are dropped; at most ``max_labels`` are kept.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from PIL import Image

from socialsight.models import runtime
from socialsight.models.base import OnnxModel
from socialsight.vision import vocabulary

MODEL = "efficientnet_lite0.onnx"
CLASSES = "imagenet_labels.json"
SIZE = 224
MAX_ASPECT = 4  # see preprocess
# The centre view's share of each side (see views).
CENTRE = 0.7
# A breed or species (Tabby Cat, Golden Retriever) only this sure; its parents always.
FINE_CONFIDENCE = 80.0
# Labels with less mass than this (0–100) are not worth keeping.
NEGLIGIBLE = 0.01
# A label's confidence is 100 x mass^CALIBRATION (mass 0–1): see label_confidence.
CALIBRATION = 0.4
# A class the classifier gives less than this (0–100) adds nothing to any label: hundreds
# of unlikely animal classes must not add up to a sure Animal.
CLASS_FLOOR = 1.0


@dataclass
class Label:
    name: str
    confidence: float
    parents: list[str] = field(default_factory=list)
    # (left, top, width, height) relative, and confidence: where each instance is
    instances: list[tuple[tuple[float, float, float, float], float]] = field(
        default_factory=list)
    categories: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)

    @classmethod
    def named(cls, name: str, confidence: float,
              instances: list[tuple[tuple[float, float, float, float], float]] | None = None,
              ) -> Label:
        """A label with its ancestors, categories and aliases from the vocabulary."""
        entry = vocabulary.info(name)
        return cls(name, confidence, list(vocabulary.ancestors(name)), list(instances or []),
                   list(entry.categories), list(entry.aliases))

    def as_rekognition(self) -> dict[str, Any]:
        """The label as a row of ``image_labels.labels`` (the seed's column names, and
        Rekognition v3's aliases and categories)."""
        return {"name": self.name, "confidence": self.confidence,
                "instances": [{"boundingbox": {"width": w, "height": h, "left": x, "top": y},
                               "confidence": c} for (x, y, w, h), c in self.instances],
                "parents": [{"name": p} for p in self.parents],
                "aliases": [{"name": a} for a in self.aliases],
                "categories": [{"name": c} for c in self.categories]}


class Classifier(OnnxModel):
    """EfficientNet-Lite0: ImageNet's 1000 classes (logits) of each preprocessed photo, and
    the pooled features its last layer reads (``[1280]``, models/MODELS.md)."""

    name = "labels"
    file = MODEL


def title(name: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in name.replace("_", " ").split())


@functools.cache
def classes(directory: str | None = None) -> list[dict[str, Any]]:
    with open(runtime.model_path(CLASSES, directory), encoding="utf-8") as handle:
        classes: list[dict[str, Any]] = json.load(handle)["classes"]
    return classes


def views(image: Image.Image) -> np.ndarray:
    """The two views the classifier reads of a whole photo: all of it, and its centre
    (:data:`CENTRE` of each side), where the subject of a photo usually is and shows
    larger; ``[2, 3, 224, 224]``."""
    width, height = image.size
    left, top = round(width * (1 - CENTRE) / 2), round(height * (1 - CENTRE) / 2)
    centre = image.crop((left, top, max(left + 1, width - left), max(top + 1, height - top)))
    return np.concatenate([preprocess(image), preprocess(centre)])


class ViewScores(NamedTuple):
    scores: np.ndarray  # the class scores (0–100), the mean over the views
    features: np.ndarray  # the first (whole) view's pooled features, ``[1280]`` float32


def batch_view_scores(inputs: list[np.ndarray], threads: int = 1,
                      directory: str | None = None) -> list[ViewScores]:
    """Each photo's class scores (0–100), the mean over its :func:`views`, and the
    features of its first view (the whole photo), from the same run of the model."""
    outputs = Classifier(threads, directory).predict(
        [row[np.newaxis] for item in inputs for row in item])
    scores = _softmax(np.stack([out[0] for out in outputs])) * 100.0
    counts = np.cumsum([0] + [len(item) for item in inputs])
    return [ViewScores(scores[a:b].mean(axis=0), outputs[a][1])
            for a, b in itertools.pairwise(counts)]


def preprocess(image: Image.Image) -> np.ndarray:
    """RGB, bicubic resize of the short side to 256, centre crop 224, (x - 127) / 128, NCHW.

    A photo longer than :data:`MAX_ASPECT` times its width (a 1 x 5000 strip) is first cut
    to its centre at that ratio: the crop keeps only the centre anyway, and scaling the
    whole strip up would take gigabytes."""
    image = image.convert("RGB")
    long, short = max(image.size), max(1, min(image.size))
    if long > MAX_ASPECT * short:
        keep = MAX_ASPECT * short
        cut = (long - keep) // 2
        box = (cut, 0, cut + keep, image.height) if image.width == long else (
            0, cut, image.width, cut + keep)
        image = image.crop(box)
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
    """The classifier's labels of one photo (both its views), most confident first."""
    [(scores, _)] = batch_view_scores([views(image.convert("RGB"))], threads, directory)
    return labels_from_scores(scores, min_confidence, max_labels)


def label_mass(scores: np.ndarray) -> dict[str, float]:
    """Each label's probability mass (0–100): the sum over the classes that are it or
    under it, and over the classes that imply it as a scene; each class counts once
    towards a label."""
    names, members, starts = _membership()
    kept = np.asarray(scores, dtype=np.float64)
    # sums over each label's classes (not a matrix product: BLAS would start threads that
    # fight the models' own in every worker process)
    mass = np.add.reduceat(np.where(kept >= CLASS_FLOOR, kept, 0.0)[members], starts)
    return {name: float(value) for name, value in zip(names, mass, strict=True)
            if value >= NEGLIGIBLE}


@functools.cache
def _membership() -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """Label names, the classes that count towards each label laid end to end, and where
    each label's classes start."""
    members: dict[str, set[int]] = defaultdict(set)
    for cls in vocabulary.imagenet():
        if not cls.label:
            continue
        counted = {cls.label, *vocabulary.ancestors(cls.label)}
        for scene in cls.scenes:
            counted |= {scene, *vocabulary.ancestors(scene)}
        for name in counted:
            members[name].add(cls.index)
    names = tuple(sorted(members))
    lists = [sorted(members[name]) for name in names]
    starts = np.cumsum([0] + [len(x) for x in lists[:-1]])
    return names, np.concatenate([np.asarray(x) for x in lists]), starts


def known(name: str) -> bool:
    """Whether any ImageNet class counts towards the label (the classifier can say it)."""
    return name in _membership()[0]


def fine(name: str) -> bool:
    return name in _fine_labels()


@functools.cache
def _fine_labels() -> frozenset[str]:
    fine = {c.label for c in vocabulary.imagenet() if c.fine}
    return frozenset(fine - {c.label for c in vocabulary.imagenet() if not c.fine})


def label_confidence(mass: float) -> float:
    """How sure (0–100) a label is, given the classifier's mass on it (0–100)."""
    return float(100.0 * min(1.0, mass / 100.0) ** CALIBRATION)


def labels_from_scores(scores: np.ndarray, min_confidence: float,
                       max_labels: int) -> list[Label]:
    """The labels the class scores support, each at :func:`label_confidence` of its
    mass; a breed or species only above :data:`FINE_CONFIDENCE`."""
    return labels_from_mass(label_mass(scores), min_confidence, max_labels)


def labels_from_mass(mass: dict[str, float], min_confidence: float,
                     max_labels: int) -> list[Label]:
    """:func:`labels_from_scores` given the labels' mass (:func:`label_mass`)."""
    sure = {name: label_confidence(value) for name, value in mass.items()}
    kept = [Label.named(name, round(value, 3)) for name, value in sure.items()
            if value >= max(min_confidence, FINE_CONFIDENCE if fine(name) else 0.0)]
    kept.sort(key=lambda lb: (-lb.confidence, lb.name))
    return kept[:max_labels]

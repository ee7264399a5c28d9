"""Body parts with boxes, and the moderation labels they imply (optional: the nudenet extra).

The ``nudenet`` package (3.4.2, installed with ``pip install socialsight[nudenet]``) ships
``320n.onnx``: an Ultralytics YOLOv8-n detector for 18 exposed or covered body parts
(:data:`CLASSES`). Its LICENSE is AGPL-3.0, so socialsight never requires it and uses
none of its code: the file is loaded from the installed package (checked by sha256, see
``socialsight.models.registry``) into socialsight's own onnxruntime session, and the steps
below are written here.

- Input: the photo scaled so its long side is 320 px, pasted top-left on black 320 x 320,
  RGB, values 0-1, NCHW (``[1, 3, 320, 320]``).
- Output ``[1, 22, 2100]``: one column per grid cell (strides 8, 16, 32), rows
  ``cx, cy, w, h`` in input pixels and the 18 class scores (sigmoids already).
- Each cell keeps its best class; cells under ``min_confidence`` are dropped and the rest
  go through greedy NMS at IoU 0.45 across classes (one part per region), as nudenet does.

:data:`MODERATION` maps each class onto Rekognition's moderation taxonomy (the v6 names the
lake uses, plus v7's "Exposed Buttocks or Anus"); :func:`moderation_labels` gives each label
the highest confidence of its parts, and its top-level category as well, as Rekognition
does.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass

import numpy as np
from PIL import Image

from socialsight.errors import ConfigError
from socialsight.models.detector import BoxDetector
from socialsight.vision.moderation import ModerationLabel

MODEL = "nudenet-320n.onnx"
PACKAGE = "nudenet"
SIZE = 320
NMS_IOU = 0.45
MAX_PARTS = 100

# The model's classes in output order (the ONNX file's "names" metadata).
CLASSES: tuple[str, ...] = (
    "FEMALE_GENITALIA_COVERED", "FACE_FEMALE", "BUTTOCKS_EXPOSED", "FEMALE_BREAST_EXPOSED",
    "FEMALE_GENITALIA_EXPOSED", "MALE_BREAST_EXPOSED", "ANUS_EXPOSED", "FEET_EXPOSED",
    "BELLY_COVERED", "FEET_COVERED", "ARMPITS_COVERED", "ARMPITS_EXPOSED", "FACE_MALE",
    "BELLY_EXPOSED", "MALE_GENITALIA_EXPOSED", "ANUS_COVERED", "FEMALE_BREAST_COVERED",
    "BUTTOCKS_COVERED",
)

EXPLICIT, SUGGESTIVE = "Explicit Nudity", "Suggestive"
# Body part → (moderation label, its top-level category), or None for no label.
# Covered parts are what the detector finds on swimwear, underwear and close-fitting or
# low-cut clothes; nudenet has no class for covered male genitals, so "Male Swimwear Or
# Underwear" is never given (a bare male chest gives "Barechested Male"). Faces, feet,
# armpits, and covered bellies, feet and armpits are everyday sights and give nothing.
MODERATION: dict[str, tuple[str, str] | None] = {
    "MALE_GENITALIA_EXPOSED": ("Graphic Male Nudity", EXPLICIT),
    "FEMALE_GENITALIA_EXPOSED": ("Graphic Female Nudity", EXPLICIT),
    "FEMALE_BREAST_EXPOSED": ("Nudity", EXPLICIT),
    "BUTTOCKS_EXPOSED": ("Exposed Buttocks or Anus", EXPLICIT),
    "ANUS_EXPOSED": ("Exposed Buttocks or Anus", EXPLICIT),
    "FEMALE_GENITALIA_COVERED": ("Female Swimwear Or Underwear", SUGGESTIVE),
    "FEMALE_BREAST_COVERED": ("Revealing Clothes", SUGGESTIVE),
    "BUTTOCKS_COVERED": ("Revealing Clothes", SUGGESTIVE),
    "ANUS_COVERED": ("Revealing Clothes", SUGGESTIVE),
    "BELLY_EXPOSED": ("Revealing Clothes", SUGGESTIVE),
    "MALE_BREAST_EXPOSED": ("Barechested Male", SUGGESTIVE),
    "FACE_FEMALE": None,
    "FACE_MALE": None,
    "FEET_EXPOSED": None,
    "FEET_COVERED": None,
    "ARMPITS_EXPOSED": None,
    "ARMPITS_COVERED": None,
    "BELLY_COVERED": None,
}


@dataclass(frozen=True)
class BodyPart:
    name: str  # nudenet's class name, e.g. "FEMALE_BREAST_COVERED"
    confidence: float  # 0-100
    box: tuple[float, float, float, float]  # left, top, width, height (relative, 0-1)


def available() -> bool:
    """Whether the optional ``nudenet`` package is installed (it is not imported)."""
    return _installed(PACKAGE)


@functools.cache
def _installed(package: str) -> bool:  # asked for every photo: look once per process
    return importlib.util.find_spec(package) is not None


class PartDetector(BoxDetector):
    """nudenet's YOLOv8-n: RGB 0-1 on black, sides rounded, NMS across classes."""

    name = "body_parts"
    file = MODEL
    size, pad, bgr, divide, rounded = SIZE, 0.0, False, 255.0, True
    iou, per_class, most = NMS_IOU, False, MAX_PARTS

    def decode(self, outputs: list[np.ndarray], min_confidence: float,
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``[22, A]`` output: each cell's best class, if at least ``min_confidence``."""
        [raw] = outputs
        rows = raw.T
        classes = rows[:, 4:].argmax(axis=1)
        scores = rows[np.arange(len(rows)), 4 + classes]
        keep = scores >= min_confidence / 100.0
        centre, size = rows[keep, :2], rows[keep, 2:4]
        boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1)
        return boxes, scores[keep], classes[keep]


def detect_body_parts(image: Image.Image, threads: int = 1,
                      min_confidence: float = 25.0) -> list[BodyPart]:
    """The body parts in one photo, most confident first (needs the nudenet extra)."""
    if not available():
        raise ConfigError("body-part detection needs the optional nudenet package "
                          "(pip install 'socialsight[nudenet]'; it is AGPL-3.0)")
    found = PartDetector(threads).detect(image, min_confidence)
    return [BodyPart(CLASSES[f.index], f.confidence, f.box) for f in found]


def moderation_labels(parts: list[BodyPart],
                      min_confidence: float = 50.0) -> list[ModerationLabel]:
    """Rekognition's moderation labels for these parts, each with its top-level category."""
    found: dict[tuple[str, str], float] = {}
    for part in parts:
        label = MODERATION.get(part.name)
        if label is None or part.confidence < min_confidence:
            continue
        for key in (label, (label[1], "")):
            found[key] = max(found.get(key, 0.0), part.confidence)
    labels = [ModerationLabel(n, p, round(c, 3)) for (n, p), c in found.items()]
    return sorted(labels, key=lambda lb: (-lb.confidence, lb.parentname != "", lb.name))

"""Sunglasses on a face, from the ImageNet classifier on the face's crop.

No offline model estimates eyewear, but ImageNet has two sunglasses classes, and the
classifier on a crop of 1.1 times the face box puts most of its mass on them when the
eyes are behind dark lenses (0.78 on a wearer, at most 0.02 on 21 other faces, in the
model survey). A face is wearing sunglasses when that mass is at least
:data:`SUNGLASSES` percent; faces smaller than :data:`MIN_SIDE` pixels are not judged
(null, as Rekognition's field would be unknown). Eyeglasses, beards and mustaches stay
null: nothing measured tells them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PIL import Image

from socialsight.vision import labels as labels_mod
from socialsight.vision.faces import FaceDetail

SUNGLASSES = 30.0
MIN_SIDE = 24  # pixels
SCALE = 1.1


def _crop(image: Image.Image, face: FaceDetail) -> Image.Image:
    left, top, width, height = face.box
    cx, cy = (left + width / 2) * image.width, (top + height / 2) * image.height
    half = SCALE * max(width * image.width, height * image.height) / 2
    return image.crop((int(cx - half), int(cy - half), int(cx + half), int(cy + half)))


def sunglasses(image: Image.Image, faces: Sequence[FaceDetail], threads: int = 1,
               directory: str | None = None) -> list[dict[str, Any] | None]:
    """Rekognition's ``sunglasses`` attribute (value, confidence) of each face, None
    where the face is too small to judge."""
    judged = [i for i, f in enumerate(faces)
              if min(f.box[2] * image.width, f.box[3] * image.height) >= MIN_SIDE]
    out: list[dict[str, Any] | None] = [None] * len(faces)
    if not judged:
        return out
    scores = labels_mod.batch_scores(
        [labels_mod.preprocess(_crop(image, faces[i])) for i in judged], threads, directory)
    for i, row in zip(judged, scores, strict=True):
        mass = min(100.0, labels_mod.label_mass(row).get("Sunglasses", 0.0))
        wearing = mass >= SUNGLASSES
        out[i] = {"value": wearing, "confidence": round(mass if wearing else 100.0 - mass, 3)}
    return out

"""Labels that come from the other analyses: people, faces, eyewear and text.

The classifier has no person class and reads a photo as one thing; Rekognition also says
who is there and what kind of photo it is. These rules turn what the face detector, the
object detector, face attributes and the text reader found into those labels, each at
the confidence of the evidence behind it:

* **Person** (and Human, as the seed's results show) and **Face**, **Head** from faces;
  **People** from two persons or more (boxes or faces), **Crowd** from :data:`CROWD`;
* **Man**, **Woman**, **Boy**, **Girl**, **Child**, **Baby**, **Adult**, **Male**,
  **Female** from a face's estimated gender and age range (a child when the range ends
  below :data:`CHILD_AGE`, an adult when it starts at :data:`ADULT_AGE` or later);
* **Portrait** (and its parent Photography) when one or two faces fill the photo: the
  largest face at least :data:`PORTRAIT_FACE` of the photo's height;
* **Sunglasses** (Accessories) from the faces wearing them;
* **Text** from any line read; **Document** from a page of it: at least
  :data:`DOCUMENT_LINES` lines, or three lines or more covering :data:`DOCUMENT_AREA` of
  the photo (a headline alone is not a document).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from socialsight.vision.faces import FaceDetail
from socialsight.vision.labels import Label
from socialsight.vision.text import TextDetection

CROWD = 8
CHILD_AGE = 13  # an age range ending below this is a child's
ADULT_AGE = 18  # ... starting at this or later an adult's
BABY_AGE = 3
PORTRAIT_FACE = 0.2
DOCUMENT_LINES = 8
DOCUMENT_AREA = 0.2


def _second(values: Sequence[float]) -> float:
    return sorted(values, reverse=True)[1]


def people(faces: Sequence[FaceDetail], persons: Sequence[float]) -> list[Label]:
    """Labels from the faces and the person boxes' confidences (0–100)."""
    out: list[Label] = []
    if faces:
        best = max(f.confidence for f in faces)
        out += [Label.named(name, best) for name in ("Person", "Human", "Face", "Head")]
    count = max(len(faces), len(persons))
    if count >= 2:
        evidence = [f.confidence for f in faces] if len(faces) >= 2 else list(persons)
        out.append(Label.named("People", _second(evidence)))
    if count >= CROWD:
        out.append(Label.named("Crowd", min(100.0, 50.0 + 5.0 * (count - CROWD + 1))))
    for face in faces:
        out += _person_kind(face)
    if faces and len(faces) <= 2:
        largest = max(faces, key=lambda f: f.box[3])
        if largest.box[3] >= PORTRAIT_FACE:
            out.append(Label.named("Portrait", largest.confidence))
    wearing = [f.confidence for f in faces if (f.extra.get("sunglasses") or {}).get("value")]
    if wearing:
        out.append(Label.named("Sunglasses", max(wearing)))
    return out


def _person_kind(face: FaceDetail) -> list[Label]:
    gender: dict[str, Any] | None = face.extra.get("gender")
    ages: dict[str, Any] | None = face.extra.get("agerange")
    if not gender or not ages:
        return []
    sure = min(face.confidence, float(gender["confidence"]))
    male = gender["value"] == "Male"
    names = ["Male" if male else "Female"]
    if ages["high"] < CHILD_AGE:
        names += ["Child", "Boy" if male else "Girl"]
        if ages["high"] < BABY_AGE:
            names.append("Baby")
    elif ages["low"] >= ADULT_AGE:
        names += ["Adult", "Man" if male else "Woman"]
    return [Label.named(name, sure) for name in names]


def text(found: Sequence[TextDetection]) -> list[Label]:
    """Text and Document from the lines read."""
    lines = [t for t in found if t.type == "LINE"]
    if not lines:
        return []
    sure = max(t.confidence for t in lines)
    out = [Label.named("Text", sure)]
    area = sum(_area(t) for t in lines)
    if len(lines) >= DOCUMENT_LINES or (len(lines) >= 3 and area >= DOCUMENT_AREA):
        out.append(Label.named("Document", sure))
    return out


def _area(line: TextDetection) -> float:
    xs = [x for x, _ in line.polygon]
    ys = [y for _, y in line.polygon]
    return (max(xs) - min(xs)) * (max(ys) - min(ys)) if xs else 0.0

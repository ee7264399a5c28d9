"""Labels that come from the other analyses: people, faces, eyewear and text.

The classifier has no person class and reads a photo as one thing; Rekognition also says
who is there and what kind of photo it is. These rules turn what the face detector, the
object detector, face attributes and the text reader found into those labels, each at
the confidence of the evidence behind it:

* **Person** (and Human, as the seed's results show) and **Face**, **Head** from faces;
  **People** from two persons or more (boxes or faces), **Crowd** from :data:`CROWD`;
* **Man**, **Woman**, **Boy**, **Girl**, **Child**, **Baby**, **Adult**, **Male**,
  **Female** from a face's estimated gender and age range (a child when the range ends
  below :data:`CHILD_AGE`, an adult when its middle is :data:`ADULT_AGE` or more: the
  estimator's ranges are wide, and a grown man's often starts in his teens);
* **Portrait** (and its parent Photography) when one face fills the photo: at least
  :data:`PORTRAIT_FACE` of the photo's height (two faces that size are a couple, not a
  portrait);
* **Sunglasses** (Accessories) from the faces wearing them, **Smile** from the smiling;
* **Text** from any line read; **Document** from a page of it: at least
  :data:`DOCUMENT_LINES` lines, or three lines or more covering :data:`DOCUMENT_AREA` of
  the photo (a headline alone is not a document); **Sign** from :data:`SIGN_LINES` lines or
  more (fewer than a document's) in letters at least :data:`SIGN_HEIGHT` of the photo's
  height, on a photo without a face of
  :data:`PORTRAIT_FACE` (a notice, a street or shop sign; not a name tag, a shirt's print
  or a watermark). Lines painted on a thing the object detector boxed (a plane's
  serial, a bus's livery, a shirt's print: the line's centre inside the box; a stop sign
  excepted) and lines touching the photo's edge (within :data:`EDGE`: a watermark, a
  cut-off caption) do not count towards a sign.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from socialsight.vision import agreement
from socialsight.vision.faces import FaceDetail
from socialsight.vision.labels import Label
from socialsight.vision.text import TextDetection

CROWD = 8
CHILD_AGE = 13  # an age range ending below this is a child's
ADULT_AGE = 18  # ... with its middle at this or more an adult's
BABY_AGE = 3
PORTRAIT_FACE = 0.2
DOCUMENT_LINES = 8
DOCUMENT_AREA = 0.2
SIGN_HEIGHT = 0.04
SIGN_LINES = 2
EDGE = 0.01  # a line this close to the photo's edge is a watermark or a cut-off caption
SIGN_THINGS = frozenset({"Stop Sign"})  # boxed things whose lettering is a sign's


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
    if len(faces) == 1 and faces[0].box[3] >= PORTRAIT_FACE:
        out.append(Label.named("Portrait", faces[0].confidence))
    for attribute, name in (("sunglasses", "Sunglasses"), ("smile", "Smile")):
        sure = [min(f.confidence, float(f.extra[attribute]["confidence"])) for f in faces
                if (f.extra.get(attribute) or {}).get("value")]
        if sure:
            out.append(Label.named(name, max(sure)))
    return out


def _person_kind(face: FaceDetail) -> list[Label]:
    gender: dict[str, Any] | None = face.extra.get("gender")
    ages: dict[str, Any] | None = face.extra.get("agerange")
    if not gender or not ages:
        return []
    sure = min(face.confidence, float(gender["confidence"]))
    male = gender["value"] == "Male"
    names = ["Male" if male else "Female"]
    middle = (ages["low"] + ages["high"]) / 2
    if ages["high"] < CHILD_AGE:
        names += ["Child", "Boy" if male else "Girl"]
        if ages["high"] < BABY_AGE:
            names.append("Baby")
    elif middle >= ADULT_AGE:
        names += ["Adult", "Man" if male else "Woman"]
    return [Label.named(name, sure) for name in names]


def text(found: Sequence[TextDetection], faces: Sequence[FaceDetail] = (),
         things: Sequence[tuple[float, float, float, float]] = ()) -> list[Label]:
    """Text, Document and Sign from the lines read (and the faces found, and the boxes
    (left, top, width, height) of the things detected that are not signs)."""
    lines = [t for t in found if t.type == "LINE"]
    if not lines:
        return []
    sure = max(t.confidence for t in lines)
    out = [Label.named("Text", sure)]
    area = sum(_area(t) for t in lines)
    if len(lines) >= DOCUMENT_LINES or (len(lines) >= 3 and area >= DOCUMENT_AREA):
        out.append(Label.named("Document", sure))
    elif not any(f.box[3] >= PORTRAIT_FACE for f in faces):
        large = [t.confidence for t in lines if _height(t) >= SIGN_HEIGHT
                 and not _at_edge(t) and not any(_inside(t, box) for box in things)]
        if len(large) >= SIGN_LINES:
            out.append(Label.named("Sign", max(large)))
    return out


def _height(line: TextDetection) -> float:
    ys = [y for _, y in line.polygon]
    return max(ys) - min(ys) if ys else 0.0


def _at_edge(line: TextDetection) -> bool:
    return any(min(x, y) <= EDGE or max(x, y) >= 1.0 - EDGE for x, y in line.polygon)


def _inside(line: TextDetection, box: tuple[float, float, float, float]) -> bool:
    """Whether the line's centre lies inside the box."""
    if not line.polygon:
        return False
    xs = [x for x, _ in line.polygon]
    ys = [y for _, y in line.polygon]
    return agreement.inside(((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2), box)


def _area(line: TextDetection) -> float:
    xs = [x for x, _ in line.polygon]
    ys = [y for _, y in line.polygon]
    return (max(xs) - min(xs)) * (max(ys) - min(ys)) if xs else 0.0

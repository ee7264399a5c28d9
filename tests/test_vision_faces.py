"""Faces on real photos: how many, where, and what stays unknown rather than invented."""

from __future__ import annotations

from socialsight.vision.faces import detect_faces
from tests.test_vision_labels import package_photo


def test_the_astronaut_has_one_face_where_her_face_is():
    faces = detect_faces(package_photo("astronaut.png"))
    assert len(faces) == 1
    face = faces[0]
    assert face.confidence > 99
    left, top, width, height = face.box
    # The face sits in the upper middle of the 512 x 512 portrait.
    assert 0.30 < left < 0.40 and 0.08 < top < 0.15
    assert 0.15 < width < 0.22 and 0.20 < height < 0.28
    marks = {name: (x, y) for name, x, y in face.landmarks}
    assert marks["eyeLeft"][0] < marks["nose"][0] < marks["eyeRight"][0]
    assert marks["eyeLeft"][1] < marks["nose"][1] < marks["mouthLeft"][1]
    assert all(left <= x <= left + width and top <= y <= top + height
               for x, y in marks.values())
    assert abs(face.roll) < 10  # she holds her head upright
    assert 0 < face.brightness < 100 and 0 < face.sharpness <= 100


def test_no_faces_where_there_are_none():
    for photo in ("coffee.png", "chelsea.png", "page.png", "motorcycle_left.png"):
        assert detect_faces(package_photo(photo)) == [], photo


def test_what_the_model_pack_cannot_tell_is_null():
    row = detect_faces(package_photo("astronaut.png"))[0].as_rekognition()
    for unknown in ("agerange", "gender", "smile", "eyeglasses", "sunglasses", "beard",
                    "mustache", "eyesopen", "mouthopen", "emotions"):
        assert row[unknown] is None, unknown
    assert row["pose"]["yaw"] is None and row["pose"]["roll"] is not None
    assert [m["type"] for m in row["landmarks"]] == ["eyeLeft", "eyeRight", "nose",
                                                     "mouthLeft", "mouthRight"]

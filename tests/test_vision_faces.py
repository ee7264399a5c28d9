"""Faces on real photos: how many, where, and what stays unknown rather than invented."""

from __future__ import annotations

from socialsight.vision.analyze import analyze
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
    result = analyze(package_photo("astronaut.png"))
    row = result.image_labels()["facedetails"][0]
    for unknown in ("eyeglasses", "beard", "mustache"):
        assert row[unknown] is None, unknown
    # sunglasses are judged from the classifier on the face's crop (vision.eyewear)
    assert row["sunglasses"]["value"] is False
    for known in ("agerange", "gender", "smile", "eyesopen", "mouthopen", "emotions"):
        assert row[known], known
    assert None not in row["pose"].values()
    assert [m["type"] for m in row["landmarks"]] == ["eyeLeft", "eyeRight", "nose",
                                                     "mouthLeft", "mouthRight"]

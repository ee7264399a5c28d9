"""Objects on real photos: what is in them, where, and nothing where there is nothing."""

from __future__ import annotations

import itertools

from socialsight.vision.faces import detect_faces
from socialsight.vision.objects import NAMES, Instance, detect_objects
from tests.test_vision_labels import package_photo


def by_name(instances: list[Instance]) -> dict[str, list[Instance]]:
    found: dict[str, list[Instance]] = {}
    for instance in instances:
        found.setdefault(instance.name, []).append(instance)
    return found


def test_the_astronaut_is_one_person_and_her_box_holds_her_face():
    photo = package_photo("astronaut.png")
    people = by_name(detect_objects(photo))["Person"]
    assert len(people) == 1
    person = people[0]
    assert person.confidence > 85
    left, top, width, height = person.box
    # She fills the left two thirds of the portrait, from the top edge to the bottom.
    assert left < 0.06 and top < 0.08 and 0.6 < width < 0.8 and height > 0.9
    face_left, face_top, face_width, face_height = detect_faces(photo)[0].box
    assert left <= face_left and face_left + face_width <= left + width
    assert top <= face_top and face_top + face_height <= top + height


def test_a_cup_of_coffee():
    found = by_name(detect_objects(package_photo("coffee.png")))
    (cup,) = found["Cup"]
    assert cup.confidence > 80
    left, top, width, height = cup.box
    # The cup and saucer stand in the middle of the 600 x 400 photo.
    assert 0.2 < left < 0.35 and top < 0.1 and 0.35 < width < 0.5 and 0.6 < height < 0.8
    assert not {"Person", "Cat", "Dog"} & set(found)


def test_a_cat_is_a_cat():
    found = by_name(detect_objects(package_photo("chelsea.png")))
    assert len(found["Cat"]) == 1 and found["Cat"][0].confidence > 55
    assert set(found) == {"Cat"}


def test_a_motorcycle():
    found = by_name(detect_objects(package_photo("motorcycle_left.png")))
    (motorcycle,) = found["Motorcycle"]
    assert motorcycle.confidence > 80
    left, _, width, height = motorcycle.box
    assert left < 0.25 and width > 0.7 and height > 0.6  # it fills most of the frame
    assert set(found) == {"Motorcycle"}


def test_the_cameraman_in_black_and_white_is_a_person():
    found = by_name(detect_objects(package_photo("camera.png")))
    assert len(found["Person"]) == 1 and found["Person"][0].confidence > 85


def test_nothing_where_there_is_no_coco_object():
    # A scanned page of text, a rocket (not a COCO class), deep space, a brick wall.
    for photo in ("page.png", "rocket.jpg", "hubble_deep_field.jpg", "brick.png"):
        assert detect_objects(package_photo(photo)) == [], photo


def test_boxes_are_relative_clipped_and_sorted():
    instances = detect_objects(package_photo("motorcycle_right.png"), min_confidence=2)
    assert len(instances) > 10 and all(instance.name in NAMES for instance in instances)
    assert all(a.confidence >= b.confidence for a, b in itertools.pairwise(instances))
    for instance in instances:
        left, top, width, height = instance.box
        assert 0 <= left <= 1 and 0 <= top <= 1 and width > 0 and height > 0
        assert left + width <= 1 + 1e-6 and top + height <= 1 + 1e-6
        assert 2 <= instance.confidence <= 100


def test_min_confidence_is_honoured():
    photo = package_photo("coffee.png")
    assert [i.name for i in detect_objects(photo, min_confidence=80)] == ["Cup"]
    assert detect_objects(photo, min_confidence=99.9) == []
    assert len(detect_objects(photo, min_confidence=0)) == 100  # at most 100 kept


def test_as_rekognition():
    (person,) = detect_objects(package_photo("astronaut.png"))
    row = person.as_rekognition()
    assert set(row) == {"boundingbox", "confidence"}
    assert row["confidence"] == person.confidence
    box = row["boundingbox"]
    assert (box["left"], box["top"], box["width"], box["height"]) == person.box

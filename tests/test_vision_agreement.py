"""The object detector gives way where the classifier, on the same box, knows better."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from socialsight.vision import agreement, vocabulary
from socialsight.vision.objects import Instance
from tests.test_vision_labels import package_photo


def mass(**names: float) -> dict[str, float]:
    """A classifier's label mass: each name and all its ancestors."""
    out: dict[str, float] = {}
    for name, value in names.items():
        for label in (name, *vocabulary.ancestors(name)):
            out[label] = out.get(label, 0.0) + value
    return out


def test_a_bird_the_classifier_sees_as_a_bee_is_a_bee():
    assert "Insect" in vocabulary.ancestors("Bee")
    assert agreement.verdict("Bird", mass(Bee=85.0)) == "Bee"
    assert agreement.verdict("Dog", mass(Squirrel=70.0)) == "Squirrel"


def test_the_detector_keeps_its_name_when_the_classifier_agrees_or_does_not_know():
    assert agreement.verdict("Dog", mass(**{"Golden Retriever": 60.0})) == "Dog"  # a kind of dog
    assert agreement.verdict("Dog", mass(Squirrel=30.0, Bee=30.0)) == "Dog"  # nothing sure
    assert agreement.verdict("Bird", mass(Bird=15.0, Bee=80.0)) == "Bird"  # some support


def test_a_forced_thing_the_classifier_does_not_see_in_its_box_is_dropped():
    # a "Clock" on a circuit board: no clock class on the box, nothing else sure
    assert agreement.verdict("Clock", mass(Modem=30.0, Paintbrush=15.0)) is None
    assert agreement.verdict("Clock", mass(**{"Wall Clock": 40.0})) == "Clock"
    # a Kite has no ImageNet class (ImageNet's kite is the bird): the detector is trusted
    assert agreement.verdict("Kite", mass(Parachute=30.0)) == "Kite"
    assert agreement.verdict("Dog", mass(Squirrel=30.0)) == "Dog"  # animals are renamed only
    # boxes on noise, which the classifier is sure of nothing in
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 256, (240, 320, 3),
                                                              dtype=np.uint8))
    vase = Instance("Vase", 60.0, (0.1, 0.1, 0.4, 0.8))
    kite = Instance("Kite", 60.0, (0.5, 0.1, 0.4, 0.8))
    assert [o.name for o in agreement.agree(noise, [vase, kite])] == ["Kite"]


def test_only_the_classes_the_detector_forces_are_checked():
    assert agreement.checked("Dog") and agreement.checked("Clock")
    assert not agreement.checked("Cup") and not agreement.checked("Person")


def test_a_cat_photographed_stays_a_cat():
    photo = package_photo("chelsea.png").convert("RGB")
    box = Instance("Cat", 90.0, (0.1, 0.1, 0.8, 0.8))
    assert [o.name for o in agreement.agree(photo, [box])] == ["Cat"]
    wrong = Instance("Bird", 90.0, (0.1, 0.1, 0.8, 0.8))  # the detector's nearest class
    assert agreement.agree(photo, [wrong])[0].name == "Cat"


@pytest.mark.parametrize(("objects", "mass_animal", "dropped"), [
    ([Instance("Cat", 90.0, (0.0, 0.0, 0.5, 0.5))], 0.0, [0, 1]),  # a cat and no person
    ([Instance("Cat", 90.0, (0.0, 0.0, 0.5, 0.5)),
      Instance("Person", 90.0, (0.5, 0.0, 0.5, 1.0))], 0.0, [0]),  # on the cat, not the person
    ([Instance("Cat", 90.0, (0.0, 0.0, 0.4, 0.4)),
      Instance("Person", 90.0, (0.0, 0.0, 1.0, 1.0))], 0.0, []),  # a person holding a cat
    ([], 80.0, [0, 1]),  # no boxes, but the photo is an animal's
    ([], 10.0, []),
])
def test_a_face_on_an_animal_is_not_a_persons(objects, mass_animal, dropped):
    faces = [(0.1, 0.1, 0.1, 0.1), (0.7, 0.2, 0.1, 0.1)]
    assert agreement.animal_faces(faces, objects, {"Animal": mass_animal}) == dropped

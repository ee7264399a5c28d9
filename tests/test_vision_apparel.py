"""What people wear: clothing labels from the classifier on the largest person boxes."""

from __future__ import annotations

import numpy as np
import pytest

from socialsight.vision import apparel, vocabulary
from socialsight.vision import labels as labels_mod
from socialsight.vision.objects import Instance
from tests.test_vision_labels import package_photo


def scores(**labels: float) -> np.ndarray:
    """Class scores (0-100) putting each given label's mass on its first ImageNet class."""
    row = np.zeros(1000, dtype=np.float32)
    for name, value in labels.items():
        index = next(c.index for c in vocabulary.imagenet() if c.label == name)
        row[index] = 100.0 * value
    return row


@pytest.fixture
def classified(monkeypatch):
    """Every crop classified as a suit beside a dog; the crops are counted."""
    calls: list[int] = []

    def fake(inputs, threads=1, directory=None):
        calls.append(len(inputs))
        return [scores(Suit=0.7, **{"Golden Retriever": 0.3}) for _ in inputs]

    monkeypatch.setattr(labels_mod, "batch_scores", fake)
    return calls


def test_a_person_in_a_suit_gives_suit_and_its_parents_and_nothing_else(classified):
    photo = package_photo("astronaut.png").convert("RGB")
    found = apparel.worn(photo, [Instance("Person", 90.0, (0.1, 0.1, 0.4, 0.8))], 55.0)
    names = [label.name for label in found]
    assert "Suit" in names and "Clothing" in names  # with its ancestors, as Rekognition
    assert "Dog" not in names and "Animal" not in names  # what else the crop shows is not said
    assert all(apparel.CATEGORY in label.categories for label in found)
    assert classified == [1]


def test_only_the_largest_people_big_enough_are_classified(classified):
    photo = package_photo("astronaut.png").convert("RGB")
    people = [Instance("Person", 90.0, (0.0, 0.0, 0.3, 0.3 + i / 10)) for i in range(4)]
    tiny = Instance("Person", 90.0, (0.5, 0.5, 0.1, 0.1))  # 1% of the photo
    dog = Instance("Dog", 90.0, (0.0, 0.0, 1.0, 1.0))
    assert apparel.worn(photo, [tiny, dog], 55.0) == []
    assert classified == []  # nothing to classify: the classifier is not run
    assert apparel.worn(photo, [*people, tiny], 55.0)
    assert classified == [apparel.PEOPLE]


def test_a_label_below_the_confidence_asked_for_is_not_given(classified):
    photo = package_photo("astronaut.png").convert("RGB")
    person = [Instance("Person", 90.0, (0.1, 0.1, 0.4, 0.8))]
    assert apparel.worn(photo, person, 99.9) == []


def test_on_a_real_photo_only_clothing_is_said():
    photo = package_photo("astronaut.png").convert("RGB")
    person = [Instance("Person", 90.0, (0.02, 0.04, 0.7, 0.95))]
    for label in apparel.worn(photo, person, 20.0):
        assert apparel.CATEGORY in label.categories

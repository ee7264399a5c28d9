"""Labels on real photos shipped inside installed packages: what a person sees in them."""

from __future__ import annotations

import importlib.util
import itertools
import shutil
from pathlib import Path

import pytest
from PIL import Image

from socialsight.errors import ConfigError
from socialsight.models import runtime
from socialsight.vision.labels import detect_labels


def package_photo(name: str) -> Image.Image:
    """A sample photo from scikit-image's data folder (read as a file, no skimage import)."""
    spec = importlib.util.find_spec("skimage")
    if spec is None or spec.origin is None:
        pytest.skip("scikit-image (test photos) is not installed")
    return Image.open(Path(spec.origin).parent / "data" / name)


def names(labels: list) -> list[str]:
    return [label.name for label in labels]


def test_a_cup_of_coffee():
    labels = detect_labels(package_photo("coffee.png"), min_confidence=20)
    by_name = {label.name: label for label in labels}
    # The class and every ancestor, as Rekognition lists them, parents nearest first.
    assert by_name["Espresso"].confidence > 80
    assert by_name["Espresso"].parents == ["Coffee", "Beverage"]
    assert by_name["Espresso"].categories == ["Food and Beverage"]
    assert by_name["Coffee"].confidence >= by_name["Espresso"].confidence
    assert "Cat" not in by_name
    assert all(a.confidence >= b.confidence for a, b in itertools.pairwise(labels))


def test_a_cat_is_a_cat_even_when_the_breed_is_unsure():
    # the classifier splits its mass between tabby, tiger cat and egyptian cat: the label
    # Cat holds all of it, with Rekognition's parents, not WordNet's Feline or Placental
    labels = detect_labels(package_photo("chelsea.png"), min_confidence=10)
    by_name = {label.name: label for label in labels}
    assert "Cat" in by_name and by_name["Cat"].confidence >= 80
    assert {"Mammal", "Pet", "Animal"} <= set(by_name["Cat"].parents)
    assert not {"Feline", "Placental", "Carnivore", "Dog"} & set(by_name)


def test_min_confidence_and_max_labels_are_honoured():
    photo = package_photo("chelsea.png")
    few = detect_labels(photo, min_confidence=10, max_labels=2)
    assert len(few) == 2
    assert all(label.confidence >= 90 for label in detect_labels(photo, min_confidence=90))


def test_a_model_file_that_differs_from_its_hash_is_refused(tmp_path):
    for name in runtime.MODEL_FILES:
        shutil.copy(runtime.REPO_MODELS / name, tmp_path / name)
    with open(tmp_path / "imagenet_labels.json", "ab") as handle:
        handle.write(b" ")
    with pytest.raises(ConfigError, match="does not match its sha256"):
        runtime.model_path("imagenet_labels.json", str(tmp_path))
    (tmp_path / "efficientnet_lite0.onnx").unlink()
    with pytest.raises(ConfigError, match="missing"):
        runtime.model_path("efficientnet_lite0.onnx", str(tmp_path))


def test_an_objects_parents_are_of_the_object_not_a_namesake():
    from socialsight.vision.analyze import analyze

    labels = {label.name: label for label in analyze(package_photo("coffee.png")).labels}
    cup = labels["Cup"]
    assert cup.instances and cup.parents == ["Tableware"]  # a cup, not the punch "cup"
    assert "Alcohol" not in labels and "Punch" not in labels

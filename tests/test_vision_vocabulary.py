"""The label vocabulary: sound tables, the right word senses, and docs/labels.md from them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from socialsight.vision import labels as labels_mod
from socialsight.vision import vocabulary
from socialsight.vision.analyze import Label
from socialsight.vision.objects import NAMES

ROOT = Path(__file__).resolve().parent.parent


def test_the_tables_are_sound():
    assert vocabulary.problems() == []
    assert len(vocabulary.imagenet()) == 1000
    assert all(name in vocabulary.labels() for name in NAMES)  # every COCO name


def by_imagenet(name: str) -> vocabulary.ImagenetClass:
    return next(c for c in vocabulary.imagenet() if c.imagenet == name)


def test_classes_are_named_in_the_sense_a_photo_shows():
    cup = by_imagenet("cup")
    assert cup.label == "Cup" and "Alcohol" not in vocabulary.ancestors("Cup")
    assert "Bird" in vocabulary.ancestors(by_imagenet("kite").label)  # the bird of prey
    assert "Toy" in vocabulary.ancestors("Kite")  # the COCO kite, a toy
    assert "Dog" in vocabulary.ancestors(by_imagenet("golden retriever").label)
    assert vocabulary.ancestors("Dog")[:2] in (("Canine", "Pet"), ("Pet", "Canine"))


def test_no_wordnet_jargon_reaches_a_label():
    jargon = {"Placental", "Chordate", "Vertebrate", "Organism", "Artifact", "Whole",
              "Instrumentality", "Entity", "Covering", "Structure", "Device", "Conveyance"}
    names = set(vocabulary.labels())
    assert not jargon & names


def test_a_parent_holds_the_mass_of_all_its_children():
    scores = np.zeros(1000)
    breeds = [c.index for c in vocabulary.imagenet() if "Dog" in vocabulary.ancestors(c.label)]
    scores[breeds[:3]] = 30.0  # three breeds, none sure
    scores[0] = 10.0
    found = {lb.name: lb for lb in labels_mod.labels_from_scores(scores, 55.0, 50)}
    # Dog holds all three breeds' mass (90), at the calibrated confidence of that mass
    assert found["Dog"].confidence == pytest.approx(labels_mod.label_confidence(90.0), abs=1e-3)
    assert found["Dog"].confidence > labels_mod.label_confidence(30.0)
    assert {"Canine", "Mammal", "Animal", "Pet"} <= set(found)
    # a breed only when the classifier is very sure of it
    assert not any(labels_mod.fine(name) for name in found)
    scores[:] = 0.0
    scores[breeds[0]] = 95.0
    sure = {lb.name for lb in labels_mod.labels_from_scores(scores, 55.0, 50)}
    assert vocabulary.imagenet()[breeds[0]].label in sure


def test_scene_labels_come_from_the_classes_that_imply_them():
    scores = np.zeros(1000)
    buildings = [c.index for c in vocabulary.imagenet() if "Building" in c.scenes]
    assert len(buildings) >= 5
    scores[buildings[:4]] = 20.0  # four kinds of building, none sure
    found = {lb.name for lb in labels_mod.labels_from_scores(scores, 55.0, 50)}
    assert "Building" in found


def test_a_label_knows_its_categories_and_aliases():
    couch = Label.named("Couch", 90.0)
    assert "Sofa" in couch.aliases and couch.categories
    row = couch.as_rekognition()
    assert {"name": "Sofa"} in row["aliases"] and row["categories"]


def test_the_labels_page_is_written_from_the_tables():
    done = subprocess.run([sys.executable, "tools/labels_doc.py", "--check"], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    page = (ROOT / "docs" / "labels.md").read_text(encoding="utf-8")
    assert "| Espresso | Coffee, Beverage |" in page

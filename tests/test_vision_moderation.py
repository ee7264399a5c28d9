"""Moderation: safe photos stay safe, the explicit score and the classifier hints map onto
Rekognition's taxonomy, and the bundled model is checked before it loads."""

from __future__ import annotations

import json

import pytest

from socialsight.errors import ConfigError
from socialsight.models import runtime
from socialsight.vision.labels import class_scores, scores_by_name
from socialsight.vision.moderation import HINTS, explicit_score, moderation_labels
from tests.test_vision_labels import package_photo


@pytest.mark.parametrize("photo", ["coffee.png", "chelsea.png", "astronaut.png",
                                   "motorcycle_left.png"])
def test_everyday_photos_are_not_flagged(photo):
    image = package_photo(photo)
    score = explicit_score(image)
    assert 0.0 <= score < 0.2
    labels = moderation_labels(score, scores_by_name(class_scores(image)))
    assert labels == []


def test_the_explicit_score_is_reported_as_explicit_nudity():
    labels = moderation_labels(0.93, {})
    assert [(lb.name, lb.parentname, lb.confidence) for lb in labels] == [
        ("Explicit Nudity", "", 93.0)]
    assert moderation_labels(0.3, {}) == []


def test_classifier_hints_come_with_their_top_level_category():
    labels = moderation_labels(0.0, {"assault rifle": 80.0, "beer bottle": 40.0,
                                     "slot machine": 65.0}, min_confidence=50)
    got = [(lb.name, lb.parentname, lb.confidence) for lb in labels]
    # As Rekognition: the second-level label and its category (Gambling is both).
    assert got == [("Violence", "", 80.0), ("Weapons", "Violence", 80.0),
                   ("Gambling", "", 65.0), ("Gambling", "Gambling", 65.0)]


def test_every_hint_names_a_real_classifier_class():
    with open(runtime.model_path("imagenet_labels.json"), encoding="utf-8") as handle:
        classes = {c["name"] for c in json.load(handle)["classes"]}
    assert set(HINTS) <= classes


def test_the_bundled_model_is_checked_by_sha256(monkeypatch):
    package, file, _ = runtime.PACKAGE_FILES["open-nsfw.onnx"]
    monkeypatch.setitem(runtime.PACKAGE_FILES, "open-nsfw.onnx", (package, file, "0" * 64))
    with pytest.raises(ConfigError, match="does not match its sha256"):
        runtime.model_path("open-nsfw.onnx")


def test_a_weapon_split_between_classes_is_still_a_weapon():
    # the classifier unsure whether it sees a revolver or a rifle is sure it sees a gun
    found = {(m.name, m.parentname): m.confidence
             for m in moderation_labels(0.0, {"revolver": 30.0, "rifle": 25.0, "tabby": 45.0})}
    assert found[("Weapons", "Violence")] == 55.0 and found[("Violence", "")] == 55.0
    assert not moderation_labels(0.0, {"revolver": 30.0, "tabby": 70.0})


def test_a_cannon_is_a_weapon_and_a_rocket_on_its_pad_is_not():
    found = {(m.name, m.parentname) for m in moderation_labels(0.0, {"cannon": 90.0})}
    assert ("Weapons", "Violence") in found
    # the classifier calls a space rocket a missile: no hint of violence from that
    assert not moderation_labels(0.0, {"missile": 90.0, "projectile": 5.0})


def test_explicit_nudity_needs_both_nudity_models_to_agree():
    import numpy as np

    def labels(explicit: float, porn: float, sexy: float = 0.0, hentai: float = 0.0):
        nsfw = np.array([0.0, hentai, 1.0 - porn - sexy - hentai, porn, sexy])
        return {m.name: m.confidence for m in moderation_labels(explicit, {}, 50.0, nsfw)}

    # bare skin that open_nsfw alone scored 65: NSFWJS does not see porn, so nothing
    assert "Explicit Nudity" not in labels(0.65, porn=0.05)
    assert labels(0.9, porn=0.9)["Explicit Nudity"] == 90.0
    assert "Explicit Nudity" not in labels(0.05, porn=0.9)
    assert labels(0.1, porn=0.0, sexy=0.8) == {"Suggestive": 80.0}
    found = labels(0.1, porn=0.0, hentai=0.7)
    assert found["Illustrated Explicit Nudity"] == 70.0 and found["Explicit Nudity"] == 70.0

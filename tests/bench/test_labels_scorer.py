"""bench/labels.py's scorer: what it counts as a moderation category, and the photo set
it scores being annotated once per photo."""

from __future__ import annotations

from bench import labels
from bench.photoset import fetch


def _label(name: str, parent: str = "") -> dict[str, str]:
    return {"Name": name, "ParentName": parent}


def test_a_weapons_label_counts_as_weapons_as_the_annotation_guide_names_it():
    found = [_label("Violence"), _label("Weapons", "Violence")]
    assert labels.moderation_categories(found) == {"Weapons"}


def test_violence_of_its_own_still_counts_beside_weapons():
    assert labels.moderation_categories([_label("Violence")]) == {"Violence"}
    found = [_label("Violence"), _label("Weapons", "Violence"),
             _label("Graphic Violence", "Violence")]
    assert labels.moderation_categories(found) == {"Violence", "Weapons"}


def test_other_labels_count_as_their_top_level_category():
    found = [_label("Suggestive"), _label("Revealing Clothes", "Suggestive"),
             _label("Alcohol")]
    assert labels.moderation_categories(found) == {"Suggestive", "Alcohol"}
    assert labels.moderation_categories([]) == set()


def test_every_photo_of_the_set_is_annotated_once():
    annotated = [a.id for a in labels.load_annotations()]
    listed = [p.id for p in fetch.load_photos()]
    assert len(annotated) == len(set(annotated))
    assert sorted(annotated) == sorted(listed)
    assert len(listed) >= 80  # the "at least 80 real photos"
    assert 0.25 <= sum(map(labels.held_out, listed)) / len(listed) <= 0.42

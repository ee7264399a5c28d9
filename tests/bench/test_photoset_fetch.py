"""The photo lists bench/photoset/fetch.py re-creates: bad lists are refused with a message,
and the scene head's training photos never include a photo labels are judged on."""

from __future__ import annotations

import csv
import tomllib
from pathlib import Path

import pytest

from bench.photoset import fetch

REPO = Path(__file__).resolve().parents[2]
SCENESET = REPO / "tools" / "models" / "sceneset" / "photos.csv"
PARENTS = {"Forest": ("Tree", "Plant", "Nature"), "Tree": ("Plant",), "Leaf": ("Plant",),
           "Flower": ("Plant",), "Grass": ("Plant",), "Sea": ("Water",), "Street": ("Road",),
           "Table": ("Furniture",), "Chair": ("Furniture",)}
HEADER = "id,source,package,version,path,sha256,licence,kind\n"


@pytest.mark.parametrize(("text", "why"), [
    ("id,source\nx,pypi\n", "cannot read"),  # a header without the columns
    (HEADER + "x,ftp,pkg,1,a.jpg,00,MIT,other\n", "unknown source"),
    (HEADER + "x,pypi,pkg,1,a.jpg,00,MIT,other,extra\n", "cannot read"),  # a row too long
])
def test_a_bad_list_is_refused_with_a_message(tmp_path, capsys, text, why):
    listed = tmp_path / "photos.csv"
    listed.write_text(text, encoding="utf-8")
    assert fetch.main(["--csv", str(listed), "--dest", str(tmp_path / "out")]) == 2
    assert why in capsys.readouterr().err


def test_a_missing_list_is_refused_and_an_empty_one_fetches_nothing(tmp_path, capsys):
    assert fetch.main(["--csv", str(tmp_path / "none.csv"), "--dest", str(tmp_path)]) == 2
    assert "cannot read" in capsys.readouterr().err
    empty = tmp_path / "empty.csv"
    empty.write_text(HEADER, encoding="utf-8")
    assert fetch.main(["--csv", str(empty), "--dest", str(tmp_path / "out")]) == 0
    assert "all 0 photos" in capsys.readouterr().out


def test_the_scene_training_photos_are_not_the_photos_labels_are_judged_on():
    training = fetch.load_photos(SCENESET)
    judged = fetch.load_photos()
    assert len(training) >= 500
    assert len({p.id for p in training}) == len(training)
    assert len({p.sha256 for p in training}) == len(training)
    assert not {p.sha256 for p in training} & {p.sha256 for p in judged}
    with SCENESET.open(newline="", encoding="utf-8") as handle:
        assert next(csv.reader(handle)) == HEADER.strip().split(",")


def test_every_scene_training_photo_is_annotated_once_with_known_labels():
    notes = tomllib.loads((SCENESET.parent / "annotations.toml").read_text("utf-8"))["photo"]
    guide = (SCENESET.parent / "ANNOTATING.md").read_text("utf-8")
    known = {line.split("|")[1].strip() for line in guide.splitlines()
             if line.startswith("| ") and not line.startswith(("| label", "| ---"))}
    assert len(known) == 37  # 24 scenes, and 13 things added in a second pass
    assert sorted(n["id"] for n in notes) == sorted(p.id for p in fetch.load_photos(SCENESET))
    for note in notes:
        assert set(note["labels"]) | set(note.get("unsure", [])) <= known, note["id"]
        assert not set(note["labels"]) & set(note.get("unsure", [])), note["id"]
        for child, parents in PARENTS.items():  # the guide's parents are given too
            if child in note["labels"]:
                assert set(parents) <= set(note["labels"]) | set(note.get("unsure", [])), (
                    note["id"], child)

"""Every label socialsight can give, with its parents, categories and aliases, as tables.

Two hand-curated tables beside this module say what the models' classes mean as
Rekognition names things:

* ``data/labels.csv`` — ``name, parents, categories, aliases``: each label with its
  direct parents (a label may have several: Dog is a Canine and a Pet), Rekognition's
  label categories (Animals and Pets, Food and Beverage, ...) and other names for it.
  A label's ``Parents`` in a result are all its ancestors, nearest first.
* ``data/imagenet.csv`` — ``index, imagenet, label, fine, scenes``: each of the
  classifier's 1000 ImageNet classes in the right word sense (ImageNet's "cup" is a
  cup, not WordNet's punch cup), whether the label is breed- or species-level (``fine``:
  shown only when the classifier is very sure), the scene labels a photo of it shows
  (a church: Building, Architecture, Outdoors). What a class hints at for moderation (a
  revolver: Weapons) is socialsight.vision.moderation's table, not this one.

docs/labels.md lists the whole vocabulary; ``tools/labels_doc.py`` writes it from here.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources

# Rekognition's label categories (DetectLabels v3), the only ones a label may have.
CATEGORIES = frozenset((
    "Animals and Pets", "Apparel and Accessories", "Beauty and Personal Care",
    "Buildings and Architecture", "Colors and Visual Composition", "Education",
    "Events and Attractions", "Everyday Objects", "Expressions and Emotions",
    "Food and Beverage", "Furniture and Furnishings", "Health and Fitness",
    "Hobbies and Interests", "Home and Indoors", "Kitchen and Dining", "Materials",
    "Medical", "Nature and Outdoors", "Offices and Workspaces", "Party and Celebrations",
    "Performing Arts", "Person Description", "Plants and Flowers", "Public Safety",
    "Religion", "Sports", "Technology and Computing", "Text and Documents",
    "Tools and Machinery", "Travel and Adventure", "Vehicles and Automotive",
    "Weapons and Military"))
# What a class may imply about the whole scene.
SCENES = frozenset((
    "Outdoors", "Indoors", "Nature", "Water", "Sea", "Beach", "Shoreline", "Mountain",
    "Landscape", "Building", "Architecture", "City", "Urban", "Road", "Street", "Shop",
    "Restaurant", "Room", "Sky", "Snow", "Field", "Forest", "Vegetation", "Underwater",
    "Sport"))


@dataclass(frozen=True)
class LabelInfo:
    name: str
    parents: tuple[str, ...]  # direct parents
    categories: tuple[str, ...]
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class ImagenetClass:
    index: int
    imagenet: str  # the class's name in imagenet_labels.json
    label: str  # "" where the class names nothing useful
    fine: bool
    scenes: tuple[str, ...]


def _split(cell: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in cell.split(";") if part.strip())


def _rows(name: str) -> Iterator[dict[str, str]]:
    text = resources.files("socialsight.vision").joinpath("data", name).read_text("utf-8")
    yield from csv.DictReader(io.StringIO(text))


@functools.cache
def labels() -> dict[str, LabelInfo]:
    """Every label, by name."""
    return {row["name"]: LabelInfo(row["name"], _split(row["parents"]),
                                   _split(row["categories"]), _split(row["aliases"]))
            for row in _rows("labels.csv")}


@functools.cache
def imagenet() -> tuple[ImagenetClass, ...]:
    """The classifier's classes in output order."""
    out = tuple(ImagenetClass(int(row["index"]), row["imagenet"], row["label"],
                              row["fine"] == "1", _split(row["scenes"]))
                for row in _rows("imagenet.csv"))
    if [c.index for c in out] != list(range(len(out))):
        raise ValueError("imagenet.csv must list the classes in output order")
    return out


@functools.cache
def ancestors(name: str) -> tuple[str, ...]:
    """All of a label's ancestors, nearest first (breadth first; each once)."""
    table = labels()
    out: list[str] = []
    frontier = list(table[name].parents) if name in table else []
    while frontier:
        nearer: list[str] = []
        for parent in frontier:
            if parent not in out and parent != name:
                out.append(parent)
                nearer += table[parent].parents if parent in table else ()
        frontier = nearer
    return tuple(out)


def info(name: str) -> LabelInfo:
    """A label's entry; a name the tables do not hold has no parents or categories."""
    return labels().get(name) or LabelInfo(name, (), (), ())


def problems() -> list[str]:
    """What is wrong with the tables (empty when they are sound): names they use but do
    not define, unknown categories or scenes, cycles."""
    table = labels()
    out = []
    for entry in table.values():
        out += [f"{entry.name}: parent {p!r} is not a label" for p in entry.parents
                if p not in table]
        out += [f"{entry.name}: category {c!r} is not Rekognition's" for c in entry.categories
                if c not in CATEGORIES]
        if entry.name in ancestors(entry.name):
            out.append(f"{entry.name}: is its own ancestor")
    for cls in imagenet():
        if cls.label and cls.label not in table:
            out.append(f"class {cls.index} ({cls.imagenet}): label {cls.label!r} is not a label")
        out += [f"class {cls.index}: scene {s!r} is not a scene" for s in cls.scenes
                if s not in SCENES or s not in table]
    return out

"""The object detector and the classifier agree, or the detector's name gives way.

YOLOX knows only COCO's 80 classes and forces the nearest one on anything else: a bee
or a squirrel becomes a Bird, a quokka a Dog, a raccoon a Cat, a baseball a Cake, a road
sign a Clock (the model survey's findings). The classes it forces are its animals and a
few compact things (:data:`FORCED`); for the largest box of each of the :data:`CHECKED`
most prominent such classes in a photo, the box is cut out with a margin and classified
by the ImageNet classifier. When the classifier gives the detector's class (and
everything under it) less than :data:`SUPPORT` of its mass while it is at least
:data:`SURE` of one thing that is neither above nor below it, the boxes of that class are
renamed to that thing (its most specific sure label). A forced compact thing the
classifier has classes for (a Clock, a Vase, a Ball) that gets less than
:data:`SUPPORT` with nothing else sure is dropped: what the detector boxed is neither.
Other classes are not checked: a
cup's box shows the coffee in it and a table's the plates on it, which the classifier
names instead, without the detector being wrong.

A face found on a photo that shows an animal and no person is not a person's face:
:func:`animal_faces` names such faces for the caller to drop.
"""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image

from socialsight.vision import labels as labels_mod
from socialsight.vision import vocabulary
from socialsight.vision.objects import Instance

# The COCO classes YOLOX forces on what it does not know, besides its animals.
FORCED = frozenset({"Clock", "Cake", "Donut", "Frisbee", "Ball", "Kite", "Teddy Bear",
                    "Vase", "Orange", "Apple", "Mouse", "Stop Sign"})
CHECKED = 3  # classes checked a photo, largest box first
SUPPORT = 10.0  # the classifier's mass (0–100) that keeps the detector's name
SURE = 50.0  # how sure the classifier must be of something else
MARGIN = 0.1  # of the box's size, added on each side before classifying
ANIMAL_MASS = 50.0  # whole-photo Animal mass above which a face without a person is an animal's


def _area(box: tuple[float, float, float, float]) -> float:
    return box[2] * box[3]


def crop(image: Image.Image, box: tuple[float, float, float, float]) -> Image.Image:
    """The box with :data:`MARGIN` around it, at least 32 pixels a side."""
    left, top, width, height = box
    x0 = max(0.0, left - MARGIN * width) * image.width
    y0 = max(0.0, top - MARGIN * height) * image.height
    x1 = min(1.0, left + (1 + MARGIN) * width) * image.width
    y1 = min(1.0, top + (1 + MARGIN) * height) * image.height
    return image.crop((int(x0), int(y0), max(int(x1), int(x0) + 32),
                       max(int(y1), int(y0) + 32)))


def _thing(name: str) -> bool:
    return name not in vocabulary.SCENES


def checked(name: str) -> bool:
    """Whether the detector's class is one it forces on what it does not know."""
    return name in FORCED or "Animal" in vocabulary.ancestors(name)


def verdict(name: str, mass: dict[str, float]) -> str | None:
    """What the boxes the detector calls ``name`` are, given the classifier's mass on the
    largest of them: ``name`` itself, the thing the classifier is sure of instead, or
    None when they are not what the detector says and nothing the classifier is sure of
    (dropped)."""
    if mass.get(name, 0.0) >= SUPPORT:
        return name
    sure = [(label, value) for label, value in mass.items()
            if value >= SURE and _thing(label) and label != name
            and (not labels_mod.fine(label) or value >= labels_mod.FINE_CONFIDENCE)]
    if not sure:
        # A compact thing the classifier has classes for, and none of them on the box: the
        # detector forced its name on something else (a round sign, a chip as a Clock).
        if name in FORCED and labels_mod.known(name):
            return None
        return name  # the classifier knows nothing better
    # the most specific: the sure label with the most ancestors
    best = max(sure, key=lambda lv: (len(vocabulary.ancestors(lv[0])), lv[1]))[0]
    if name in vocabulary.ancestors(best) or best in vocabulary.ancestors(name):
        return name
    return best


def agree(image: Image.Image, found: Sequence[Instance], threads: int = 1,
          directory: str | None = None) -> list[Instance]:
    """``found`` with the names the classifier contradicts renamed, or dropped."""
    largest: dict[str, Instance] = {}
    for obj in found:
        if checked(obj.name) and (obj.name not in largest
                                  or _area(obj.box) > _area(largest[obj.name].box)):
            largest[obj.name] = obj
    prominent = sorted(largest.values(), key=lambda o: -_area(o.box))[:CHECKED]
    if not prominent:
        return list(found)
    scores = labels_mod.batch_scores([labels_mod.preprocess(crop(image, o.box))
                                      for o in prominent], threads, directory)
    names = {obj.name: verdict(obj.name, labels_mod.label_mass(row))
             for obj, row in zip(prominent, scores, strict=True)}
    out = []
    for obj in found:
        name = names.get(obj.name, obj.name)
        if name is not None:
            out.append(obj if name == obj.name else Instance(name, obj.confidence, obj.box))
    return out


def inside(point: tuple[float, float], box: tuple[float, float, float, float]) -> bool:
    """Whether the point (x, y) lies in the box (left, top, width, height), all relative."""
    return box[0] <= point[0] <= box[0] + box[2] and box[1] <= point[1] <= box[1] + box[3]


def animal_faces(faces: Sequence[tuple[float, float, float, float]],
                 found: Sequence[Instance], photo_mass: dict[str, float]) -> list[int]:
    """The indices of faces (boxes) that are an animal's: the face's centre is in an
    animal's box and in no person's, or the photo shows an animal (its Animal mass, or an
    animal box) and no person at all."""
    animals = [o.box for o in found if "Animal" in vocabulary.ancestors(o.name)]
    people = [o.box for o in found if o.name == "Person"]
    no_person_animal = not people and (bool(animals)
                                       or photo_mass.get("Animal", 0.0) >= ANIMAL_MASS)
    out = []
    for i, (left, top, width, height) in enumerate(faces):
        centre = (left + width / 2, top + height / 2)
        in_animal = any(inside(centre, box) for box in animals)
        in_person = any(inside(centre, box) for box in people)
        if no_person_animal or (in_animal and not in_person):
            out.append(i)
    return out




"""What people wear: the classifier on each prominent person, for clothing labels.

On the whole photo the classifier sees a person among everything else, so a suit on a
speaker at a lectern, a jersey on a player on a pitch or a uniform in a group photo gets
too little of its mass to be said. For the :data:`PEOPLE` largest person boxes the
object detector found (each at least :data:`MIN_AREA` of the photo), the box is cut out
as :func:`socialsight.vision.agreement.crop` cuts it and classified; the labels of
Rekognition's "Apparel and Accessories" category it is sure of (the same confidence and
fine-label rules as the whole photo's labels) are the photo's too, at the most sure
person's confidence. Nothing else is taken from the crop: what stands behind a person is
the whole photo's to say.
"""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image

from socialsight.vision import labels as labels_mod
from socialsight.vision import vocabulary
from socialsight.vision.agreement import crop
from socialsight.vision.labels import Label
from socialsight.vision.objects import Instance

PEOPLE = 2  # person boxes classified a photo, largest first
MIN_AREA = 0.03  # of the photo's area: a smaller person's clothes are a few pixels
CATEGORY = "Apparel and Accessories"


def _worn(name: str) -> bool:
    return CATEGORY in vocabulary.info(name).categories


def worn(image: Image.Image, found: Sequence[Instance], min_confidence: float,
         threads: int = 1, directory: str | None = None) -> list[Label]:
    """The clothing and accessory labels the classifier is sure of on the largest
    people in ``found`` (the object detector's boxes), most sure first."""
    people = sorted((o for o in found if o.name == "Person"
                     and o.box[2] * o.box[3] >= MIN_AREA),
                    key=lambda o: -o.box[2] * o.box[3])[:PEOPLE]
    if not people:
        return []
    rows = labels_mod.batch_scores([labels_mod.preprocess(crop(image, o.box))
                                    for o in people], threads, directory)
    best: dict[str, float] = {}
    for row in rows:
        for label in labels_mod.labels_from_scores(row, min_confidence, max_labels=1000):
            if _worn(label.name) and label.confidence > best.get(label.name, 0.0):
                best[label.name] = label.confidence
    return sorted((Label.named(name, value) for name, value in best.items()),
                  key=lambda lb: (-lb.confidence, lb.name))

"""Write docs/labels.md: every label socialsight can give, as Rekognition's label list does.

    python tools/labels_doc.py           # rewrite docs/labels.md from the vocabulary
    python tools/labels_doc.py --check   # fail if docs/labels.md is not what it would write

The list comes from socialsight.vision.vocabulary (the labels and ImageNet tables), the
object detector's COCO names and the labels derived from faces and text; each label with
all its parents, its categories, its aliases and where it comes from.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

from socialsight.vision import scenery, vocabulary
from socialsight.vision.objects import NAMES

DOC = Path(__file__).resolve().parent.parent / "docs" / "labels.md"
DERIVED = ("Person", "Human", "Face", "Head", "People", "Crowd", "Male", "Female", "Adult",
           "Man", "Woman", "Child", "Boy", "Girl", "Baby", "Portrait", "Sunglasses", "Smile",
           "Text", "Document", "Sign")

INTRO = f"""# Labels

Every label `DetectLabels`, `socialsight analyze` and enrich's `image_labels.labels` can
give, with all its parents (nearest first, as Rekognition's `Parents`), its
[categories](#categories) (Rekognition v3's `Categories`) and aliases (`Aliases`). A
label comes from:

- **ImageNet**: the classifier (EfficientNet-Lite0, 1000 ImageNet classes). Each class is
  mapped by hand to a label in the right word sense (src/socialsight/vision/data/
  imagenet.csv); a label's confidence comes from the probability mass of every class
  under it (below). Breed- and species-level labels (*fine*) are given only at a
  confidence of {{fine:g}} or more; their parents always.
- **scene**: a label the classes imply for the whole photo (a church: Building,
  Architecture, Outdoors), scored by the mass of those classes.
- **COCO**: the object detector (YOLOX-Nano), with `Instances` (boxes); where the
  classifier, on the same box, is sure it is something else (a "Bird" that is a bee), the
  box is renamed, and a compact thing the classifier has classes for but does not see
  there (a round sign called a Clock) is dropped (src/socialsight/vision/agreement.py).
  The classifier also reads the largest people's boxes, and the clothing and accessories
  it is sure of there (labels of the Apparel and Accessories category) are given too
  (src/socialsight/vision/apparel.py).
- **faces and text**: the face detector, face attributes and the text reader
  (src/socialsight/vision/derived.py): {", ".join(DERIVED)}.
- **scene head**: scene labels ImageNet has no class for (Tree, Sky, Mountain, ...), and
  things and materials it has none for either (Table, Room, Wood, Paper, Hand, ...), from
  the photo's embedding by one logistic regression each, trained on real photos a person
  labelled (tools/models/build_scene_head.py, models/MODELS.md); its confidence is the
  regression's probability.

The classifier reads each photo twice, whole and its centre ({{centre:g}} of each side), and
the two readings are averaged. A label's confidence is 100 x (its mass)^{{calibration:g}}: a
1000-way classifier splits its belief between look-alike classes, so a thing half the
mass points to is more often there than "50%" says (the exponent and the centre view were
chosen on the development photos of `bench/labels.py` and checked on those set aside).
How close these labels come to what a person names is measured in BENCHMARKS.md
("Labels against people's own").

A parent is given with at least the confidence of its most confident child. Labels under
`vision.min_confidence` (55 by default) are left out, and at most `vision.max_labels`
(20) are given, most confident first. DetectLabels' `Settings.GeneralLabels` filters
(`LabelInclusionFilters`, `LabelExclusionFilters`, `LabelCategoryInclusionFilters`,
`LabelCategoryExclusionFilters`) select from this list by name or category.

This page is written by `tools/labels_doc.py` from the tables; do not edit it by hand.
"""


def render() -> str:
    from socialsight.vision.labels import CALIBRATION, CENTRE, FINE_CONFIDENCE

    table = vocabulary.labels()
    sources: dict[str, set[str]] = defaultdict(set)
    fine: set[str] = set()
    for cls in vocabulary.imagenet():
        if cls.label:
            sources[cls.label].add("ImageNet")
            if cls.fine:
                fine.add(cls.label)
        for scene in cls.scenes:
            sources[scene].add("scene")
    for name in NAMES:
        sources[name].add("COCO")
    for name in DERIVED:
        sources[name].add("faces and text")
    for name in scenery.head_labels():
        sources[name].add("scene head")
    given = set(sources)
    for name in list(given):
        given |= set(vocabulary.ancestors(name))
    for name in given - set(sources):
        sources[name].add("parent")
    categories = {c for n in given for c in vocabulary.info(n).categories}
    intro = (INTRO.replace("{fine:g}", f"{FINE_CONFIDENCE:g}")
             .replace("{centre:g}", f"{CENTRE:g}")
             .replace("{calibration:g}", f"{CALIBRATION:g}"))
    rows = [intro,
            f"{len(given)} labels in {len(categories)} categories.\n",
            "| label | parents | categories | aliases | from |",
            "| --- | --- | --- | --- | --- |"]
    for name in sorted(given, key=str.lower):
        entry = vocabulary.info(name)
        origin = ", ".join(sorted(sources[name]))
        if name in fine:
            origin += " (fine)"
        rows.append(f"| {name} | {', '.join(vocabulary.ancestors(name))} | "
                    f"{', '.join(entry.categories)} | {', '.join(entry.aliases)} | {origin} |")
    rows += ["", "## Categories", ""]
    by_category: dict[str, list[str]] = defaultdict(list)
    for name in given:
        for category in vocabulary.info(name).categories:
            by_category[category].append(name)
    for category in sorted(vocabulary.CATEGORIES):
        names = sorted(by_category.get(category, []), key=str.lower)
        rows.append(f"- **{category}** ({len(names)}): {', '.join(names) or '—'}")
    missing = sorted(n for n in given if n not in table)
    if missing:
        raise SystemExit(f"labels the tables do not define: {missing}")
    return "\n".join(rows) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    text = render()
    if args.check:
        if not DOC.exists() or DOC.read_text(encoding="utf-8") != text:
            print(f"{DOC} is out of date: run python tools/labels_doc.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

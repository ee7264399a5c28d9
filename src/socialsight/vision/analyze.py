"""One photo through every analysis the model pack has, each failure kept apart.

:func:`analyze` runs labels, moderation and text on a decoded photo; an analysis
that fails becomes an entry of ``errors`` and the others still run. The result
converts to the lake's ``image_labels`` struct (the seed's lower-case columns) or to
Rekognition's JSON field names for people who know that API. Known people and the
face attributes the model pack cannot tell yet stay empty or null, never invented.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from socialsight.config import VisionSettings
from socialsight.vision import faces as faces_mod
from socialsight.vision import labels as labels_mod
from socialsight.vision import moderation as moderation_mod
from socialsight.vision import text as text_mod
from socialsight.vision.faces import FaceDetail
from socialsight.vision.labels import Label
from socialsight.vision.moderation import ModerationLabel
from socialsight.vision.text import TextDetection

log = logging.getLogger(__name__)

MODEL_VERSIONS = {
    "labels": "efficientnet-lite0-imagenet1k+wordnet3.0",
    "moderation": "open-nsfw-1.1+imagenet-hints",
    "text": "pp-ocrv6-small",
    "faces": "retinaface-mnet0.25",
}
LABEL_MODEL_VERSION = "socialsight-1"


@dataclass
class Analysis:
    width: int
    height: int
    labels: list[Label] = field(default_factory=list)
    moderation: list[ModerationLabel] = field(default_factory=list)
    text: list[TextDetection] = field(default_factory=list)
    faces: list[FaceDetail] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)

    def image_labels(self) -> dict[str, Any]:
        """The ``media_rekognition.image_labels`` struct."""
        return {
            "labels": [lb.as_rekognition() for lb in self.labels],
            "moderationlabels": [m.as_rekognition() for m in self.moderation],
            "textdetections": [t.as_rekognition() for t in self.text],
            "facedetails": [f.as_rekognition() for f in self.faces],
            "celebrityrecognition": None,
            "labelmodelversion": LABEL_MODEL_VERSION,
        }

    def rekognition(self) -> dict[str, Any]:
        """The result under Rekognition's response field names."""
        return {
            "Labels": [{"Name": lb.name, "Confidence": lb.confidence, "Instances": [],
                        "Parents": [{"Name": p} for p in lb.parents]} for lb in self.labels],
            "ModerationLabels": [{"Name": m.name, "ParentName": m.parentname,
                                  "Confidence": m.confidence} for m in self.moderation],
            "TextDetections": [_camel(t.as_rekognition()) for t in self.text],
            "FaceDetails": [_camel(f.as_rekognition()) for f in self.faces],
            "ImageSize": {"Width": self.width, "Height": self.height},
            "ModelVersions": MODEL_VERSIONS,
            "Errors": [{"Analysis": a, "Error": e} for a, e in self.errors],
        }


def _detector_labels(result: Analysis, s: VisionSettings) -> None:
    """Labels Rekognition gives that come from our detectors: Text, Person, Human, Face."""
    extra = []
    lines = [t.confidence for t in result.text if t.type == "LINE"]
    if lines:
        extra.append(Label("Text", max(lines), []))
    if result.faces:
        best = max(f.confidence for f in result.faces)
        extra += [Label("Person", best, []), Label("Human", best, []),
                  Label("Face", best, ["Person"])]
    known = {lb.name for lb in result.labels}
    result.labels += [lb for lb in extra if lb.name not in known and lb.confidence >=
                      s.min_confidence]
    result.labels.sort(key=lambda lb: (-lb.confidence, lb.name))
    del result.labels[s.max_labels:]


_CAMEL = {"detectedtext": "DetectedText", "parentid": "ParentId", "boundingbox": "BoundingBox",
          "agerange": "AgeRange", "eyesopen": "EyesOpen", "mouthopen": "MouthOpen"}


def _camel(value: Any) -> Any:
    if isinstance(value, dict):
        return {_CAMEL.get(k, k[:1].upper() + k[1:]): _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


def analyze(image: Image.Image, settings: VisionSettings | None = None) -> Analysis:
    """Every analysis of one decoded photo (no gating yet: each runs on every photo)."""
    s = settings or VisionSettings()
    image = image.convert("RGB")
    result = Analysis(*image.size)
    scores: dict[str, float] = {}
    try:
        raw = labels_mod.class_scores(image, s.threads, s.models_dir)
        scores = labels_mod.scores_by_name(raw, s.models_dir)
        result.labels = labels_mod.labels_from_scores(
            raw, labels_mod.classes(s.models_dir), s.min_confidence, s.max_labels)
    except Exception as exc:  # one analysis failing must not stop the others
        result.errors.append(("labels", f"{type(exc).__name__}: {exc}"))
    try:
        explicit = moderation_mod.explicit_score(image, s.threads, s.models_dir)
        result.moderation = moderation_mod.moderation_labels(explicit, scores)
    except Exception as exc:
        result.errors.append(("moderation", f"{type(exc).__name__}: {exc}"))
    try:
        result.text = text_mod.detect_text(image, s.min_confidence, s.threads)
    except Exception as exc:
        result.errors.append(("text", f"{type(exc).__name__}: {exc}"))
    try:
        result.faces = faces_mod.detect_faces(image, threads=s.threads, directory=s.models_dir)
    except Exception as exc:
        result.errors.append(("faces", f"{type(exc).__name__}: {exc}"))
    _detector_labels(result, s)
    for analysis, error in result.errors:
        log.warning("%s failed: %s", analysis, error)
    return result

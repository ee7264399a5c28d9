"""One photo through every analysis the model pack has, each failure kept apart.

:class:`Analyzer` is the one composer: ``Analyzer(settings).run(images, wanted, gate)``
runs only the models the ``wanted`` analyses need (labels, moderation, text, faces,
their attributes and embeddings), for enrich, ``socialsight analyze`` and the AWS API
alike; :func:`analyze` and :func:`analyze_batch` run every analysis. An analysis that
fails becomes an entry of ``errors`` and the others still run. The result converts to the lake's
``image_labels`` struct (the seed's lower-case columns) or to Rekognition's JSON field
names for people who know that API. What the model pack cannot tell (eyeglasses,
sunglasses, beard, mustache) stays null, never invented. Known people are matched
afterwards, against the lake's gallery (:mod:`socialsight.people`).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from socialsight.config import VisionSettings
from socialsight.models import registry, runtime
from socialsight.vision import agreement, apparel, body_parts, derived, eyewear, lookalike, scenery
from socialsight.vision import faces as faces_mod
from socialsight.vision import labels as labels_mod
from socialsight.vision import logos as logos_mod
from socialsight.vision import moderation as moderation_mod
from socialsight.vision import objects as objects_mod
from socialsight.vision import text as text_mod
from socialsight.vision.faces import FaceDetail
from socialsight.vision.labels import Label
from socialsight.vision.moderation import ModerationLabel
from socialsight.vision.text import TextDetection

log = logging.getLogger(__name__)

# What a result records of each model (socialsight.models.registry's versions).
MODEL_VERSIONS = {name: registry.version(name) for name in (
    "labels", "objects", "moderation", "text", "faces", "face_attributes", "known_people")}
# Bump with any change to what the analyses return: it is part of the cache key.
LABEL_MODEL_VERSION = "socialsight-5"
# With gating on, faces are looked for where the object detector sees a person this sure.
PERSON_GATE = 30.0
GPU_BATCH = 32  # photos per batch on a GPU, where vision.batch_size is 0

_runs: Counter[str] = Counter()  # model name → photos it ran on, in this process
_runs_lock = threading.Lock()


def runs() -> Counter[str]:
    """How many photos each model has run on in this process (what :meth:`Analyzer.run`
    ran; compare two calls to see what one request needed)."""
    with _runs_lock:
        return Counter(_runs)


def model_versions() -> dict[str, str]:
    """The models behind a result (with the nudenet extra when it is installed)."""
    if not body_parts.available():
        return dict(MODEL_VERSIONS)
    return MODEL_VERSIONS | {"moderation": MODEL_VERSIONS["moderation"] + "+"
                             + registry.version("body_parts")}


@dataclass
class Analysis:
    width: int
    height: int
    labels: list[Label] = field(default_factory=list)
    moderation: list[ModerationLabel] = field(default_factory=list)
    text: list[TextDetection] = field(default_factory=list)
    faces: list[FaceDetail] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    embeddings: list[list[float] | None] = field(default_factory=list)  # one per face
    embedding: list[float] | None = None  # the photo's own (vision.lookalike), with labels
    phash: int | None = None  # its perceptual hash (vision.lookalike), with labels
    local_features: bytes | None = None  # vision.logos' features, for brands (with "logos")
    looked_for_faces: bool = False
    looked_for_text: bool = False
    ran: set[str] = field(default_factory=set, compare=False)  # the models that ran

    def image_labels(self) -> dict[str, Any]:
        """The ``media_rekognition.image_labels`` struct."""
        return {
            "labels": [lb.as_rekognition() for lb in self.labels],
            "moderationlabels": [m.as_rekognition() for m in self.moderation],
            "textdetections": ([t.as_rekognition() for t in self.text]
                               if self.looked_for_text else None),
            "facedetails": ([f.as_rekognition() for f in self.faces]
                            if self.looked_for_faces else None),
            "celebrityrecognition": None,
            "labelmodelversion": LABEL_MODEL_VERSION,
        }

    def rekognition(self, celebrities: dict[str, Any] | None = None) -> dict[str, Any]:
        """The result under Rekognition's response field names."""
        return {
            "Labels": [_camel(lb.as_rekognition()) for lb in self.labels],
            "ModerationLabels": [{"Name": m.name, "ParentName": m.parentname,
                                  "Confidence": m.confidence} for m in self.moderation],
            "TextDetections": ([_camel(t.as_rekognition()) for t in self.text]
                               if self.looked_for_text else None),
            "FaceDetails": ([_camel(f.as_rekognition()) for f in self.faces]
                            if self.looked_for_faces else None),
            "CelebrityRecognition": _camel(celebrities),
            "ImageSize": {"Width": self.width, "Height": self.height},
            "ModelVersions": model_versions(),
            "Errors": [{"Analysis": a, "Error": e} for a, e in self.errors],
        }


def _add_labels(result: Analysis, found: list[Label], s: VisionSettings) -> None:
    """Labels from our other analyses (objects, faces, text) and their ancestors, each
    at the highest confidence any evidence gives it."""
    by_name = {lb.name: lb for lb in result.labels}
    for label in found:
        if label.confidence < s.min_confidence:
            continue
        if label.name in by_name:
            known = by_name[label.name]
            known.confidence = max(known.confidence, label.confidence)
            known.instances += label.instances
        else:
            by_name[label.name] = label
            result.labels.append(label)
        for parent in label.parents:  # ancestors are labels too
            if parent in by_name:
                by_name[parent].confidence = max(by_name[parent].confidence, label.confidence)
            else:
                by_name[parent] = Label.named(parent, label.confidence)
                result.labels.append(by_name[parent])
    result.labels.sort(key=lambda lb: (-lb.confidence, lb.name))
    del result.labels[s.max_labels:]


def merge_moderation(*lists: list[ModerationLabel]) -> list[ModerationLabel]:
    """One label per (name, parent), at its highest confidence, most confident first."""
    best: dict[tuple[str, str], ModerationLabel] = {}
    for label in (lb for labels in lists for lb in labels):
        key = (label.name, label.parentname)
        if key not in best or label.confidence > best[key].confidence:
            best[key] = label
    return sorted(best.values(), key=lambda lb: (-lb.confidence, lb.parentname != "",
                                                 lb.name))


def _objects(found: list[Any]) -> list[Label]:
    """Detected objects as labels with instances, one label per name."""
    out: dict[str, Label] = {}
    for obj in found:
        label = out.setdefault(obj.name, Label.named(obj.name, 0.0))
        label.confidence = max(label.confidence, obj.confidence)
        label.instances.append((obj.box, obj.confidence))
    return list(out.values())


def _has(result: Analysis, *names: str) -> bool:
    return any(lb.name in names for lb in result.labels)


_CAMEL = {"detectedtext": "DetectedText", "parentid": "ParentId", "boundingbox": "BoundingBox",
          "agerange": "AgeRange", "eyesopen": "EyesOpen", "mouthopen": "MouthOpen",
          "parentname": "ParentName", "celebrityfaces": "CelebrityFaces",
          "unrecognizedfaces": "UnrecognizedFaces", "matchconfidence": "MatchConfidence",
          "orientationcorrection": "OrientationCorrection"}


def _camel(value: Any) -> Any:
    if isinstance(value, dict):
        return {_CAMEL.get(k, k[:1].upper() + k[1:]): _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


def _run(result: Analysis, name: str, step: Any) -> Any:
    try:
        return step()
    except Exception as exc:  # one analysis failing must not stop the others
        result.errors.append((name, f"{type(exc).__name__}: {exc}"))
        log.warning("%s failed: %s", name, exc)
        return None


# What :meth:`Analyzer.run` can be asked for; ``labels`` includes the Text, Person,
# Human and Face labels, so it reads text and looks for faces where the gate allows.
ANALYSES = frozenset({"labels", "moderation", "text", "faces", "attributes", "embeddings",
                      "logos"})
DETAILS = frozenset({"attributes", "embeddings"})  # what only faces need
KEPT = frozenset({"logos"})  # what only the lake keeps, for what is enrolled later


class Analyzer:
    """One composer for every caller (enrich, ``socialsight analyze``, the AWS API).

    :meth:`run` runs only the models the ``wanted`` analyses need, gated as
    ``vision.gate`` says unless ``gate`` is given; each result's ``ran`` names the
    models that ran on that photo. ``moderation_confidence`` is the least confidence of
    a moderation label (AWS's default, 50, is what enrich keeps).
    """

    def __init__(self, settings: VisionSettings | None = None,
                 moderation_confidence: float = 50.0) -> None:
        self.settings = settings or VisionSettings()
        self.moderation_confidence = moderation_confidence

    def run(self, images: Sequence[Image.Image], wanted: Collection[str] = ANALYSES,
            gate: bool | None = None) -> list[Analysis]:
        """The ``wanted`` analyses of each photo, labels and moderation in batches of
        :func:`batch_size` (what keeps a GPU busy); an analysis that fails is an entry of
        that photo's ``errors`` and the others still run."""
        want = frozenset(wanted)
        unknown = sorted(want - ANALYSES)
        if unknown:
            raise ValueError(f"unknown analyses {unknown}: choose from {sorted(ANALYSES)}")
        s = self.settings if gate is None else self.settings.model_copy(update={"gate": gate})
        size = batch_size(s)
        images = [image.convert("RGB") for image in images]
        results = [Analysis(*image.size) for image in images]
        threads, directory = s.threads, s.models_dir
        face_step = bool(want & ({"labels", "faces"} | DETAILS))
        raws: list[Any] = [None] * len(images)
        explicit: list[Any] = [None] * len(images)
        if want & {"labels", "moderation"} or (face_step and s.gate):
            raws = _batched(results, images, "labels", labels_mod.views, size,
                            lambda inputs: labels_mod.batch_view_scores(inputs, threads,
                                                                        directory))
        nsfw: list[Any] = [None] * len(images)
        if "moderation" in want:
            explicit = _batched(results, images, "moderation", moderation_mod.preprocess,
                                size, lambda inputs: moderation_mod.batch_explicit(
                                    inputs, threads, directory))
            nsfw = _batched(results, images, "moderation", moderation_mod.nsfwjs_preprocess,
                            size, lambda inputs: moderation_mod.batch_nsfwjs(
                                inputs, threads, directory))
        for image, result, raw, score, probabilities in zip(images, results, raws, explicit,
                                                            nsfw, strict=True):
            self._one(image, result, raw, (score, probabilities), s, want)
        with _runs_lock:
            _runs.update(name for result in results for name in result.ran)
        return results

    def embed(self, image: Image.Image, faces: Sequence[FaceDetail],
              result: Analysis | None = None) -> list[list[float] | None]:
        """One embedding per face (rounded as enrich stores them); None where it fails
        (an error of ``result`` when given)."""
        from socialsight.vision import embeddings as embeddings_mod

        s = self.settings
        held = result or Analysis(*image.size)
        out: list[list[float] | None] = []
        for face in faces:
            vector = _run(held, "known people", lambda face=face: embeddings_mod.embed(
                image, face, s.threads, s.models_dir))
            out.append(None if vector is None else [round(float(v), 6) for v in vector])
        return out

    def _one(self, image: Image.Image, result: Analysis, raw: labels_mod.ViewScores | None,
             nudity: tuple[float | None, np.ndarray | None], s: VisionSettings,
             want: frozenset[str]) -> None:
        """The rest of one photo's analysis, given its class scores (and features) and
        what the two nudity models said (open_nsfw's explicit score, NSFWJS's
        probabilities)."""
        explicit, nsfw = nudity
        threads, directory = s.threads, s.models_dir
        face_step = bool(want & ({"labels", "faces"} | DETAILS))
        scores: dict[str, float] = {}
        mass: dict[str, float] = {}
        if raw is not None:
            result.ran.add("labels")
            scores = labels_mod.scores_by_name(raw.scores, directory)
            mass = labels_mod.label_mass(raw.scores)
            result.labels = labels_mod.labels_from_mass(mass, s.min_confidence, s.max_labels)
            if "labels" in want:
                embedding = result.embedding = lookalike.embedding(raw.features)
                scenes = _run(result, "labels", lambda: scenery.scene_labels(
                    embedding, directory)) or {}
                _add_labels(result, [Label.named(n, c) for n, c in scenes.items()], s)
                result.phash = _run(result, "labels", lambda: lookalike.phash(image))
        if explicit is not None:
            result.ran.add("moderation")
            moderation = _run(result, "moderation", lambda: moderation_mod.moderation_labels(
                explicit, scores, self.moderation_confidence, nsfw))
            result.moderation = moderation or []
        parts_step = "moderation" in want and body_parts.available()
        found = None
        person = False
        if "labels" in want or (s.gate and (face_step or parts_step)):
            result.ran.add("objects")
            found = _run(result, "objects", lambda: objects_mod.detect_objects(
                image, min(s.min_confidence, PERSON_GATE), threads, directory))
            person = found is None or any(o.name == "Person" for o in found)
        if found and "labels" in want:
            # the classifier on each prominent box: a "Bird" that is a bee becomes a Bee
            checked = _run(result, "labels", lambda: agreement.agree(image, found, threads,
                                                                     directory))
            found = found if checked is None else checked
        if parts_step and (person or not s.gate):
            # The optional nudenet extra: body parts and the finer nudity classes, where
            # there is someone to look at (open_nsfw's overall score covers every photo).
            result.ran.add("body_parts")
            parts = _run(result, "moderation", lambda: body_parts.moderation_labels(
                body_parts.detect_body_parts(image, threads), self.moderation_confidence))
            if parts:
                result.moderation = merge_moderation(result.moderation, parts)
        if found:
            _add_labels(result, _objects(found), s)
            if "labels" in want:
                # what the largest people wear: a suit or a jersey the whole photo misses
                clothes = _run(result, "labels", lambda: apparel.worn(
                    image, found, s.min_confidence, threads, directory))
                _add_labels(result, clothes or [], s)
        if want & {"labels", "text"}:
            self._text(image, result, s)
        if face_step and (not s.gate or person or _has(result, "Person", "Human", "Face")):
            self._faces(image, result, s, want, found or [], mass)
        if "labels" in want:
            things = [o.box for o in found or () if o.name not in derived.SIGN_THINGS]
            _add_labels(result, derived.text(result.text, result.faces, things), s)
        if "logos" in want and s.local_features:
            result.ran.add("logos")
            result.local_features = _run(result, "logos", lambda: logos_mod.photo_features(
                image, s.logo_colour).to_bytes())

    def _text(self, image: Image.Image, result: Analysis, s: VisionSettings) -> None:
        threads = s.threads
        if s.gate:
            result.ran.add("text")
        glance = not s.gate or _run(result, "text", lambda: text_mod.likely_text(image,
                                                                                  threads))
        if glance:
            result.ran.add("text")
            text = _run(result, "text", lambda: text_mod.detect_text(
                image, s.min_confidence, threads))
            result.text = text or []
            result.looked_for_text = text is not None

    def _faces(self, image: Image.Image, result: Analysis, s: VisionSettings,
               want: frozenset[str], found: list[objects_mod.Instance],
               mass: dict[str, float]) -> None:
        threads, directory = s.threads, s.models_dir
        result.ran.add("faces")
        faces = _run(result, "faces", lambda: faces_mod.detect_faces(
            image, threads=threads, directory=directory))
        result.looked_for_faces = faces is not None
        faces = faces or []
        animals = set(agreement.animal_faces([f.box for f in faces], found, mass))
        result.faces = [f for i, f in enumerate(faces) if i not in animals]
        from socialsight.vision import face_attributes as attributes_mod

        if result.faces and want & {"labels", "attributes"}:
            result.ran.add("face_attributes")
            worn = _run(result, "face attributes", lambda: eyewear.sunglasses(
                image, result.faces, threads, directory)) or []
            for face, sunglasses in zip(result.faces, worn, strict=False):
                face.extra["sunglasses"] = sunglasses
        for face in result.faces:
            if want & {"labels", "attributes"}:  # Man, Woman, Boy, Girl, Smile need them
                extra = _run(result, "face attributes", lambda face=face:
                             attributes_mod.describe(image, face, threads, directory))
                face.extra.update(extra or {})
            if "embeddings" in want:
                result.ran.add("embeddings")
                result.embeddings += self.embed(image, [face], result)
        if "labels" in want:
            persons = [o.confidence for o in found if o.name == "Person"]
            _add_labels(result, derived.people(result.faces, persons), s)


def analyze(image: Image.Image, settings: VisionSettings | None = None,
            details: bool = True) -> Analysis:
    """Every analysis of one decoded photo, gated as in the seed unless ``gate`` is off.

    Labels, moderation (open_nsfw), objects and a quick look for text (the text detector
    on a small copy) run on every photo; nudenet's body parts, when installed, where
    there is a person. Text is read only where that look finds some (what makes
    the Text label), faces are looked for only where there is a Person or a Face
    label; with ``gate`` off, both run always. What was not looked for is null
    (``textdetections``, ``facedetails``, ``celebrityrecognition``); looked for and not
    found is an empty list. ``details`` off leaves out what only faces need (their
    attributes and embeddings): the labels are the same.
    """
    return analyze_batch([image], settings, details)[0]


def batch_size(settings: VisionSettings) -> int:
    """Photos analysed together: ``vision.batch_size``, or 1 on the CPU and 32 on a GPU."""
    runtime.check_device(settings.device)
    return settings.batch_size or (GPU_BATCH if runtime.on_gpu() else 1)


def analyze_batch(images: Sequence[Image.Image], settings: VisionSettings | None = None,
                  details: bool = True, kept: bool = False) -> list[Analysis]:
    """:func:`analyze` of several photos: :meth:`Analyzer.run` of every analysis
    (without what only faces need unless ``details``, and without what only the lake
    keeps, a photo's local features, unless ``kept``)."""
    wanted = ANALYSES - (frozenset() if details else DETAILS) - (frozenset() if kept else KEPT)
    return Analyzer(settings).run(images, wanted)


def _batched(results: list[Analysis], images: list[Image.Image], name: str,
             prepare: Callable[[Image.Image], np.ndarray], size: int,
             model: Callable[[list[np.ndarray]], list[Any]]) -> list[Any]:
    """``model`` on each photo's prepared input, ``size`` photos a run; a photo whose
    input or run fails gets None and an error, and the others still their result."""
    inputs = [_run(result, name, lambda image=image: prepare(image))
              for result, image in zip(results, images, strict=True)]
    out: list[Any] = [None] * len(images)
    ready = [i for i, x in enumerate(inputs) if x is not None]
    for start in range(0, len(ready), size):
        chunk = ready[start:start + size]
        batch = [inputs[i] for i in chunk]
        if runtime.on_gpu() and len(batch) < size:
            # A short last batch is a new shape, which a GPU plans for again (slower than
            # running the full batch): fill it, and drop what the filler gives.
            batch += [batch[-1]] * (size - len(batch))
        try:
            values = model(batch)[:len(chunk)]
        except Exception:  # one run of many: find the culprit photo by photo
            values = [_run(results[i], name, lambda i=i: model([inputs[i]])[0]) for i in chunk]
        for i, value in zip(chunk, values, strict=True):
            out[i] = value
    return out

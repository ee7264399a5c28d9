"""Rekognition's operations on socialsight's models, answering as AWS does.

Each operation runs only the models it needs (:mod:`socialsight.vision`), and gives
for a photo what ``socialsight enrich`` writes into ``media_rekognition.image_labels``
under Rekognition's field names:

- ``DetectLabels`` runs the classifier and the object detector, reads text where the
  quick look finds some (the Text label) and looks for faces where there is a person
  (Person, Human and Face), gated as ``enrich`` gates (``vision.gate``); ``MaxLabels``
  and ``MinConfidence`` default to ``vision.max_labels`` and ``vision.min_confidence``.
- ``DetectModerationLabels``: open_nsfw and the classifier's hints, plus nudenet's body
  parts where it is installed and there is a person (``MinConfidence`` default 50).
- ``DetectText`` always reads text (the caller asked for it): lines at least
  ``vision.min_confidence`` sure, with their words; ``Filters.WordFilter`` and
  ``Filters.RegionsOfInterest`` (a detection's centre in a region's box) then filter.
- ``DetectFaces`` always looks for faces; ``Attributes`` ``DEFAULT`` gives BoundingBox,
  Confidence, Landmarks, Pose and Quality, ``ALL`` (or single attributes such as
  ``AGE_RANGE``) adds AgeRange, Gender, Smile, Emotions, EyesOpen and MouthOpen.
  Eyeglasses, Sunglasses, Beard, Mustache, EyeDirection and FaceOccluded have no model
  in the pack: they are left out of the response, never invented.
- ``RecognizeCelebrities`` matches faces against the lake's known-people gallery
  (``socialsight people add``, :mod:`socialsight.people`); ``GetCelebrityInfo`` gives an
  enrolled person's name and URLs by the id it answers.
- ``CompareFaces`` compares the largest face of ``SourceImage`` with the 100 largest of
  ``TargetImage`` by the embeddings and :func:`socialsight.vision.embeddings.similarity`
  the gallery and ``SearchFacesByImage`` use (80: the gallery's match distance);
  ``QualityFilter`` (default NONE) drops faces of either image before they are compared.
- ``DetectCustomLabels`` finds the lake's enrolled brands (``socialsight brands add``:
  logo and word mark, with their box) and learnt concepts (``socialsight concepts add``:
  the whole photo, no Geometry); the ProjectVersionArn's project NAME says which:
  ``brands`` (every brand), ``concepts`` (every concept), or one brand's or concept's
  name (:func:`project_name`). Without ``MinConfidence``, each its own threshold.
- The collection calls (``CreateCollection``, ``IndexFaces``, ``SearchFacesByImage``,
  ``SearchFaces``, ``ListFaces``, ``DeleteFaces``, ``ListCollections``,
  ``DescribeCollection``, ``DeleteCollection``) keep faces in the lake
  (:mod:`socialsight.aws.collections`).

Images come as ``Image.Bytes`` (at most 5 MiB, as AWS allows) or ``Image.S3Object``:
read through the lake's own file system when the lake is on S3 (any bucket its
credentials reach), otherwise through s3fs with the usual AWS environment
(``AWS_ENDPOINT_URL``, credentials), at most ``fetch.max_bytes``. No URL is ever
fetched. PNG and JPEG only, as AWS; more than ``fetch.max_pixels`` pixels is
``ImageTooLargeException``. An image member that is missing, or whose Bytes are empty, is
``ValidationException`` and one that is not a structure ``SerializationException``, as
AWS's request validation answers them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import logging
import re
import sys
import uuid
from typing import Any

import numpy as np
from PIL import Image

from socialsight.aws.collections import (
    FACE_ID,
    FACE_MODEL_VERSION,
    Collections,
    NewFace,
    check_id,
    face_record,
)
from socialsight.aws.core import AwsContext, AwsError, Operation
from socialsight.config import FetchSettings, VisionSettings
from socialsight.errors import MediaError
from socialsight.lake.store import STORAGE_OPTIONS
from socialsight.media.photo import decode
from socialsight.media.sniff import pil_reason, sniff
from socialsight.names import project_name
from socialsight.vision.analyze import (
    LABEL_MODEL_VERSION,
    MODEL_VERSIONS,
    Analysis,
    Analyzer,
    model_versions,
)
from socialsight.vision.embeddings import distance, similarity
from socialsight.vision.faces import FaceDetail
from socialsight.vision.labels import Label

log = logging.getLogger(__name__)

MAX_BYTES = 5 * 1024 * 1024  # Image.Bytes, as AWS limits it (ImageBlob's max)
FORMATS = frozenset({"image/jpeg", "image/png"})
S3_PROTOCOLS = frozenset({"s3", "s3a"})
MODERATION_MIN_CONFIDENCE = 50.0  # AWS's default, and what enrich keeps
FACE_MATCH_THRESHOLD = 80.0  # AWS's default FaceMatchThreshold and SimilarityThreshold
COMPARED_FACES = 100  # CompareFaces compares the source's face with the largest 100
CELEBRITY_ID = re.compile(r"[0-9A-Za-z]*")  # GetCelebrityInfo's Id, as AWS's model has it
EXTERNAL_IMAGE_ID = re.compile(r"[a-zA-Z0-9_.\-:]{1,255}")
NO_FACE = "There are no faces in the image. Should be at least 1."

# FaceDetail fields every DetectFaces answer has; Attributes add more (ALL: every one).
DEFAULT_FIELDS = ("BoundingBox", "Confidence", "Landmarks", "Pose", "Quality")
ATTRIBUTE_FIELDS: dict[str, str] = {
    "AGE_RANGE": "AgeRange", "BEARD": "Beard", "EMOTIONS": "Emotions",
    "EYE_DIRECTION": "EyeDirection", "EYEGLASSES": "Eyeglasses", "EYES_OPEN": "EyesOpen",
    "GENDER": "Gender", "MOUTH_OPEN": "MouthOpen", "MUSTACHE": "Mustache",
    "FACE_OCCLUDED": "FaceOccluded", "SMILE": "Smile", "SUNGLASSES": "Sunglasses",
}
# IndexFaces' QualityFilter: the smallest face side (pixels) and detector confidence kept.
QUALITY_FILTERS: dict[str, tuple[int, float]] = {
    "NONE": (0, 0.0), "LOW": (20, 90.0), "AUTO": (40, 95.0), "MEDIUM": (40, 95.0),
    "HIGH": (80, 99.0),
}


# --- request values ----------------------------------------------------------------------


def _invalid(message: str) -> AwsError:
    return AwsError("InvalidParameterException", message)


def _validation(message: str) -> AwsError:
    """What AWS's request validation answers for a value its model does not allow."""
    return AwsError("ValidationException", f"1 validation error detected: {message}")


def _field(member: str) -> str:
    """A member as AWS's validation messages name it: ``SourceImage`` is sourceImage."""
    return member[:1].lower() + member[1:]


def _number(body: dict[str, Any], key: str, default: float, low: float, high: float) -> float:
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not (
            low <= value <= high):
        raise _invalid(f"{key} must be a number from {low:g} to {high:g}, not {value!r}")
    return float(value)


def _integer(body: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = _number(body, key, default, low, high)
    if value != int(value):
        raise _invalid(f"{key} must be a whole number, not {body.get(key)!r}")
    return int(value)


def _vision(ctx: AwsContext) -> VisionSettings:
    return ctx.settings.vision


def _present(value: Any) -> Any:
    """``value`` without null members: AWS leaves out what it does not know."""
    if isinstance(value, dict):
        return {k: _present(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_present(v) for v in value]
    return value


# --- images ------------------------------------------------------------------------------


def image_bytes(body: dict[str, Any], ctx: AwsContext, member: str = "Image") -> bytes:
    """The raw bytes of the request's image ``member`` (Bytes, or S3Object read from S3)."""
    image = body.get(member)
    if image is None:
        raise _validation(f"Value null at '{_field(member)}' failed to satisfy constraint: "
                          "Member must not be null")
    if not isinstance(image, dict):
        raise AwsError("SerializationException",
                       f"{member} must be a structure with Bytes or S3Object")
    if ("Bytes" in image) == ("S3Object" in image):
        raise _invalid(f"{member} must have exactly one of Bytes and S3Object")
    if "S3Object" in image:
        return _s3_bytes(image["S3Object"], ctx)
    encoded = image["Bytes"]
    if not isinstance(encoded, str):
        raise AwsError("SerializationException",
                       f"{member}.Bytes must be a base64-encoded string")
    if not encoded:
        raise _validation(f"Value at '{_field(member)}.bytes' failed to satisfy constraint: "
                          "Member must have length greater than or equal to 1")
    if len(encoded) > (MAX_BYTES + 2) // 3 * 4 + 4:
        raise AwsError("ImageTooLargeException", "Image size is too large.")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise _invalid(f"{member}.Bytes is not valid base64") from None
    if len(data) > MAX_BYTES:
        raise AwsError("ImageTooLargeException", "Image size is too large.")
    return data


def _s3_bytes(s3: Any, ctx: AwsContext) -> bytes:
    if not isinstance(s3, dict) or not all(isinstance(s3.get(k), str) and s3[k]
                                           for k in ("Bucket", "Name")):
        raise _invalid("Image.S3Object needs a Bucket and a Name")
    path = f"{s3['Bucket']}/{s3['Name']}"
    version = {"version_id": s3["Version"]} if s3.get("Version") else {}
    try:
        if ctx.lake.protocol in S3_PROTOCOLS:
            fs = ctx.lake.fs
        else:
            import fsspec

            # a fresh client: the AWS environment is read as it is now
            fs = fsspec.filesystem("s3", skip_instance_cache=True, **STORAGE_OPTIONS["s3"])
        size = fs.size(path)
        if size is not None and size > ctx.settings.fetch.max_bytes:
            raise AwsError("ImageTooLargeException",
                           f"S3 object s3://{path} is {size:,} bytes, over fetch.max_bytes")
        with fs.open(path, "rb", **version) as handle:
            data: bytes = handle.read(ctx.settings.fetch.max_bytes + 1)
    except ImportError:
        raise AwsError("InvalidS3ObjectException", "reading S3 objects needs s3fs: "
                       "pip install 'socialsight[s3]'") from None
    except _storage_errors() as exc:  # not there, no access, no credentials, no network
        raise AwsError("InvalidS3ObjectException",
                       f"Unable to get object s3://{path}: {exc}") from None
    if len(data) > ctx.settings.fetch.max_bytes:
        raise AwsError("ImageTooLargeException", f"S3 object s3://{path} is too large")
    return data


def _storage_errors() -> tuple[type[Exception], ...]:
    """What reading an S3 object may raise that is the object's or the client's fault:
    botocore's own errors (no credentials, no endpoint) are not OSErrors."""
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        return (OSError, ValueError)
    return (OSError, ValueError, BotoCoreError, ClientError)


def decode_image(data: bytes, settings: FetchSettings) -> Image.Image:
    """The photo as RGB, checked as ``socialsight analyze`` checks one (PNG, JPEG only)."""
    if sniff(data) not in FORMATS:
        raise AwsError("InvalidImageFormatException", "Request has unsupported image format")
    try:
        with Image.open(io.BytesIO(data)) as header:
            width, height = header.size
    except Image.DecompressionBombError:
        width = height = sys.maxsize  # so large that Pillow itself refuses it
    except (OSError, ValueError) as exc:
        raise AwsError("InvalidImageFormatException", f"Invalid image: {pil_reason(exc)}") \
            from None
    if width * height > settings.max_pixels:
        raise AwsError("ImageTooLargeException", "Image has too many pixels: at most "
                       f"{settings.max_pixels:,} (fetch.max_pixels)")
    try:
        image = decode(data, settings, "Image")
    except MediaError as exc:
        raise AwsError("InvalidImageFormatException", f"Invalid image: {exc}") from None
    return image.convert("RGB")


def read_image(body: dict[str, Any], ctx: AwsContext) -> tuple[Image.Image, bytes]:
    data = image_bytes(body, ctx)
    return decode_image(data, ctx.settings.fetch), data


# --- what the models see -----------------------------------------------------------------

# Failures an answer survives: a face's attributes unknown, or its embedding None.
SECONDARY = frozenset({"face attributes", "known people"})


def analysis(image: Image.Image, s: VisionSettings, wanted: set[str],
             gate: bool | None = None, moderation_confidence: float = 50.0) -> Analysis:
    """:meth:`Analyzer.run` of one photo, as ``socialsight analyze`` runs it; a model that
    fails (other than a face's attributes or embedding) fails the call."""
    result = Analyzer(s, moderation_confidence).run([image], wanted, gate)[0]
    failed = [f"{a}: {e}" for a, e in result.errors if a not in SECONDARY]
    if failed:
        raise RuntimeError("; ".join(failed))
    return result


def labels(image: Image.Image, s: VisionSettings) -> list[Label]:
    """The labels ``analyze`` gives (gated alike), running only what labels need."""
    return analysis(image, s, {"labels"}).labels


def faces(image: Image.Image, s: VisionSettings) -> list[FaceDetail]:
    """Every face with its attributes (as ``analyze`` describes them), looked for always."""
    return analysis(image, s, {"faces", "attributes"}, gate=False).faces


def embeddings(image: Image.Image, found: list[FaceDetail],
               s: VisionSettings) -> list[list[float] | None]:
    """One embedding per face (rounded as ``enrich`` stores them); None where it fails."""
    return Analyzer(s).embed(image, found)


def face_details(found: list[FaceDetail], attributes: Any) -> list[dict[str, Any]]:
    """``FaceDetails`` cut to what ``Attributes`` asks for (DEFAULT when absent)."""
    asked = ["DEFAULT"] if attributes is None else attributes
    if not isinstance(asked, list) or any(not isinstance(a, str) or (
            a not in ATTRIBUTE_FIELDS and a not in ("DEFAULT", "ALL")) for a in asked):
        raise _invalid(f"Attributes must list DEFAULT, ALL or {', '.join(ATTRIBUTE_FIELDS)}")
    keep = set(DEFAULT_FIELDS) | {ATTRIBUTE_FIELDS[a] for a in asked if a in ATTRIBUTE_FIELDS}
    if "ALL" in asked:
        keep |= set(ATTRIBUTE_FIELDS.values())
    rows = Analysis(0, 0, faces=found, looked_for_faces=True).rekognition()["FaceDetails"]
    return [_present({k: v for k, v in row.items() if k in keep}) for row in rows]


# --- image operations --------------------------------------------------------------------


# DetectLabels' Settings.GeneralLabels filters: each a list of at most 100 names.
LABEL_FILTERS = ("LabelInclusionFilters", "LabelExclusionFilters",
                 "LabelCategoryInclusionFilters", "LabelCategoryExclusionFilters")
FEATURES = ("GENERAL_LABELS", "IMAGE_PROPERTIES")


def _label_filters(body: dict[str, Any]) -> dict[str, set[str]]:
    """The GeneralLabels filters, lower-cased, each checked as AWS checks it."""
    features = body.get("Features")
    if features is not None:
        if not isinstance(features, list) or any(f not in FEATURES for f in features):
            raise _invalid(f"Features must be a list of {' and '.join(FEATURES)}")
        if "IMAGE_PROPERTIES" in features:
            raise _invalid("the IMAGE_PROPERTIES feature is not offered offline; "
                           "ask for GENERAL_LABELS only")
    settings = body.get("Settings") or {}
    general = settings.get("GeneralLabels") if isinstance(settings, dict) else None
    if not isinstance(settings, dict) or not isinstance(general or {}, dict):
        raise _invalid("Settings.GeneralLabels must be a structure")
    out: dict[str, set[str]] = {}
    for key, value in (general or {}).items():
        if key not in LABEL_FILTERS:
            raise _invalid(f"Settings.GeneralLabels has no {key!r}: "
                           f"choose from {', '.join(LABEL_FILTERS)}")
        if (not isinstance(value, list) or len(value) > 100
                or any(not isinstance(v, str) or not v for v in value)):
            raise _invalid(f"Settings.GeneralLabels.{key} must be a list of at most 100 "
                           "names")
        out[key] = {v.lower() for v in value}
    return out


def _kept(label: Label, filters: dict[str, set[str]]) -> bool:
    """Whether a label passes the filters: inclusion by name or category first (a label
    passes if either inclusion list names it), then exclusion by name or category."""
    name = label.name.lower()
    categories = {c.lower() for c in label.categories}
    include_names = filters.get("LabelInclusionFilters")
    include_categories = filters.get("LabelCategoryInclusionFilters")
    including = include_names is not None or include_categories is not None
    if including and not (name in (include_names or set())
                          or categories & (include_categories or set())):
        return False
    return not (name in filters.get("LabelExclusionFilters", set())
                or categories & filters.get("LabelCategoryExclusionFilters", set()))


def detect_labels(body: dict[str, Any], ctx: AwsContext) -> dict[str, Any]:
    s = _vision(ctx)
    most = _integer(body, "MaxLabels", s.max_labels, 0, 4096)
    filters = _label_filters(body)
    s = s.model_copy(update={
        "max_labels": 4096 if filters else most,
        "min_confidence": _number(body, "MinConfidence", s.min_confidence, 0, 100)})
    image, _ = read_image(body, ctx)
    kept = [lb for lb in labels(image, s) if _kept(lb, filters)][:most]
    found = Analysis(*image.size, labels=kept).rekognition()["Labels"]
    return {"Labels": _present(found), "LabelModelVersion": LABEL_MODEL_VERSION}


def detect_moderation_labels(body: dict[str, Any], ctx: AwsContext) -> dict[str, Any]:
    least = _number(body, "MinConfidence", MODERATION_MIN_CONFIDENCE, 0, 100)
    image, _ = read_image(body, ctx)
    found = analysis(image, _vision(ctx), {"moderation"}, moderation_confidence=least)
    rows = found.rekognition()["ModerationLabels"]
    for row in rows:
        row["TaxonomyLevel"] = 2 if row["ParentName"] else 1
    return {"ModerationLabels": rows,
            "ModerationModelVersion": model_versions()["moderation"]}


def detect_text(body: dict[str, Any], ctx: AwsContext) -> dict[str, Any]:
    s = _vision(ctx)
    filters = body.get("Filters") or {}
    if not isinstance(filters, dict) or not isinstance(filters.get("WordFilter") or {}, dict):
        raise _invalid("Filters must be a structure")
    words = filters.get("WordFilter") or {}
    least = _number(words, "MinConfidence", 0.0, 0, 100)
    min_height = _number(words, "MinBoundingBoxHeight", 0.0, 0, 1)
    min_width = _number(words, "MinBoundingBoxWidth", 0.0, 0, 1)
    regions = filters.get("RegionsOfInterest") or []
    if not isinstance(regions, list):
        raise _invalid("Filters.RegionsOfInterest must be a list of regions")
    regions = [_region(r) for r in regions]
    image, _ = read_image(body, ctx)
    rows = analysis(image, s, {"text"}, gate=False).rekognition()
    kept = []
    for row in rows["TextDetections"]:
        box = row["Geometry"]["BoundingBox"]
        centre = (box["Left"] + box["Width"] / 2, box["Top"] + box["Height"] / 2)
        if (row["Confidence"] >= least and box["Height"] >= min_height
                and box["Width"] >= min_width
                and (not regions or any(_inside(centre, r) for r in regions))):
            kept.append(_present(row))
    return {"TextDetections": kept, "TextModelVersion": MODEL_VERSIONS["text"]}


def _region(region: Any) -> tuple[float, float, float, float]:
    """A region of interest as (left, top, right, bottom): its box, or its polygon's."""
    if isinstance(region, dict) and isinstance(region.get("BoundingBox"), dict):
        b = region["BoundingBox"]
        left, top = _coordinate(b, "Left"), _coordinate(b, "Top")
        return left, top, left + _coordinate(b, "Width"), top + _coordinate(b, "Height")
    polygon = region.get("Polygon") if isinstance(region, dict) else None
    if isinstance(polygon, list) and polygon and all(isinstance(p, dict) for p in polygon):
        xs = [_coordinate(p, "X") for p in polygon]
        ys = [_coordinate(p, "Y") for p in polygon]
        return min(xs), min(ys), max(xs), max(ys)
    raise _invalid("a region of interest needs a BoundingBox or a Polygon of points")


def _coordinate(shape: dict[str, Any], key: str) -> float:
    """A box's or a point's ``key``: a number (0 when absent), relative to the image."""
    return _number(shape, key, 0.0, -1e9, 1e9)


def _inside(point: tuple[float, float], region: tuple[float, float, float, float]) -> bool:
    return region[0] <= point[0] <= region[2] and region[1] <= point[1] <= region[3]


def detect_faces(body: dict[str, Any], ctx: AwsContext) -> dict[str, Any]:
    attributes = body.get("Attributes")
    face_details([], attributes)  # a bad Attributes is refused before any work
    image, _ = read_image(body, ctx)
    return {"FaceDetails": face_details(faces(image, _vision(ctx)), attributes)}


def recognize_celebrities(body: dict[str, Any], ctx: AwsContext) -> dict[str, Any]:
    from socialsight.people import Gallery, attach

    image, _ = read_image(body, ctx)
    found = analysis(image, _vision(ctx), {"faces", "attributes", "embeddings"}, gate=False)
    known = attach(found.image_labels(), found.embeddings, Gallery.load(ctx.lake))
    return _present(found.rekognition(known["celebrityrecognition"])["CelebrityRecognition"])


def get_celebrity_info(body: dict[str, Any], ctx: AwsContext) -> dict[str, Any]:
    """An enrolled person's ``Name`` and ``Urls`` by the ``Id`` RecognizeCelebrities gives
    (the gallery holds no gender: ``KnownGender`` is left out, as AWS does where unknown)."""
    from socialsight.people import Gallery

    wanted = body.get("Id")
    if wanted is None:
        raise _validation("Value null at 'id' failed to satisfy constraint: Member must "
                          "not be null")
    if not isinstance(wanted, str):
        raise AwsError("SerializationException", "Id must be a string")
    if not CELEBRITY_ID.fullmatch(wanted):
        raise _validation(f"Value {wanted[:64]!r} at 'id' failed to satisfy constraint: "
                          f"Member must satisfy regular expression pattern: "
                          f"{CELEBRITY_ID.pattern}")
    if not wanted:
        raise _invalid("Id must name a celebrity: the id RecognizeCelebrities gives")
    for person in Gallery.load(ctx.lake).people():
        if person["id"] == wanted:
            return {"Name": person["name"], "Urls": person["urls"]}
    raise AwsError("ResourceNotFoundException",
                   f"No celebrity has the id {wanted!r}: the celebrities here are the lake's "
                   "enrolled people (socialsight people add)")


def compare_faces(body: dict[str, Any], ctx: AwsContext) -> dict[str, Any]:
    """The largest face of ``SourceImage`` against each of the largest 100 faces of
    ``TargetImage``: ``FaceMatches`` (at least ``SimilarityThreshold`` similar, most
    similar first) and ``UnmatchedFaces`` (largest first). ``QualityFilter`` (default
    NONE) drops the faces of either image that fall short before they are compared.
    An image without a face is InvalidParameterException, as AWS answers it. The
    orientation corrections are left out: AWS always leaves them null."""
    s = _vision(ctx)
    threshold = _number(body, "SimilarityThreshold", FACE_MATCH_THRESHOLD, 0, 100)
    quality = _quality(body, "NONE")
    source_bytes = image_bytes(body, ctx, "SourceImage")
    target_bytes = image_bytes(body, ctx, "TargetImage")
    source = decode_image(source_bytes, ctx.settings.fetch)
    target = decode_image(target_bytes, ctx.settings.fetch)

    found = analysis(source, s, {"faces"}, gate=False).faces
    if not found:
        raise _invalid("There are no faces in the source image (SourceImage). Should be at "
                       "least 1.")
    kept = [f for f in found if not _reasons(f, source, quality)]
    if not kept:
        raise _invalid("No face in the source image (SourceImage) passes the QualityFilter")
    face = max(kept, key=_area)
    vector = embeddings(source, [face], s)[0]
    if vector is None:
        raise _invalid("The largest face in the source image cannot be aligned for a "
                       "comparison")

    candidates = faces(target, s)  # with their attributes, for the Pose's yaw and pitch
    if not candidates:
        raise _invalid("There are no faces in the target image (TargetImage). Should be at "
                       "least 1.")
    compared = sorted((f for f in candidates if not _reasons(f, target, quality)),
                      key=_area, reverse=True)[:COMPARED_FACES]
    matches: list[dict[str, Any]] = []
    unmatched: list[dict[str, Any]] = []
    for detail, other in zip(face_details(compared, None), embeddings(target, compared, s),
                             strict=True):
        score = None if other is None else similarity(distance(np.asarray(vector),
                                                               np.asarray(other)))
        if score is not None and score >= threshold:
            matches.append({"Similarity": score, "Face": detail})
        else:
            unmatched.append(detail)
    matches.sort(key=lambda m: -m["Similarity"])
    left, top, width, height = face.box
    return {"SourceImageFace": {"BoundingBox": {"Width": width, "Height": height,
                                                "Left": left, "Top": top},
                                "Confidence": face.confidence},
            "FaceMatches": matches, "UnmatchedFaces": unmatched}


# --- custom labels -----------------------------------------------------------------------

# A project version's ARN as AWS validates it; the project's NAME says what is looked for.
PROJECT_VERSION_ARN = re.compile(r"arn:[a-z\d-]+:rekognition:[a-z\d-]+:\d{12}:project/"
                                 r"([a-zA-Z0-9_.\-]{1,255})/version/[a-zA-Z0-9_.\-]{1,255}/"
                                 r"[0-9]+")
EVERY_BRAND, EVERY_CONCEPT = "brands", "concepts"  # the projects of every one of a kind


def _project(body: dict[str, Any]) -> str:
    arn = body.get("ProjectVersionArn")
    if not isinstance(arn, str) or not arn:
        raise _invalid("ProjectVersionArn is required")
    match = PROJECT_VERSION_ARN.fullmatch(arn)
    if match is None:
        raise _invalid(f"ProjectVersionArn {arn!r} is not a project version's ARN: "
                       "arn:aws:rekognition:REGION:ACCOUNT:project/NAME/version/VERSION/"
                       "TIMESTAMP")
    return match.group(1).casefold()


def _selected(project: str, ctx: AwsContext) -> tuple[Any, set[str], list[Any]]:
    """Every enrolled brand (a :class:`socialsight.brands.Brands`: a brand is looked for
    among all of them, as ``enrich`` looks for it), the names of those the project asks
    for, and the concepts it names: every brand, every concept, or those named so (by
    :func:`project_name` or id)."""
    from socialsight.brands import Brands
    from socialsight.concepts import Concepts, concept_id

    brands, concepts = Brands.load(ctx.lake), Concepts.load(ctx.lake).concepts()
    if project == EVERY_BRAND:
        wanted, concepts = {b.name for b in brands.brands()}, []
    elif project == EVERY_CONCEPT:
        wanted = set()
    else:
        wanted = {b.name for b in brands.brands() if project in (project_name(b.name), b.id)}
        concepts = [c for c in concepts
                    if project in (project_name(c.name), concept_id(c.name))]
    if not wanted and not concepts:
        raise AwsError("ResourceNotFoundException",
                       f"no project {project!r}: name an enrolled brand or learnt concept "
                       f"(as {project_name('Blue Bottle')!r} names Blue Bottle, or by its "
                       f"id), {EVERY_BRAND!r} or {EVERY_CONCEPT!r}")
    return brands, wanted, concepts


def detect_custom_labels(body: dict[str, Any], ctx: AwsContext) -> dict[str, Any]:
    """The enrolled brands (logo and word mark, with their box) and learnt concepts (the
    whole photo: no Geometry) the project names, as ``enrich`` finds them."""
    from socialsight.brands import customlabels
    from socialsight.concepts import embed, found

    project = _project(body)
    most = _integer(body, "MaxResults", 2**31 - 1, 0, 2**31 - 1)
    least = None if body.get("MinConfidence") is None else _number(
        body, "MinConfidence", 0.0, 0, 100)
    brands, wanted, concepts = _selected(project, ctx)
    image, _ = read_image(body, ctx)
    s = _vision(ctx).model_copy(update={"local_features": True})
    entries = []
    if wanted:
        looked_for = {"text", "logos"} if len(brands.matcher) else {"text"}
        seen = analysis(image, s, looked_for)
        entries = [e for e in customlabels(brands, seen.local_features,
                                           seen.image_labels()["textdetections"])
                   if e["name"] in wanted]
    if concepts:
        vector = embed([image], s.threads, s.models_dir)[0]
        entries += [{"name": name, "confidence": confidence}
                    for name, confidence in found(concepts, vector.tolist(), least)]
    entries = [e for e in entries if least is None or e["confidence"] >= least]
    entries.sort(key=lambda e: (-e["confidence"], e["name"]))
    return {"CustomLabels": [_custom_label(e) for e in entries[:most]]}


def _custom_label(entry: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"Name": entry["name"], "Confidence": entry["confidence"]}
    box = (entry.get("geometry") or {}).get("boundingbox")
    if box:
        out["Geometry"] = {"BoundingBox": {"Width": box["width"], "Height": box["height"],
                                           "Left": box["left"], "Top": box["top"]}}
    return out


# --- collections -------------------------------------------------------------------------


def _collection(body: dict[str, Any]) -> str:
    return check_id(body.get("CollectionId"))


def create_collection(body: dict[str, Any], ctx: AwsContext) -> dict[str, Any]:
    return Collections(ctx.lake).create(_collection(body))


def delete_collection(body: dict[str, Any], ctx: AwsContext) -> dict[str, Any]:
    return Collections(ctx.lake).delete(_collection(body))


def describe_collection(body: dict[str, Any], ctx: AwsContext) -> dict[str, Any]:
    return Collections(ctx.lake).describe(_collection(body))


def list_collections(body: dict[str, Any], ctx: AwsContext) -> dict[str, Any]:
    size = _integer(body, "MaxResults", 1000, 0, 4096)
    ids = Collections(ctx.lake).ids()
    page, token = _page(ids, body.get("NextToken"), size or 1000)
    out: dict[str, Any] = {"CollectionIds": page,
                           "FaceModelVersions": [FACE_MODEL_VERSION] * len(page)}
    if token:
        out["NextToken"] = token
    return out


def _page(ids: list[str], token: Any, size: int) -> tuple[list[str], str | None]:
    """The ``size`` ids after ``token`` (the last id of the page before), in order."""
    if token is not None and not isinstance(token, str):
        raise AwsError("InvalidPaginationTokenException", "NextToken must be a string")
    rest = [i for i in ids if token is None or i > token]
    page = rest[:size]
    return page, (page[-1] if len(rest) > size else None)


def list_faces(body: dict[str, Any], ctx: AwsContext) -> dict[str, Any]:
    size = _integer(body, "MaxResults", 1000, 0, 4096)
    table = Collections(ctx.lake).faces(_collection(body))
    rows = sorted(table.drop_columns(["embedding"]).to_pylist(), key=lambda r: r["face_id"])
    wanted = body.get("FaceIds")
    if wanted is not None:
        rows = [r for r in rows if r["face_id"] in set(_face_ids(wanted))]
    token = body.get("NextToken")
    if token is not None and not (isinstance(token, str) and FACE_ID.fullmatch(token)):
        raise AwsError("InvalidPaginationTokenException", f"Invalid NextToken {token!r}")
    ids, next_token = _page([r["face_id"] for r in rows], token, size or 1000)
    by_id = {r["face_id"]: r for r in rows}
    out: dict[str, Any] = {"Faces": [face_record(by_id[i]) for i in ids],
                           "FaceModelVersion": FACE_MODEL_VERSION}
    if next_token:
        out["NextToken"] = next_token
    return out


def _face_ids(value: Any) -> list[str]:
    if not isinstance(value, list) or not value or not all(
            isinstance(f, str) and FACE_ID.fullmatch(f) for f in value):
        raise _invalid("FaceIds must be a list of face ids (UUIDs)")
    return value


def delete_faces(body: dict[str, Any], ctx: AwsContext) -> dict[str, Any]:
    collection, wanted = _collection(body), _face_ids(body.get("FaceIds"))
    gone = Collections(ctx.lake).remove(collection, wanted)
    missing = [f for f in dict.fromkeys(wanted) if f not in gone]
    return {"DeletedFaces": gone, "UnsuccessfulFaceDeletions": [
        {"FaceId": f, "Reasons": ["FACE_NOT_FOUND"]} for f in missing]}


def _quality(body: dict[str, Any], default: str) -> tuple[int, float]:
    name = body.get("QualityFilter", default)
    if not isinstance(name, str) or name not in QUALITY_FILTERS:
        raise _invalid(f"QualityFilter must be one of {', '.join(QUALITY_FILTERS)}")
    return QUALITY_FILTERS[name]


def _reasons(face: FaceDetail, image: Image.Image, quality: tuple[int, float]) -> list[str]:
    """Why a face falls short of the quality filter (none: it passes)."""
    min_side, min_confidence = quality
    side = min(face.box[2] * image.width, face.box[3] * image.height)
    return ([] if side >= min_side else ["SMALL_BOUNDING_BOX"]) + (
        [] if face.confidence >= min_confidence else ["LOW_CONFIDENCE"])


def _area(face: FaceDetail) -> float:
    return face.box[2] * face.box[3]


def index_faces(body: dict[str, Any], ctx: AwsContext) -> dict[str, Any]:
    s, collection = _vision(ctx), _collection(body)
    external = body.get("ExternalImageId")
    if external is not None and not (isinstance(external, str)
                                     and EXTERNAL_IMAGE_ID.fullmatch(external)):
        raise _invalid("ExternalImageId must be 1 to 255 characters of [a-zA-Z0-9_.:-]")
    most = _integer(body, "MaxFaces", 4096, 1, 4096)
    quality, attributes = _quality(body, "AUTO"), body.get("DetectionAttributes")
    face_details([], attributes)
    store = Collections(ctx.lake)
    store.faces(collection)  # ResourceNotFoundException before any work
    image, data = read_image(body, ctx)
    indexed: list[tuple[FaceDetail, list[float]]] = []
    unindexed: list[tuple[FaceDetail, list[str]]] = []
    good = []
    for face in sorted(faces(image, s), key=_area, reverse=True):  # largest first
        why = _reasons(face, image, quality)
        if why:
            unindexed.append((face, why))
        else:
            good.append(face)
    unindexed += [(f, ["EXCEEDS_MAX_FACES"]) for f in good[most:]]
    for face, vector in zip(good[:most], embeddings(image, good[:most], s), strict=True):
        if vector is None:
            unindexed.append((face, ["LOW_FACE_QUALITY"]))
        else:
            indexed.append((face, vector))
    image_id = str(uuid.UUID(bytes=hashlib.sha256(data).digest()[:16], version=4))
    records = store.add(collection, [NewFace(image_id, external, f.box, f.confidence,
                                             np.asarray(v)) for f, v in indexed])
    details = face_details([f for f, _ in indexed], attributes)
    skipped = face_details([f for f, _ in unindexed], attributes)
    return {"FaceRecords": [{"Face": r, "FaceDetail": d}
                            for r, d in zip(records, details, strict=True)],
            "FaceModelVersion": FACE_MODEL_VERSION,
            "UnindexedFaces": [{"Reasons": why, "FaceDetail": d}
                               for (_, why), d in zip(unindexed, skipped, strict=True)]}


def _threshold(body: dict[str, Any]) -> tuple[float, int]:
    return (_number(body, "FaceMatchThreshold", FACE_MATCH_THRESHOLD, 0, 100),
            _integer(body, "MaxFaces", 4096, 1, 4096))


def search_faces_by_image(body: dict[str, Any], ctx: AwsContext) -> dict[str, Any]:
    s, collection = _vision(ctx), _collection(body)
    threshold, most = _threshold(body)
    quality = _quality(body, "NONE")
    store = Collections(ctx.lake)
    store.faces(collection)
    image, _ = read_image(body, ctx)
    found = [f for f in analysis(image, s, {"faces"}, gate=False).faces
             if not _reasons(f, image, quality)]
    if not found:
        raise _invalid(NO_FACE)
    face = max(found, key=_area)
    vector = embeddings(image, [face], s)[0]
    if vector is None:
        raise _invalid("The largest face in the image cannot be aligned for a search")
    left, top, width, height = face.box
    return {"SearchedFaceBoundingBox": {"Width": width, "Height": height, "Left": left,
                                        "Top": top},
            "SearchedFaceConfidence": face.confidence,
            "FaceMatches": store.search(collection, np.asarray(vector), threshold, most),
            "FaceModelVersion": FACE_MODEL_VERSION}


def search_faces(body: dict[str, Any], ctx: AwsContext) -> dict[str, Any]:
    collection, face_id = _collection(body), body.get("FaceId")
    if not (isinstance(face_id, str) and FACE_ID.fullmatch(face_id)):
        raise _invalid("FaceId must be a face id (a UUID)")
    threshold, most = _threshold(body)
    store = Collections(ctx.lake)
    matches = store.search(collection, store.embedding(collection, face_id), threshold,
                           most, exclude=face_id)
    return {"SearchedFaceId": face_id, "FaceMatches": matches,
            "FaceModelVersion": FACE_MODEL_VERSION}


OPERATIONS: dict[str, Operation] = {
    "DetectLabels": detect_labels,
    "DetectModerationLabels": detect_moderation_labels,
    "DetectText": detect_text,
    "DetectFaces": detect_faces,
    "RecognizeCelebrities": recognize_celebrities,
    "GetCelebrityInfo": get_celebrity_info,
    "CompareFaces": compare_faces,
    "DetectCustomLabels": detect_custom_labels,
    "CreateCollection": create_collection,
    "DescribeCollection": describe_collection,
    "ListCollections": list_collections,
    "DeleteCollection": delete_collection,
    "IndexFaces": index_faces,
    "SearchFacesByImage": search_faces_by_image,
    "SearchFaces": search_faces,
    "ListFaces": list_faces,
    "DeleteFaces": delete_faces,
}

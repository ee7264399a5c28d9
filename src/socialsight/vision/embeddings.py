"""Face embeddings for a known-people gallery: dlib's ResNet descriptor on aligned chips.

socialsight's stand-in for RecognizeCelebrities: users enrol people with photos, and a
face in a post is that person when its embedding lies within :data:`MATCH_DISTANCE` of
one of theirs. The model is dlib's ``dlib_face_recognition_resnet_model_v1`` (128-d,
99.38 % on LFW; public domain), converted to ONNX by ``tools/models/build_embeddings.py``
(see models/MODELS.md).

Alignment. The network wants the 150 x 150 chip that ``dlib.get_face_chip(image, shape,
150, 0.25)`` cuts with dlib's own 5-point landmarks (eye corners, nose base). Here the
chip is cut from RetinaFace's five landmarks instead (:mod:`socialsight.vision.faces`):
a similarity transform (rotation, uniform scale, shift) puts them on :data:`TEMPLATE`,
where they fall on average on dlib's chips, fitted by weighted least squares with the
eyes weighted ten times the nose and mouth (:data:`WEIGHTS`, the inverse of each point's
spread on dlib's chips; the nose tip and mouth corners move with pose and expression,
dlib's alignment ignores the mouth). The chip is sampled bilinearly; when the face is more
than twice the chip's size the region is first halved as often as dlib's image pyramid
would, so the chip is not aliased. With dlib's own landmarks this cuts dlib's chip pixel
for pixel (up to the pyramid's filter); with RetinaFace's, the embedding lies 0.09
(median; at most 0.18 on the sample photos) from dlib's own for the same face.

Embeddings are dlib's descriptors scaled to unit length (dlib's own are 1.35–1.6 long and
compared raw, same person below 0.6). Two faces are the same person when the Euclidean
distance between their embeddings is below :data:`MATCH_DISTANCE` (0.40: dlib's 0.6
over the typical length 1.45, rounded down). On the sample photos the same person in
different photos lies 0.25–0.33 apart and different people 0.36 or more (5th percentile
0.47); the few different people closer than 0.40 are look-alikes of one age and ethnicity,
as with dlib's own pipeline, which is also known to mix up children. A caller that wants
fewer false matches compares against a smaller distance. :func:`similarity` turns a
distance into a 0–100 match confidence that is exactly :data:`MATCH_SIMILARITY` (80,
Rekognition's default ``SimilarityThreshold`` and ``FaceMatchThreshold``) at the match
distance.
"""

from __future__ import annotations

from math import ceil, exp, log2

import numpy as np
from PIL import Image

from socialsight.errors import InputError
from socialsight.models.base import OnnxModel
from socialsight.vision.faces import LANDMARKS, FaceDetail

MODEL = "dlib_face_resnet_v1.onnx"
DIMENSION = 128
CHIP_SIZE = 150
# Where RetinaFace's landmarks (eyeLeft, eyeRight, nose, mouthLeft, mouthRight) fall on
# dlib's 150 x 150 chips (padding 0.25), in chip pixels (pixel centres at integers).
TEMPLATE = np.array([[47.391, 45.48], [100.335, 44.654], [73.887, 77.768],
                     [50.078, 99.556], [97.976, 98.827]])
WEIGHTS = np.array([1.0, 1.0, 0.1, 0.1, 0.1])
# Same person below this distance between embeddings (see models/MODELS.md).
MATCH_DISTANCE = 0.40
# similarity() at MATCH_DISTANCE: a match is a similarity above this.
MATCH_SIMILARITY = 80.0
# similarity() is logistic in the distance with this spread.
SIMILARITY_SPREAD = 0.04


def alignment(face: FaceDetail, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """``(A, t)`` mapping chip pixels to photo pixels: ``photo = A @ chip + t``."""
    marks = {name: (x * width, y * height) for name, x, y in face.landmarks}
    if any(name not in marks for name in LANDMARKS):
        raise InputError("a face needs its five landmarks to be aligned for an embedding")
    points = np.array([marks[name] for name in LANDMARKS], dtype=np.float64)
    weights = WEIGHTS / WEIGHTS.sum()
    chip_mean, photo_mean = weights @ TEMPLATE, weights @ points
    src, dst = TEMPLATE - chip_mean, points - photo_mean
    u, s, vt = np.linalg.svd((dst * weights[:, None]).T @ src)
    d = np.diag([1.0, -1.0 if np.linalg.det(u) * np.linalg.det(vt) < 0 else 1.0])
    variance = float((weights[:, None] * src**2).sum())
    a = float(np.trace(np.diag(s) @ d)) / variance * (u @ d @ vt)
    if not np.isfinite(a).all() or np.linalg.det(a) <= 1e-9:
        raise InputError("a face's landmarks are degenerate: it cannot be aligned")
    return a, photo_mean - a @ chip_mean


def chip(image: Image.Image, face: FaceDetail) -> Image.Image:
    """The face's aligned 150 x 150 RGB chip, as dlib's network wants it."""
    a, t = alignment(face, image.width, image.height)
    scale = float(np.sqrt(np.linalg.det(a)))
    # dlib's image pyramid: halve until the face is at most twice the chip's size.
    factor = 2 ** (ceil(log2(scale)) - 1) if scale > 2 else 1
    region, a, t = _region(image, a, t, factor)
    # PIL samples at pixel centres (+0.5); the transform above has centres at integers.
    c = t + 0.5 - a @ np.array([0.5, 0.5])
    data = (a[0, 0], a[0, 1], c[0], a[1, 0], a[1, 1], c[1])
    return region.transform((CHIP_SIZE, CHIP_SIZE), Image.Transform.AFFINE, data,
                            Image.Resampling.BILINEAR)


def _region(image: Image.Image, a: np.ndarray, t: np.ndarray,
            factor: int) -> tuple[Image.Image, np.ndarray, np.ndarray]:
    """The chip's neighbourhood as RGB, shrunk ``factor`` times (antialiased), its new map.

    Only this part of the photo is copied, so a chip costs the same in any size of photo;
    outside the photo is black, as in dlib.
    """
    edge = CHIP_SIZE - 1
    corners = np.array([[0, 0], [edge, 0], [0, edge], [edge, edge]]) @ a.T + t
    left, top = ((np.floor(corners.min(axis=0) / factor) - 2) * factor).astype(int)
    right, bottom = ((np.ceil(corners.max(axis=0) / factor) + 2) * factor).astype(int)
    region = image.crop((int(left), int(top), int(right), int(bottom)))
    if region.mode != "RGB":
        region = region.convert("RGB")
    if factor > 1:
        region = region.resize((region.width // factor, region.height // factor),
                               Image.Resampling.BILINEAR)
    shift = (t - np.array([left, top]) + 0.5) / factor - 0.5
    return region, a / factor, shift


def _descriptors(chips: list[Image.Image], threads: int, directory: str | None) -> np.ndarray:
    batch = [np.asarray(c, dtype=np.float32).transpose(2, 0, 1)[np.newaxis] for c in chips]
    raw = np.asarray(np.stack([out[0] for out in Embedder(threads, directory).predict(batch)]),
                     dtype=np.float32)
    return raw / np.linalg.norm(raw, axis=1, keepdims=True)


class Embedder(OnnxModel):
    """dlib's face ResNet: the raw 128-d descriptor of each 150² face :func:`chip`."""

    name = "known_people"
    file = MODEL


def embed(image: Image.Image, face: FaceDetail, threads: int = 1,
          directory: str | None = None) -> np.ndarray:
    """The face's embedding: float32, ``DIMENSION`` values, unit length."""
    return _descriptors([chip(image, face)], threads, directory)[0]


def embed_faces(image: Image.Image, faces: list[FaceDetail], threads: int = 1,
                directory: str | None = None) -> np.ndarray:
    """Embeddings of several faces of one photo in one run: ``[len(faces), DIMENSION]``."""
    if not faces:
        return np.zeros((0, DIMENSION), dtype=np.float32)
    return _descriptors([chip(image, face) for face in faces], threads, directory)


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two embeddings: 0 to 2, same person below 0.40."""
    return float(np.linalg.norm(np.asarray(a, np.float32) - np.asarray(b, np.float32)))


def similarity(distance: float) -> float:
    """Match confidence 0–100 for a distance: ``100 / (1 + exp((distance - d50) / 0.04))``.

    ``d50 = MATCH_DISTANCE + 0.04 · ln 4`` (0.455), so the similarity is exactly
    :data:`MATCH_SIMILARITY` (80) at :data:`MATCH_DISTANCE` and a match is a similarity
    above 80, as with Rekognition's default thresholds. Distances 0.1, 0.2, 0.3, 0.35,
    0.4, 0.45, 0.5, 0.6 give 99.99, 99.8, 98.0, 93.3, 80.0, 53.4, 24.7, 2.6.
    """
    z = min((distance - MATCH_DISTANCE) / SIMILARITY_SPREAD, 700.0)
    odds = (100.0 / MATCH_SIMILARITY - 1.0) * exp(z)
    return round(100.0 / (1.0 + odds), 3)

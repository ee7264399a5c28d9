"""DetectFaces' face attributes, offline: age range, gender, emotions, smile, eyes, mouth, pose.

:func:`describe` reads one face found by :mod:`socialsight.vision.faces` (its box and five
RetinaFace landmarks) with five small networks (``models/MODELS.md``; rebuilt by
``tools/models/build_face_attributes.py``):

* **Age and gender** -- dlib-models' age predictor (81 classes, 0-80) and gender classifier
  (Cydral Technology, CC0). They expect dlib "face chips": a similarity transform fitted
  from landmarks to dlib's unit-square template with 0.2 padding, the photo reduced by
  dlib's ``pyramid_down<2>`` until the chip is at most 2x smaller, then bilinear sampling
  (:func:`face_chip`, which matches ``dlib.extract_image_chip`` for dlib's landmarks).
  RetinaFace's five landmarks are fitted to where they sit in dlib's frame
  (:data:`CHIP_TEMPLATE`, measured with dlib's 5-point predictor on the sample faces). The
  nose and mouth corners weigh half, as they move with yaw and expression; with them the
  gender stays steadier across rescaled copies of a photo (whose landmarks move by a pixel
  or two) than with the eyes and nose alone. The point age is the expectation over the
  81 classes; the range is that age plus or minus the spread (standard deviation) of the
  distribution, kept between a floor and a ceiling that grow with age.
* **Emotions** -- the FER2013 7-class classifier of the ``fer`` package, on a 64 x 64 grey
  square around the face (the Haar box ``fer`` would crop, made level). Neutral is reported
  as CALM; FER has no CONFUSED, so it is never listed.
* **Face mesh** -- MediaPipe Face Mesh (468 points in 3D) on a level square of 1.25x the
  face box, then MediaPipe Iris on one eye (a square of 2.3x the eye's width) for the
  eyelids. A scaled rotation fitted (Umeyama) from the rigid points of MediaPipe's canonical
  face (:data:`CANONICAL`: forehead, nose, eye corners, cheekbones) to the mesh gives yaw
  and pitch, and undoes the head's rotation before the mouth is measured:
  * eyes open: eyelid gap over eye width (eye aspect ratio) on the Iris contour of the eye
    that looks wider (the one nearer the camera; one eye keeps the time per face down);
  * mouth open: gap between the inner lips, in canonical-face centimetres;
  * smile: how far the mouth corners sit above the lips' centre, averaged with FER's
    happiness.
  Each measure becomes a probability with a logistic (:data:`RULES`); the value is
  whether it is over one half and the confidence is that of the value given, 0-100.

Pose angles are in degrees: yaw is positive when the face turns toward the right of the
photo (the person's left), pitch is positive when the face tilts up. Eyeglasses,
sunglasses, beard and mustache are not estimated. Everything here is numpy and Pillow; the
networks run through :func:`socialsight.models.runtime.session`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import ceil, floor
from typing import Any

import numpy as np
from PIL import Image

from socialsight.models import runtime
from socialsight.models.base import Model
from socialsight.vision.faces import LANDMARKS, FaceDetail

AGE_MODEL = "dlib_age_predictor_v1.onnx"
GENDER_MODEL = "dlib_gender_classifier_v1.onnx"
FER_MODEL = "fer_emotion.onnx"
MESH_MODEL = "face_mesh.onnx"
IRIS_MODEL = "face_iris.onnx"

# dlib face chips: mean RGB subtracted, then / 256; age class i weighs AGE_WEIGHTS[i].
CHIP_MEAN = np.array([122.781998, 117.000999, 104.297997], dtype=np.float32)
AGE_WEIGHTS = np.array([0.25, *range(1, 81)], dtype=np.float32)
GENDERS = ("Female", "Male")
# Age range half-width: the distribution's spread, within (a + b * age, c + d * age).
AGE_HALF_WIDTH = (2.0, 0.1, 4.0, 0.25)
CHIP_PADDING = 0.2
# dlib's 5-point template (eye corners, base of the nose) on the unit square.
DLIB_TEMPLATE = ((0.8595674595992, 0.2134981538014), (0.6460604764104, 0.2289674387677),
                 (0.1205750620789, 0.2137274526848), (0.3340850613712, 0.2290642403242),
                 (0.4901123135679, 0.6277975316475))
# Where RetinaFace's five landmarks sit in that frame (measured, made symmetric), and the
# weight of each in the fit.
CHIP_TEMPLATE = ((0.2298, 0.2028), (0.7504, 0.2028), (0.4901, 0.5193), (0.2549, 0.7428),
                 (0.7253, 0.7428))
CHIP_WEIGHTS = (1.0, 1.0, 0.5, 0.5, 0.5)
PYRAMID_SHIFT = np.array([1.25, 0.75])  # dlib's pyramid_down<2>::point_down offset

# FER2013 class order -> Rekognition's emotion types.
EMOTIONS = ("ANGRY", "DISGUSTED", "FEAR", "HAPPY", "SAD", "SURPRISED", "CALM")
FER_SIZE, FER_BOX_SCALE = 64, 1.03  # crop side = scale x the face box's long side
MESH_SIZE, MESH_BOX_SCALE = 192, 1.25
IRIS_SIZE, IRIS_SCALE = 64, 2.3  # crop side = scale x the eye's corner-to-corner width
MAX_MESH_SIDE = 512  # larger mesh squares (pixels) are read from a photo reduced to fit
# Face Mesh eye corners (image-left eye, image-right eye; the second is mirrored for Iris).
EYE_CORNERS = ((33, 133), (362, 263))
# Iris eyelid contour: (upper, lower) point pairs and the two corners.
EYELID_PAIRS = ((11, 3), (12, 4), (13, 5))
EYE_ENDS = (0, 8)
LIP_INNER = (13, 14)  # upper and lower inner lip, mid-line
MOUTH_CORNERS = (61, 291)
# measure -> (value at probability 1/2, logistic width); see the module docstring.
RULES: dict[str, tuple[float, float]] = {
    "eyesopen": (0.16, 0.02),  # eyelid gap / eye width
    "mouthopen": (0.6, 0.12),  # inner-lip gap, cm
    "smile": (0.3, 0.05),  # mouth corners above the lips' centre, cm
}

# MediaPipe's canonical face model (canonical_face_model.obj, Apache-2.0), the points that
# do not move with expression: Face Mesh index -> (x right, y up, z toward the camera), cm.
CANONICAL: dict[int, tuple[float, float, float]] = {
    1: (0.000, -1.127, 7.476), 2: (0.000, -2.089, 6.058), 4: (0.000, -0.463, 7.587),
    5: (0.000, 0.366, 7.243), 6: (0.000, 2.473, 5.789), 9: (0.000, 4.886, 5.385),
    10: (0.000, 8.262, 4.482), 21: (-7.088, 5.435, 0.100), 33: (-4.446, 2.664, 3.173),
    67: (-3.524, 8.006, 3.729), 98: (-1.406, -1.714, 5.241), 108: (-1.620, 6.599, 4.921),
    109: (-1.891, 8.236, 4.275), 116: (-6.465, 0.937, 1.690), 123: (-6.338, -0.529, 1.881),
    127: (-7.743, 2.365, -2.005), 133: (-1.856, 2.585, 3.758), 151: (0.000, 6.545, 5.027),
    162: (-7.556, 4.107, -0.992), 168: (0.000, 3.271, 5.236), 195: (0.000, 1.059, 6.775),
    197: (0.000, 1.728, 6.317), 234: (-7.664, 0.673, -2.436), 251: (7.088, 5.435, 0.100),
    263: (4.446, 2.664, 3.173), 297: (3.524, 8.006, 3.729), 327: (1.406, -1.714, 5.241),
    337: (1.620, 6.599, 4.921), 338: (1.891, 8.236, 4.275), 345: (6.465, 0.937, 1.690),
    352: (6.338, -0.529, 1.881), 356: (7.743, 2.365, -2.005), 362: (1.856, 2.585, 3.758),
    389: (7.556, 4.107, -0.992), 454: (7.664, 0.673, -2.436),
}
_RIGID = np.array(list(CANONICAL))
# The canonical points in the mesh's frame: x right, y down, z away from the camera.
_CANONICAL_XYZ = np.array(list(CANONICAL.values())) * np.array([1.0, -1.0, -1.0])


class FaceNetworks(Model[tuple[str, np.ndarray], list[np.ndarray]]):
    """The five networks of face attributes: each item names its network's file and
    gives that network's input; its output is the network's outputs."""

    name = "face_attributes"

    def _load(self) -> dict[str, Any]:
        return {file.name: runtime.session(file.name, self.threads, self.directory,
                                           cpu_only=self.spec.device == "cpu")
                for file in self.spec.files}

    def _predict(self, loaded: dict[str, Any], batch: list[tuple[str, np.ndarray]],
                 ) -> list[list[np.ndarray]]:
        return [list(loaded[file].run(None, {loaded[file].get_inputs()[0].name: tensor}))
                for file, tensor in batch]


@dataclass
class _Region:
    """The part of the photo around one face (maybe reduced, for very large faces)."""

    image: Image.Image  # RGB
    points: np.ndarray  # the five landmarks, region pixels (continuous: pixel i spans i..i+1)
    box: np.ndarray  # left, top, right, bottom, region pixels
    threads: int
    directory: str | None
    _cache: dict[Any, Any] = field(default_factory=dict)

    @classmethod
    def around(cls, image: Image.Image, face: FaceDetail, threads: int,
               directory: str | None) -> _Region:
        width, height = image.size
        scale = np.array([width, height], dtype=np.float64)
        marks = {name: (x, y) for name, x, y in face.landmarks}
        points = np.array([marks[name] for name in LANDMARKS]) * scale
        left, top, w, h = face.box
        box = np.array([left, top, left + w, top + h]) * np.tile(scale, 2)
        side = MESH_BOX_SCALE * max(box[2] - box[0], box[3] - box[1])
        half = 0.9 * side + 16
        centre = (box[:2] + box[2:]) / 2
        x0, y0 = (max(0, floor((c - half) / 64) * 64) for c in centre)
        x1, y1 = min(width, ceil(centre[0] + half)), min(height, ceil(centre[1] + half))
        part = image.crop((x0, y0, max(x1, x0 + 1), max(y1, y0 + 1)))
        if part.mode != "RGB":
            part = part.convert("RGB")
        factor = max(1, ceil(side / MAX_MESH_SIDE))
        if factor > 1:
            part = part.reduce(factor)
        origin = np.array([x0, y0], dtype=np.float64)
        return cls(part, (points - origin) / factor, (box - np.tile(origin, 2)) / factor,
                   threads, directory)

    def run(self, model: str, batch: np.ndarray) -> list[np.ndarray]:
        [outputs] = FaceNetworks(self.threads, self.directory).predict([(model, batch)])
        return outputs

    @property
    def roll(self) -> float:
        (lx, ly), (rx, ry) = self.points[:2]
        return float(np.arctan2(ry - ly, rx - lx))

    def reduced(self, factor: int, mode: str) -> Image.Image:
        key = (factor, mode)
        if key not in self._cache:
            image = self.image if mode == "RGB" else self.image.convert(mode)
            self._cache[key] = image if factor == 1 else image.reduce(factor)
        return self._cache[key]

    def square(self, centre: np.ndarray, side: float, angle: float, size: int,
               mode: str = "RGB", mirror: bool = False) -> np.ndarray:
        """``size`` x ``size`` pixels of a square turned by ``angle`` (radians) so it is level."""
        step = side / size
        factor = 1
        while step / factor >= 2:
            factor *= 2
        linear = _turn(angle) * (step / factor)
        if mirror:
            linear = linear * np.array([-1.0, 1.0])
        offset = np.asarray(centre) / factor - linear @ np.array([size / 2, size / 2])
        data = (linear[0, 0], linear[0, 1], offset[0], linear[1, 0], linear[1, 1], offset[1])
        warped = self.reduced(factor, mode).transform(
            (size, size), Image.Transform.AFFINE, data, resample=Image.Resampling.BILINEAR)
        return np.asarray(warped, dtype=np.float32)

    def chip_source(self) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        """The pixels under the face chips (float32), their offset and a pyramid cache.

        Both chips cover the same square; only it is read and reduced. The offset is a
        multiple of 64, so dlib's pyramid samples the same pixels as on the whole photo.
        """
        if "chip" not in self._cache:
            unit = (CHIP_PADDING + np.array(CHIP_TEMPLATE)) / (1 + 2 * CHIP_PADDING)
            a, b, tx, ty = _similarity(unit, self.points, np.array(CHIP_WEIGHTS))
            centre = np.array([(a - b) / 2 + tx, (a + b) / 2 + ty])
            reach = float(np.hypot(a, b)) / np.sqrt(2) + 32
            x0, y0 = (max(0, floor((c - reach) / 64) * 64) for c in centre)
            x1 = max(x0 + 8, min(self.image.width, ceil(centre[0] + reach)))
            y1 = max(y0 + 8, min(self.image.height, ceil(centre[1] + reach)))
            pixels = np.asarray(self.image.crop((x0, y0, x1, y1)), dtype=np.float32)
            self._cache["chip"] = (pixels, np.array([x0, y0], dtype=np.float64), [])
        return self._cache["chip"]


def _turn(angle: float) -> np.ndarray:
    return np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])


def describe(image: Image.Image, face: FaceDetail, threads: int = 1,
             directory: str | None = None) -> dict[str, Any]:
    """Rekognition's face attributes of ``face`` in ``image`` (RGB), lower-case fields."""
    region = _Region.around(image, face, threads, directory)
    result = _age_gender(region)
    emotions = _emotions(region)
    result["emotions"] = [{"type": t, "confidence": round(float(p) * 100, 3)}
                          for p, t in sorted(zip(emotions, EMOTIONS, strict=True), reverse=True)]
    happy = float(emotions[EMOTIONS.index("HAPPY")])
    mesh = _mesh(region)
    if mesh is None:  # Face Mesh does not see a face: leave what depends on it unknown
        result.update(pose={"yaw": None, "pitch": None}, eyesopen=None, mouthopen=None,
                      smile=_verdict(happy))
        return result
    rotation, scale, shift = _fit_rotation(_CANONICAL_XYZ, mesh[_RIGID])
    forward = rotation @ np.array([0.0, 0.0, -1.0])
    yaw = np.degrees(np.arctan2(forward[0], -forward[2]))
    pitch = np.degrees(np.arctan2(-forward[1], np.hypot(forward[0], forward[2])))
    head = (mesh - shift) @ rotation / scale  # the mesh with the head's pose undone, cm
    upper, lower = head[list(LIP_INNER)]
    lift = float((upper[1] + lower[1]) / 2 - head[list(MOUTH_CORNERS), 1].mean())
    result.update(
        pose={"yaw": round(float(yaw), 3), "pitch": round(float(pitch), 3)},
        eyesopen=_verdict(_logistic("eyesopen", _eye_opening(region, mesh))),
        mouthopen=_verdict(_logistic("mouthopen", float(np.linalg.norm(upper - lower)))),
        smile=_verdict((_logistic("smile", lift) + happy) / 2),
    )
    return result


def network_inputs(image: Image.Image, face: FaceDetail, threads: int = 1,
                   directory: str | None = None) -> dict[str, np.ndarray]:
    """The tensors :func:`describe` gives each network for ``face`` (for model checks)."""
    region = _Region.around(image, face, threads, directory)
    mesh_input = _mesh_square(region)[0]
    mesh = _mesh(region)
    corners = mesh[list(EYE_CORNERS[0]), :2] if mesh is not None else region.points[:2]
    return {
        AGE_MODEL: _chip_batch(region, 64), GENDER_MODEL: _chip_batch(region, 32),
        FER_MODEL: _fer_square(region), MESH_MODEL: mesh_input,
        IRIS_MODEL: _eye_square(region, corners, mirror=False),
    }


# ------------------------------------------------------------------------ age, gender


def _chip_batch(region: _Region, size: int) -> np.ndarray:
    pixels, offset, pyramid = region.chip_source()
    # face_chip() uses dlib's convention: pixel i is centred on i.
    chip = face_chip(pixels, region.points - offset - 0.5, np.array(CHIP_TEMPLATE),
                     np.array(CHIP_WEIGHTS), size, pyramid)
    return np.ascontiguousarray(((chip - CHIP_MEAN) / 256).transpose(2, 0, 1)[np.newaxis])


def _age_gender(region: _Region) -> dict[str, Any]:
    ages = region.run(AGE_MODEL, _chip_batch(region, 64))[0][0].astype(np.float64)
    genders = region.run(GENDER_MODEL, _chip_batch(region, 32))[0][0]
    age = float(ages @ AGE_WEIGHTS)
    spread = float(np.sqrt(ages @ (AGE_WEIGHTS - age) ** 2))
    a, b, c, d = AGE_HALF_WIDTH
    half = min(max(spread, a + b * age), c + d * age)
    chosen = int(np.argmax(genders))
    return {
        "agerange": {"low": max(0, floor(age - half)), "high": ceil(age + half)},
        "gender": {"value": GENDERS[chosen],
                   "confidence": round(float(genders[chosen]) * 100, 3)},
    }


def _similarity(source: np.ndarray, target: np.ndarray, weights: np.ndarray | None
                ) -> tuple[float, float, float, float]:
    """Weighted least squares ``(a, b, tx, ty)``: ``x' = a x - b y + tx, y' = b x + a y + ty``."""
    n = len(source)
    rows = np.zeros((2 * n, 4))
    rows[0::2] = np.column_stack([source[:, 0], -source[:, 1], np.ones(n), np.zeros(n)])
    rows[1::2] = np.column_stack([source[:, 1], source[:, 0], np.zeros(n), np.ones(n)])
    root = np.repeat(np.sqrt(np.ones(n) if weights is None else weights), 2)
    solution = np.linalg.lstsq(rows * root[:, None], target.reshape(-1) * root, rcond=None)[0]
    a, b, tx, ty = (float(v) for v in solution)
    return a, b, tx, ty


def _pyramid_down(pixels: np.ndarray) -> np.ndarray:
    """dlib's ``pyramid_down<2>``: 5-tap filter, every other pixel, truncated like uint8."""
    rows, cols = (pixels.shape[0] - 3) // 2, (pixels.shape[1] - 3) // 2
    taps = [pixels[j:j + 2 * rows:2] for j in range(5)]
    tall = taps[0] + taps[4]  # weights 1 4 6 4 1: whole numbers, exact in float32
    tall += 4 * (taps[1] + taps[3]) + 6 * taps[2]
    taps = [tall[:, j:j + 2 * cols:2] for j in range(5)]
    wide = taps[0] + taps[4]
    wide += 4 * (taps[1] + taps[3]) + 6 * taps[2]
    return np.floor(wide / 256)


def face_chip(pixels: np.ndarray, points: np.ndarray, template: np.ndarray,
              weights: np.ndarray | None, size: int,
              pyramid: list[np.ndarray] | None = None) -> np.ndarray:
    """dlib's ``extract_image_chip(get_face_chip_details(...))`` for ``points`` -> ``template``.

    ``pixels``: float32 ``[H, W, 3]``; ``points``: landmarks in dlib's pixel convention
    (pixel ``i`` centred on ``i``); ``template``: where they belong on the unit square
    (padding :data:`CHIP_PADDING` is added around it). ``pyramid`` caches reduced levels.
    """
    chip_points = (CHIP_PADDING + template) / (1 + 2 * CHIP_PADDING) * size
    a, b, tx, ty = _similarity(chip_points, points, weights)
    scale = float(np.hypot(a, b))
    cos, sin = a / scale, b / scale
    centre = np.array([a * size / 2 - b * size / 2 + tx, b * size / 2 + a * size / 2 + ty])
    width = size * scale - 1  # dlib's centered_drect
    level = 0
    while (width / 2) ** 2 > size * size:
        level, width = level + 1, width / 2
        centre = centre / 2 - PYRAMID_SHIFT
    levels = pyramid if pyramid is not None else []
    while len(levels) < level:
        levels.append(_pyramid_down(levels[-1] if levels else pixels))
    source = levels[level - 1] if level else pixels
    step = width / (size - 1)
    grid = np.arange(size) - (size - 1) / 2
    u, v = np.meshgrid(grid, grid)
    xs = centre[0] + step * (cos * u - sin * v)
    ys = centre[1] + step * (sin * u + cos * v)
    return _bilinear(source, xs, ys)


def _bilinear(pixels: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """dlib's interpolate_bilinear: 0 outside the image, truncated like uint8."""
    height, width = pixels.shape[:2]
    x0, y0 = np.floor(xs).astype(np.intp), np.floor(ys).astype(np.intp)
    inside = (x0 >= 0) & (y0 >= 0) & (x0 + 1 < width) & (y0 + 1 < height)
    x0, y0 = np.clip(x0, 0, max(0, width - 2)), np.clip(y0, 0, max(0, height - 2))
    fx, fy = (xs - x0)[..., None], (ys - y0)[..., None]
    x1, y1 = np.minimum(x0 + 1, width - 1), np.minimum(y0 + 1, height - 1)
    top = pixels[y0, x0] * (1 - fx) + pixels[y0, x1] * fx
    bottom = pixels[y1, x0] * (1 - fx) + pixels[y1, x1] * fx
    value = np.floor(top * (1 - fy) + bottom * fy)
    return np.where(inside[..., None], value, 0.0).astype(np.float32)


# ---------------------------------------------------------------------------- emotions


def _fer_square(region: _Region) -> np.ndarray:
    box = region.box
    side = FER_BOX_SCALE * max(box[2] - box[0], box[3] - box[1])
    grey = region.square((box[:2] + box[2:]) / 2, side, region.roll, FER_SIZE, mode="L")
    return (grey / 127.5 - 1.0)[np.newaxis, :, :, np.newaxis].astype(np.float32)


def _emotions(region: _Region) -> np.ndarray:
    return region.run(FER_MODEL, _fer_square(region))[0][0]


# --------------------------------------------------------------------------- face mesh


def _mesh_square(region: _Region) -> tuple[np.ndarray, np.ndarray, float, float]:
    box, points = region.box, region.points
    centre = (points[:2].mean(axis=0) + points[3:].mean(axis=0)) / 2
    side = MESH_BOX_SCALE * max(box[2] - box[0], box[3] - box[1])
    square = region.square(centre, side, region.roll, MESH_SIZE) / 255.0
    return square[np.newaxis].astype(np.float32), centre, side, region.roll


def _mesh(region: _Region) -> np.ndarray | None:
    """468 Face Mesh points ``(x, y, z)`` in region pixels, or None when it sees no face."""
    if "mesh" not in region._cache:
        batch, centre, side, angle = _mesh_square(region)
        landmarks, flag = region.run(MESH_MODEL, batch)
        if 1 / (1 + np.exp(-float(flag.reshape(-1)[0]))) < 0.5:
            region._cache["mesh"] = None
        else:
            mesh = landmarks.reshape(468, 3).astype(np.float64) * (side / MESH_SIZE)
            mesh[:, :2] = centre + (mesh[:, :2] - side / 2) @ _turn(angle).T
            region._cache["mesh"] = mesh
    return region._cache["mesh"]


def _fit_rotation(source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """Umeyama: rotation ``R``, scale ``s``, shift ``t`` with ``target ≈ s R source + t``."""
    source_mean, target_mean = source.mean(axis=0), target.mean(axis=0)
    a, b = source - source_mean, target - target_mean
    u, singular, vt = np.linalg.svd(b.T @ a)
    signs = np.array([1.0, 1.0, np.sign(np.linalg.det(u @ vt))])
    rotation = u @ np.diag(signs) @ vt
    scale = float((singular * signs).sum() / (a**2).sum())
    return rotation, scale, target_mean - scale * rotation @ source_mean


def _eye_square(region: _Region, corners: np.ndarray, mirror: bool) -> np.ndarray:
    inner = corners[1] - corners[0]
    angle = float(np.arctan2(inner[1], inner[0]))
    side = IRIS_SCALE * float(np.hypot(*inner))
    square = region.square(corners.mean(axis=0), side, angle, IRIS_SIZE, mirror=mirror)
    return (square / 255.0)[np.newaxis].astype(np.float32)


def _eye_opening(region: _Region, mesh: np.ndarray) -> float:
    """Eyelid gap over eye width (Iris contour) of the eye that looks wider in the photo."""
    widths = [np.linalg.norm(mesh[b, :2] - mesh[a, :2]) for a, b in EYE_CORNERS]
    chosen = int(np.argmax(widths))  # the eye nearer the camera; Iris mirrors the second
    batch = _eye_square(region, mesh[list(EYE_CORNERS[chosen]), :2], mirror=chosen == 1)
    contour = region.run(IRIS_MODEL, batch)[0].reshape(71, 3)[:, :2]
    gaps = [np.linalg.norm(contour[u] - contour[w]) for u, w in EYELID_PAIRS]
    return float(np.mean(gaps) / np.linalg.norm(contour[EYE_ENDS[0]] - contour[EYE_ENDS[1]]))


# ------------------------------------------------------------------------------ verdicts


def _logistic(rule: str, measure: float) -> float:
    centre, width = RULES[rule]
    return float(1 / (1 + np.exp(-(measure - centre) / width)))


def _verdict(probability: float) -> dict[str, Any]:
    value = probability >= 0.5
    return {"value": value, "confidence": round(100 * (probability if value
                                                       else 1 - probability), 3)}

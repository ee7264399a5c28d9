"""DetectFaces, offline: RetinaFace (mobilenet0.25) boxes, confidence, landmarks, quality.

The network's raw outputs are decoded here with its prior boxes (strides 8/16/32,
two anchor sizes each, variances 0.1/0.2), thresholded and merged by greedy NMS.
Each face becomes a Rekognition ``FaceDetail``: relative ``boundingbox``, confidence
0–100, five ``landmarks`` (eyeLeft, eyeRight, nose, mouthLeft, mouthRight — left and
right as seen in the photo), ``pose.roll`` from the eye line, and ``quality``
(brightness: mean luminance of the face, 0–100; sharpness: variance of its Laplacian,
scaled to 0–100). Age, gender, emotions, smile, eyes and mouth open, glasses, beard
and mustache, yaw and pitch are not in the model pack yet: they stay null.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import atan2, ceil, degrees
from typing import Any

import numpy as np
from PIL import Image, ImageFilter

from socialsight.models import runtime
from socialsight.models.base import OnnxModel
from socialsight.models.boxes import nms

MODEL = "retinaface_mnet025.onnx"
STEPS = (8, 16, 32)
MIN_SIZES = ((16, 32), (64, 128), (256, 512))
VARIANCES = (0.1, 0.2)
MEAN_BGR = np.array([104.0, 117.0, 123.0], dtype=np.float32)
MAX_SIDE = 1280  # larger photos are scaled down before detection
NMS_IOU = 0.4
LANDMARKS = ("eyeLeft", "eyeRight", "nose", "mouthLeft", "mouthRight")


@dataclass
class FaceDetail:
    box: tuple[float, float, float, float]  # left, top, width, height (relative)
    confidence: float
    landmarks: list[tuple[str, float, float]]
    roll: float
    brightness: float
    sharpness: float
    extra: dict[str, Any] = field(default_factory=dict)

    def as_rekognition(self) -> dict[str, Any]:
        """A row of ``image_labels.facedetails`` (the seed's column names; unknowns null).

        ``extra`` holds what :mod:`socialsight.vision.face_attributes` found (age range,
        gender, smile, eyes, mouth, emotions, yaw and pitch).
        """
        left, top, width, height = self.box
        extra = dict(self.extra)
        pose = {"roll": self.roll, "yaw": None, "pitch": None} | extra.pop("pose", {})
        row = {
            "boundingbox": {"width": width, "height": height, "left": left, "top": top},
            "confidence": self.confidence,
            "landmarks": [{"type": t, "x": x, "y": y} for t, x, y in self.landmarks],
            "pose": pose,
            "quality": {"brightness": self.brightness, "sharpness": self.sharpness},
            "agerange": None, "gender": None, "smile": None, "eyeglasses": None,
            "sunglasses": None, "beard": None, "mustache": None, "eyesopen": None,
            "mouthopen": None, "emotions": None,
        }
        row.update({k: v for k, v in extra.items() if k in row})
        return row


def prior_boxes(height: int, width: int) -> np.ndarray:
    """``(cx, cy, w, h)`` of every anchor, relative, in the network's output order."""
    levels = []
    for step, sizes in zip(STEPS, MIN_SIZES, strict=True):
        cy, cx, size = np.meshgrid((np.arange(ceil(height / step)) + 0.5) * step / height,
                                   (np.arange(ceil(width / step)) + 0.5) * step / width,
                                   np.asarray(sizes, dtype=np.float64), indexing="ij")
        levels.append(np.stack([cx, cy, size / width, size / height], axis=-1).reshape(-1, 4))
    return np.concatenate(levels).astype(np.float32)



def _quality(gray: Image.Image) -> tuple[float, float]:
    pixels = np.asarray(gray, dtype=np.float32)
    if pixels.size == 0:
        return 0.0, 0.0
    laplacian = np.asarray(gray.filter(ImageFilter.Kernel(
        (3, 3), (0, 1, 0, 1, -4, 1, 0, 1, 0), scale=1, offset=128)), dtype=np.float32)
    sharpness = min(100.0, float(laplacian.var()) / 10.0)
    return round(float(pixels.mean()) / 2.55, 3), round(sharpness, 3)


class FaceDetector(OnnxModel):
    """RetinaFace (MobileNet 0.25): each photo's (boxes, scores, landmarks) per prior."""

    name = "faces"
    file = MODEL


def detect_faces(image: Image.Image, min_confidence: float = 90.0,
                 threads: int = 1, directory: str | None = None) -> list[FaceDetail]:
    """The faces in one photo, most confident first."""
    rgb = image.convert("RGB")
    scale = min(1.0, MAX_SIDE / max(rgb.size))
    small = rgb if scale == 1.0 else rgb.resize(
        (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale))),
        Image.Resampling.BILINEAR)
    width, height = small.size
    batch = (np.asarray(small, dtype=np.float32)[:, :, ::-1] - MEAN_BGR).transpose(2, 0, 1)
    # On a GPU every new input shape costs more than the detection itself (cuDNN plans
    # its convolutions again), so photos go in on one square canvas, padded with the mean.
    side_h, side_w = (MAX_SIDE, MAX_SIDE) if runtime.on_gpu() else (height, width)
    if (side_h, side_w) != (height, width):
        canvas = np.zeros((3, side_h, side_w), dtype=np.float32)
        canvas[:, :height, :width] = batch
        batch = canvas
    [[loc, conf, landms]] = FaceDetector(threads, directory).predict(
        [np.ascontiguousarray(batch[np.newaxis])])
    priors = prior_boxes(side_h, side_w)
    priors = priors * np.array([side_w / width, side_h / height] * 2, dtype=priors.dtype)
    scores = conf[:, 1]
    chosen = np.flatnonzero(scores * 100 >= min_confidence)
    if chosen.size == 0:
        return []
    chosen = chosen[np.argsort(scores[chosen])[::-1][:5000]]
    v0, v1 = VARIANCES
    p = priors[chosen]
    centres = p[:, :2] + loc[chosen, :2] * v0 * p[:, 2:]
    sizes = p[:, 2:] * np.exp(loc[chosen, 2:] * v1)
    rel = np.concatenate([centres - sizes / 2, centres + sizes / 2], axis=1)
    points = p[:, None, :2] + landms[chosen].reshape(-1, 5, 2) * v0 * p[:, None, 2:]
    pixels = rel * np.array([width, height, width, height], dtype=np.float32)
    gray = rgb.convert("L")
    faces = []
    for i in nms(pixels, scores[chosen], NMS_IOU, offset=1.0)[:750]:
        x1, y1, x2, y2 = (float(np.clip(v, 0.0, 1.0)) for v in rel[i])
        marks = [(name, float(np.clip(x, 0, 1)), float(np.clip(y, 0, 1)))
                 for name, (x, y) in zip(LANDMARKS, points[i], strict=True)]
        (_, lx, ly), (_, rx, ry) = marks[0], marks[1]
        roll = degrees(atan2((ry - ly) * rgb.height, (rx - lx) * rgb.width))
        crop = gray.crop((round(x1 * rgb.width), round(y1 * rgb.height),
                          round(x2 * rgb.width), round(y2 * rgb.height)))
        brightness, sharpness = _quality(crop)
        confidence = round(float(scores[chosen][i]) * 100, 3)
        faces.append(FaceDetail((x1, y1, x2 - x1, y2 - y1), confidence, marks,
                                round(roll, 3), brightness, sharpness))
    return faces

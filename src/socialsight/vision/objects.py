"""DetectLabels' instances, offline: COCO-80 objects with boxes, from YOLOX-Nano.

Rekognition gives some labels ``Instances``: one bounding box and confidence per object
it found (each Person, Car, Cup in the photo). This module finds them with YOLOX-Nano
(Megvii, Apache-2.0; ``yolox_nano.onnx``, see models/MODELS.md), which knows the 80 COCO
object classes. The photo is letterboxed to 416 x 416 (scaled, pasted top-left on grey
114, BGR, raw 0-255 values), the network's grid outputs are decoded (strides 8/16/32),
a class's score is objectness x class probability, and overlapping boxes of the same
class are merged by greedy NMS at IoU 0.45. Names are the COCO classes as Rekognition
spells its labels, in Title Case (:data:`NAMES`). Boxes are relative to the photo and
clipped to it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from socialsight.models.base import OnnxModel
from socialsight.vision.boxes import nms, on_photo

MODEL = "yolox_nano.onnx"
SIZE = 416
STRIDES = (8, 16, 32)
PAD = 114.0
REDUCING_GAP = 3.0  # Pillow's two-step downscale for photos over 3 x 416 px
NMS_IOU = 0.45
CANDIDATES = 1000  # the most confident boxes that go into NMS
MAX_INSTANCES = 100

# The model's 80 classes in output order (COCO-80 as YOLOX orders them), named as
# Rekognition names its labels. Only four differ from COCO's own spelling: tv, sports
# ball, remote and hair drier.
NAMES: tuple[str, ...] = (
    "Person", "Bicycle", "Car", "Motorcycle", "Airplane", "Bus", "Train", "Truck", "Boat",
    "Traffic Light", "Fire Hydrant", "Stop Sign", "Parking Meter", "Bench", "Bird", "Cat",
    "Dog", "Horse", "Sheep", "Cow", "Elephant", "Bear", "Zebra", "Giraffe", "Backpack",
    "Umbrella", "Handbag", "Tie", "Suitcase", "Frisbee", "Skis", "Snowboard", "Ball",
    "Kite", "Baseball Bat", "Baseball Glove", "Skateboard", "Surfboard", "Tennis Racket",
    "Bottle", "Wine Glass", "Cup", "Fork", "Knife", "Spoon", "Bowl", "Banana", "Apple",
    "Sandwich", "Orange", "Broccoli", "Carrot", "Hot Dog", "Pizza", "Donut", "Cake", "Chair",
    "Couch", "Potted Plant", "Bed", "Dining Table", "Toilet", "TV", "Laptop", "Mouse",
    "Remote Control", "Keyboard", "Cell Phone", "Microwave", "Oven", "Toaster", "Sink",
    "Refrigerator", "Book", "Clock", "Vase", "Scissors", "Teddy Bear", "Hair Dryer",
    "Toothbrush",
)


@dataclass(frozen=True)
class Instance:
    name: str
    confidence: float  # 0-100
    box: tuple[float, float, float, float]  # left, top, width, height (relative, 0-1)

    def as_rekognition(self) -> dict[str, Any]:
        """One entry of a label's ``instances`` (the seed's column names)."""
        left, top, width, height = self.box
        return {"boundingbox": {"width": width, "height": height, "left": left, "top": top},
                "confidence": self.confidence}


def letterbox(image: Image.Image) -> tuple[np.ndarray, float]:
    """The network's input ``[1, 3, 416, 416]`` and the scale ``r`` applied to the photo."""
    r = min(SIZE / image.width, SIZE / image.height)
    width, height = max(1, int(image.width * r)), max(1, int(image.height * r))
    # Scale first (a big photo is not copied whole); reducing_gap makes that fast.
    source = image if image.mode in ("RGB", "L") else image.convert("RGB")
    small = source.resize((width, height), Image.Resampling.BILINEAR, reducing_gap=REDUCING_GAP)
    pixels = np.asarray(small.convert("RGB"))
    batch = np.full((1, 3, SIZE, SIZE), PAD, dtype=np.float32)
    batch[0, :, :height, :width] = pixels.transpose(2, 0, 1)[::-1]  # RGB -> BGR
    return batch, r


@functools.cache
def grid() -> tuple[np.ndarray, np.ndarray]:
    """Each output row's cell ``(column, row)`` and stride, finest stride first."""
    cells, strides = [], []
    for stride in STRIDES:
        n = SIZE // stride
        rows, cols = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        cells.append(np.stack([cols, rows], axis=-1).reshape(-1, 2))
        strides.append(np.full((n * n, 1), stride))
    return np.concatenate(cells).astype(np.float32), np.concatenate(strides).astype(np.float32)


def decode(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``[A, 85]`` outputs -> boxes ``(x1, y1, x2, y2)`` in input pixels, scores ``[A, 80]``."""
    cells, strides = grid()
    centres = (raw[:, :2] + cells) * strides
    sizes = np.exp(raw[:, 2:4]) * strides
    boxes = np.concatenate([centres - sizes / 2, centres + sizes / 2], axis=1)
    return boxes, raw[:, 4:5] * raw[:, 5:]


def _nms(boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray) -> list[int]:
    """Greedy NMS within each class (boxes of different classes are shifted apart)."""
    return nms(boxes + (classes * (SIZE * 4.0))[:, None], scores, NMS_IOU)


class Detector(OnnxModel):
    """YOLOX-nano: each letterboxed photo's raw predictions (see :func:`decode`)."""

    name = "objects"
    file = MODEL


def detect_objects(image: Image.Image, min_confidence: float = 50.0, threads: int = 1,
                   directory: str | None = None) -> list[Instance]:
    """The COCO objects in one photo, most confident first (confidence 0-100)."""
    batch, r = letterbox(image)
    [[raw]] = Detector(threads, directory).predict([batch])
    boxes, scores = decode(raw)
    anchors, classes = np.nonzero(scores * 100.0 >= min_confidence)
    if anchors.size == 0:
        return []
    confidence = scores[anchors, classes]
    top = np.argsort(confidence)[::-1][:CANDIDATES]
    chosen, confidence, classes = boxes[anchors[top]], confidence[top], classes[top]
    kept = _nms(chosen, confidence, classes)[:MAX_INSTANCES]
    return [Instance(NAMES[int(classes[i])], round(float(confidence[i]) * 100, 3), box)
            for i, box in zip(kept, on_photo(chosen[kept], image.width, image.height, r),
                              strict=True)]

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

from socialsight.models.detector import BoxDetector

MODEL = "yolox_nano.onnx"
SIZE = 416
STRIDES = (8, 16, 32)
PAD = 114.0
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


class Detector(BoxDetector):
    """YOLOX-nano: BGR 0-255 on grey, sides truncated, NMS within each class."""

    name = "objects"
    file = MODEL
    size, pad, bgr, divide, rounded = SIZE, PAD, True, 1.0, False
    iou, per_class, most = NMS_IOU, True, MAX_INSTANCES

    def decode(self, outputs: list[np.ndarray], min_confidence: float,
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``[A, 85]`` grid outputs: each (anchor, class) of objectness x class probability
        at least ``min_confidence``, the :data:`CANDIDATES` most confident."""
        [raw] = outputs
        cells, strides = grid()
        centres = (raw[:, :2] + cells) * strides
        sizes = np.exp(raw[:, 2:4]) * strides
        boxes = np.concatenate([centres - sizes / 2, centres + sizes / 2], axis=1)
        scores = raw[:, 4:5] * raw[:, 5:]
        anchors, classes = np.nonzero(scores * 100.0 >= min_confidence)
        confidence = scores[anchors, classes]
        top = np.argsort(confidence)[::-1][:CANDIDATES]
        return boxes[anchors[top]], confidence[top], classes[top]


def detect_objects(image: Image.Image, min_confidence: float = 50.0, threads: int = 1,
                   directory: str | None = None) -> list[Instance]:
    """The COCO objects in one photo, most confident first (confidence 0-100)."""
    found = Detector(threads, directory).detect(image, min_confidence)
    return [Instance(NAMES[f.index], f.confidence, f.box) for f in found]

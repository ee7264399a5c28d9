"""One flow for the box detectors: letterbox, session, decode, NMS, boxes back on the photo.

A :class:`BoxDetector` is an :class:`~socialsight.models.base.OnnxModel` whose input is
one letterboxed photo: the photo scaled by ``r`` so that it fits a square of :attr:`size`
pixels (its sides truncated or rounded), pasted top-left on :attr:`pad`, in RGB or BGR
order, each value divided by :attr:`divide`. A subclass states those settings as class
attributes, and writes only :meth:`decode`: its network's outputs as boxes
``(x1, y1, x2, y2)`` in input pixels, their scores and their classes. :meth:`detect`
does the rest, the same for every detector: greedy NMS at :attr:`iou` (within each class
or across them, :attr:`per_class`), the :attr:`most` confident kept boxes, and each
box relative to the photo and clipped to it (:func:`socialsight.models.boxes.on_photo`).
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from PIL import Image

from socialsight.models.base import OnnxModel
from socialsight.models.boxes import nms, on_photo

REDUCING_GAP = 3.0  # Pillow's two-step downscale for photos over 3 x the input size


@dataclass(frozen=True)
class Found:
    """One detection: the class's index, its confidence (0-100) and its box."""

    index: int
    confidence: float
    box: tuple[float, float, float, float]  # left, top, width, height (relative, 0-1)


class BoxDetector(OnnxModel):
    """A detector of boxes in a letterboxed photo (see the module's docstring)."""

    size: ClassVar[int]  # the square input's side, in pixels
    pad: ClassVar[float]  # the value around the scaled photo
    bgr: ClassVar[bool]  # channels in BGR order (else RGB)
    divide: ClassVar[float]  # each 0-255 value divided by this (1: raw values)
    rounded: ClassVar[bool]  # the scaled photo's sides rounded (else truncated)
    iou: ClassVar[float]  # NMS drops a box that overlaps a kept one by more
    per_class: ClassVar[bool]  # NMS within each class (else across classes)
    most: ClassVar[int]  # the most boxes kept

    def letterbox(self, image: Image.Image) -> tuple[np.ndarray, float]:
        """The network's input ``[1, 3, size, size]`` and the scale ``r`` of the photo."""
        r = min(self.size / image.width, self.size / image.height)
        side = round if self.rounded else int
        width, height = max(1, side(image.width * r)), max(1, side(image.height * r))
        # Scale first (a big photo is not copied whole); reducing_gap makes that fast.
        source = image if image.mode in ("RGB", "L") else image.convert("RGB")
        small = source.resize((width, height), Image.Resampling.BILINEAR,
                              reducing_gap=REDUCING_GAP)
        pixels = np.asarray(small.convert("RGB"), dtype=np.float32) / self.divide
        batch = np.full((1, 3, self.size, self.size), self.pad, dtype=np.float32)
        channels = pixels.transpose(2, 0, 1)
        batch[0, :, :height, :width] = channels[::-1] if self.bgr else channels
        return batch, r

    @abstractmethod
    def decode(self, outputs: list[np.ndarray], min_confidence: float,
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One photo's outputs as boxes ``(x1, y1, x2, y2)`` in input pixels, their scores
        (0-1) and class indices, only those of at least ``min_confidence`` (0-100)."""

    def detect(self, image: Image.Image, min_confidence: float) -> list[Found]:
        """What the network finds in one photo, most confident first."""
        batch, r = self.letterbox(image)
        [outputs] = self.predict([batch])
        boxes, scores, classes = self.decode(outputs, min_confidence)
        if len(scores) == 0:
            return []
        apart = boxes + (classes * (self.size * 4.0))[:, None] if self.per_class else boxes
        kept = nms(apart, scores, self.iou)[:self.most]
        return [Found(int(classes[i]), round(float(scores[i]) * 100, 3), box)
                for i, box in zip(kept, on_photo(boxes[kept], image.width, image.height, r),
                                  strict=True)]

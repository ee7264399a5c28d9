"""Box arithmetic shared by the detectors: greedy non-maximum suppression, and boxes of a
letterboxed input back on the photo.

The detectors' shared flow, with the letterbox their settings differ in, is
:class:`socialsight.models.detector.BoxDetector`; RetinaFace (faces) uses :func:`nms` alone.
"""

from __future__ import annotations

import numpy as np


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float, offset: float = 0.0) -> list[int]:
    """Indices of the boxes ``(x1, y1, x2, y2)`` kept by greedy NMS, most confident first.

    A box is dropped when it overlaps a kept, more confident one by more than ``iou``.
    ``offset`` is added to widths and heights (1 for models trained with the ``+ 1``
    pixel-area convention, such as RetinaFace).
    """
    x1, y1, x2, y2 = boxes.T
    areas = (x2 - x1 + offset) * (y2 - y1 + offset)
    order, keep = scores.argsort()[::-1], []
    while order.size:
        i, rest = int(order[0]), order[1:]
        keep.append(i)
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + offset)
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + offset)
        inter = w * h
        order = rest[inter / np.maximum(areas[i] + areas[rest] - inter, 1e-9) <= iou]
    return keep


def on_photo(boxes: np.ndarray, width: int, height: int, r: float,
             ) -> list[tuple[float, float, float, float]]:
    """Boxes ``(x1, y1, x2, y2)`` in the pixels of a letterboxed input (the photo scaled
    by ``r``, pasted top-left) as ``(left, top, width, height)`` relative to the photo
    of ``width`` x ``height``, clipped to it."""
    scale = np.array([width, height] * 2, dtype=np.float32) * r
    out = []
    for box in boxes:
        x1, y1, x2, y2 = (float(v) for v in np.clip(box / scale, 0.0, 1.0))
        out.append((x1, y1, x2 - x1, y2 - y1))
    return out

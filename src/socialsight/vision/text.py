"""DetectText, offline: PP-OCR (rapidocr's wheel) as Rekognition's LINE and WORD detections.

Lines come in reading order with ids 0, 1, …; each line's words follow with their
own ids and ``parentid`` naming the line, as Rekognition numbers them. Geometry is
relative to the photo (0–1): an axis-aligned ``boundingbox`` and the ``polygon`` of
four corners; confidences are 0–100. The three ONNX files ship inside the rapidocr
wheel and are checked by sha256 before rapidocr is started, so it never has a reason
to download one; its model settings are left as shipped for the same reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from socialsight.models import runtime
from socialsight.models.base import Model, OnnxModel

MODELS = ("ppocr-det.onnx", "ppocr-rec.onnx", "ppocr-cls.onnx")
# The detector sees the photo scaled so that its short side is at least
# DETECT_MIN_SIDE (small print in small photos needs it: rapidocr's default, 736, cost
# 0.70 s a photo on the benchmark set; 480 read the page and a motorbike's YAMAHA better)
# and its long side at most DETECT_MAX_SIDE (the detector's cost grows faster than the
# pixels: 960 cost 17% more than 736 on the benchmark's photos, and read no more).
DETECT_MIN_SIDE = 480
DETECT_MAX_SIDE = 736
MIN_CHARACTERS = 2  # letters or digits a line needs to count as text
# The quick look for text that gating uses: the detector alone, on the photo scaled
# to this long side; fewer than GLANCE_PIXELS pixels with a text probability over
# GLANCE_THRESHOLD means no text worth reading.
GLANCE_SIDE = 320
GLANCE_THRESHOLD = 0.3
GLANCE_PIXELS = 64


@dataclass
class TextDetection:
    detectedtext: str
    type: str  # LINE | WORD
    id: int
    parentid: int | None
    confidence: float
    polygon: list[tuple[float, float]]

    def as_rekognition(self) -> dict[str, Any]:
        """A row of ``image_labels.textdetections`` (the seed's column names)."""
        xs, ys = [p[0] for p in self.polygon], [p[1] for p in self.polygon]
        box = {"width": max(xs) - min(xs), "height": max(ys) - min(ys),
               "left": min(xs), "top": min(ys)}
        return {"detectedtext": self.detectedtext, "type": self.type, "id": self.id,
                "parentid": self.parentid, "confidence": self.confidence,
                "geometry": {"boundingbox": box,
                             "polygon": [{"x": x, "y": y} for x, y in self.polygon]}}


class Reader(Model[np.ndarray, Any]):
    """PP-OCR through rapidocr's pipeline: each photo's reading (BGR pixels in,
    rapidocr's result out). The pipeline is not documented as thread-safe, so the
    registry says so and readings take turns within a process (the AWS API serves
    requests from threads; enrich's workers are processes)."""

    name = "text"

    def _load(self) -> Any:
        for file in self.spec.files:
            runtime.model_path(file.name)  # refuse a missing or altered file up front
        from rapidocr import RapidOCR

        engine = RapidOCR(params={
            "Global.return_word_box": True, "Global.log_level": "error",
            # Photos arrive scaled (see _for_detection); rapidocr keeps them as they
            # are, rounded to multiples of 32.
            "Det.limit_type": "max", "Det.limit_side_len": 4096,
            "EngineConfig.onnxruntime.intra_op_num_threads": self.threads,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            # Reading stays on the CPU, GPU or not: its detector and recogniser see a
            # new input shape for every photo and line, which on a GPU costs more
            # than it saves (measured: 1.0 s a photo on an H100 against 0.44 s).
            "EngineConfig.onnxruntime.use_cuda": False,
        })
        logging.getLogger("RapidOCR").setLevel(logging.ERROR)
        return engine

    def _predict(self, loaded: Any, batch: list[np.ndarray]) -> list[Any]:
        return [loaded(pixels) for pixels in batch]


class Glance(OnnxModel):
    """PP-OCR's detector alone: each photo's text probability map (see :func:`likely_text`)."""

    name = "text_glance"
    file = MODELS[0]


def _relative(points: Any, width: int, height: int) -> list[tuple[float, float]]:
    return [(min(max(float(x) / width, 0.0), 1.0), min(max(float(y) / height, 0.0), 1.0))
            for x, y in points]


def _for_detection(rgb: Image.Image) -> Image.Image:
    """The photo at the size the detector reads it best for its cost (see DETECT_*)."""
    scale = max(1.0, DETECT_MIN_SIDE / min(rgb.size))
    scale = min(scale, DETECT_MAX_SIDE / max(rgb.size))
    if abs(scale - 1.0) < 0.01:
        return rgb
    return rgb.resize((max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale))),
                      Image.Resampling.BILINEAR)


def likely_text(image: Image.Image, threads: int = 1) -> bool:
    """A quick look (about 40 ms on one thread): could this photo have text to read?

    Runs only PP-OCR's detector, on the photo scaled to a 320-pixel long side. It errs
    towards yes (strong edges look like text to it); :func:`detect_text` then decides.
    Very small print in a large photo can be missed.
    """
    rgb = image.convert("RGB")
    scale = GLANCE_SIDE / max(rgb.size)
    width = max(32, round(rgb.width * scale / 32) * 32)
    height = max(32, round(rgb.height * scale / 32) * 32)
    pixels = np.asarray(rgb.resize((width, height), Image.Resampling.BILINEAR),
                        dtype=np.float32)[:, :, ::-1]  # BGR, as rapidocr feeds it
    batch = ((pixels / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)[np.newaxis]
    if runtime.on_gpu() and (height, width) != (GLANCE_SIDE, GLANCE_SIDE):
        # One input shape for every photo: on a GPU each new one costs more than the look.
        canvas = np.full((1, 3, GLANCE_SIDE, GLANCE_SIDE), -1.0, dtype=batch.dtype)  # black
        canvas[:, :, :height, :width] = batch
        batch = canvas
    [[prob]] = Glance(threads).predict([np.ascontiguousarray(batch)])
    return int((prob > GLANCE_THRESHOLD).sum()) >= GLANCE_PIXELS


def detect_text(image: Image.Image, min_confidence: float = 50.0,
                threads: int = 1) -> list[TextDetection]:
    """LINE detections in reading order, then the WORDs of each line."""
    rgb = _for_detection(image.convert("RGB"))
    width, height = rgb.size
    [result] = Reader(threads).predict([np.asarray(rgb)[:, :, ::-1]])  # rapidocr takes BGR
    if not result.txts:
        return []
    words_of_lines = getattr(result, "word_results", None) or [()] * len(result.txts)
    lines: list[TextDetection] = []
    words: list[TextDetection] = []
    for text, score, box, line_words in zip(result.txts, result.scores, result.boxes,
                                            words_of_lines, strict=False):
        if sum(c.isalnum() for c in text) < MIN_CHARACTERS or score * 100 < min_confidence:
            continue  # a lone "O" read off a cup's rim is not text anyone wrote
        line_id = len(lines)
        lines.append(TextDetection(text, "LINE", line_id, None, round(score * 100, 3),
                                   _relative(box, width, height)))
        for word, word_score, word_box in line_words or ():
            if word and word.strip() and word_box is not None:
                words.append(TextDetection(word, "WORD", 0, line_id,
                                           round(float(word_score) * 100, 3),
                                           _relative(word_box, width, height)))
    for offset, word in enumerate(words):
        word.id = len(lines) + offset
    return lines + words

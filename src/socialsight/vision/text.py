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

# Reading: PP-OCRv6's *tiny* detector, its small recogniser and the orientation classifier.
# The detector sees the photo scaled so that its short side is at least DETECT_MIN_SIDE
# (enlarged at most DETECT_MAX_UPSCALE times) and its long side at most DETECT_MAX_SIDE.
# On the development photos of bench/labels.py the tiny detector at 720/1280 read 0.62
# of the legible lines, where the small one read 0.60 at 480/736 and 0.70 at 720/1280 in
# about twice the time, too slow for the seed's pace. At 480/960 the tiny one reads 0.57
# in 0.6 of the time.
DETECT_MODEL = "ppocr_det_tiny.onnx"
# Enlarging a small photo more than 1.25 times read one more of those 63 lines, at 720
# pixels, for a third more time (a 384-pixel page: three times the pixels).
DETECT_MIN_SIDE = 720
DETECT_MAX_SIDE = 1280
DETECT_MAX_UPSCALE = 1.25
MIN_CHARACTERS = 2  # letters or digits a line needs to count as text
# The quick look for text that gating uses: PP-OCRv6's *tiny* detector alone, on the photo
# scaled to a GLANCE_SIDE long side, a smaller photo enlarged at most GLANCE_MAX_UPSCALE
# times (it costs less there than the small detector on 320 pixels, where a shirt's logo
# or a bus's destination sign is two pixels tall; on bench/labels' photos, enlarging a
# small photo further found no more text, and 1.0 made one more textless photo look
# worth reading). Pixels over GLANCE_THRESHOLD are joined into regions (4-connected);
# the photo is worth reading when one region looks like a line of text: a mean
# probability of GLANCE_SCORE or more, GLANCE_MIN_AREA pixels or more, at most
# GLANCE_MAX_SHARE of the canvas (brick, fur and chessboards light up as large blobs) and
# a box GLANCE_ELONGATION times as long as it is wide (two characters or more, across or
# down: see MIN_CHARACTERS); or, for a headline in large letters (a meme's caption, a
# sale banner), at most GLANCE_BIG_SHARE of the canvas and GLANCE_BIG_ELONGATION times as
# long as wide, which blobs are not.
GLANCE_SIDE = 640
GLANCE_MAX_UPSCALE = 1.25
GLANCE_THRESHOLD = 0.3
GLANCE_SCORE = 0.5
GLANCE_MIN_AREA = 16
GLANCE_MAX_SHARE = 0.05
GLANCE_ELONGATION = 2.0
GLANCE_BIG_SHARE = 0.25
GLANCE_BIG_ELONGATION = 4.0
# The tiny detector's own normalisation (its inference.yml), on BGR pixels scaled to 0-1.
GLANCE_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
GLANCE_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


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
            # the tiny detector from models/, with its own normalisation
            "Det.model_path": str(runtime.model_path(DETECT_MODEL, self.directory)),
            "Det.mean": GLANCE_MEAN.tolist(), "Det.std": GLANCE_STD.tolist(),
            # Photos arrive scaled (see _for_detection); rapidocr keeps them as they
            # are, rounded to multiples of 32.
            "Det.limit_type": "max", "Det.limit_side_len": 4096,
            # One line a run: a batch pads every line to its longest, and the recogniser's
            # cost grows faster than a line's width (measured on bench/labels' dev photos:
            # the same lines read in 0.70 s a text photo against 0.85 s in sixes).
            "Rec.rec_batch_num": 1,
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
    """PP-OCRv6's tiny detector alone: each photo's text probability map (see
    :func:`likely_text`)."""

    name = "text_glance"
    file = "ppocr_det_tiny.onnx"


def _relative(points: Any, width: int, height: int) -> list[tuple[float, float]]:
    return [(min(max(float(x) / width, 0.0), 1.0), min(max(float(y) / height, 0.0), 1.0))
            for x, y in points]


def _for_detection(rgb: Image.Image) -> Image.Image:
    """The photo at the size the detector reads it best for its cost (see DETECT_*)."""
    scale = min(max(1.0, DETECT_MIN_SIDE / min(rgb.size)), DETECT_MAX_UPSCALE)
    scale = min(scale, DETECT_MAX_SIDE / max(rgb.size))
    if abs(scale - 1.0) < 0.01:
        return rgb
    return rgb.resize((max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale))),
                      Image.Resampling.BILINEAR)


def likely_text(image: Image.Image, threads: int = 1) -> bool:
    """A quick look (about 80 ms on one thread): could this photo have text to read?

    Runs only PP-OCRv6's tiny detector, on the photo scaled to a 640-pixel long side (a
    small one enlarged at most 1.25 times), and says yes when a region of its map looks
    like a line of text (see GLANCE_*). It errs towards yes (stripes and rows of small
    things look like text to it); :func:`detect_text` then decides.
    """
    import cv2

    rgb = image.convert("RGB")
    scale = min(GLANCE_MAX_UPSCALE, GLANCE_SIDE / max(rgb.size))
    width = max(32, round(rgb.width * scale / 32) * 32)
    height = max(32, round(rgb.height * scale / 32) * 32)
    pixels = np.asarray(rgb.resize((width, height), Image.Resampling.BILINEAR),
                        dtype=np.float32)[:, :, ::-1]  # BGR, as PaddleOCR feeds it
    batch = ((pixels / 255.0 - GLANCE_MEAN) / GLANCE_STD).transpose(2, 0, 1)[np.newaxis]
    if runtime.on_gpu() and (height, width) != (GLANCE_SIDE, GLANCE_SIDE):
        # One input shape for every photo: on a GPU each new one costs more than the look.
        canvas = np.empty((1, 3, GLANCE_SIDE, GLANCE_SIDE), dtype=np.float32)
        canvas[:] = (-GLANCE_MEAN / GLANCE_STD)[np.newaxis, :, np.newaxis, np.newaxis]  # black
        canvas[:, :, :height, :width] = batch
        batch = canvas
    [[prob]] = Glance(threads).predict([np.ascontiguousarray(batch, dtype=np.float32)])
    prob = prob[0, :height, :width]  # one channel; the padding, if any, is no part of the photo
    count, labels, stats, _ = cv2.connectedComponentsWithStats(
        (prob > GLANCE_THRESHOLD).astype(np.uint8), connectivity=4)
    if count <= 1:
        return False
    area = stats[:, cv2.CC_STAT_AREA]
    mean = np.bincount(labels.ravel(), prob.ravel(), count) / np.maximum(area, 1)
    long = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    short = np.minimum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    small = (area <= GLANCE_MAX_SHARE * prob.size) & (long >= GLANCE_ELONGATION * short)
    big = (area <= GLANCE_BIG_SHARE * prob.size) & (long >= GLANCE_BIG_ELONGATION * short)
    line = (mean >= GLANCE_SCORE) & (area >= GLANCE_MIN_AREA) & (small | big)
    return bool(line[1:].any())  # region 0 is the background


def _written(text: str) -> bool:
    """Whether a line read looks written: :data:`MIN_CHARACTERS` letters or digits (a lone
    "O" read off a cup's rim is not), and not one character over and over (a roof's tiles
    read as AAAAAA, a row of coins as 000)."""
    characters = [c.lower() for c in text if c.isalnum()]
    return len(characters) >= MIN_CHARACTERS and len(set(characters)) > 1


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
        if not _written(text) or score * 100 < min_confidence:
            continue
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

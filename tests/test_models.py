"""The one model interface: loaded once per process, reset on demand, turns where the
registry says a model is not thread-safe, and CPU-only models never on CUDA."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from socialsight.models import registry, runtime
from socialsight.models.base import Model, OnnxModel

CUDA, CPU = runtime.CUDA, runtime.CPU


def test_a_model_declared_cpu_only_never_gets_the_cuda_provider():
    cpu_only = [spec.name for spec in registry.SPECS.values() if spec.device == "cpu"]
    assert "text" in cpu_only  # PP-OCR's reader, on the CPU GPU or not
    for device in ("auto", "cuda", "cpu"):
        assert runtime.providers(device, {CUDA, CPU}, cpu_only=True) == [CPU]


def test_other_models_take_the_gpu_where_the_device_allows_it():
    assert runtime.providers("auto", {CUDA, CPU}) == [CUDA, CPU]
    assert runtime.providers("cuda", {CUDA, CPU}) == [CUDA, CPU]
    assert runtime.providers("cpu", {CUDA, CPU}) == [CPU]
    assert runtime.providers("auto", {CPU}) == [CPU]


def test_an_onnx_model_asks_for_its_session_as_the_registry_declares(monkeypatch):
    asked: list[tuple[str, bool]] = []

    def session(name: str, threads: int = 1, directory: str | None = None,
                cpu_only: bool = False) -> object:
        asked.append((name, cpu_only))
        return object()

    class Reading(OnnxModel):
        name = "text"  # device="cpu" in the registry
        file = "ppocr-rec.onnx"

    class Labels(OnnxModel):
        name = "labels"  # device="any"
        file = "efficientnet_lite0.onnx"

    monkeypatch.setattr(runtime, "session", session)
    try:
        Reading(threads=3).load()
        Labels(threads=3).load()
    finally:
        Reading.reset()
        Labels.reset()
    assert asked == [("ppocr-rec.onnx", True), ("efficientnet_lite0.onnx", False)]


class Counting(Model[str, str]):
    """A stand-in model: counts its loads, and how many predictions run at once."""

    name = "sentiment"  # thread-safe in the registry
    loads = 0
    running = 0
    most = 0
    guard = threading.Lock()

    def _load(self) -> Any:
        type(self).loads += 1
        return "loaded"

    def _predict(self, loaded: Any, batch: list[str]) -> list[str]:
        cls = type(self)
        with cls.guard:
            cls.running += 1
            cls.most = max(cls.most, cls.running)
        time.sleep(0.05)
        with cls.guard:
            cls.running -= 1
        return [f"{loaded}:{item}" for item in batch]


class Unsafe(Counting):
    name = "entities"  # not thread-safe in the registry: spaCy's pipeline


@pytest.fixture
def counting() -> Any:
    for cls in (Counting, Unsafe):
        cls.reset()
        cls.loads = cls.running = cls.most = 0
    yield
    for cls in (Counting, Unsafe):
        cls.reset()


def test_a_model_loads_once_per_process_until_it_is_reset(counting):
    assert Counting().predict(["a", "b"]) == ["loaded:a", "loaded:b"]
    assert Counting().predict(["c"]) == ["loaded:c"]
    assert Counting.loads == 1
    Counting.reset()
    Counting().predict(["d"])
    assert Counting.loads == 2


def test_a_model_that_is_not_thread_safe_predicts_one_batch_at_a_time(counting):
    assert not registry.spec(Unsafe.name).thread_safe
    assert registry.spec(Counting.name).thread_safe
    for cls in (Unsafe, Counting):
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda i, c=cls: c().predict([str(i)]), range(4)))
        assert results == [["loaded:0"], ["loaded:1"], ["loaded:2"], ["loaded:3"]]
    assert Unsafe.most == 1
    assert Counting.most > 1


# The shared detector skeleton: each detector's letterbox settings, and the one flow.

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from socialsight.models.detector import BoxDetector, Found  # noqa: E402
from socialsight.vision.body_parts import PartDetector  # noqa: E402
from socialsight.vision.objects import Detector  # noqa: E402

RED = (255, 0, 0)


@pytest.mark.parametrize("detector, size, r, height, first, pad", [
    # YOLOX: 416 px, sides truncated (278.03 -> 278), BGR 0-255, grey 114.
    (Detector, 416, 416 / 600, 278, (0.0, 0.0, 255.0), 114.0),
    # nudenet: 320 px, sides rounded (213.87 -> 214), RGB 0-1, black.
    (PartDetector, 320, 320 / 600, 214, (1.0, 0.0, 0.0), 0.0),
])
def test_each_detector_letterboxes_the_photo_top_left(detector, size, r, height, first, pad):
    tensor, ratio = detector().letterbox(Image.new("RGB", (600, 401), RED))
    assert tensor.shape == (1, 3, size, size) and tensor.dtype == np.float32
    assert ratio == r
    assert tuple(tensor[0, :, 0, 0]) == first  # the photo, scaled to the full width
    assert tuple(tensor[0, :, height - 1, size - 1]) == first
    assert set(tensor[0, :, height:, :].ravel()) == {pad}  # below it, only the pad


class Rows(BoxDetector):
    """A stand-in detector: its output rows are boxes already (x1, y1, x2, y2, score, class)."""

    name = "objects"
    file = "rows.onnx"
    size, pad, bgr, divide, rounded = 100, 0.0, False, 1.0, False
    iou, per_class, most = 0.45, True, 100

    def decode(self, outputs: list[np.ndarray], min_confidence: float,
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        [rows] = outputs
        rows = rows[rows[:, 4] * 100 >= min_confidence]
        return rows[:, :4], rows[:, 4], rows[:, 5].astype(int)


class Across(Rows):
    per_class = False


ROWS = np.array([[[0, 0, 50, 25, 0.9, 0],  # input pixels of a 200 x 100 photo at r 0.5
                  [0, 0, 50, 24, 0.8, 1],  # the same place, another class
                  [60, 30, 120, 60, 0.3, 0]]], dtype=np.float32)  # past the photo's corner


class Session:
    def get_inputs(self) -> list[Any]:
        return [type("Input", (), {"name": "images"})()]

    def run(self, names: Any, feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        assert feed["images"].shape == (1, 3, 100, 100)
        return [ROWS]


@pytest.fixture
def rows_session(monkeypatch) -> Any:
    monkeypatch.setattr(runtime, "session", lambda *args, **kwargs: Session())
    yield
    for cls in (Rows, Across):
        cls.reset()


def test_a_detector_keeps_boxes_by_nms_and_puts_them_on_the_photo(rows_session):
    photo = Image.new("RGB", (200, 100))
    found = Rows().detect(photo, min_confidence=10)
    assert [(f.index, f.confidence) for f in found] == [(0, 90.0), (1, 80.0), (0, 30.0)]
    assert found[0].box == (0.0, 0.0, 0.5, 0.5)
    assert found[2].box == pytest.approx((0.6, 0.6, 0.4, 0.4))  # clipped to the photo
    # Across classes, the second box overlaps the first and goes.
    assert [f.index for f in Across().detect(photo, min_confidence=10)] == [0, 0]
    assert Rows().detect(photo, min_confidence=85) == [Found(0, 90.0, (0.0, 0.0, 0.5, 0.5))]
    assert Rows().detect(photo, min_confidence=95) == []

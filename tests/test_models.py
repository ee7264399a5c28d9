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

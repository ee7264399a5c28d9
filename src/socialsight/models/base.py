"""One interface for every model: loaded once per process, predicting on a batch.

A :class:`Model` names its entry in :mod:`socialsight.models.registry`; :meth:`load`
makes what it runs (an ONNX session, a pipeline) once per process and per
(threads, directory, device), and :meth:`predict` runs a batch through it — under a
lock when the registry says the model is not thread-safe. :class:`OnnxModel` is the
usual case: one ONNX file, the batch its inputs stacked along the first axis, each
item's outputs its rows of the session's outputs.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np

from socialsight.models import registry, runtime

In = TypeVar("In")
Out = TypeVar("Out")

_lock = threading.Lock()
_loaded: dict[tuple[str, int, str | None, str], Any] = {}
_predicting: dict[str, threading.Lock] = {}


class Model(ABC, Generic[In, Out]):
    name: ClassVar[str]  # its key in registry.SPECS

    def __init__(self, threads: int = 1, directory: str | None = None) -> None:
        self.threads = threads
        self.directory = directory

    @property
    def spec(self) -> registry.ModelSpec:
        return registry.spec(self.name)

    def load(self) -> Any:
        """What the model runs, made on first use in this process."""
        key = (self.name, self.threads, self.directory, runtime.device())
        with _lock:
            if key not in _loaded:
                _loaded[key] = self._load()
            return _loaded[key]

    def predict(self, batch: Sequence[In]) -> list[Out]:
        """The model's output for each item of ``batch``, in order."""
        loaded = self.load()
        if self.spec.thread_safe:
            return self._predict(loaded, list(batch))
        with _lock:
            held = _predicting.setdefault(self.name, threading.Lock())
        with held:
            return self._predict(loaded, list(batch))

    @abstractmethod
    def _load(self) -> Any: ...

    @abstractmethod
    def _predict(self, loaded: Any, batch: list[In]) -> list[Out]: ...


class OnnxModel(Model[np.ndarray, list[np.ndarray]]):
    """A model of one ONNX file with one input: the batch goes in as one run."""

    file: ClassVar[str]

    def _load(self) -> Any:
        return runtime.session(self.file, self.threads, self.directory)

    def _predict(self, loaded: Any, batch: list[np.ndarray]) -> list[list[np.ndarray]]:
        outputs = loaded.run(None, {loaded.get_inputs()[0].name: np.concatenate(batch)})
        return [[output[i] for output in outputs] for i in range(sum(len(x) for x in batch))]

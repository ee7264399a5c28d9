"""One interface for every model: loaded once per process, predicting on a batch.

A :class:`Model` names its entry in :mod:`socialsight.models.registry`; :meth:`load`
makes what it runs (an ONNX session, a pipeline) once per process and per
(threads, directory, device), and :meth:`predict` runs a batch through it — under one
lock per model class when the registry says the model is not thread-safe.
:meth:`Model.reset` forgets what a class loaded, so that the next use loads it again
(after its files were repaired, say). :class:`OnnxModel` is the usual case: one ONNX
file, the batch its inputs stacked along the first axis, each item's outputs its rows
of the session's outputs.
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
_loaded: dict[tuple[type, int, str | None, str], Any] = {}
_predicting: dict[type, threading.Lock] = {}


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
        key = (type(self), self.threads, self.directory, runtime.device())
        with _lock:
            if key not in _loaded:
                _loaded[key] = self._load()
            return _loaded[key]

    @classmethod
    def reset(cls) -> None:
        """Forget what this class loaded in this process: the next use calls
        :meth:`_load` again (ONNX sessions themselves stay made, in runtime)."""
        with _lock:
            for key in [k for k in _loaded if k[0] is cls]:
                del _loaded[key]

    def predict(self, batch: Sequence[In]) -> list[Out]:
        """The model's output for each item of ``batch``, in order."""
        loaded = self.load()
        if self.spec.thread_safe:
            return self._predict(loaded, list(batch))
        with _lock:
            held = _predicting.setdefault(type(self), threading.Lock())
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
        return runtime.session(self.file, self.threads, self.directory,
                               cpu_only=self.spec.device == "cpu")

    def _predict(self, loaded: Any, batch: list[np.ndarray]) -> list[list[np.ndarray]]:
        outputs = loaded.run(None, {loaded.get_inputs()[0].name: np.concatenate(batch)})
        return [[output[i] for output in outputs] for i in range(sum(len(x) for x in batch))]

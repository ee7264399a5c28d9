"""Model files and ONNX sessions: every file checked by sha256, every session made once.

Model files live in the repository's ``models/`` folder (or ``vision.models_dir``) or
inside installed packages; :mod:`socialsight.models.registry` names each with the sha256
it must have — a file that is missing
or differs is refused with a message saying how to rebuild it, never downloaded.
Sessions are created on first use, once per process, with ``vision.threads`` threads,
on the device :func:`use_device` chose (``vision.device``): ``auto`` takes the CUDA
execution provider where onnxruntime has one (the ``onnxruntime-gpu`` package) and the
CPU otherwise; ``cuda`` refuses to run without a GPU rather than fall back in silence.
A model the registry declares ``device="cpu"`` gets the CPU whatever ``vision.device``
says (:func:`providers`).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import threading
from collections.abc import Collection
from pathlib import Path
from typing import Any

from socialsight.errors import ConfigError
from socialsight.models.registry import MODEL_FILES, PACKAGE_FILES

log = logging.getLogger(__name__)

# Execution providers for each ``vision.device``, in order of preference.
CUDA, CPU = "CUDAExecutionProvider", "CPUExecutionProvider"
PROVIDERS: dict[str, tuple[str, ...]] = {"auto": (CUDA, CPU), "cuda": (CUDA, CPU), "cpu": (CPU,)}
# Photos come in every size: cuDNN's exhaustive search (the default) would time every
# convolution again for each new shape, its heuristic picks at once.
CUDA_OPTIONS = {"cudnn_conv_algo_search": "HEURISTIC"}
GPU_HINT = ("install onnxruntime-gpu in place of onnxruntime (see docs/gpu.md), or set "
            "vision.device to auto or cpu")
REPO_MODELS = Path(__file__).resolve().parents[3] / "models"

_lock = threading.Lock()
_sessions: dict[tuple[str, int, str], Any] = {}
_device = "auto"


def models_dir(configured: str | None = None) -> Path:
    return Path(configured) if configured else REPO_MODELS


@functools.cache
def _digest(path: str, size: int, mtime: float) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def model_path(name: str, directory: str | None = None) -> Path:
    """The checked path of model file ``name``; raises ConfigError when unusable."""
    if name in PACKAGE_FILES:
        package, file, expected = PACKAGE_FILES[name]
        path = _package_file(package, file)
    elif name in MODEL_FILES:
        path, expected = models_dir(directory) / name, MODEL_FILES[name]
        if not path.is_file():
            raise ConfigError(f"model file {path} is missing: rebuild models/ with "
                              "tools/models/ (see models/MODELS.md)")
    else:
        raise ConfigError(f"unknown model file {name!r}")
    stat = path.stat()
    if _digest(str(path), stat.st_size, stat.st_mtime) != expected:
        raise ConfigError(f"model file {path} does not match its sha256 in "
                          "socialsight.models.registry: refusing to load it")
    return path


def _package_file(package: str, file: str) -> Path:
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ConfigError(f"the package {package!r} that ships {file} is not installed")
    path = Path(spec.origin).parent / file
    if not path.is_file():
        raise ConfigError(f"{file} is missing from the installed package {package!r}")
    return path


def use_device(device: str) -> None:
    """Where this process's sessions run from now on: ``auto``, ``cuda`` or ``cpu``."""
    global _device
    if device not in PROVIDERS:
        raise ConfigError(f"unknown vision.device {device!r}: use auto, cuda or cpu")
    _device = device


def device() -> str:
    """The ``vision.device`` this process's sessions are made for."""
    return _device


def check_device(device: str) -> None:
    """Refuse ``cuda`` up front where there is no GPU to run on (one line, not an
    error on every photo)."""
    use_device(device)
    if device == "cuda" and not on_gpu():
        raise ConfigError("vision.device is cuda but onnxruntime finds no CUDA GPU: "
                          + GPU_HINT)


def on_gpu() -> bool:
    """Whether the sessions this process makes run on the GPU."""
    return _device != "cpu" and CUDA in _available()


@functools.cache
def _available() -> frozenset[str]:
    import onnxruntime as ort

    available = frozenset(ort.get_available_providers())
    if CUDA in available and not _cuda_devices():
        # onnxruntime-gpu lists CUDA wherever it is installed, GPU or not.
        log.info("onnxruntime has CUDA but this machine has no CUDA GPU: using the CPU")
        available -= {CUDA}
    if CUDA in available and hasattr(ort, "preload_dlls"):
        # CUDA and cuDNN from the nvidia-* wheels, where they are installed that way
        # (the system's libraries are found without this).
        try:
            ort.preload_dlls()
        except Exception as exc:  # a missing wheel is reported by the session itself
            log.debug("onnxruntime.preload_dlls: %s", exc)
    return available


def _cuda_devices() -> int:
    """How many GPUs the CUDA driver sees (0 without a driver)."""
    import ctypes

    try:
        cuda = ctypes.CDLL("libcuda.so.1")
        count = ctypes.c_int(0)
        if cuda.cuInit(0) != 0 or cuda.cuDeviceGetCount(ctypes.byref(count)) != 0:
            return 0
        return count.value
    except (OSError, AttributeError):
        return 0


def providers(device: str, available: Collection[str], cpu_only: bool = False) -> list[str]:
    """The execution providers a session is given, best first: those of ``device``
    (``vision.device``) that onnxruntime has; only the CPU's for a model the registry
    declares ``device="cpu"`` (``cpu_only``), GPU or not."""
    return [p for p in PROVIDERS["cpu" if cpu_only else device] if p in available]


def session(name: str, threads: int = 1, directory: str | None = None,
            cpu_only: bool = False) -> Any:
    """The process's one ONNX session for ``name`` on the chosen device (made on first
    use); on the CPU whatever the device where ``cpu_only`` (the model's registry entry
    says ``device="cpu"``)."""
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    device = "cpu" if cpu_only else _device
    key = (str(models_dir(directory) / name), threads, device)
    with _lock:
        if key not in _sessions:
            import onnxruntime as ort

            available = _available()
            if device == "cuda" and CUDA not in available:
                raise ConfigError(f"vision.device is cuda but this onnxruntime has no CUDA "
                                  f"execution provider: {GPU_HINT}")
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            chosen = providers(device, available, cpu_only)
            path = model_path(name, directory)
            made = ort.InferenceSession(str(path), options, providers=[
                (p, CUDA_OPTIONS) if p == CUDA else p for p in chosen])
            used = made.get_providers()[0]
            if CUDA in chosen and used != CUDA:
                # onnxruntime falls back to the CPU when CUDA's libraries do not load.
                if device == "cuda":
                    raise ConfigError(f"the CUDA execution provider did not start for {name} "
                                      "(CUDA or cuDNN libraries missing?): see docs/gpu.md")
                log.warning("%s runs on the CPU: the CUDA execution provider did not start",
                            name)
            _sessions[key] = made
            log.info("loaded %s on %s", name, used)
        return _sessions[key]

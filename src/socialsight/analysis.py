"""What one photo's or one post's analysis is, and the functions that compute it.

This is the leaf the executors (:mod:`socialsight.scale`) stand on: the results that
cross process and Ray boundaries are these dataclasses — :class:`PhotoAnalysis`,
:class:`TextAnalysis`, and :class:`Failure` for a post whose analysis raised — never
dicts with string keys. :func:`analyse_bytes`, :func:`analyse_many` and
:func:`analyse_posts` give the same analyses as plain data, for callers that compare
them with what ``socialsight enrich`` stored.
"""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from socialsight.config import VisionSettings
from socialsight.errors import SocialsightError


@dataclass
class PhotoAnalysis:
    """One photo's analysis: the lake's ``image_labels`` and what the row needs besides.

    ``errors`` holds (analysis, reason) pairs: an analysis that failed, the others kept.
    """

    image_labels: dict[str, Any] | None
    width: int | None
    height: int | None
    embeddings: list[Any] | None
    errors: list[tuple[str, str]] = field(default_factory=list)
    model_versions: dict[str, str] = field(default_factory=dict)
    # the photo's own embedding and perceptual hash (socialsight.vision.lookalike)
    embedding: list[float] | None = None
    phash: int | None = None
    # its local features (socialsight.vision.logos), for brands enrolled later
    local_features: bytes | None = None

    def as_dict(self) -> dict[str, Any]:
        """As plain data (what the analysis cache holds)."""
        return {"image_labels": self.image_labels, "width": self.width,
                "height": self.height, "embeddings": self.embeddings,
                "errors": list(self.errors), "model_versions": self.model_versions,
                "embedding": self.embedding, "phash": self.phash,
                "local_features": (None if self.local_features is None
                                   else base64.b64encode(self.local_features).decode())}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PhotoAnalysis:
        return cls(image_labels=data["image_labels"], width=data["width"],
                   height=data["height"], embeddings=data.get("embeddings"),
                   errors=[(a, e) for a, e in data["errors"]],
                   model_versions=data["model_versions"],
                   embedding=data.get("embedding"), phash=data.get("phash"),
                   local_features=(None if data.get("local_features") is None
                                   else base64.b64decode(data["local_features"])))


@dataclass
class TextAnalysis:
    """One post's text analysis: language, sentiment, entities, key phrases and PII."""

    text: str
    lang: str | None
    lang_score: float | None
    skipped: str | None
    # (label, positive, negative, neutral, mixed), or None where it was not analysed
    sentiment: tuple[str, float, float, float, float] | None
    entities: list[tuple[str, str, float, int, int]]  # text, type, score, begin, end
    key_phrases: list[tuple[str, int, int]]  # text, begin, end
    # text, PII type (EMAIL, ...), score, begin, end: offsets into the post's own text
    pii: list[tuple[str, str, float, int, int]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "lang": self.lang, "lang_score": self.lang_score,
                "skipped": self.skipped, "sentiment": self.sentiment,
                "entities": self.entities, "key_phrases": self.key_phrases,
                "pii": self.pii}


@dataclass(frozen=True)
class Failure:
    """An analysis that raised (or whose process died): the post's error, not the run's."""

    reason: str

    @classmethod
    def of(cls, exc: BaseException) -> Failure:
        return cls(f"{type(exc).__name__}: {exc}")


def pack_version(settings: VisionSettings) -> str:
    """What an analysis depends on besides the photo: models and the settings that matter."""
    from socialsight.media.upright import VERSION as DECODE_VERSION
    from socialsight.vision.analyze import LABEL_MODEL_VERSION, model_versions
    from socialsight.vision.logos import VERSION as FEATURES_VERSION

    key = orjson.dumps([LABEL_MODEL_VERSION, model_versions(), settings.min_confidence,
                        settings.max_labels, settings.gate,
                        settings.local_features and FEATURES_VERSION, DECODE_VERSION],
                       option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(key, digest_size=6).hexdigest()


def analyse_photos(photos: Sequence[bytes], settings: VisionSettings,
                   max_pixels: int) -> list[PhotoAnalysis]:
    """Each photo's analysis, their models run in batches (``vision.batch_size``); a
    photo that cannot be decoded is that photo's error."""
    from PIL import Image

    from socialsight.media.sniff import dimensions, pil_reason
    from socialsight.media.upright import upright
    from socialsight.vision.analyze import analyze_batch, model_versions

    versions = model_versions()
    out: list[PhotoAnalysis | None] = []
    decoded: dict[int, Image.Image] = {}
    for index, data in enumerate(photos):
        try:
            dimensions(data, max_pixels)
            image = Image.open(io.BytesIO(data))
            image.load()
            decoded[index] = upright(image)
            out.append(None)
        except (OSError, ValueError, Image.DecompressionBombError, SocialsightError) as exc:
            out.append(PhotoAnalysis(
                None, None, None, None,
                errors=[("decode", f"cannot decode photo: {pil_reason(exc)}")],
                model_versions=versions))
    results = analyze_batch(list(decoded.values()), settings, kept=True)
    for index, result in zip(decoded, results, strict=True):
        out[index] = PhotoAnalysis(result.image_labels(), result.width, result.height,
                                   result.embeddings, list(result.errors), versions,
                                   result.embedding, result.phash, result.local_features)
    return [a for a in out if a is not None]


def failed_analysis(analysis: str, error: str) -> PhotoAnalysis:
    """The analysis of a photo that ``analysis`` failed on (the reason in ``error``)."""
    return PhotoAnalysis(None, None, None, None, errors=[(analysis, error)])


def analyse_texts(texts: Sequence[str | None], langs: Sequence[str | None],
                  key_phrases: bool = True) -> list[TextAnalysis]:
    """Each post's text analysis."""
    from socialsight.language.analyze import analyse_texts as analyse

    out = []
    for r in analyse([t or "" for t in texts], list(langs), key_phrases):
        s = r.sentiment
        out.append(TextAnalysis(
            text=r.text, lang=r.lang, lang_score=r.lang_score, skipped=r.skipped,
            sentiment=None if s is None else (s.label, s.positive, s.negative, s.neutral,
                                              s.mixed),
            entities=[(e.text, e.type, e.score, e.begin, e.end) for e in r.entities],
            key_phrases=[(k.text, k.begin, k.end) for k in r.key_phrases],
            pii=[(r.originaltext[p.begin:p.end], p.type, p.score, p.begin, p.end)
                 for p in r.pii]))
    return out


# --- the same, as plain data -------------------------------------------------------------


def analyse_bytes(data: bytes, settings: VisionSettings, max_pixels: int) -> dict[str, Any]:
    """One photo's analysis as plain data (what the cache and the rows are made of)."""
    return analyse_many([data], settings, max_pixels)[0]


def analyse_many(photos: Sequence[bytes], settings: VisionSettings,
                 max_pixels: int) -> list[dict[str, Any]]:
    """:func:`analyse_photos` as plain data."""
    return [a.as_dict() for a in analyse_photos(photos, settings, max_pixels)]


def analyse_posts(texts: list[str | None], langs: list[str | None],
                  key_phrases: bool = True) -> list[dict[str, Any]]:
    """:func:`analyse_texts` as plain data (what the text tables are made of)."""
    return [a.as_dict() for a in analyse_texts(texts, langs, key_phrases)]

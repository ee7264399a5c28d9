"""One post's text through every analysis: language, sentiment, entities, key phrases, PII.

:func:`analyse_texts` takes a batch (spaCy is fastest on many texts at once). The
dominant language is found for every post; sentiment, entities, key phrases and PII run
only on English, the one language the models read — any other post gets its language
and a ``skipped`` reason instead of a made-up sentiment. A text longer than
:data:`MAX_CHARS` is analysed up to there.

PII is found by the detector DetectPiiEntities runs (:func:`socialsight.language.pii.find`)
from the entities already found, so spaCy reads each post once; its offsets, like the
entities', point into the post's own text (``originaltext``), not into the readable
``text`` that sentiment reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from socialsight.language import entities as entities_mod
from socialsight.language import languages, pii, sentiment
from socialsight.language.entities import Entity, KeyPhrase
from socialsight.language.pii import Pii
from socialsight.language.prepare import readable
from socialsight.language.sentiment import Sentiment
from socialsight.models import registry

SUPPORTED = frozenset({"en"})
# Longer texts are analysed up to here (X's long posts stop at 25,000 characters); a
# hostile megabyte of text must not stall a worker for minutes.
MAX_CHARS = 25_000
SURE = 0.5  # a detected language this sure wins over the platform's tag
MODEL_VERSIONS = {name: registry.version(name) for name in ("language", "sentiment",
                                                            "entities")}


@dataclass
class TextAnalysis:
    originaltext: str
    text: str  # what sentiment and language read
    lang: str | None
    lang_score: float
    sentiment: Sentiment | None = None
    entities: list[Entity] = field(default_factory=list)
    key_phrases: list[KeyPhrase] = field(default_factory=list)
    pii: list[Pii] = field(default_factory=list)  # offsets into originaltext
    skipped: str | None = None

    def comprehend(self) -> dict[str, Any]:
        """Comprehend's response field names (DetectSentiment, DetectEntities, ...)."""
        return {
            **(self.sentiment.comprehend() if self.sentiment else
               {"Sentiment": None, "SentimentScore": None}),
            "Entities": [e.comprehend() for e in self.entities],
            "KeyPhrases": [k.comprehend() for k in self.key_phrases],
            "PiiEntities": [p.comprehend() for p in self.pii],
            "Languages": ([{"LanguageCode": self.lang, "Score": self.lang_score}]
                          if self.lang else []),
            "Skipped": self.skipped,
        }


def analyse_texts(texts: list[str], platform_langs: list[str | None] | None = None,
                  key_phrases: bool = True, find_pii: bool = True) -> list[TextAnalysis]:
    """Every post's analysis, in order; ``platform_langs`` are the languages the posts
    were tagged with, used when the text is too short or odd to tell. ``find_pii``
    (``language.pii``) finds the PII of English posts too."""
    tags = platform_langs or [None] * len(texts)
    texts = [(t or "")[:MAX_CHARS] for t in texts]
    results = []
    for original, tag in zip(texts, tags, strict=True):
        text = readable(original or "")
        lang, score = languages.language(text)
        if (lang is None or score < SURE) and tag and tag not in ("und", "zxx", "qme"):
            lang = tag.split("-")[0].lower()
        result = TextAnalysis(original or "", text, lang, score)
        if not text:
            result.skipped = "no text to analyse"
        elif lang not in SUPPORTED:
            result.skipped = (f"language {lang!r} is not supported by the text models "
                              "(English only)" if lang else "the language could not be told")
        else:
            result.sentiment = sentiment.sentiment(text)
        results.append(result)
    english = [r for r in results if r.sentiment is not None]
    for result, (ents, phrases) in zip(english, entities_mod.analyse(
            [r.originaltext for r in english], key_phrases), strict=True):
        result.entities, result.key_phrases = ents, phrases
        if find_pii:
            result.pii = pii.find(result.originaltext, ents)
    return results

"""DetectSentiment, offline: VADER (tuned for social media) in Comprehend's shape.

VADER gives a compound score (-1..1) and the shares of positive, negative and neutral
words. The label: POSITIVE at compound >= 0.05, NEGATIVE at <= -0.05, NEUTRAL between;
MIXED when one clause of the post is clearly positive (>= 0.3) and another clearly
negative (<= -0.3) — VADER's own "but" rule would otherwise let the last clause win.
The four scores sum to 1: the label gets 0.5 + 0.5 x its strength, and the rest is
shared by the other three in proportion to VADER's shares (mixed: the smaller of
positive and negative). VADER reads English only; other languages are not scored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from socialsight.models import runtime
from socialsight.models.base import Model

POSITIVE, NEGATIVE = 0.05, -0.05
CLAUSE = 0.3
CLAUSES = re.compile(r"\b(?:but|however|although|though|yet|whereas)\b|[.!?;]+", re.I)


@dataclass(frozen=True)
class Sentiment:
    label: str  # POSITIVE | NEGATIVE | NEUTRAL | MIXED
    positive: float
    negative: float
    neutral: float
    mixed: float

    def comprehend(self) -> dict[str, Any]:
        return {"Sentiment": self.label, "SentimentScore": {
            "Positive": self.positive, "Negative": self.negative,
            "Neutral": self.neutral, "Mixed": self.mixed}}


class Vader(Model[str, dict[str, float]]):
    """VADER: each text's polarity scores (compound, pos, neg, neu)."""

    name = "sentiment"

    def _load(self) -> Any:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        for file in self.spec.files:  # refuse altered lexicons before VADER reads them
            runtime.model_path(file.name)
        return SentimentIntensityAnalyzer()

    def _predict(self, loaded: Any, batch: list[str]) -> list[dict[str, float]]:
        return [loaded.polarity_scores(text) for text in batch]


def _mixed(text: str) -> float:
    """How clearly two clauses disagree (0 when they do not)."""
    clauses = [c for c in CLAUSES.split(text) if c and c.strip()]
    if len(clauses) < 2:
        return 0.0
    scores = [vader["compound"] for vader in Vader().predict(clauses)]
    high, low = max(scores), min(scores)
    return min(high, -low) if high >= CLAUSE and low <= -CLAUSE else 0.0


def sentiment(text: str) -> Sentiment:
    """The sentiment of one post's readable text."""
    [vader] = Vader().predict([text])
    compound, pos, neg, neu = vader["compound"], vader["pos"], vader["neg"], vader["neu"]
    clash = _mixed(text)
    if clash:
        label, strength = "MIXED", clash
    elif compound >= POSITIVE:
        label, strength = "POSITIVE", abs(compound)
    elif compound <= NEGATIVE:
        label, strength = "NEGATIVE", abs(compound)
    else:
        label, strength = "NEUTRAL", 1 - abs(compound) / POSITIVE
    weights = {"POSITIVE": pos, "NEGATIVE": neg, "NEUTRAL": neu, "MIXED": min(pos, neg)}
    rest = 0.5 - 0.5 * strength
    others = {k: v for k, v in weights.items() if k != label}
    total = sum(others.values())
    scores = {k: (rest * v / total if total else rest / 3) for k, v in others.items()}
    scores[label] = 1.0 - sum(scores.values())
    return Sentiment(label, *(round(scores[k], 6) for k in
                              ("POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED")))

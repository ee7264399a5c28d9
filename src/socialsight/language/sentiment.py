"""DetectSentiment, offline: VADER (tuned for social media) read by a model that knows
when a text says nothing clearly positive or negative, in Comprehend's shape.

VADER gives a compound score (-1..1) and the shares of positive, negative and neutral
words; on its own (POSITIVE at compound >= 0.05, NEGATIVE at <= -0.05) it calls a plain
billing notice POSITIVE because "credit" is a positive word, and most informational text
one or the other. So a small multinomial logistic regression reads VADER's scores and a
few features of the text (how many sentiment words and how strong the strongest is, "!",
"?", the writer's "I", length; :func:`features`), and the text's words among the 2,000
most common of its training texts, and gives the chances of POSITIVE, NEGATIVE and
NEUTRAL. It is fitted (``python -m bench.comprehend --fit``) on the ~23,000
texts that people rated from -4 to +4 in VADER's own source archive — tweets, New York
Times snippets, Amazon and movie reviews, less the texts of bench/textset — a text
rated within :data:`NEUTRAL_BAND` of 0 counting as NEUTRAL; its weights live in
``data/sentiment.json`` (without them, VADER's own thresholds decide).

A text the model finds NEUTRAL whose VADER compound is at least :data:`STRONG` either
way ("Missed my connection. Not happy.") takes that side. MIXED: when one clause of the
post is clearly positive (>= 0.3) and another clearly negative (<= -0.3) — VADER's own
"but" rule would otherwise let the last clause win. The four scores sum to 1. VADER
reads English only; other languages are not scored.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from socialsight.models import runtime
from socialsight.models.base import Model

POSITIVE, NEGATIVE = 0.05, -0.05
DATA = Path(__file__).resolve().parent / "data" / "sentiment.json"
LABELS = ("POSITIVE", "NEGATIVE", "NEUTRAL")
STRONG = 0.7  # VADER's compound from which a text the model finds neutral is not (dev)
NEUTRAL_BAND = 1.0  # a mean rating (-4..4) this close to 0 is NEUTRAL (chosen on dev)
FEATURES = ("bias", "compound", "positive share", "negative share", "positive words",
            "negative words", "strongest positive", "strongest negative", "exclamations",
            "question", "first person", "words (log)")
WORD = re.compile(r"[\w']+|[^\w\s]+")
FIRST_PERSON = frozenset({"i", "i'm", "im", "me", "my", "mine", "we", "our", "us"})
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


def features(text: str, vader: dict[str, float], lexicon: dict[str, float]) -> list[float]:
    """The model's features of a text (:data:`FEATURES`), from VADER's scores of it."""
    words = WORD.findall(text.lower())
    valences = [lexicon[w] for w in words if w in lexicon]
    positive = [v for v in valences if v > 0]
    negative = [v for v in valences if v < 0]
    return [1.0, vader["compound"], vader["pos"], vader["neg"],
            math.log1p(len(positive)), math.log1p(len(negative)),
            max(positive, default=0.0) / 4, -min(negative, default=0.0) / 4,
            math.log1p(text.count("!")), float("?" in text),
            float(any(w in FIRST_PERSON for w in words)), math.log1p(len(words)) / 4]


@dataclass(frozen=True)
class Weights:
    rows: list[list[float]]  # a row a label of LABELS: FEATURES, then one a vocabulary word
    vocabulary: dict[str, int]  # word -> its column after FEATURES


@cache
def weights() -> Weights | None:
    """The fitted model (None: not fitted, VADER's thresholds decide)."""
    if not DATA.is_file():
        return None
    data = json.loads(DATA.read_text())
    if tuple(data["features"]) != FEATURES or tuple(data["labels"]) != LABELS:
        return None
    return Weights([[float(w) for w in row] for row in data["weights"]],
                   {word: i for i, word in enumerate(data["vocabulary"], len(FEATURES))})


def words(text: str) -> set[str]:
    """The text's distinct lower-case words and punctuation runs (the model's vocabulary)."""
    return set(WORD.findall(text.lower()))


def chances(text: str, vader: dict[str, float]) -> dict[str, float] | None:
    """The model's chance of each of :data:`LABELS` (None when it is not fitted)."""
    w = weights()
    if w is None:
        return None
    x = features(text, vader, _lexicon())
    columns = [w.vocabulary[t] for t in words(text) if t in w.vocabulary]
    z = [sum(a * b for a, b in zip(row, x, strict=False)) + sum(row[c] for c in columns)
         for row in w.rows]
    top = max(z)
    e = [math.exp(v - top) for v in z]
    return {label: v / sum(e) for label, v in zip(LABELS, e, strict=True)}


@cache
def _lexicon() -> dict[str, float]:
    """VADER's word valences (-4..4), from the analyser the process loaded."""
    return dict(Vader().load().lexicon)


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
    clash = _mixed(text)
    model = chances(text, vader)
    if model is not None:
        if clash:  # MIXED, as sure as its clauses disagree; the rest as the model says
            label, mixed = "MIXED", 0.5 + 0.5 * clash
        else:
            label = max(LABELS, key=lambda k: model[k])
            mixed = min(model["POSITIVE"], model["NEGATIVE"]) / 2
        scores = {k: v * (1 - mixed) for k, v in model.items()} | {"MIXED": mixed}
        if label == "NEUTRAL" and abs(vader["compound"]) >= STRONG:
            # VADER's words are clearly one way: that side, with the neutral chance
            label = "POSITIVE" if vader["compound"] > 0 else "NEGATIVE"
            if scores[label] < scores["NEUTRAL"]:
                scores[label], scores["NEUTRAL"] = scores["NEUTRAL"], scores[label]
        return Sentiment(label, *(round(scores[k], 6) for k in
                                  ("POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED")))
    compound, pos, neg, neu = vader["compound"], vader["pos"], vader["neg"], vader["neu"]
    if clash:
        label, strength = "MIXED", clash
    elif compound >= POSITIVE:
        label, strength = "POSITIVE", abs(compound)
    elif compound <= NEGATIVE:
        label, strength = "NEGATIVE", abs(compound)
    else:
        label, strength = "NEUTRAL", 1 - abs(compound) / POSITIVE
    shares_of = {"POSITIVE": pos, "NEGATIVE": neg, "NEUTRAL": neu, "MIXED": min(pos, neg)}
    rest = 0.5 - 0.5 * strength
    others = {k: v for k, v in shares_of.items() if k != label}
    total = sum(others.values())
    shares = {k: (rest * v / total if total else rest / 3) for k, v in others.items()}
    shares[label] = 1.0 - sum(shares.values())
    return Sentiment(label, *(round(shares[k], 6) for k in
                              ("POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED")))

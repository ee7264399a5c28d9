"""Custom concepts (Rekognition Custom Labels): learnt from a few example photos.

A concept — a product's packaging, a store front, a campaign visual — is learnt from a
handful of example photos and, optionally, counter-examples, as a linear score over the
photos' embeddings (``media_rekognition.embedding``, :mod:`socialsight.vision.lookalike`):
the direction from the mean of everything else (the counter-examples and the lake's other
photos, the background, each half of the weight) to the mean of the examples. Its
confidence (0–100) is a logistic of that score, fitted by Platt scaling (with Platt's
smoothed targets) on each example scored by the direction learnt without it, and on the
background; a photo is a hit at :attr:`Concept.threshold` (50) or above.

bench/concepts.py measured the alternatives on the issue-16 photos: a logistic
regression over the 1280 dimensions memorises its background, and the lake's own
unlabelled examples of the concept sit in that background, so held-out examples scored
low (recall under 0.25); the mean-difference direction does not memorise. Its
confidences are conservative: held-out photos scored 30–50 showed the concept more
often than not (bench/concepts.py prints the bands).

A concept is a weight vector and a bias: :meth:`Concept.to_row` stores it, and
:func:`concept_sql` scores every photo of the lake at once in DuckDB
(``list_inner_product`` over ``media_rekognition.embedding``), equal to
:meth:`Concept.score`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from socialsight.errors import InputError

# How much all counter-examples weigh, and all the background, in "everything else".
NEGATIVE_WEIGHT = 0.5
BACKGROUND_WEIGHT = 0.5
THRESHOLD = 50.0  # a hit from this confidence on: even odds


@dataclass(frozen=True)
class Concept:
    """A learnt concept: confidence = 100 · sigmoid(weights · embedding + bias)."""

    name: str
    weights: np.ndarray  # float32, one per embedding dimension
    bias: float
    threshold: float = THRESHOLD
    examples: int = 0  # how many examples it was learnt from
    counter_examples: int = 0

    @classmethod
    def learn(cls, name: str, positives: np.ndarray, negatives: np.ndarray | None = None,
              background: np.ndarray | None = None) -> Concept:
        """A concept learnt from example embeddings (``positives``, one row each), the
        user's counter-examples and the lake's other photos (``background``)."""
        pos = _rows(positives)
        if len(pos) < 1:
            raise InputError(f"concept {name!r} needs at least one example photo")
        width = pos.shape[1]
        neg = _rows(negatives, width)
        bg = _rows(background, width)
        if not len(neg) + len(bg):
            raise InputError(f"concept {name!r} needs counter-examples or background photos")
        others = np.concatenate([neg, bg])
        weight = _weights(len(neg), len(bg))
        away = (weight[:, np.newaxis] * others).sum(axis=0) / weight.sum()
        direction = pos.mean(axis=0) - away
        # each example scored by the direction learnt without it (out of fold)
        if len(pos) > 1:
            held = (pos.sum(axis=0) - pos) / (len(pos) - 1) - away
            pos_logits = np.einsum("ij,ij->i", pos, held)
        else:
            pos_logits = pos @ direction
        logits = np.concatenate([pos_logits, others @ direction])
        y = np.concatenate([np.ones(len(pos)), np.zeros(len(others))])
        scale, shift = _platt(logits, y)
        return cls(name, (direction * scale).astype(np.float32), shift,
                   examples=len(pos), counter_examples=len(neg))

    def logits(self, embeddings: np.ndarray) -> np.ndarray:
        return np.asarray(_rows(embeddings, len(self.weights)) @ self.weights,
                          dtype=np.float64) + self.bias

    def score(self, embeddings: np.ndarray) -> np.ndarray:
        """Each photo's confidence (0–100) that it shows the concept."""
        return np.asarray(100.0 * _sigmoid(self.logits(embeddings)))

    def hits(self, embeddings: np.ndarray) -> np.ndarray:
        """Whether each photo shows the concept (its confidence at the threshold or above)."""
        return self.score(embeddings) >= self.threshold

    def to_row(self) -> dict[str, Any]:
        """As a row to store (the weights as float32 values)."""
        return {"name": self.name, "weights": self.weights.astype(np.float32).tolist(),
                "bias": self.bias, "threshold": self.threshold, "examples": self.examples,
                "counter_examples": self.counter_examples}

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Concept:
        return cls(row["name"], np.asarray(row["weights"], dtype=np.float32),
                   float(row["bias"]), float(row["threshold"]), int(row.get("examples") or 0),
                   int(row.get("counter_examples") or 0))


def concept_sql(concept: Concept, column: str = "embedding") -> str:
    """The DuckDB expression of ``concept``'s confidence (0–100) of a photo, over its
    ``column`` (``media_rekognition.embedding``); NULL where a photo has no embedding."""
    weights = ", ".join(repr(float(v)) for v in concept.weights)
    logit = f"(list_inner_product({column}, [{weights}]::FLOAT[]) + {concept.bias!r})"
    return f"(100.0 / (1.0 + exp(-{logit})))"


def _rows(values: np.ndarray | None, width: int | None = None) -> np.ndarray:
    if values is None or not len(values):
        return np.zeros((0, width or 0), dtype=np.float64)
    rows = np.asarray(values, dtype=np.float64)
    rows = rows.reshape(1, -1) if rows.ndim == 1 else rows
    if width is not None and rows.shape[1] != width:
        raise InputError(f"embeddings of {rows.shape[1]} values, expected {width}")
    return rows


def _weights(negatives: int, background: int) -> np.ndarray:
    """Each counter-example's and background photo's weight: all counter-examples
    :data:`NEGATIVE_WEIGHT`, all the background :data:`BACKGROUND_WEIGHT` (all of either
    when only one is given)."""
    neg_total = NEGATIVE_WEIGHT if background else NEGATIVE_WEIGHT + BACKGROUND_WEIGHT
    bg_total = BACKGROUND_WEIGHT if negatives else NEGATIVE_WEIGHT + BACKGROUND_WEIGHT
    return np.concatenate([np.full(negatives, neg_total / max(negatives, 1)),
                           np.full(background, bg_total / max(background, 1))])


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * z)))


def _platt(logits: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Platt scaling: ``a, c`` so that sigmoid(a · logit + c) is calibrated, fitted with
    Platt's smoothed targets (never a certain 0 or 1 from a handful of examples)."""
    n_pos, n_neg = float(y.sum()), float(len(y) - y.sum())
    target = np.where(y > 0, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
    a, c = 1.0, 0.0
    for _ in range(100):  # Newton's method on the two parameters
        p = _sigmoid(a * logits + c)
        g = p - target
        s = p * (1 - p) + 1e-12
        grad = np.array([np.dot(g, logits), g.sum()])
        hess = np.array([[np.dot(s, logits * logits), np.dot(s, logits)],
                         [np.dot(s, logits), s.sum()]]) + 1e-9 * np.eye(2)
        delta = np.linalg.solve(hess, grad)
        a, c = a - float(delta[0]), c - float(delta[1])
        if math.hypot(*delta) < 1e-9:
            break
    return max(a, 1e-3), c

"""Custom concepts (Rekognition Custom Labels): learnt from a few example photos.

A concept — a product's packaging, a store front, a campaign visual — is learnt from a
handful of example photos and, optionally, counter-examples, as a linear score over the
photos' *concept features*: the square roots of the values of a photo's embedding
(``media_rekognition.embedding``, :mod:`socialsight.vision.lookalike`), at unit length
(:func:`features`; the embedding's values are pooled activations, never negative, and
their roots let the many small ones count beside a few large ones). The score is the
direction from the mean of everything else (the counter-examples and the lake's other
photos, the background, each half of the weight) to the mean of the examples. The
background holds the lake's own unlabelled photos of the concept, so the share of it
that the direction ranks highest (:data:`BACKGROUND_LEFT_OUT`, where those photos are)
is left out of its mean and of the calibration. The confidence (0–100) is a logistic of
the score, fitted by Platt scaling (with Platt's smoothed targets) on each example
scored by the direction learnt without it, against the counter-examples and the
background kept: 50 is even odds between an example not seen and a photo of that
background. A photo is a hit at :attr:`Concept.threshold` (:data:`THRESHOLD`) or above.

bench/concepts.py measured the alternatives on the issue-16 photos, choosing on dev
photos and checking on photos held out (docs/concepts.md): the roots and the
background left out raised recall at precision 0.8 from 0.38 to about 0.6; a logistic
regression over the features memorises its background (lower recall), the nearest
example (alone or added to the direction) ranked no better, and the examples' flipped
and cropped views added at most 0.02 of recall, so none of those is used.

A concept is a weight vector and a bias: :meth:`Concept.to_row` stores it, and
:func:`concept_sql` scores every photo of the lake at once in DuckDB (the features by
``list_transform``, the score by ``list_inner_product``, over
``media_rekognition.embedding``), equal to :meth:`Concept.score`. The concepts are one
Parquet file in the lake (``_concepts/concepts.parquet``, :class:`Concepts`), rewritten
whole on every change under the lake's writer lock, like the brands; the
``concept_hits`` view (:mod:`socialsight.query.concepts`) is where a concept's photos
are found, always from the concepts as they are now. :func:`enrol` learns one from
example photos.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
from PIL import Image

from socialsight import names
from socialsight.errors import InputError, LakeBusyError, MediaError
from socialsight.lake import state
from socialsight.lake.store import Lake

# How much all counter-examples weigh, and all the background, in "everything else".
NEGATIVE_WEIGHT = 0.5
BACKGROUND_WEIGHT = 0.5
THRESHOLD = 50.0  # a hit from this confidence on: chosen on dev photos by bench/concepts.py
# The share of the background the direction ranks highest, left out (the lake's own
# unlabelled photos of the concept): chosen on dev photos by bench/concepts.py.
BACKGROUND_LEFT_OUT = 0.1
# Each of the photos the examples' direction ranks highest in the background (as many as
# there are examples, from the share left out) counts as this much of an example: a few
# examples say little of a concept's variety, and the lake's likeliest photos of it add
# some (pseudo-relevance feedback). Not tuned: 0.5 and 2 measured alike (bench/concepts.py).
PSEUDO_WEIGHT = 1.0
MIN_EXAMPLES = 3  # example photos a concept needs
BACKGROUND = 1000  # the lake's photos sampled as the background a concept is told from


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
              background: np.ndarray | None = None,
              left_out: float = BACKGROUND_LEFT_OUT) -> Concept:
        """A concept learnt from example embeddings (``positives``, one row each), the
        user's counter-examples and the lake's other photos (``background``), the share
        ``left_out`` of the background most like the examples left out, and as many of
        those as there are examples counted with them (:data:`PSEUDO_WEIGHT`). A
        version of an example in the background (a copy, a crop, a screenshot: the
        look-alike rule's cosine) is that example again, so it is left out of it: as a
        photo of everything else it would count against the concept, and as one of the
        likeliest it would score that example out of fold with itself."""
        raw = _rows(positives)
        pos = features(raw)
        if len(pos) < 1:
            raise InputError(f"concept {name!r} needs at least one example photo")
        width = pos.shape[1]
        neg = features(_rows(negatives, width))
        bg_raw = _rows(background, width)
        bg = features(bg_raw[~_versions(bg_raw, raw)])
        if not len(neg) + len(bg):
            raise InputError(f"concept {name!r} needs counter-examples or background photos")
        bg, likely = _likely_others(pos.mean(axis=0), neg, bg, left_out, len(pos))
        others = np.concatenate([neg, bg])
        weight = _weights(len(neg), len(bg))
        away = (weight[:, np.newaxis] * others).sum(axis=0) / weight.sum()
        extra, extra_weight = PSEUDO_WEIGHT * likely.sum(axis=0), PSEUDO_WEIGHT * len(likely)
        direction = (pos.sum(axis=0) + extra) / (len(pos) + extra_weight) - away
        # each example scored by the direction learnt without it (out of fold)
        if len(pos) > 1:
            held = ((pos.sum(axis=0) - pos + extra) / (len(pos) - 1 + extra_weight)) - away
            pos_logits = np.einsum("ij,ij->i", pos, held)
        else:
            pos_logits = pos @ direction
        logits = np.concatenate([pos_logits, others @ direction])
        y = np.concatenate([np.ones(len(pos)), np.zeros(len(others))])
        scale, shift = _platt(logits, y)
        return cls(name, (direction * scale).astype(np.float32), shift,
                   examples=len(pos), counter_examples=len(neg))

    def logits(self, embeddings: np.ndarray) -> np.ndarray:
        return np.asarray(features(_rows(embeddings, len(self.weights))) @ self.weights,
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
    return confidence_sql(column, f"[{weights}]::FLOAT[]", repr(concept.bias))


def confidence_sql(embedding: str, weights: str, bias: str) -> str:
    """The DuckDB expression of a concept's confidence (0–100), its ``weights`` and
    ``bias`` given as SQL (literals, or the columns of the stored concepts); NULL where
    the ``embedding`` is NULL or of another length than the weights."""
    return confidence_of_roots_sql(roots_sql(embedding), weights, bias)


def roots_sql(embedding: str) -> str:
    """The DuckDB expression of the square roots of an embedding's values (NULL for
    NULL): :func:`features` before its unit length, which
    :func:`confidence_of_roots_sql` applies."""
    return f"list_transform({embedding}, lambda v: sqrt(abs(v)))"


def confidence_of_roots_sql(roots: str, weights: str, bias: str) -> str:
    """A concept's confidence (0–100) from a photo's :func:`roots_sql` (computed once a
    photo, however many concepts score it)."""
    norm = f"greatest(sqrt(list_inner_product({roots}, {roots})), 1e-30)"
    logit = (f"(CASE WHEN len({roots}) = len({weights}) "
             f"THEN list_inner_product({roots}, {weights}) / {norm} END + {bias})")
    return f"(100.0 / (1.0 + exp(-{logit})))"


def features(embeddings: np.ndarray) -> np.ndarray:
    """Each photo's concept features (one row each): the square roots of its embedding's
    values, at unit length (a photo with no value stays all zero)."""
    roots = np.sqrt(np.abs(np.asarray(embeddings, dtype=np.float64)))
    norms = np.linalg.norm(roots, axis=-1, keepdims=True)
    return np.asarray(roots / np.where(norms > 0, norms, 1.0))


def _likely_others(examples_mean: np.ndarray, negatives: np.ndarray, background: np.ndarray,
                   left_out: float, examples: int) -> tuple[np.ndarray, np.ndarray]:
    """The background less the share ``left_out`` that the direction to the examples
    ranks highest (the lake's unlabelled photos of the concept are there), and the
    ``examples`` it ranks highest (at most that share: the likeliest of those photos)."""
    if len(background) < 2 or left_out <= 0:
        return background, background[:0]
    away = np.concatenate([negatives, background]).mean(axis=0)
    score = background @ (examples_mean - away)
    order = np.argsort(-score, kind="stable")
    out = max(1, round(left_out * len(background)))
    return background[np.sort(order[out:])], background[order[:min(examples, out)]]


def _versions(background: np.ndarray, examples: np.ndarray) -> np.ndarray:
    """Which background photos are versions of an example by the look-alike rule: their
    embeddings' inner product (unit length: their cosine) at least
    :data:`socialsight.vision.lookalike.COSINE`."""
    from socialsight.vision.lookalike import COSINE

    if not len(background) or not len(examples):
        return np.zeros(len(background), dtype=bool)
    return np.asarray((background @ examples.T).max(axis=1) >= COSINE)


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


# --- the concepts kept in the lake -----------------------------------------------------

STORE = state.path("concepts", "concepts.parquet")
LOCK_WAIT_SECONDS = 5.0
_VECTORS = pa.list_(pa.list_(pa.float32()))
SCHEMA = pa.schema([
    ("id", pa.string()),
    ("name", pa.string()),
    ("weights", pa.list_(pa.float32())),
    ("bias", pa.float64()),
    ("threshold", pa.float64()),
    ("examples", pa.int32()),
    ("counter_examples", pa.int32()),
    ("background", pa.int32()),  # how many of the lake's photos it was told from
    ("example_sha256", pa.list_(pa.string())),  # to add examples later, or learn again
    ("example_embeddings", _VECTORS),
    ("counter_sha256", pa.list_(pa.string())),
    ("counter_embeddings", _VECTORS),
    ("added_at", pa.timestamp("ms", tz="UTC")),
])


def concept_id(name: str) -> str:
    """A short, stable id for a concept's name (case and spacing do not matter)."""
    return hashlib.sha256(_norm(name).encode()).hexdigest()[:12]


def _norm(name: str) -> str:
    return " ".join(name.split()).casefold()


def check_name(name: str) -> str:
    """The concept's name with its spacing tidied; an InputError for one it cannot be
    (:func:`socialsight.names.check`)."""
    return names.check(name, "concept")


class ConceptsBusy(LakeBusyError):
    """Another process is changing the lake; the concepts were not changed."""


def writing(lake: Lake) -> contextlib.AbstractContextManager[None]:
    """The lake's writer lock, for a change to the concepts."""
    return lake.lock_within(LOCK_WAIT_SECONDS, ConceptsBusy)


class Concepts:
    """The learnt concepts, as rows of ``_concepts/concepts.parquet`` (one a concept)."""

    def __init__(self, rows: list[dict[str, Any]] | None = None) -> None:
        self.rows: list[dict[str, Any]] = rows or []

    @classmethod
    def load(cls, lake: Lake) -> Concepts:
        return cls(lake.read_rows(STORE, SCHEMA, "the learnt concepts"))

    def save(self, lake: Lake) -> None:
        """Write the concepts whole (the caller holds the lake's writer lock)."""
        lake.write_rows(STORE, SCHEMA, self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def find(self, who: str) -> dict[str, Any] | None:
        """The stored row of the concept named (or with the id) ``who``."""
        key = _norm(who)
        return next((r for r in self.rows if _norm(r["name"]) == key or r["id"] == who), None)

    def concepts(self) -> list[Concept]:
        """Each concept, in the order learnt."""
        return [Concept.from_row(row) for row in self.rows]

    def put(self, concept: Concept, examples: Sequence[tuple[str, np.ndarray]],
            counter: Sequence[tuple[str, np.ndarray]], background: int) -> None:
        """Keep ``concept`` (replacing one of the same name), with the (sha256, embedding)
        of its examples and counter-examples."""
        old = self.find(concept.name)
        self.rows = [r for r in self.rows if r is not old]
        self.rows.append(concept.to_row() | {
            "id": concept_id(concept.name), "background": background,
            "example_sha256": [s for s, _ in examples],
            "example_embeddings": [np.asarray(v, np.float32).tolist() for _, v in examples],
            "counter_sha256": [s for s, _ in counter],
            "counter_embeddings": [np.asarray(v, np.float32).tolist() for _, v in counter],
            "added_at": old["added_at"] if old else datetime.now(UTC)})

    def remove(self, who: str) -> dict[str, Any] | None:
        """Forget a concept (by name or id); returns its row, or None if there is none."""
        row = self.find(who)
        if row is not None:
            self.rows = [r for r in self.rows if r is not row]
        return row


def embed(images: Sequence[Image.Image], threads: int = 1,
          models_dir: str | None = None) -> np.ndarray:
    """Each photo's embedding as enrich stores it (``media_rekognition.embedding``: the
    classifier's features of its views, :func:`socialsight.vision.lookalike.embedding`)."""
    from socialsight.vision import labels, lookalike

    if not images:
        return np.zeros((0, 0), dtype=np.float32)
    views = [labels.views(image.convert("RGB")) for image in images]
    outputs = labels.batch_view_scores(views, threads, models_dir)
    return np.asarray([lookalike.embedding(o.features) for o in outputs], dtype=np.float32)


Loader = Callable[[str], tuple[Image.Image, str]]


def _load_all(sources: Sequence[str], load: Loader) -> dict[str, tuple[str, Image.Image]]:
    """Each distinct photo of ``sources`` (files or URLs) by its sha256: the first source
    that gave it, and the image."""
    out: dict[str, tuple[str, Image.Image]] = {}
    for source in sources:
        try:
            image, sha256 = load(source)
        except MediaError as exc:
            raise InputError(f"{source}: {exc}") from exc
        out.setdefault(sha256, (source, image))
    return out


def enrol(lake: Lake, name: str, examples: Sequence[str], counter: Sequence[str],
          load: Loader, background: np.ndarray, threads: int = 1,
          models_dir: str | None = None, threshold: float | None = None) -> Concept:
    """Learn ``name`` from its ``examples`` and ``counter`` examples (file names or URLs;
    ``load`` gives the image and the sha256 of its bytes), told from ``background`` (the
    lake's photos' embeddings, one row each), and keep it, under the lake's writer lock.
    Examples given before for a concept of that name are kept and learnt from again.
    ``threshold``: the confidence a hit needs (default :data:`THRESHOLD`). Nothing is
    saved when an example is not an image or there are too few."""
    if threshold is not None and not 0 <= threshold <= 100:
        raise InputError(f"a concept's threshold is a confidence from 0 to 100, not {threshold}")
    name = check_name(name)
    new_pos = _load_all(examples, load)
    new_neg = _load_all(counter, load)
    both = [src for sha, (src, _) in new_neg.items() if sha in new_pos]
    if both:
        raise InputError(f"{both[0]} is given both as an example and as a counter-example "
                         "(--not): a photo is one or the other")
    pos_vectors = embed([i for _, i in new_pos.values()], threads, models_dir)
    neg_vectors = embed([i for _, i in new_neg.values()], threads, models_dir)
    with writing(lake):
        concepts = Concepts.load(lake)
        old = concepts.find(name)
        # a photo given now as one kind and before as the other is what it is given as now
        pos = _merged(old, "example", list(zip(new_pos, pos_vectors, strict=True)),
                      set(new_neg))
        neg = _merged(old, "counter", list(zip(new_neg, neg_vectors, strict=True)),
                      set(new_pos))
        if len(pos) < MIN_EXAMPLES:
            raise InputError(f"concept {name!r} needs at least {MIN_EXAMPLES} different example "
                             f"photos, not {len(pos)}")
        if not len(background) and not neg:
            raise InputError(f"concept {name!r} has nothing to be told from: the lake has no "
                             "analysed photos (run socialsight enrich), so give counter-examples "
                             "(--not)")
        learnt = Concept.learn(old["name"] if old else name,
                               np.asarray([v for _, v in pos]),
                               np.asarray([v for _, v in neg]) if neg else None,
                               background if len(background) else None)
        if threshold is not None:
            learnt = dataclasses.replace(learnt, threshold=float(threshold))
        concepts.put(learnt, pos, neg, len(background))
        concepts.save(lake)
    return learnt


def _merged(old: dict[str, Any] | None, kind: str, new: list[tuple[str, np.ndarray]],
            moved: set[str]) -> list[tuple[str, np.ndarray]]:
    """A concept's stored examples (or counter-examples) and the new ones, each photo once,
    less the stored ones ``moved`` to the other kind now."""
    out: dict[str, np.ndarray] = {}
    if old is not None:
        for sha256, vector in zip(old[f"{kind}_sha256"] or [], old[f"{kind}_embeddings"] or [],
                                  strict=True):
            if sha256 not in moved:
                out[sha256] = np.asarray(vector, dtype=np.float32)
    for sha256, vector in new:
        out.setdefault(sha256, vector)
    return list(out.items())


def forget(lake: Lake, who: str) -> dict[str, Any] | None:
    """Forget a concept, under the lake's writer lock; its row, or None if there is none."""
    with writing(lake):
        concepts = Concepts.load(lake)
        row = concepts.remove(who)
        if row is not None:
            concepts.save(lake)
    return row


def found(concepts: Sequence[Concept], embedding: Sequence[float] | None,
          least: float | None = None) -> list[tuple[str, float]]:
    """The concepts a photo (its embedding) shows: (name, confidence), most sure first;
    what the ``concept_hits`` view gives for it. ``least``: the confidence each needs
    instead of its threshold."""
    if embedding is None:
        return []
    vector = np.asarray(embedding, dtype=np.float32)
    out = []
    for concept in concepts:
        if len(concept.weights) == len(vector):
            confidence = round(float(concept.score(vector)[0]), 3)
            if confidence >= (concept.threshold if least is None else least):
                out.append((concept.name, confidence))
    return sorted(out, key=lambda hit: (-hit[1], hit[0]))

"""Scenes and things no offline model labels (Tree, Sky, Indoors, Table, Hand, ...).

ImageNet has no class for the sky, a tree, grass, a hand or a sheet of paper, and no
offline scene model ships (the model survey), yet a person names Tree or
Sky first on a landscape and Table or Paper on a desk. The source is

* **the scene head** (:func:`scene_labels`): one logistic regression per scene label on
  the photo's embedding (the classifier's pooled features, L2-normalised), trained by
  ``tools/models/build_scene_head.py`` on 751 real photos from packages labelled by
  looking at them (tools/models/sceneset), none of them in bench/photoset. Its
  confidence is the regression's probability × 100, shifted per label so that 55 is
  where that label's cross-validated precision reaches 0.8 (Cloud is said from a
  probability of 0.60, Sky from 0.40); the file holds only the labels that reach it on
  at least 8 photos, less those the builder leaves out (Wall: models/MODELS.md).
  It costs one small product on features the classifier computes anyway.

Colour rules tried and dropped: a blue sky (a smooth blue top over a different bottom:
given until the scene head, which says Sky and Outdoors itself, made it only add a blue
studio backdrop's Sky on the development photos of bench/labels.py), an overcast sky
(smooth pale grey: white backdrops and walls), Plant and Tree (textured green: a green
circuit board, a green face mask), Grass (green at the bottom) and Night (a dark photo:
dark rooms).
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

import numpy as np

from socialsight.models import runtime
from socialsight.models.base import Model

HEAD = "scene_head.json"


class _Head(NamedTuple):
    names: tuple[str, ...]
    weights: np.ndarray  # [labels, 1280] float64, on the L2-normalised embedding
    bias: np.ndarray  # [labels]


class SceneHead(Model[np.ndarray, dict[str, float]]):
    """The scene head: each label's probability (0–100) from one photo's embedding."""

    name = "labels"

    def _load(self) -> _Head:
        with open(runtime.model_path(HEAD, self.directory), encoding="utf-8") as handle:
            data: dict[str, Any] = json.load(handle)
        labels = data["labels"]
        return _Head(tuple(lb["name"] for lb in labels),
                     np.asarray([lb["weights"] for lb in labels], dtype=np.float64),
                     np.asarray([lb["bias"] for lb in labels], dtype=np.float64))

    def _predict(self, loaded: _Head, batch: list[np.ndarray]) -> list[dict[str, float]]:
        out = []
        for embedding in batch:
            vector = np.asarray(embedding, dtype=np.float64).ravel()
            # a sum per label, not a matrix product: BLAS would start threads in workers
            z = np.clip((loaded.weights * vector).sum(axis=1) + loaded.bias, -30.0, 30.0)
            p = 100.0 / (1.0 + np.exp(-z))
            out.append({name: round(float(v), 3) for name, v in zip(loaded.names, p,
                                                                    strict=True)})
        return out


def head_labels(directory: str | None = None) -> tuple[str, ...]:
    """The labels the scene head gives, in its order."""
    head: _Head = SceneHead(1, directory).load()
    return head.names


def scene_labels(embedding: np.ndarray | list[float], directory: str | None = None,
                 ) -> dict[str, float]:
    """Every scene label of the head with its confidence (0–100) for one photo's
    embedding (``lookalike.embedding`` of the classifier's features)."""
    [found] = SceneHead(1, directory).predict([np.asarray(embedding, dtype=np.float64)])
    return found

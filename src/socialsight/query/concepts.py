"""The learnt concepts as SQL: ``concept_hits``, every photo of the lake that shows one.

``concept_hits`` is one row per photo of a post (tweetid, mediaid, media_url, dt) and
concept it shows, with the confidence (0–100): each concept of the lake's
``_concepts/concepts.parquet`` (:mod:`socialsight.concepts`) scored over every photo's
``media_rekognition.embedding`` at once (:func:`socialsight.concepts.confidence_sql`: the
roots of a photo's values are taken once, then each concept is one inner product), a hit
at the concept's threshold or above. It reads the concepts as they are now, so a
concept just learnt is found in every past photo, and one removed is gone; this view,
not ``customlabels``, is where concepts are found. Photos analysed before embeddings were
kept (no ``embedding``) show no concept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from socialsight.concepts import confidence_of_roots_sql, roots_sql

HITS_VIEW = "concept_hits"

EMPTY_HITS_SQL = (
    "SELECT * FROM (VALUES (NULL::BIGINT, NULL::VARCHAR, NULL::VARCHAR, NULL::VARCHAR, "
    "NULL::DOUBLE, NULL::VARCHAR)) t(tweetid, mediaid, media_url, concept, confidence, dt) "
    "WHERE false")


def hits_sql(source: str) -> str:
    """The ``concept_hits`` view over ``source`` (a ``read_parquet(...)`` of the concepts)."""
    confidence = confidence_of_roots_sql("m.roots", "c.weights", "c.bias")
    return f"""
SELECT tweetid, mediaid, media_url, concept, round(confidence, 3) AS confidence, dt
FROM (
  SELECT m.tweetid, m.mediaid, m.media_url, c.name AS concept, c.threshold,
         {confidence} AS confidence, m.dt
  FROM (SELECT tweetid, mediaid, media_url, dt, {roots_sql("embedding")} AS roots
        FROM media_rekognition WHERE embedding IS NOT NULL) AS m,
       (SELECT name, weights, bias, threshold FROM {source}) AS c
)
WHERE confidence >= threshold
"""


# The lake's photos a new concept is told from: a repeatable sample of $n distinct
# photos' embeddings (the examples' own photos left out).
BACKGROUND_SQL = """
SELECT embedding FROM (
  SELECT sha256, any_value(embedding) AS embedding FROM media_rekognition
  WHERE embedding IS NOT NULL AND sha256 IS NOT NULL GROUP BY sha256
)
WHERE NOT list_contains($exclude::VARCHAR[], sha256)
ORDER BY hash(sha256), sha256 LIMIT $n
"""


def background(engine: Any, exclude: Sequence[str], n: int) -> np.ndarray:
    """Up to ``n`` of the lake's photos' embeddings (one row each), the photos whose sha256
    is in ``exclude`` left out: the same sample for the same lake (``engine``: a
    :class:`socialsight.query.engine.Engine`)."""
    rows = engine.rows(BACKGROUND_SQL, {"exclude": list(exclude), "n": n})
    if not rows:
        return np.zeros((0, 0), dtype=np.float32)
    width = len(rows[0]["embedding"])
    return np.asarray([r["embedding"] for r in rows if len(r["embedding"]) == width],
                      dtype=np.float32)

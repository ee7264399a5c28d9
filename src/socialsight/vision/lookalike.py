"""Look-alikes: a perceptual hash and an embedding per photo, near-duplicates and
"more like this".

Every analysed photo gets two fingerprints (``media_rekognition.phash`` and
``.embedding``):

- :func:`phash`, a 64-bit DCT perceptual hash: the photo in grayscale at 32 x 32, its
  2-D DCT, and one bit per coefficient of the lowest 8 x 8 frequencies (above or below
  their median). Re-encoding and resizing move few bits; a different photo differs in
  about half. Stored as a signed 64-bit integer so that DuckDB compares two with
  ``bit_count(xor(a, b))``.
- :func:`embedding`, the classifier's pooled penultimate features of the whole photo
  (:func:`socialsight.vision.labels.batch_view_scores`), L2-normalised: the inner product
  of two is their cosine similarity. It sees past what the hash cannot: a photo cropped,
  captioned or shown inside a screenshot.

:func:`near_duplicates` groups versions of one photo: two photos are versions of each
other when their hashes differ in at most :data:`HASH_DISTANCE` bits or their
embeddings' cosine is at least :data:`COSINE` (both chosen on variants of real photos,
bench/concepts.py); the groups are the connected components of that relation.
:func:`more_like` is "more like this"; :data:`MORE_LIKE_SQL` and :data:`DUPLICATES_SQL`
are the same in DuckDB over the lake.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
from PIL import Image

HASH_SIDE = 32  # the photo is hashed at this size, in grayscale
HASH_LOW = 8  # the lowest HASH_LOW x HASH_LOW frequencies make the 64 bits
# Two photos are versions of each other within this many differing bits...
HASH_DISTANCE = 6
# ... or at least this cosine similarity of their embeddings (bench/concepts.py).
COSINE = 0.85


@functools.cache
def _dct_matrix(n: int) -> np.ndarray:
    """The orthonormal DCT-II matrix of size ``n`` (``D @ x`` transforms a column)."""
    k = np.arange(n)[:, np.newaxis]
    i = np.arange(n)[np.newaxis, :]
    matrix = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    matrix[0] /= np.sqrt(2.0)
    return matrix


def phash(image: Image.Image) -> int:
    """The photo's 64-bit DCT perceptual hash, as a signed 64-bit integer (the first
    coefficient is the most significant bit)."""
    gray = image.convert("L").resize((HASH_SIDE, HASH_SIDE), Image.Resampling.LANCZOS)
    pixels = np.asarray(gray, dtype=np.float64)
    dct = _dct_matrix(HASH_SIDE)
    low = (dct @ pixels @ dct.T)[:HASH_LOW, :HASH_LOW].ravel()
    bits = low > np.median(low)
    value = int("".join("1" if b else "0" for b in bits), 2)
    return value - (1 << 64) if value >= 1 << 63 else value


def hamming(a: int, b: int) -> int:
    """How many of the 64 bits two hashes differ in."""
    return ((a ^ b) & ((1 << 64) - 1)).bit_count()


def embedding(features: np.ndarray) -> list[float]:
    """A photo's embedding: its classifier features, L2-normalised, as float32 values."""
    vector = np.asarray(features, dtype=np.float64).ravel()
    norm = float(np.linalg.norm(vector))
    unit = vector / norm if norm > 0 else vector
    return unit.astype(np.float32).tolist()


def _hash_distances(phashes: Sequence[int]) -> np.ndarray:
    """Every pair's Hamming distance, ``[n, n]``."""
    values = np.asarray(phashes, dtype=np.int64).view(np.uint64)
    xor = values[:, np.newaxis] ^ values[np.newaxis, :]
    as_bytes = xor.view(np.uint8).reshape(len(values), len(values), 8)
    return np.unpackbits(as_bytes, axis=-1).sum(axis=-1)


def near_duplicates(phashes: Sequence[int | None], embeddings: np.ndarray | None = None,
                    hash_distance: int = HASH_DISTANCE,
                    cosine: float = COSINE) -> list[list[int]]:
    """Groups of photos (their indices, each group sorted, the groups by their first)
    that are versions of one another: a hash at most ``hash_distance`` bits away, or an
    embedding at least ``cosine`` alike (``embeddings``: one L2-normalised row per photo,
    a row of NaN where a photo has none). Photos with no version are in no group."""
    n = len(phashes)
    linked = np.zeros((n, n), dtype=bool)
    known = [i for i, h in enumerate(phashes) if h is not None]
    if known:
        near = _hash_distances([phashes[i] for i in known]) <= hash_distance  # type: ignore[misc]
        linked[np.ix_(known, known)] = near
    if embeddings is not None and n:
        vectors = np.asarray(embeddings, dtype=np.float32)
        with np.errstate(invalid="ignore"):
            linked |= np.nan_to_num(vectors @ vectors.T, nan=-1.0) >= cosine
    return _components(linked)


def _components(linked: np.ndarray) -> list[list[int]]:
    """The connected components of more than one photo of a symmetric relation."""
    parent = list(range(len(linked)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in zip(*np.nonzero(np.triu(linked, k=1)), strict=True):
        parent[root(int(a))] = root(int(b))
    groups: dict[int, list[int]] = {}
    for i in range(len(linked)):
        groups.setdefault(root(i), []).append(i)
    return sorted((g for g in groups.values() if len(g) > 1), key=lambda g: g[0])


def more_like(query: np.ndarray, embeddings: np.ndarray, k: int = 10,
              ) -> list[tuple[int, float]]:
    """The ``k`` photos whose embeddings are most like ``query`` (index, cosine), most
    alike first; the query itself, if among them, comes first."""
    vectors = np.asarray(embeddings, dtype=np.float32)
    if not len(vectors):
        return []
    similarity = np.nan_to_num(vectors @ np.asarray(query, dtype=np.float32).ravel(),
                               nan=-np.inf)
    order = np.argsort(-similarity, kind="stable")[:k]
    return [(int(i), float(similarity[i])) for i in order if np.isfinite(similarity[i])]


# "More like this" over the lake, in DuckDB: the photos (one row per distinct photo)
# most like the photo whose sha256 is $sha256, most alike first ($k of them, itself
# excluded). The embeddings are unit vectors, so the inner product is the cosine.
MORE_LIKE_SQL = """
WITH query AS (
  SELECT any_value(embedding) AS embedding FROM media_rekognition
  WHERE sha256 = $sha256 AND embedding IS NOT NULL
)
SELECT m.sha256, any_value(m.media_url) AS media_url,
       max(list_inner_product(m.embedding, query.embedding)) AS similarity
FROM media_rekognition AS m, query
WHERE m.embedding IS NOT NULL AND m.sha256 <> $sha256
GROUP BY m.sha256
ORDER BY similarity DESC, m.sha256
LIMIT $k
"""

# The versions of the photo whose sha256 is $sha256 in the lake (the rule of
# near_duplicates, $bits and $cosine as HASH_DISTANCE and COSINE).
DUPLICATES_SQL = """
WITH query AS (
  SELECT any_value(phash) AS phash, any_value(embedding) AS embedding
  FROM media_rekognition WHERE sha256 = $sha256
)
SELECT m.sha256, any_value(m.media_url) AS media_url,
       min(bit_count(xor(m.phash, query.phash))) AS bits,
       max(list_inner_product(m.embedding, query.embedding)) AS similarity
FROM media_rekognition AS m, query
WHERE m.sha256 <> $sha256
  AND (bit_count(xor(m.phash, query.phash)) <= $bits
       OR list_inner_product(m.embedding, query.embedding) >= $cosine)
GROUP BY m.sha256
ORDER BY bits, similarity DESC
"""

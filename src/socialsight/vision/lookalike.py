"""Look-alikes: a perceptual hash and an embedding per photo, near-duplicates and
"more like this".

Every analysed photo gets two fingerprints (``media_rekognition.phash`` and
``.embedding``):

- :func:`phash`, a 64-bit DCT perceptual hash of the photo's content: the part inside
  any flat bars and margins around it (:func:`content_box`: a screenshot's status and
  title bars, the lines of text under a post's photo, a letterbox), in grayscale at
  32 x 32, its 2-D DCT, and one bit per coefficient of the lowest 8 x 8 frequencies
  (above or below their median). Re-encoding and resizing move few bits, and so does
  showing the photo inside a screenshot; a different photo differs in about half.
  Stored as a signed 64-bit integer so that DuckDB compares two with
  ``bit_count(xor(a, b))``.
- :func:`embedding`, the classifier's pooled penultimate features of the whole photo
  (:func:`socialsight.vision.labels.batch_view_scores`), L2-normalised: the inner product
  of two is their cosine similarity. It sees past what the hash cannot: a photo cropped
  or captioned.

:func:`near_duplicates` groups versions of one photo: two photos are versions of each
other when their hashes differ in at most :data:`HASH_DISTANCE` bits or their
embeddings' cosine is at least :data:`COSINE` (both chosen on variants of real photos,
bench/concepts.py); the groups are the connected components of that relation.
:func:`more_like` is "more like this"; :data:`MORE_LIKE_SQL` and :data:`DUPLICATES_SQL`
are the same in DuckDB over the lake, and :data:`VERSIONS_SQL` (the ``photo_versions``
view) groups every photo of the lake with its versions, so that counts of re-shared
photos count versions of an image, not identical bytes.
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


# Where the content starts inside bars and margins (content_box), on a copy of the photo
# BOX_SIDE pixels on its long side, its colours in BOX_LEVELS levels a channel.
BOX_SIDE = 192
BOX_LEVELS = 16
BAR_SHARE = 0.95  # a line of a bar or a margin: its two commonest colours cover this much
TEXT_LINE = 0.06  # a line of text: a run of lines at most this share of the side...
TEXT_GROUND = 0.3  # ... between flat lines of one colour, which covers this much of each
MIN_KEEP = 0.3  # the content keeps at least this share of the width and of the height
FLAT_INSIDE = 0.25  # more of the content's lines than this flat: a graphic, not a photo
EDGE = 8.0  # a bar is cut off only where the content starts with a step this sharp (0-255)


def _bar_lines(codes: np.ndarray) -> np.ndarray:
    """For each line of quantised colours (``[n, length]``), whether it belongs to a bar,
    a margin or a line of text rather than to a photo: flat (two colours), or in a short
    run of lines between flat lines of one ground colour that covers most of each (the
    letters of a name or a caption on the page around a photo)."""
    n, length = codes.shape
    ordered = np.sort(codes, axis=1)
    starts = np.ones_like(ordered, dtype=bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    runs = np.cumsum(starts, axis=1) - 1  # each colour's run, numbered along its line
    counts = np.bincount((runs + np.arange(n)[:, None] * length).ravel(),
                         minlength=n * length).reshape(n, length)
    best = np.argmax(counts, axis=1)
    grounds = ordered[np.arange(n), np.argmax(runs == best[:, None], axis=1)]
    shares = counts[np.arange(n), best] / length
    top_two = np.partition(counts, -2, axis=1)[:, -2:].sum(axis=1) if length > 1 else counts[:, 0]
    flat = top_two >= BAR_SHARE * length
    out = flat.copy()
    longest = max(1, round(TEXT_LINE * n))
    i = 0
    while i < n:
        if flat[i]:
            i += 1
            continue
        j = i
        while j < n and not flat[j]:
            j += 1
        if i > 0 and j < n and j - i <= longest and grounds[i - 1] == grounds[j]:
            run = slice(i, j)
            out[run] = bool(np.all((grounds[run] == grounds[i - 1])
                                   & (shares[run] >= TEXT_GROUND)))
        i = j
    return out


def _content_run(bars: np.ndarray, pixels: np.ndarray) -> tuple[int, int]:
    """The lines between the bars at either end, an end kept whole where no sharp step
    separates the content from the bar (a soft photo, a pale sky on a pale page)."""
    n = len(bars)
    if bars.all():
        return 0, n
    begin, end = int(np.argmin(bars)), n - int(np.argmin(bars[::-1]))

    def step(bar: int, inside: int) -> float:  # a line of blur (JPEG's colours) allowed
        further = min(max(inside + (inside - bar), 0), n - 1)
        return float(max(np.abs(pixels[inside] - pixels[bar]).mean(),
                         np.abs(pixels[further] - pixels[bar]).mean()))

    if begin > 0 and step(begin - 1, begin) < EDGE:
        begin = 0
    if 0 < end < n and step(end, end - 1) < EDGE:
        end = n
    return begin, end


def content_box(image: Image.Image) -> tuple[int, int, int, int]:
    """The box (left, top, right, bottom) of the photo inside flat bars, margins and
    lines of text around it (a screenshot of a post, a letterboxed frame); the whole
    photo where there are none, or where they would leave less than MIN_KEEP of it."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    whole = (0, 0, rgb.width, rgb.height)
    scale = BOX_SIDE / max(rgb.size)
    width, height = max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale))
    small = rgb.resize((width, height), Image.Resampling.BOX, reducing_gap=2.0)
    pixels = np.asarray(small, dtype=np.int32)
    levels = pixels * BOX_LEVELS // 256
    codes = (levels[..., 0] * BOX_LEVELS + levels[..., 1]) * BOX_LEVELS + levels[..., 2]
    shades = pixels.astype(np.float32)
    rows = _bar_lines(codes)
    top, bottom = _content_run(rows, shades)
    # A photo has few flat lines; a graphic or a page (a banner, a document) has many, and
    # is hashed whole.
    if bottom - top < MIN_KEEP * height or rows[top:bottom].mean() > FLAT_INSIDE:
        return whole
    columns = _bar_lines(codes[top:bottom].T)
    left, right = _content_run(columns, shades[top:bottom].transpose(1, 0, 2))
    if right - left < MIN_KEEP * width or columns[left:right].mean() > FLAT_INSIDE:
        return whole
    if (left, top, right, bottom) == (0, 0, width, height):
        return whole
    return _refined(rgb, (left, top, right, bottom), scale, (width, height))


def _sharpest(strip: Image.Image, guess: int, offset: int) -> int:
    """The row boundary of ``strip`` (a band of the photo whose first row is row
    ``offset`` of it) where two rows differ most, as a row of the photo: where the
    photo's edge is at full size, near ``guess``."""
    lines = np.asarray(strip, dtype=np.int16)
    if len(lines) < 2:
        return guess
    steps = np.abs(np.diff(lines, axis=0)).mean(axis=(1, 2))
    return offset + 1 + int(np.argmax(steps))


def _refined(rgb: Image.Image, box: tuple[int, int, int, int], scale: float,
             size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The box found on the small copy, each cut edge moved to the sharpest step within
    a pixel of the small copy at full size (so versions of a photo are cut alike); only
    the bands around the edges are read at full size."""
    left, top, right, bottom = (round(v / scale) for v in box)
    right, bottom = min(rgb.width, right), min(rgb.height, bottom)
    reach = int(np.ceil(1 / scale)) + 1

    def rows(guess: int) -> int:  # the sharpest row boundary near guess, within the box
        low, high = max(0, guess - reach - 1), min(rgb.height, guess + reach + 1)
        return _sharpest(rgb.crop((left, low, right, high)), guess, low)

    def columns(guess: int) -> int:
        low, high = max(0, guess - reach - 1), min(rgb.width, guess + reach + 1)
        band = rgb.crop((low, top, high, bottom)).transpose(Image.Transpose.TRANSPOSE)
        return _sharpest(band, guess, low)

    if box[1] > 0:
        top = rows(top)
    if box[3] < size[1]:
        bottom = rows(bottom)
    if box[0] > 0:
        left = columns(left)
    if box[2] < size[0]:
        right = columns(right)
    return left, top, right, bottom


def phash(image: Image.Image) -> int:
    """The 64-bit DCT perceptual hash of the photo's content (:func:`content_box`), as a
    signed 64-bit integer (the first coefficient is the most significant bit)."""
    box = content_box(image)
    if box != (0, 0, image.width, image.height):
        image = image.crop(box)
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


# "More like this" over the lake, in DuckDB: the photos (one row per distinct photo, with
# the first post it came in) most like the unit vector $embedding, most alike first ($k of
# them, the photo $sha256 left out), each with how many bits its hash differs from $phash
# (NULL when either is unknown). The embeddings are unit vectors, so the inner product is
# the cosine.
def _values(embedding: str) -> str:
    """``embedding`` (a column of FLOAT lists) made anew, value by value: DuckDB 2.0's
    ``list_inner_product`` refuses a Parquet file's list column that holds a NULL list
    anywhere in it (a photo that failed, beside the ones analysed), even in rows it never
    reads; ``list_transform`` builds the lists again, without it."""
    return f"list_transform({embedding}, lambda v: v)"


MORE_LIKE_SQL = f"""
SELECT m.sha256, arg_min(m.media_url, m.tweetid) AS media_url,
       max(list_inner_product({_values("m.embedding")}, $embedding::FLOAT[])) AS similarity,
       min(bit_count(xor(m.phash, $phash::BIGINT))) AS bits,
       min(m.tweetid) AS tweetid, arg_min(m.mediaid, m.tweetid) AS mediaid
FROM media_rekognition AS m
WHERE m.embedding IS NOT NULL AND m.sha256 IS NOT NULL
  AND m.sha256 IS DISTINCT FROM $sha256
GROUP BY m.sha256
ORDER BY similarity DESC, m.sha256
LIMIT $k
"""

# A photo's fingerprints in the lake by its sha256 (no row: not in the lake).
FINGERPRINTS_SQL = """
SELECT any_value(phash) AS phash, any_value(embedding) AS embedding,
       count(*) AS analysed, count(embedding) > 0 AS has_embedding
FROM media_rekognition WHERE sha256 = $sha256
"""

# The versions of the photo whose sha256 is $sha256 in the lake: the photos within the
# rule of near_duplicates of it ($bits and $cosine as HASH_DISTANCE and COSINE), one row
# each, with the first post it came in.
DUPLICATES_SQL = f"""
WITH query AS (
  SELECT any_value(phash) AS phash, any_value(embedding) AS embedding
  FROM media_rekognition WHERE sha256 = $sha256
)
SELECT m.sha256, arg_min(m.media_url, m.tweetid) AS media_url,
       min(bit_count(xor(m.phash, query.phash))) AS bits,
       max(list_inner_product({_values("m.embedding")}, {_values("query.embedding")}))
         AS similarity,
       min(m.tweetid) AS tweetid, arg_min(m.mediaid, m.tweetid) AS mediaid
FROM media_rekognition AS m, query
WHERE m.sha256 <> $sha256
  AND (bit_count(xor(m.phash, query.phash)) <= $bits
       OR list_inner_product({_values("m.embedding")}, {_values("query.embedding")})
          >= $cosine)
GROUP BY m.sha256
ORDER BY bits, similarity DESC, m.sha256
"""

# --- versions of a photo across the lake, in DuckDB -------------------------------------

VERSIONS_VIEW = "photo_versions"
# Hashes are compared in bands: HASH_DISTANCE + 1 disjoint bands of HASH_BAND bits, so two
# hashes at most HASH_DISTANCE bits apart agree on one band at least (pigeonhole), and only
# photos that share a band's value are compared.
HASH_BAND = 64 // (HASH_DISTANCE + 1)
# Embeddings are compared only when they share TOP_SHARED of their TOP_DIMS largest
# dimensions (each photo is keyed by every TOP_SHARED of them): on versions of real photos
# (bench/concepts.py's, and crops of the brand set's negatives) 98 % of the pairs at
# cosine >= COSINE share 3 of their top 8, while a lake of unrelated photos gives a few
# candidate pairs per photo.
TOP_DIMS = 8
TOP_SHARED = 3
TOP_KEY = 4096  # more than the embedding's dimensions: a key packs TOP_SHARED of them


def _versions_sql() -> str:
    band_mask = (1 << HASH_BAND) - 1
    chosen = " AND ".join(f"d{i} < d{i + 1}" for i in range(1, TOP_SHARED))
    ranges = ", ".join(f"range(1, {TOP_DIMS + 1}) AS r{i}(d{i})" for i in range(1, TOP_SHARED + 1))
    key = "top[d1]"
    for i in range(2, TOP_SHARED + 1):
        key = f"({key}) * {TOP_KEY} + top[d{i}]"
    return f"""
WITH RECURSIVE prints AS MATERIALIZED (
  SELECT sha256, any_value(phash) AS phash, any_value(embedding) AS embedding
  FROM media_rekognition WHERE sha256 IS NOT NULL GROUP BY sha256
),
hash_keys AS (
  SELECT sha256, phash, band, (phash >> ({HASH_BAND} * band)) & {band_mask} AS key
  FROM prints, range({HASH_DISTANCE + 1}) AS bands(band) WHERE phash IS NOT NULL
),
by_hash AS (
  SELECT DISTINCT x.sha256 AS a, y.sha256 AS b
  FROM hash_keys AS x JOIN hash_keys AS y
    ON x.band = y.band AND x.key = y.key AND x.sha256 < y.sha256
  WHERE bit_count(xor(x.phash, y.phash)) <= {HASH_DISTANCE}
),
tops AS MATERIALIZED (
  SELECT sha256, list_sort(arg_max(i, v, {TOP_DIMS})) AS top FROM (
    SELECT sha256, generate_subscripts(embedding, 1) AS i, unnest(embedding) AS v
    FROM prints WHERE embedding IS NOT NULL)
  GROUP BY sha256 HAVING count(*) >= {TOP_DIMS}
),
chosen AS (SELECT * FROM {ranges} WHERE {chosen}),
embedding_keys AS (SELECT sha256, {key} AS key FROM tops, chosen),
candidates AS (
  SELECT DISTINCT x.sha256 AS a, y.sha256 AS b
  FROM embedding_keys AS x JOIN embedding_keys AS y ON x.key = y.key AND x.sha256 < y.sha256
),
by_embedding AS (
  SELECT c.a, c.b FROM candidates AS c
  JOIN prints AS x ON x.sha256 = c.a JOIN prints AS y ON y.sha256 = c.b
  WHERE list_inner_product({_values("x.embedding")}, {_values("y.embedding")}) >= {COSINE}
),
links AS MATERIALIZED (
  SELECT a, b, 'hash' AS how FROM by_hash
  UNION ALL SELECT a, b, 'embedding' AS how FROM by_embedding
),
edges AS (SELECT a, b FROM links UNION SELECT b, a FROM links),
reach(node, other) AS (
  SELECT a, b FROM edges
  UNION
  SELECT r.node, e.b FROM reach AS r JOIN edges AS e ON e.a = r.other
),
groups AS (
  SELECT node AS sha256, least(node, min(other)) AS version_of,
         count(DISTINCT other) FILTER (WHERE other <> node) AS others
  FROM reach GROUP BY node
),
ways AS (
  SELECT sha256, CASE WHEN bool_or(how = 'hash') THEN 'hash' ELSE 'embedding' END AS how
  FROM (SELECT a AS sha256, how FROM links UNION ALL SELECT b AS sha256, how FROM links)
  GROUP BY sha256
)
SELECT p.sha256, coalesce(g.version_of, p.sha256) AS version_of,
       CASE WHEN g.version_of IS NULL OR g.version_of = p.sha256 THEN 'same bytes'
            ELSE w.how END AS how,
       coalesce(g.others, 0) + 1 AS versions
FROM prints AS p LEFT JOIN groups AS g ON g.sha256 = p.sha256
LEFT JOIN ways AS w ON w.sha256 = p.sha256
"""


# The versions of every photo of the lake, one row per distinct photo (sha256): version_of,
# the representative of its group (the least sha256 of the group: the photo itself when it
# has no other version); how it joined the group ('same bytes' for the representative,
# 'hash' when a close hash links it to another version, else 'embedding'); versions, the
# distinct photos of its group. The groups are near_duplicates' (connected components of
# the rule), found through banded comparisons rather than all pairs.
VERSIONS_SQL = _versions_sql()

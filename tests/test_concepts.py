"""Custom concepts: learnt from a few real photos' embeddings, scored in numpy and in
DuckDB alike (issue 17)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from PIL import Image

from socialsight.concepts import Concept, concept_sql
from socialsight.errors import InputError
from socialsight.vision import labels, lookalike

PHOTOS = Path(__file__).resolve().parents[1] / "examples" / "demo" / "photos"
OTHERS = ("coffee.jpg", "astronaut.jpg", "grace-hopper.jpg", "rocket.jpg", "sale-banner.png",
          "deep-field.jpg")


def crops(name: str, count: int, seed: int) -> list[Image.Image]:
    """``count`` different crops (50-90% of each side) of a demo photo."""
    image = Image.open(PHOTOS / name).convert("RGB")
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        share = rng.uniform(0.5, 0.9)
        w, h = int(image.width * share), int(image.height * share)
        x, y = int(rng.integers(0, image.width - w + 1)), int(rng.integers(0, image.height - h + 1))
        out.append(image.crop((x, y, x + w, y + h)))
    return out


def embed(images: list[Image.Image]) -> np.ndarray:
    outputs = labels.batch_view_scores([labels.views(i) for i in images])
    return np.asarray([lookalike.embedding(o.features) for o in outputs], dtype=np.float32)


@pytest.fixture(scope="module")
def cat_concept() -> tuple[Concept, np.ndarray, np.ndarray]:
    cats = embed(crops("cat.jpg", 14, 1))
    others = embed([c for i, name in enumerate(OTHERS) for c in crops(name, 6, 10 + i)])
    # the even crops of the other photos are the lake's background; the odd ones unseen
    concept = Concept.learn("cat", cats[:8], background=others[::2])
    return concept, cats[8:], others[1::2]


def test_a_concept_learnt_from_examples_finds_the_held_out_ones(cat_concept):
    concept, held, unseen = cat_concept
    assert concept.hits(held).mean() >= 0.8
    assert not concept.hits(unseen).any()
    assert concept.score(held).min() > concept.score(unseen).max()
    assert concept.score(unseen).min() >= 0 and concept.score(held).max() <= 100


def test_a_stored_concept_scores_the_same(cat_concept):
    concept, held, _ = cat_concept
    again = Concept.from_row(concept.to_row())
    np.testing.assert_array_equal(again.score(held), concept.score(held))
    assert again.examples == 8


def test_duckdb_scores_every_photo_as_numpy_does(cat_concept):
    concept, held, unseen = cat_concept
    vectors = np.concatenate([held, unseen])
    table = pa.table({"i": list(range(len(vectors) + 1)),
                      "embedding": pa.array([*vectors.tolist(), None], pa.list_(pa.float32()))})
    con = duckdb.connect()
    con.register("media_rekognition", table)
    got = con.execute(f"SELECT {concept_sql(concept)} FROM media_rekognition ORDER BY i"
                      ).fetchall()
    np.testing.assert_allclose([r[0] for r in got[:-1]], concept.score(vectors), atol=1e-3)
    assert got[-1][0] is None  # a photo without an embedding has no score


def test_a_concept_needs_examples_and_something_to_tell_them_from():
    with pytest.raises(InputError):
        Concept.learn("nothing", np.zeros((0, 4)), background=np.ones((3, 4)))
    with pytest.raises(InputError):
        Concept.learn("alone", np.ones((2, 4)))

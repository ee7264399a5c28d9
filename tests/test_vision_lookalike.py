"""A photo's embedding and perceptual hash: the classifier's second output, what enrich
stores, and the look-alikes and "more like this" they give (issue 17)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pyarrow as pa
from PIL import Image, ImageDraw

from socialsight.analysis import PhotoAnalysis
from socialsight.config import VisionSettings
from socialsight.enrich import analyse_bytes
from socialsight.enrich.plan import PhotoRef
from socialsight.enrich.rows import MEDIA_ROWS, photo_row
from socialsight.lake.store import Lake
from socialsight.models import runtime
from socialsight.query.engine import Engine
from socialsight.vision import labels, lookalike

PHOTOS = Path(__file__).resolve().parents[1] / "examples" / "demo" / "photos"
NAMES = ("coffee.jpg", "astronaut.jpg", "cat.jpg", "grace-hopper.jpg", "sale-banner.png")


def photo(name: str) -> Image.Image:
    return Image.open(PHOTOS / name).convert("RGB")


def jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def test_the_classifier_gives_features_beside_unchanged_logits():
    session = ort.InferenceSession(runtime.model_path(labels.MODEL),
                                   providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == ["logits", "features"]
    inputs = [labels.views(photo(n)) for n in NAMES[:2]]
    [coffee, astronaut] = labels.batch_view_scores(inputs)
    assert coffee.features.shape == (1280,) and coffee.features.dtype == np.float32
    # the scores are what the logits alone give: the mean of both views' softmax
    logits, features = session.run(None, {"input": inputs[0]})
    want = np.exp(logits - logits.max(1, keepdims=True))
    want = (want / want.sum(1, keepdims=True) * 100).mean(0)
    np.testing.assert_allclose(coffee.scores, want, rtol=1e-5)
    np.testing.assert_array_equal(coffee.features, features[0])  # the whole view's
    assert int(np.argmax(coffee.scores)) != int(np.argmax(astronaut.scores))


def test_the_hash_survives_reencoding_and_resizing_and_differs_between_photos():
    hashes = {n: lookalike.phash(photo(n)) for n in NAMES}
    for name, value in hashes.items():
        image = photo(name)
        assert lookalike.hamming(value, lookalike.phash(jpeg(image, 40))) <= 4
        half = image.resize((image.width // 2, image.height // 2))
        assert lookalike.hamming(value, lookalike.phash(half)) <= 4
        assert -(1 << 63) <= value < 1 << 63
    distinct = [lookalike.hamming(a, b) for i, a in enumerate(hashes.values())
                for b in list(hashes.values())[i + 1:]]
    assert min(distinct) > 16


def screenshot(image: Image.Image, dark: bool, margin: int) -> Image.Image:
    """The photo as a post shows it in an app: a status bar, a line of the author's name
    above, two lines of text below, on a light or a dark page, with or without margins."""
    ground, ink = ((21, 32, 43), (230, 236, 240)) if dark else ((255, 255, 255), (15, 20, 25))
    width = image.width + 2 * margin
    canvas = Image.new("RGB", (width, image.height + 200), ground)
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, 0, width, 28), fill=(0, 0, 0) if dark else (240, 240, 240))
    draw.text((margin + 8, 44), "Jo Doe @jodoe · 2h", fill=ink, font_size=18)
    canvas.paste(image, (margin, 80))
    for row, words in enumerate(("Look what we found today!", "#weekend #coffee")):
        draw.text((margin + 8, image.height + 100 + 30 * row), words, fill=ink, font_size=18)
    return canvas


def test_the_hash_sees_a_photo_inside_a_screenshot_of_its_post():
    hashes = {n: lookalike.phash(photo(n)) for n in NAMES}
    for name, value in hashes.items():
        if name.endswith(".png"):  # a graphic (the banner) is hashed whole: not cut out
            continue
        image = photo(name).resize((480, round(480 * photo(name).height / photo(name).width)))
        for dark, margin in ((False, 0), (True, 0), (False, 24), (True, 40)):
            shot = screenshot(image, dark, margin)
            box = lookalike.content_box(shot)
            # The status bar and the author's line go, and the last line of text; a flat
            # strip at the photo's own edge may go with them.
            assert 76 <= box[1] <= 80 + image.height // 10, (name, box)
            assert 80 + image.height * 9 // 10 <= box[3] < shot.height - 60, (name, box)
            assert lookalike.hamming(value, lookalike.phash(jpeg(shot, 70))) <= 6, name
            others = [v for n, v in hashes.items() if n != name]
            assert min(lookalike.hamming(lookalike.phash(shot), v) for v in others) > 16


def test_a_photo_without_bars_is_hashed_whole():
    for name in NAMES:
        image = photo(name)
        assert lookalike.content_box(image) == (0, 0, image.width, image.height)
    # A flat image, or one flat band after another, keeps all of itself.
    flat = Image.new("RGB", (300, 200), (200, 30, 30))
    assert lookalike.content_box(flat) == (0, 0, 300, 200)
    bands = Image.new("RGB", (300, 200), (255, 255, 255))
    ImageDraw.Draw(bands).rectangle((0, 0, 300, 100), fill=(0, 0, 0))
    assert lookalike.content_box(bands) == (0, 0, 300, 200)
    tiny = Image.new("RGB", (1, 1))
    assert lookalike.content_box(tiny) == (0, 0, 1, 1) and isinstance(lookalike.phash(tiny), int)


def test_versions_of_a_photo_are_grouped_and_different_photos_are_not():
    images = [photo(n) for n in NAMES]
    coffee = images[0]
    versions = [jpeg(coffee, 40), coffee.crop((20, 20, coffee.width - 20, coffee.height - 20))]
    everything = images + versions
    outputs = labels.batch_view_scores([labels.views(i) for i in everything])
    vectors = np.asarray([lookalike.embedding(o.features) for o in outputs], dtype=np.float32)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    hashes = [lookalike.phash(i) for i in everything]
    assert lookalike.near_duplicates(hashes, vectors) == [[0, 5, 6]]
    assert lookalike.near_duplicates([*hashes[:5], None, None]) == []
    nearest = lookalike.more_like(vectors[0], vectors, k=3)
    assert nearest[0][0] == 0 and {i for i, _ in nearest[1:]} == {5, 6}


def test_the_embedding_and_hash_land_in_media_rekognition(tmp_path):
    data = (PHOTOS / "coffee.jpg").read_bytes()
    result = PhotoAnalysis.from_dict(analyse_bytes(data, VisionSettings(), 50_000_000))
    assert result.embedding is not None and len(result.embedding) == 1280
    assert result.phash == lookalike.phash(Image.open(io.BytesIO(data)))
    # an analysis cached before the two existed reads them as None
    old = result.as_dict()
    del old["embedding"], old["phash"]
    assert PhotoAnalysis.from_dict(old).embedding is None
    ref = PhotoRef(1, "10", "file:///coffee.jpg", "coffee", "2024-01-01")
    row, _ = photo_row(ref, data, "sha-coffee", result)
    lake = Lake(str(tmp_path / "lake"))
    lake.commit({"media_rekognition": pa.Table.from_pylist([row], schema=MEDIA_ROWS)})
    # a file written before the columns existed: they read as NULL
    old_rows = MEDIA_ROWS.remove(MEDIA_ROWS.get_field_index("phash"))
    old_rows = old_rows.remove(old_rows.get_field_index("embedding"))
    old_row = dict(row, tweetid=2, mediaid="20", sha256="sha-old")
    lake.commit({"media_rekognition": pa.Table.from_pylist([old_row], schema=old_rows)})
    got = Engine(lake).execute(
        "SELECT tweetid, phash, len(embedding) AS n, "
        "list_inner_product(embedding, embedding) AS norm FROM media_rekognition "
        "ORDER BY tweetid").table.to_pylist()
    assert got[0]["phash"] == result.phash and got[0]["n"] == 1280
    assert abs(got[0]["norm"] - 1.0) < 1e-4
    assert got[1]["phash"] is None and got[1]["n"] is None


def fingerprints(images: list[Image.Image]) -> tuple[list[list[float]], list[int]]:
    outputs = labels.batch_view_scores([labels.views(i) for i in images])
    return [lookalike.embedding(o.features) for o in outputs], [lookalike.phash(i) for i in images]


def fingerprint_table(vectors: list[list[float]], hashes: list[int]) -> pa.Table:
    n = len(vectors)
    return pa.table({"tweetid": pa.array(range(1, n + 1), pa.int64()),
                     "mediaid": [str(i) for i in range(n)],
                     "sha256": [f"s{i:02d}" for i in range(n)],
                     "media_url": [f"https://example.org/{i}.jpg" for i in range(n)],
                     "embedding": pa.array(vectors, pa.list_(pa.float32())),
                     "phash": pa.array(hashes, pa.int64())})


def test_more_like_this_in_duckdb_ranks_as_numpy_does():
    import duckdb

    vectors, hashes = fingerprints([photo(n) for n in NAMES])
    con = duckdb.connect()
    con.register("media_rekognition", fingerprint_table(vectors, hashes))
    got = con.execute(lookalike.MORE_LIKE_SQL, {"embedding": vectors[0], "phash": hashes[0],
                                                "sha256": "s00", "k": 3}).fetchall()
    want = lookalike.more_like(np.asarray(vectors[0]), np.asarray(vectors), k=4)[1:]
    assert [r[0] for r in got] == [f"s{i:02d}" for i, _ in want]
    np.testing.assert_allclose([r[2] for r in got], [s for _, s in want], rtol=1e-5)
    assert [r[3] for r in got] == [lookalike.hamming(hashes[0], hashes[i]) for i, _ in want]
    same = con.execute(lookalike.DUPLICATES_SQL, {"sha256": "s00", "bits": 64,
                                                  "cosine": 2.0}).fetchall()
    assert len(same) == len(NAMES) - 1  # every hash is within 64 bits
    assert con.execute(lookalike.DUPLICATES_SQL, {"sha256": "s00", "bits": 10,
                                                  "cosine": 0.99}).fetchall() == []


def test_the_versions_view_groups_as_near_duplicates_does():
    """photo_versions (banded comparisons in DuckDB) against near_duplicates (all pairs)
    on real photos and their re-encoded, resized, cropped and captioned versions."""
    import duckdb
    from PIL import ImageDraw, ImageOps

    images = [photo(n) for n in NAMES]
    versions: list[Image.Image] = []
    for image in images[:3]:
        w, h = image.size
        captioned = ImageOps.expand(image, border=(0, h // 6, 0, 0), fill="white")
        ImageDraw.Draw(captioned).text((8, 8), "when the weekend arrives", fill="black")
        versions += [jpeg(image, 40), image.resize((w // 2, h // 2)),
                     image.crop((w // 10, h // 10, w - w // 10, h - h // 10)), captioned]
    everything = images + versions
    vectors, hashes = fingerprints(everything)
    con = duckdb.connect()
    con.register("media_rekognition", fingerprint_table(vectors, hashes))
    rows = con.execute(f"SELECT sha256, version_of, how, versions FROM ({lookalike.VERSIONS_SQL}) "
                       "ORDER BY sha256").fetchall()
    assert len(rows) == len(everything)
    got = {}
    for sha, version_of, how, _count in rows:
        got.setdefault(version_of, []).append(int(sha[1:]))
        assert (how == "same bytes") == (sha == version_of)
    groups = sorted(sorted(g) for g in got.values() if len(g) > 1)
    want = lookalike.near_duplicates(hashes, np.asarray(vectors, dtype=np.float32))
    assert groups == want
    # each of the first three photos is grouped with its versions, the others alone
    for n in range(3):
        assert n in got[f"s{n:02d}"] and len(got[f"s{n:02d}"]) >= 3
    assert all(len(got.get(f"s{n:02d}", [])) == 1 for n in range(3, len(NAMES)))
    counts = {sha: count for sha, _, _, count in rows}
    assert counts["s00"] == len(got["s00"])

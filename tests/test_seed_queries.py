"""Every query of the seed, unchanged, on a lake built through `socialsight import`.

Until image analysis exists the media_rekognition rows are written through the lake
writer, shaped like Rekognition's responses.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from socialsight.lake.schema import MEDIA_REKOGNITION, PARTITION
from socialsight.lake.store import Lake
from socialsight.posts.canonical import partition_of
from tests.conftest import status, write_jsonl

MS = 1_562_974_837_000
BOOKFAN = (7, "bookfan", "Book Fan")
GADGETS = (8, "gadgetguy", "Gadget Guy")
BEACH = (9, "sunny", "Sunny Days")


def _box(left: float = 0.3, top: float = 0.2) -> dict[str, float]:
    return {"width": 0.2, "height": 0.3, "left": left, "top": top}


def _face(emotions: dict[str, float], left: float = 0.3) -> dict[str, Any]:
    return {
        "boundingbox": _box(left), "confidence": 99.9,
        "agerange": {"low": 25, "high": 35}, "gender": {"value": "Female", "confidence": 96.0},
        "smile": {"value": "HAPPY" in emotions, "confidence": 90.0},
        "eyeglasses": None, "sunglasses": None, "beard": None, "mustache": None,
        "eyesopen": {"value": True, "confidence": 95.0},
        "mouthopen": {"value": False, "confidence": 80.0},
        "emotions": [{"type": t, "confidence": c} for t, c in emotions.items()],
        "landmarks": [{"type": "nose", "x": left + 0.1, "y": 0.35}],
        "pose": {"yaw": 2.0, "roll": -1.0, "pitch": 3.0},
        "quality": {"brightness": 70.0, "sharpness": 80.0},
    }


def _labels(*names: str) -> list[dict[str, Any]]:
    parents = {"Novel": ["Book"], "Face": ["Person"], "Speaker": ["Electronics"]}
    return [{"name": n, "confidence": 95.0, "instances": [],
             "parents": [{"name": p} for p in parents.get(n, [])]} for n in names]


def _lines(*lines: str) -> list[dict[str, Any]]:
    out = []
    for i, line in enumerate(lines):
        geometry = {"boundingbox": _box(0.1, 0.1 * i),
                    "polygon": [{"x": 0.1, "y": 0.1 * i}, {"x": 0.3, "y": 0.1 * i},
                                {"x": 0.3, "y": 0.1 * i + 0.05}, {"x": 0.1, "y": 0.1 * i + 0.05}]}
        out.append({"detectedtext": line, "type": "LINE", "id": i, "parentid": None,
                    "confidence": 98.0, "geometry": geometry})
    return out


def _photo(post_id: int, n: int, *, labels: tuple[str, ...] = (), text: tuple[str, ...] = (),
           faces: tuple[dict[str, Any], ...] = (), celebs: tuple[tuple[str, float], ...] = (),
           moderation: tuple[tuple[str, str], ...] = ()) -> dict[str, Any]:
    media_id = str(post_id * 10 + n)
    return {
        "tweetid": post_id, "mediaid": media_id, "text": "",
        "media_url": f"http://pbs.twimg.com/media/{media_id}.jpg",
        "sha256": f"{post_id:064d}", "width": 1200, "height": 800,
        PARTITION: partition_of(MS),
        "image_labels": {
            "labels": _labels(*labels), "textdetections": _lines(*text),
            "facedetails": list(faces),
            "moderationlabels": [{"name": n, "parentname": p, "confidence": 80.0}
                                 for n, p in moderation],
            "celebrityrecognition": {
                "celebrityfaces": [{"name": name, "id": name.lower(), "urls": [],
                                    "matchconfidence": conf, "face": None}
                                   for name, conf in celebs],
                "unrecognizedfaces": [], "orientationcorrection": None,
            },
            "labelmodelversion": "test",
        },
    }


@pytest.fixture(scope="module")
def seed_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from typer.testing import CliRunner

    from socialsight.cli import app

    root = tmp_path_factory.mktemp("seed")
    photo = "https://pbs.twimg.com/media/p.jpg"
    posts = [
        status(101, "Loving my new #kindle novel", user=BOOKFAN, photos=[photo],
               urls=["https://www.amazon.com/dp/B00ABC1234?tag=fan-20"], hashtags=["kindle"]),
        status(102, "Deal alert: half price speaker", user=GADGETS, photos=[photo],
               urls=["https://amazon.com/Echo-Dot/dp/B07FZ8S74R/ref=sr_1_1"]),
        status(103, "Beach day", user=BEACH, photos=[photo],
               urls=["https://www.example.com/blog/beach"]),
        status(104, "Not safe for work?", user=BEACH, photos=[photo], sensitive=True,
               urls=["https://news.example.org/story"]),
        status(105, "RT @bookfan: johndoe signing today", user=GADGETS, photos=[photo],
               urls=["https://www.amazon.com/gp/product/B01"]),
        status(106, "No photo here", user=BOOKFAN, urls=["https://www.amazon.com/dp/B0NOPHOTO"]),
    ]
    posts_file = write_jsonl(root / "posts.jsonl", posts)
    result = CliRunner().invoke(app, ["import", str(posts_file), "--lake", str(root / "lake")])
    assert result.exit_code == 0, result.output
    rows = [
        _photo(101, 0, labels=("Person", "Human", "Face", "Text", "Book", "Novel"),
               text=("THE MIDNIGHT LIBRARY", "a novel"),
               faces=(_face({"HAPPY": 97.0, "CALM": 2.0}),), celebs=(("JohnDoe", 99.0),)),
        _photo(102, 0, labels=("Electronics", "Speaker", "Text"), text=("SALE 50% OFF",)),
        _photo(103, 0, labels=("Person", "Face", "Beach"),
               faces=(_face({"CALM": 90.0, "HAPPY": 5.0}), _face({"SAD": 60.0, "CALM": 30.0})),
               moderation=(("Suggestive", ""), ("Revealing Clothes", "Suggestive"))),
        _photo(104, 0, labels=("Poster",)),
        _photo(105, 0, labels=("Person", "Face"), faces=(_face({"CALM": 80.0}),),
               celebs=(("JohnDoe", 60.0),)),
    ]
    table = pa.Table.from_pylist(rows, schema=MEDIA_REKOGNITION.append(
        pa.field(PARTITION, pa.string())))
    Lake(str(root / "lake")).commit({"media_rekognition": table})
    return root / "lake"


def _run(seed_lake: Path, name: str, tmp_path: Path) -> list[dict[str, Any]]:
    from typer.testing import CliRunner

    from socialsight.cli import app

    out = tmp_path / f"{name}.json"
    result = CliRunner().invoke(app, ["query", "--seed", name, "--lake", str(seed_lake),
                                      "--format", "json", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text())


def test_top_domains(seed_lake, tmp_path):
    rows = _run(seed_lake, "top_domains", tmp_path)
    assert rows[0] == {"domain": "www.amazon.com", "count": 3}
    assert {r["domain"]: r["count"] for r in rows} == {
        "www.amazon.com": 3, "amazon.com": 1, "www.example.com": 1, "news.example.org": 1}


def test_product_links_with_first_line_of_photo_text(seed_lake, tmp_path):
    rows = _run(seed_lake, "product_links", tmp_path)
    got = {r["tweetid"]: (r["first_line"], r["user_name"]) for r in rows}
    # /dp/ links with a photo; not the /gp/ link, not the post without a photo.
    assert got == {101: ("THE MIDNIGHT LIBRARY", "Book Fan"), 102: ("SALE 50% OFF", "Gadget Guy")}


def test_top_labels(seed_lake, tmp_path):
    rows = _run(seed_lake, "top_labels", tmp_path)
    counts = {r["label_name"]: r["count"] for r in rows}
    assert counts["Person"] == 3 and counts["Face"] == 3 and counts["Text"] == 2
    assert rows[0]["count"] == 3 and counts["Novel"] == 1


def test_top_emotions(seed_lake, tmp_path):
    rows = _run(seed_lake, "top_emotions", tmp_path)
    assert rows == [{"emotion": "CALM", "count": 2}, {"emotion": "HAPPY", "count": 1},
                    {"emotion": "SAD", "count": 1}] or (
        rows[0] == {"emotion": "CALM", "count": 2}
        and sorted(r["emotion"] for r in rows[1:]) == ["HAPPY", "SAD"])


def test_face_emotions_with_users_and_links(seed_lake, tmp_path):
    rows = _run(seed_lake, "face_emotions_with_users", tmp_path)
    got = sorted((r["tweetid"], r["emotion"], r["screen_name"]) for r in rows)
    assert got == [(101, "HAPPY", "bookfan"), (105, "CALM", "gadgetguy")]
    assert rows[0]["age_range_low"] == 25 and "smiling" in rows[0]


def test_suspect_content(seed_lake, tmp_path):
    rows = _run(seed_lake, "suspect_content", tmp_path)
    got = {r["tweetid"]: r["moderationlabels"] for r in rows}
    assert got == {103: ["Suggestive", "Revealing Clothes"], 104: []}
    assert all(r["isretweet"] is False for r in rows)


def test_top_celebrities(seed_lake, tmp_path):
    assert _run(seed_lake, "top_celebrities", tmp_path) == [{"celebrity": "JohnDoe", "count": 2}]


def test_john_doe_in_text_or_image(seed_lake, tmp_path):
    rows = _run(seed_lake, "john_doe", tmp_path)
    got = {r["media_url"].rsplit("/", 1)[1]: r["detectedtext"] for r in rows}
    # 1010: recognised with 99% confidence; 1050: weak match, but "johndoe" is in its text.
    assert got == {"1010.jpg": "THE MIDNIGHT LIBRARY", "1050.jpg": None}


def test_views_answer_qualified_and_unqualified(seed_lake, tmp_path):
    from socialsight.query.engine import Engine

    engine = Engine(Lake(str(seed_lake)))
    for name in ("media_image_labels_query", "media_image_labels_face_query", "celeb_view",
                 "tweets", "media_rekognition", "tweet_sentiments", "tweet_entities"):
        plain = engine.execute(f"SELECT count(*) n FROM {name}").table.to_pylist()
        qualified = engine.execute(
            f'SELECT count(*) n FROM "socialanalyticsblog"."{name}"').table.to_pylist()
        assert plain == qualified
    ts = engine.execute("SELECT ts FROM celeb_view LIMIT 1").table.to_pylist()[0]["ts"]
    assert ts.microsecond == 0  # Presto divides integers as integers

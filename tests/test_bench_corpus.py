"""The synthetic benchmark corpus: proportions, determinism, shape, schema fit."""

from __future__ import annotations

import gzip
import itertools
import random
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bench.corpus import generate_posts, main, rekognition_rows
from socialsight.lake.schema import MEDIA_REKOGNITION, TWEETS

N = 2000
Post = dict[str, Any]


@pytest.fixture(scope="module")
def posts() -> list[Post]:
    return list(generate_posts(N, seed=7))


@pytest.fixture(scope="module")
def photo_posts() -> list[Post]:
    return list(generate_posts(N, seed=7, photo_share=0.3))


@pytest.fixture(scope="module")
def rows(photo_posts: list[Post]) -> list[dict[str, Any]]:
    return [row for post in photo_posts for row in rekognition_rows(post)]


def _share(items: list[Post], pred: Any) -> float:
    return sum(1 for p in items if pred(p)) / len(items)


def _has_photo(post: Post) -> bool:
    return bool((post.get("extended_entities") or {}).get("media"))


def test_proportions(posts: list[Post], photo_posts: list[Post]) -> None:
    assert len(posts) == N
    assert 0.03 <= _share(posts, _has_photo) <= 0.07
    assert 0.26 <= _share(photo_posts, _has_photo) <= 0.34
    assert 0.26 <= _share(posts, lambda p: "retweeted_status" in p) <= 0.34
    assert 0.35 <= _share(posts, lambda p: p["entities"]["urls"]) <= 0.45
    dp = _share(posts, lambda p: any("/dp/" in u["expanded_url"] for u in p["entities"]["urls"]))
    assert dp >= 0.05
    assert 0.003 <= _share(posts, lambda p: p.get("possibly_sensitive") is True) <= 0.025
    assert _share(posts, lambda p: p["lang"] == "en") >= 0.8
    users = Counter(p["user"]["id"] for p in posts)
    assert len(users) >= 500  # many users, few very active ones
    assert users.most_common(1)[0][1] > 20 * (N / len(users))
    assert any("John Doe" in p["text"] for p in posts)
    assert any(h["text"] == "PrimeDay" for p in posts for h in p["entities"]["hashtags"])


def test_photos_per_post_and_shape(photo_posts: list[Post]) -> None:
    counts = Counter(len(p["extended_entities"]["media"]) for p in photo_posts
                     if _has_photo(p))
    assert set(counts) <= {1, 2, 3, 4} and counts[1] > counts[2] > 0
    media = photo_posts[next(i for i, p in enumerate(photo_posts) if _has_photo(p))]
    m = media["extended_entities"]["media"][0]
    assert isinstance(m["id"], int) and m["id_str"] == str(m["id"])
    assert m["media_url"] == f"http://pbs.twimg.com/media/{m['media_url'][27:]}"
    assert m["media_url"].endswith(".jpg") and m["media_url_https"].startswith("https://")
    assert m["type"] == "photo" and set(m["sizes"]) == {"thumb", "small", "medium", "large"}


def test_retweets_carry_the_original(posts: list[Post]) -> None:
    rts = [p for p in posts if "retweeted_status" in p]
    for rt in rts:
        orig = rt["retweeted_status"]
        assert rt["text"] == f"RT @{orig['user']['screen_name']}: {orig['text']}"
        assert rt["entities"]["user_mentions"][0]["screen_name"] == orig["user"]["screen_name"]
        assert orig["id"] < rt["id"]


def test_entity_indices_match_text(photo_posts: list[Post]) -> None:
    for post in photo_posts:
        text, ents = post["text"], post["entities"]
        for h in ents["hashtags"]:
            a, b = h["indices"]
            assert text[a:b] == "#" + h["text"]
        for u in ents["urls"]:
            a, b = u["indices"]
            assert text[a:b] == u["url"]
        for m in ents["user_mentions"]:
            a, b = m["indices"]
            assert text[a:b] == "@" + m["screen_name"]
        for m in (post.get("extended_entities") or {}).get("media", []):
            a, b = m["indices"]
            assert text[a:b] == m["url"]


def test_deterministic() -> None:
    first = list(itertools.islice(generate_posts(N, seed=1), 50))
    again = list(itertools.islice(generate_posts(N, seed=1), 50))
    other = list(itertools.islice(generate_posts(N, seed=2), 50))
    assert orjson.dumps(first) == orjson.dumps(again)
    assert orjson.dumps(first) != orjson.dumps(other)


def test_times_and_ids(posts: list[Post]) -> None:
    start, end = 1_561_939_200_000, 1_561_939_200_000 + 42 * 86_400_000
    previous = 0
    for post in posts:
        ms = int(post["timestamp_ms"])
        assert start <= ms < end
        created = datetime.strptime(post["created_at"], "%a %b %d %H:%M:%S %z %Y")
        assert post["created_at"].endswith(f" +0000 {created.year}")
        assert int(created.timestamp()) == ms // 1000
        assert post["id_str"] == str(post["id"]) and post["id"] > previous
        previous = post["id"]
    assert len({p["id"] for p in posts}) == len(posts)
    last = datetime.fromtimestamp(int(posts[-1]["timestamp_ms"]) / 1000, UTC)
    assert (last - datetime.fromtimestamp(start / 1000, UTC)).days >= 40


def test_posts_fit_the_tweets_schema(posts: list[Post]) -> None:
    keys = set(TWEETS.names) - {"platform", "raw_json", "quoted_status", "retweeted_status",
                                "quoted_status_id", "quoted_status_id_str",
                                "extended_entities", "possibly_sensitive"}
    for post in posts[:200]:
        assert keys <= set(post)
    fixed = []
    for post in posts:
        p = dict(post, timestamp_ms=int(post["timestamp_ms"]))
        for key in ("retweeted_status", "quoted_status"):
            if key in p:
                p[key] = dict(p[key], extended_entities=None)
        p["extended_entities"] = None
        fixed.append(p)
    table = pa.Table.from_pylist(fixed, schema=TWEETS)
    assert table.num_rows == N


def test_rekognition_rows_fit_the_schema(rows: list[dict[str, Any]]) -> None:
    table = pa.Table.from_pylist(rows, schema=MEDIA_REKOGNITION)
    assert table.num_rows == len(rows) > 300
    assert {r["image_labels"]["labelmodelversion"] for r in rows} == {"socialsight-pack-1"}
    assert len({(r["tweetid"], r["mediaid"]) for r in rows}) == len(rows)


def test_rekognition_content(rows: list[dict[str, Any]]) -> None:
    labels = [r["image_labels"] for r in rows]
    celebs = [c for x in labels if x["celebrityrecognition"]
              for c in x["celebrityrecognition"]["celebrityfaces"]]
    assert any(c["name"] == "John Doe" for c in celebs)
    assert any(x["moderationlabels"] for x in labels)
    assert 0.3 <= sum(bool(x["facedetails"]) for x in labels) / len(labels) <= 0.5
    assert 0.25 <= sum(bool(x["textdetections"]) for x in labels) / len(labels) <= 0.45
    for x in labels:
        assert 5 <= len(x["labels"]) <= 25
        names = {lab["name"] for lab in x["labels"]}
        if x["facedetails"]:
            assert {"Person", "Human", "Face"} <= names
            recognised = x["celebrityrecognition"]
            assert len(recognised["celebrityfaces"]) + len(recognised["unrecognizedfaces"]) \
                == len(x["facedetails"])
        else:
            assert x["celebrityrecognition"] is None
        for face in x["facedetails"]:
            assert face["agerange"]["low"] <= face["agerange"]["high"]
            assert {"HAPPY", "CALM", "SAD"} <= {e["type"] for e in face["emotions"]}
        for m in x["moderationlabels"]:
            assert m["parentname"] == "" or any(
                p["name"] == m["parentname"] and p["parentname"] == ""
                for p in x["moderationlabels"])
        lines = [t for t in x["textdetections"] if t["type"] == "LINE"]
        assert [t["id"] for t in lines] == list(range(len(lines)))
        for word in (t for t in x["textdetections"] if t["type"] == "WORD"):
            assert 0 <= word["parentid"] < len(lines)
            assert word["detectedtext"] in lines[word["parentid"]]["detectedtext"]
            assert len(word["geometry"]["polygon"]) == 4


def test_reshared_photos_share_sha256(photo_posts: list[Post],
                                      rows: list[dict[str, Any]]) -> None:
    by_url: dict[str, set[str]] = {}
    for row in rows:
        by_url.setdefault(row["media_url"], set()).add(row["sha256"])
    assert all(len(shas) == 1 for shas in by_url.values())
    uses = Counter(row["media_url"] for row in rows)
    reshared = [url for url, n in uses.items() if n > 1]
    assert reshared
    photo_count = sum(1 for p in photo_posts if _has_photo(p))
    later = sum(n - 1 for n in uses.values()) / len(rows)
    assert 0.03 <= later <= 0.25, (later, photo_count)
    # Re-shared photos get the same analysis, as a real model would.
    url = reshared[0]
    same = [r["image_labels"] for r in rows if r["media_url"] == url]
    assert all(x == same[0] for x in same)


def test_rekognition_rows_with_an_rng(photo_posts: list[Post]) -> None:
    post = next(p for p in photo_posts if _has_photo(p))
    a = rekognition_rows(post, random.Random(5))
    b = rekognition_rows(post, random.Random(5))
    assert a == b and len(a) == len(post["extended_entities"]["media"])
    assert rekognition_rows({"id": 1, "text": "no photo", "entities": {}}) == []


@pytest.mark.parametrize("compress", [False, True])
def test_cli(tmp_path: Path, compress: bool, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--posts", "300", "--photo-share", "0.3", "--seed", "4", "--out", str(tmp_path)]
    assert main([*args, "--gzip"] if compress else args) == 0
    out = capsys.readouterr().out
    assert "posts: 300" in out and "posts/s" in out
    if compress:
        with gzip.open(tmp_path / "posts.jsonl.gz", "rb") as fh:
            lines = fh.read().splitlines()
    else:
        lines = (tmp_path / "posts.jsonl").read_bytes().splitlines()
    assert len(lines) == 300
    assert [orjson.loads(line)["id"] for line in lines[:5]] == [
        p["id"] for p in itertools.islice(generate_posts(300, seed=4, photo_share=0.3), 5)]
    table = pq.read_table(tmp_path / "media_rekognition.parquet")
    assert table.schema.equals(MEDIA_REKOGNITION)
    assert table.num_rows > 50

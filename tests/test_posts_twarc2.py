"""twarc2 flattened lines become the same canonical posts as the v2 responses they came from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from socialsight.errors import InputError
from socialsight.lake.schema import TWEETS
from socialsight.posts import twarc2, twitter_v2
from socialsight.posts.canonical import Post
from socialsight.posts.detect import convert

FIXTURES = Path(__file__).parent / "fixtures"
SCHEMA = pa.schema([f for f in TWEETS if f.name != "raw_json"])


def lines() -> list[dict[str, Any]]:
    path = FIXTURES / "twarc2" / "flattened.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def v2_posts() -> dict[int, Post]:
    posts: dict[int, Post] = {}
    for name in ("recent_search_page1.json", "recent_search_page2.json",
                 "filtered_stream.jsonl"):
        text = (FIXTURES / "twitter_v2" / name).read_text()
        obj = json.loads(text.splitlines()[0] if name.endswith(".jsonl") else text)
        for post in twitter_v2.from_v2_response(obj).posts:
            posts[post["id"]] = post
    return posts


def line_starting(start: str) -> dict[str, Any]:
    return next(line for line in lines() if line["text"].startswith(start))


LINE_IDS = [line["id"] for line in lines()]


def test_every_line_is_detected_as_twarc2() -> None:
    for line in lines():
        assert twarc2.is_twarc2(line)
        assert convert(line)[0] == "twarc2"


def test_a_response_page_is_not_a_twarc2_line() -> None:
    page = json.loads((FIXTURES / "twitter_v2" / "recent_search_page1.json").read_text())
    unflattened = {**page, "__twarc": {"version": "2.13.0"}}
    assert not twarc2.is_twarc2(unflattened)
    assert convert(unflattened)[0] == "twitter-v2"
    assert len(convert(unflattened)[1].posts) == 5
    assert not twarc2.is_twarc2(page["data"][0])


@pytest.mark.parametrize("tweet_id", LINE_IDS)
def test_twarc2_line_gives_the_same_post_as_the_v2_response(tweet_id: str) -> None:
    line = next(line for line in lines() if line["id"] == tweet_id)
    expected = {k: v for k, v in v2_posts()[int(tweet_id)].items() if k != "raw_json"}
    post = twarc2.from_twarc2(line)
    assert post == expected
    assert "raw_json" not in post


def test_retweet_uses_the_inline_referenced_tweet() -> None:
    line = line_starting("RT @")
    [ref] = line["referenced_tweets"]
    assert ref["type"] == "retweeted" and ref["author"]["username"] == "lumenbrewco"
    post = twarc2.from_twarc2(line)
    assert post["text"] == "RT @lumenbrewco: " + ref["text"]
    assert post["user"]["screen_name"] == "hollyroastsbeans"
    assert post["extended_entities"]["media"][0]["media_url_https"] == (
        "https://pbs.twimg.com/media/FfV3d8kWIAE7bQx.jpg")


def test_inline_author_mentions_and_place_are_used() -> None:
    post = twarc2.from_twarc2(line_starting("Latte art practice"))
    assert post["user"]["screen_name"] == "hollyroastsbeans"
    assert post["place"]["full_name"] == "Portland, OR"
    assert [m["ext_alt_text"] for m in post["extended_entities"]["media"]] == [
        "A lopsided heart in latte foam, labelled day 1",
        "A clean rosetta in latte foam, labelled day 12",
    ]
    mention = twarc2.from_twarc2(line_starting("Our autumn"))["entities"]["user_mentions"][0]
    assert (mention["screen_name"], mention["name"]) == ("hollyroastsbeans", "Holly Marsh ☕")


def test_author_twarc2_could_not_find_is_an_empty_object() -> None:
    line = line_starting("Anyone tried cold brew")
    assert line["author"] == {}
    post = twarc2.from_twarc2(line)
    assert post["user"]["id"] == 1580014471736102913
    assert post["user"]["screen_name"] is None


def test_line_without_id_is_an_input_error() -> None:
    line = line_starting("Our autumn")
    del line["id"]
    with pytest.raises(InputError):
        twarc2.from_twarc2(line)


@pytest.mark.parametrize("tweet_id", LINE_IDS)
def test_every_twarc2_post_fits_the_schema(tweet_id: str) -> None:
    line = next(line for line in lines() if line["id"] == tweet_id)
    post = twarc2.from_twarc2(line)
    row = pa.Table.from_pylist([post], schema=SCHEMA).to_pylist()[0]
    for key in ("id", "text", "created_at", "timestamp_ms", "platform"):
        assert row[key] == post[key]
    assert row["user"]["id"] == post["user"]["id"]

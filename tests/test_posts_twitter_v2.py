"""Twitter/X API v2 responses become canonical (v1.1-shaped) posts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest

from socialsight.errors import InputError
from socialsight.lake.schema import TWEETS
from socialsight.posts import twitter_v2
from socialsight.posts.canonical import Post, parse_iso_time, partition_of
from socialsight.posts.detect import convert

FIXTURES = Path(__file__).parent / "fixtures" / "twitter_v2"
SCHEMA = pa.schema([f for f in TWEETS if f.name != "raw_json"])


def load(name: str) -> dict[str, Any]:
    path = FIXTURES / name
    text = path.read_text()
    return json.loads(text.splitlines()[0] if path.suffix == ".jsonl" else text)


def page(n: int) -> dict[str, Any]:
    return load(f"recent_search_page{n}.json")


def all_posts() -> list[Post]:
    posts: list[Post] = []
    for obj in (page(1), page(2), load("filtered_stream.jsonl")):
        posts += twitter_v2.from_v2_response(obj).posts
    return posts


def by_text(posts: list[Post], start: str) -> Post:
    return next(p for p in posts if p["text"].startswith(start))


def source_tweet(obj: dict[str, Any], start: str) -> dict[str, Any]:
    return next(t for t in obj["data"] if t.get("text", "").startswith(start))


@pytest.fixture(scope="module")
def posts() -> list[Post]:
    return all_posts()


# --- detection ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["recent_search_page1.json", "recent_search_page2.json", "filtered_stream.jsonl",
             "empty_response.json"])
def test_responses_are_detected(name: str) -> None:
    obj = load(name)
    assert twitter_v2.is_v2_response(obj)
    assert not twitter_v2.is_v2_tweet(obj)
    assert convert(obj)[0] == "twitter-v2"


def test_bare_tweet_is_detected_and_v1_status_is_not() -> None:
    tweet = page(1)["data"][1]
    assert twitter_v2.is_v2_tweet(tweet)
    assert not twitter_v2.is_v2_response(tweet)
    v1 = {"id": 1, "id_str": "1", "text": "hi", "created_at": "Wed Oct 19 16:21:19 +0000 2022",
          "user": {"id": 2}}
    assert not twitter_v2.is_v2_tweet(v1)
    assert not twitter_v2.is_v2_response(v1)


# --- a page of results ----------------------------------------------------------------


def test_every_tweet_becomes_a_post_and_the_idless_one_a_problem() -> None:
    first = twitter_v2.from_v2_response(page(1))
    second = twitter_v2.from_v2_response(page(2))
    assert len(first.posts) == 5 and first.problems == []
    # page 2 has 4 tweets, one without an id; its partial "errors" entry is not a problem
    assert len(second.posts) == 3
    assert second.problems == ["v2 tweet #4 has no id"]
    assert all(p["platform"] == "x" for p in first.posts + second.posts)


def test_empty_response_is_a_message_without_posts() -> None:
    # An empty page is no error; it is counted like a stream's control message.
    conversion = twitter_v2.from_v2_response(load("empty_response.json"))
    assert conversion.posts == [] and conversion.problems == [] and conversion.control


def test_an_error_only_response_is_a_problem_that_names_the_api_error() -> None:
    body = {"errors": [{"title": "Not Found Error", "detail": "Could not find tweet with ids: [1].",
                        "type": "https://api.twitter.com/2/problems/resource-not-found"}]}
    conversion = twitter_v2.from_v2_response(body)
    assert conversion.posts == [] and not conversion.control
    assert conversion.problems == [
        "X API error, no tweets: Not Found Error: Could not find tweet with ids: [1]."]


def test_a_tweet_without_created_at_or_snowflake_time_is_a_problem_not_a_crash() -> None:
    # v2 sends created_at only when tweet.fields asks for it; a small id holds no time.
    body = {"data": [{"id": "123", "text": "no time", "author_id": "5"},
                     {"id": "1585992290215235584", "text": "snowflake time", "author_id": "5"}]}
    conversion = twitter_v2.from_v2_response(body)
    assert [p["id"] for p in conversion.posts] == [1585992290215235584]
    assert conversion.posts[0]["created_at"].endswith("2022")
    assert conversion.problems == [
        "v2 tweet #1: tweet 123 has no created_at and its id holds no time "
        "(ask the X API for tweet.fields=created_at)"]


@pytest.mark.parametrize("tweet_id", ["0", "-5", str(2**63), "1" * 5000])
def test_ids_outside_a_bigint_are_problems(tweet_id: str) -> None:
    body = {"data": [{"id": tweet_id, "text": "x", "author_id": "5",
                      "created_at": "2022-10-28T12:00:00.000Z"}]}
    conversion = twitter_v2.from_v2_response(body)
    assert conversion.posts == []
    assert len(conversion.problems) == 1
    assert "out of range (1 to 2^63-1)" in conversion.problems[0] or (
        "no numeric id" in conversion.problems[0])


def test_author_is_joined_from_includes(posts: list[Post]) -> None:
    post = by_text(posts, "Our autumn roast")
    user = post["user"]
    assert user["screen_name"] == "lumenbrewco"
    assert user["name"] == "Lumen Brew Co"
    assert user["id"] == 1298772033 and user["id_str"] == "1298772033"
    assert (user["followers_count"], user["friends_count"], user["statuses_count"]) == (
        18234, 512, 9120)
    assert user["verified"] is True
    assert user["created_at"] == "Mon Mar 11 18:42:07 +0000 2013"
    assert user["profile_image_url_https"].startswith("https://pbs.twimg.com/profile_images/")


def test_author_missing_from_includes_still_gives_a_post(posts: list[Post]) -> None:
    post = by_text(posts, "Anyone tried cold brew")
    assert post["user"]["id"] == 1580014471736102913
    assert post["user"]["screen_name"] is None
    assert post["entities"]["symbols"] == [{"text": "SBUX", "indices": [65, 70]}]
    # it replies to a deleted tweet: the ids are known, the name is not
    assert post["in_reply_to_status_id"] == 1581998765432109056
    assert post["in_reply_to_user_id_str"] == "1402093388371456000"
    assert post["in_reply_to_screen_name"] is None


def test_metrics_source_and_lang(posts: list[Post]) -> None:
    post = by_text(posts, "Our autumn roast")
    counts = tuple(post[k] for k in ("retweet_count", "reply_count", "favorite_count",
                                     "quote_count"))
    assert counts == (14, 3, 121, 1)
    assert (post["lang"], post["source"], post["possibly_sensitive"]) == (
        "en", "Twitter for iPhone", False)


def test_created_at_and_timestamp_ms_agree(posts: list[Post]) -> None:
    post = by_text(posts, "Our autumn roast")
    assert post["created_at"] == "Wed Oct 19 16:21:19 +0000 2022"
    assert post["timestamp_ms"] == parse_iso_time("2022-10-19T16:21:19.000Z") == 1666196479000
    assert partition_of(post["timestamp_ms"]) == "2022-10-19"
    for p in posts:
        assert p["timestamp_ms"] % 1000 == 0
        assert p["created_at"].endswith(" +0000 2022")


def test_long_post_text_is_the_whole_note_tweet(posts: list[Post]) -> None:
    tweet = source_tweet(page(2), "Okay, the honest review")
    post = by_text(posts, "Okay, the honest review")
    note = tweet["note_tweet"]["text"]
    assert len(note) > 280 and tweet["text"].endswith("…")
    assert post["text"] == note
    assert post["truncated"] is False
    tags = post["entities"]["hashtags"]
    assert [t["text"] for t in tags] == ["coffee", "homebarista"]
    assert all(note[a:b] == "#" + t["text"] for t in tags for a, b in [t["indices"]])


def test_retweet_has_the_originals_full_text_and_media(posts: list[Post]) -> None:
    original = page(1)["includes"]["tweets"][1]
    post = by_text(posts, "RT @")
    assert post["text"].startswith("RT @lumenbrewco: ")
    assert post["text"] == "RT @lumenbrewco: " + original["text"]
    assert post["truncated"] is False
    assert post["user"]["screen_name"] == "hollyroastsbeans"
    media = post["extended_entities"]["media"]
    assert [m["ext_alt_text"] for m in media] == [
        "Three compostable coffee bags in green, amber and brown"]
    embedded = post["retweeted_status"]
    assert embedded["id"] == int(original["id"])
    assert embedded["user"]["screen_name"] == "lumenbrewco"
    assert embedded["text"] == original["text"]


def test_retweet_without_its_original_keeps_the_api_text() -> None:
    obj = page(1)
    obj["includes"]["tweets"] = []
    post = by_text(twitter_v2.from_v2_response(obj).posts, "RT @")
    assert post["text"].endswith("…")
    assert post["retweeted_status"] is None


def test_photo_with_alt_text(posts: list[Post]) -> None:
    [media] = by_text(posts, "Our autumn roast")["extended_entities"]["media"]
    assert media["id"] == media["id_str"] == "1582768703537318291"
    assert media["type"] == "photo"
    assert media["media_url_https"] == "https://pbs.twimg.com/media/FfaUt3oWAAAhX2k.jpg"
    assert media["media_url"] == "http://pbs.twimg.com/media/FfaUt3oWAAAhX2k.jpg"
    assert media["ext_alt_text"].startswith("A kraft-paper bag of Lumen Autumn Roast")
    assert media["sizes"]["large"] == {"w": 1536, "h": 2048, "resize": "fit"}
    assert media["url"] == "https://t.co/pH0t0AbCdE"
    assert media["display_url"] == "pic.twitter.com/pH0t0AbCdE"
    assert media["expanded_url"].endswith("/status/1582768867112267327/photo/1")


def test_two_photos_keep_their_order_and_alt_texts(posts: list[Post]) -> None:
    media = by_text(posts, "Latte art practice")["extended_entities"]["media"]
    assert [m["media_url_https"] for m in media] == [
        "https://pbs.twimg.com/media/FfaPq1xXEAEpL0v.jpg",
        "https://pbs.twimg.com/media/FfaPq4cXwAAoM2n.jpg",
    ]
    assert [m["ext_alt_text"] for m in media] == [
        "A lopsided heart in latte foam, labelled day 1",
        "A clean rosetta in latte foam, labelled day 12",
    ]
    assert all(isinstance(m["id"], str) for m in media)


def test_video_uses_its_preview_image(posts: list[Post]) -> None:
    [media] = by_text(posts, "New episode!")["extended_entities"]["media"]
    assert media["type"] == "video"
    assert media["id"] == "1582754954605980802"
    assert media["media_url_https"].startswith("https://pbs.twimg.com/ext_tw_video_thumb/")
    assert media["sizes"]["large"] == {"w": 1280, "h": 720, "resize": "fit"}


def test_an_animated_gif_is_its_preview_image_and_a_video_without_one_has_no_url() -> None:
    # The v2 media object of an animated GIF, as the API documents it: no url, a preview.
    body = {"data": [{"id": "1700000000000000001", "text": "Monday mood",
                      "created_at": "2024-07-01T09:00:00.000Z", "author_id": "42",
                      "attachments": {"media_keys": ["16_1700000000000000009",
                                                     "7_1700000000000000010"]}}],
            "includes": {"media": [
                {"media_key": "16_1700000000000000009", "type": "animated_gif",
                 "preview_image_url": "https://pbs.twimg.com/tweet_video_thumb/Gx1.jpg",
                 "width": 498, "height": 280},
                {"media_key": "7_1700000000000000010", "type": "video"}]}}
    gif, bare = twitter_v2.from_v2_response(body).posts[0]["extended_entities"]["media"]
    assert (gif["type"], gif["id_str"]) == ("animated_gif", "1700000000000000009")
    assert gif["media_url_https"] == "https://pbs.twimg.com/tweet_video_thumb/Gx1.jpg"
    assert gif["media_url"] == "http://pbs.twimg.com/tweet_video_thumb/Gx1.jpg"
    assert bare["type"] == "video" and bare["media_url_https"] is None  # nothing to analyse


def test_media_links_stay_out_of_entity_urls(posts: list[Post]) -> None:
    for post in posts:
        for url in post["entities"]["urls"]:
            assert not url["display_url"].startswith("pic.twitter.com")
    urls = by_text(posts, "Our autumn roast")["entities"]["urls"]
    assert urls == [{
        "url": "https://t.co/Xa9Lm2QkPz",
        "expanded_url": "https://www.amazon.com/dp/B0B7XQ9ZKM",
        "display_url": "amazon.com/dp/B0B7XQ9ZKM",
        "indices": [56, 79],
    }]


def test_hashtag_and_mention_indices_point_into_the_text(posts: list[Post]) -> None:
    post = by_text(posts, "Our autumn roast")
    text = post["text"]
    tags = post["entities"]["hashtags"]
    assert [(t["text"], t["indices"]) for t in tags] == [
        ("coffee", [80, 87]), ("AutumnRoast", [88, 100])]
    assert all(text[a:b] == "#" + t["text"] for t in tags for a, b in [t["indices"]])
    [mention] = post["entities"]["user_mentions"]
    assert mention["screen_name"] == "hollyroastsbeans"
    assert mention["name"] == "Holly Marsh ☕"
    assert mention["id"] == 941200583711428608
    a, b = mention["indices"]
    assert text[a:b] == "@hollyroastsbeans"


def test_quote_tweet_embeds_the_quoted_post(posts: list[Post]) -> None:
    post = by_text(posts, "This roast fueled")
    assert post["is_quote_status"] is True
    assert post["quoted_status_id"] == 1582768867112267327
    assert post["quoted_status_id_str"] == "1582768867112267327"
    quoted = post["quoted_status"]
    assert quoted["text"].startswith("Our autumn roast is back")
    assert quoted["user"]["screen_name"] == "lumenbrewco"
    assert quoted["extended_entities"]["media"][0]["type"] == "photo"


def test_reply_names_the_replied_to_post_and_user(posts: list[Post]) -> None:
    post = by_text(posts, "@trailmixtv Loved")
    assert post["in_reply_to_status_id"] == 1582756141595327290
    assert post["in_reply_to_status_id_str"] == "1582756141595327290"
    assert post["in_reply_to_user_id"] == 1187654320123456512
    assert post["in_reply_to_screen_name"] == "trailmixtv"
    assert post["is_quote_status"] is False


def test_geo_and_place(posts: list[Post]) -> None:
    post = by_text(posts, "Latte art practice")
    assert post["coordinates"] == {"type": "Point", "coordinates": [-122.6587, 45.5122]}
    assert post["geo"] == {"type": "Point", "coordinates": [45.5122, -122.6587]}
    place = post["place"]
    assert (place["full_name"], place["country_code"], place["place_type"]) == (
        "Portland, OR", "US", "city")
    assert place["bounding_box"]["coordinates"][0][0] == [-122.836749, 45.432536]


# --- raw_json ---------------------------------------------------------------------------


def test_raw_json_is_the_tweet_with_only_its_own_includes(posts: list[Post]) -> None:
    raw = orjson.loads(by_text(posts, "Latte art practice")["raw_json"])
    assert raw["data"] == source_tweet(page(1), "Latte art practice")
    assert [u["username"] for u in raw["includes"]["users"]] == ["hollyroastsbeans"]
    assert len(raw["includes"]["media"]) == 2
    assert [p["full_name"] for p in raw["includes"]["places"]] == ["Portland, OR"]
    assert "tweets" not in raw["includes"]


def test_raw_json_of_a_retweet_carries_the_original(posts: list[Post]) -> None:
    raw = orjson.loads(by_text(posts, "RT @")["raw_json"])
    assert [t["text"][:8] for t in raw["includes"]["tweets"]] == ["Big news"]
    assert {u["username"] for u in raw["includes"]["users"]} == {
        "hollyroastsbeans", "lumenbrewco"}
    assert len(raw["includes"]["media"]) == 1


def test_stream_line_keeps_its_matching_rules() -> None:
    [post] = twitter_v2.from_v2_response(load("filtered_stream.jsonl")).posts
    assert post["user"]["screen_name"] == "lumenbrewco"
    assert post["created_at"] == "Thu Oct 20 13:45:02 +0000 2022"
    raw = orjson.loads(post["raw_json"])
    assert raw["matching_rules"] == [{"id": "1582788861225496576", "tag": "coffee brands"}]


# --- a bare tweet -----------------------------------------------------------------------


def test_bare_tweet_has_only_the_author_id() -> None:
    tweet = source_tweet(page(1), "Our autumn roast")
    post = twitter_v2.from_v2_tweet(tweet)
    assert post["id"] == 1582768867112267327
    assert post["user"]["id"] == 1298772033 and post["user"]["screen_name"] is None
    assert post["entities"]["user_mentions"][0]["screen_name"] == "hollyroastsbeans"
    assert post["extended_entities"]["media"] == []
    assert orjson.loads(post["raw_json"]) == tweet
    assert convert(tweet)[0] == "twitter-v2-tweet"


def test_bare_tweet_without_created_at_takes_the_time_from_its_snowflake_id() -> None:
    tweet = {"id": "1582768867112267327", "text": "hi", "edit_history_tweet_ids": ["1"]}
    post = twitter_v2.from_v2_tweet(tweet)
    assert post["created_at"] == "Wed Oct 19 16:21:19 +0000 2022"
    assert post["user"] is None


def test_bare_tweet_without_id_is_an_input_error() -> None:
    with pytest.raises(InputError):
        twitter_v2.from_v2_tweet({"text": "no id", "author_id": "12"})


# --- the lake schema --------------------------------------------------------------------

KEYS = ("id", "id_str", "text", "created_at", "timestamp_ms", "lang", "platform",
        "in_reply_to_status_id", "quoted_status_id", "is_quote_status")


@pytest.mark.parametrize("index", range(9))
def test_every_post_fits_the_schema(index: int) -> None:
    post = all_posts()[index]
    row = pa.Table.from_pylist([post], schema=SCHEMA).to_pylist()[0]
    assert {k: row[k] for k in KEYS} == {k: post[k] for k in KEYS}
    assert row["user"]["screen_name"] == post["user"]["screen_name"]
    assert [m["id"] for m in row["extended_entities"]["media"]] == [
        m["id"] for m in post["extended_entities"]["media"]]
    assert row["entities"]["hashtags"] == post["entities"]["hashtags"]
    if post["quoted_status"] is not None:
        assert row["quoted_status"]["text"] == post["quoted_status"]["text"]
    if post["retweeted_status"] is not None:
        assert row["retweeted_status"]["user"]["screen_name"] == "lumenbrewco"


def test_a_medium_with_fields_of_the_wrong_type_loses_them_not_the_post() -> None:
    """A preview URL, type or alt text that is no string (a number, a list, an object)
    made the whole post a bad record ("Expected bytes, got a 'int' object")."""
    response = {
        "data": [{"id": "1800000000000000001", "text": "clip", "author_id": "7",
                  "created_at": "2024-06-01T10:00:00.000Z",
                  "attachments": {"media_keys": ["7_1", "3_2", "13_3"]}}],
        "includes": {"media": [
            {"media_key": "7_1", "type": "video", "preview_image_url": 42},
            {"media_key": "3_2", "type": "photo", "url": ["https://pbs.twimg.com/a.jpg"],
             "alt_text": {"x": 1}},
            {"media_key": "13_3", "type": 5, "preview_image_url": "https://pbs.twimg.com/b.jpg"},
        ], "users": [{"id": "7", "username": "maker", "name": "Maker"}]},
    }
    result = twitter_v2.from_v2_response(response)
    assert result.problems == [] and len(result.posts) == 1
    table = pa.Table.from_pylist([dict(result.posts[0])], schema=SCHEMA)  # the lake's types
    rows = table.column("extended_entities").to_pylist()[0]["media"]
    assert [m["media_url_https"] for m in rows] == [None, None, "https://pbs.twimg.com/b.jpg"]
    assert rows[1]["ext_alt_text"] is None and rows[2]["type"] is None

"""What platforms say is gone becomes Deletions: v1.1 stream delete notices, the older
versions an X edit replaces (v2 responses, bare v2 tweets, twarc2 lines), and the
Deletion and Conversion types themselves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from socialsight.posts import twarc2, twitter_v2
from socialsight.posts.canonical import REASONS, Conversion, Deletion
from socialsight.posts.detect import convert

FIXTURES = Path(__file__).parent / "fixtures"

# As the v1.1 streaming API sent them ("Streaming message types": status deletion notices).
DELETE = {"delete": {"status": {"id": 1149825924029980674, "id_str": "1149825924029980674",
                                "user_id": 2244994945, "user_id_str": "2244994945"},
                     "timestamp_ms": "1562975237000"}}
X_ID = 1149825924029980674


# --- v1.1 delete notices -------------------------------------------------------------------


@pytest.mark.parametrize("message", [
    DELETE,
    {"delete": {"status": {"id": X_ID, "id_str": str(X_ID)}}},  # without the user
    {"delete": {"status": {"id_str": str(X_ID)}}},  # the id only as text
    {"delete": {"status": {"id": X_ID}}},  # the id only as a number
    {"delete": {"status": {"id": X_ID}}, "timestamp_ms": "1562975237000"},
], ids=["stream", "no-user", "id_str-only", "id-only", "timestamp-outside"])
def test_a_delete_notice_names_the_post(message: dict[str, Any]) -> None:
    fmt, got = convert(message)
    assert fmt == "twitter-v1-delete"
    assert got.deletions == [Deletion("x", X_ID, str(X_ID))]
    assert (got.posts, got.problems, got.edits, got.control) == ([], [], [], False)
    (deletion,) = got.deletions
    assert deletion.user_id is None  # the post, not every post of its author
    assert deletion.reason == "deleted" and deletion.forgets_post


@pytest.mark.parametrize("message", [
    {"delete": {}},
    {"delete": "1149825924029980674"},
    {"delete": {"status": None}},
    {"delete": {"status": {"id": "one"}}},
    {"delete": {"status": {"id": 0}}},
    {"delete": {"status": {"id": -5}}},
    {"delete": {"status": {"id_str": "9" * 20}}},  # over 2^63 - 1
    {"delete": {"status": {"id": True}}},
], ids=["empty", "a-string", "null-status", "words", "zero", "negative", "too-large", "bool"])
def test_a_delete_notice_without_a_usable_id_is_a_problem(message: dict[str, Any]) -> None:
    fmt, got = convert(message)
    assert fmt == "twitter-v1-delete"
    assert got.deletions == [] and got.posts == []
    (problem,) = got.problems
    assert problem.startswith("a delete message without a usable status id")


@pytest.mark.parametrize("message", [
    {"status_withheld": {"id": 1234567890, "user_id": 123, "withheld_in_countries": ["DE"]}},
    {"scrub_geo": {"user_id": 14090548, "user_id_str": "14090548",
                   "up_to_status_id": 23260136625, "up_to_status_id_str": "23260136625"}},
    {"limit": {"track": 1234, "timestamp_ms": "1562975237000"}},
    {"user_withheld": {"id": 123, "withheld_in_countries": ["DE"]}},
])
def test_other_stream_messages_stay_control_messages(message: dict[str, Any]) -> None:
    fmt, got = convert(message)
    assert fmt == "twitter-v1-control"
    assert got.control and got.deletions == [] and got.problems == []


def test_a_status_that_has_a_delete_key_is_still_a_status() -> None:
    status = json.loads((FIXTURES / "twarc2" / "flattened.jsonl").read_text().splitlines()[0])
    fmt, got = convert({**status, "delete": True})
    assert fmt == "twarc2" and len(got.posts) == 1


# --- X edits -----------------------------------------------------------------------------


def _page() -> dict[str, Any]:
    return json.loads((FIXTURES / "twitter_v2" / "recent_search_page1.json").read_text())


def _edited(tweet: dict[str, Any], *older: str) -> dict[str, Any]:
    return {**tweet, "edit_history_tweet_ids": [*older, tweet["id"]]}


def test_an_edited_tweet_in_a_response_forgets_its_older_versions() -> None:
    page = _page()
    tweet = page["data"][0]
    v1, v2 = str(int(tweet["id"]) - 3_000_000_000), str(int(tweet["id"]) - 1_000_000_000)
    page["data"][0] = _edited(tweet, v1, v2)
    got = twitter_v2.from_v2_response(page)
    assert len(got.posts) == len(page["data"])
    assert got.posts[0]["id"] == int(tweet["id"])  # the latest version is the post
    assert got.deletions == [Deletion("x", int(v1), v1, reason="edited"),
                             Deletion("x", int(v2), v2, reason="edited")]
    assert all(d.forgets_post for d in got.deletions)


def test_never_edited_tweets_give_no_deletions() -> None:
    for name in ("recent_search_page1.json", "recent_search_page2.json"):
        got = twitter_v2.from_v2_response(json.loads((FIXTURES / "twitter_v2" / name).read_text()))
        assert got.deletions == []


def test_a_newer_version_in_the_history_is_not_forgotten() -> None:
    """X answered with an older version (asked for by its id): the newer one stays."""
    tweet = _page()["data"][0]
    older, newer = str(int(tweet["id"]) - 10**9), str(int(tweet["id"]) + 10**9)
    got = twitter_v2.from_v2_response(
        {"data": [{**tweet, "edit_history_tweet_ids": [older, tweet["id"], newer]}]})
    assert got.deletions == [Deletion("x", int(older), older, reason="edited")]


def test_a_bad_id_in_the_edit_history_is_a_problem_beside_the_post() -> None:
    tweet = _page()["data"][0]
    got = twitter_v2.from_v2_response(
        {"data": [{**tweet, "edit_history_tweet_ids": ["abc", "0", tweet["id"]]}]})
    assert len(got.posts) == 1 and got.deletions == []
    assert len(got.problems) == 2
    assert all(p.startswith(f"tweet {tweet['id']}: edit history") for p in got.problems)


def test_a_bare_v2_tweet_and_a_twarc2_line_forget_their_older_versions() -> None:
    line = json.loads((FIXTURES / "twarc2" / "flattened.jsonl").read_text().splitlines()[0])
    old = str(int(line["id"]) - 5_000_000)
    fmt, got = convert(_edited(line, old))
    assert fmt == "twarc2"
    assert [p["id"] for p in got.posts] == [int(line["id"])]
    assert got.deletions == [Deletion("x", int(old), old, reason="edited")]
    assert twarc2.convert_twarc2(line).deletions == []

    bare = _edited(_page()["data"][0], old)
    fmt, got = convert(bare)
    assert fmt == "twitter-v2-tweet"
    assert got.deletions == [Deletion("x", int(old), old, reason="edited")]


# --- the types ----------------------------------------------------------------------------


def test_a_deletion_names_a_post_a_local_id_or_a_user() -> None:
    Deletion("x", 5, "5")
    Deletion("mastodon", None, None, local_id="109", instance="mastodon.social")
    Deletion("x", None, None, user_id=2244994945, reason="suspended")
    with pytest.raises(ValueError, match="must name"):
        Deletion("x", None, None)
    with pytest.raises(ValueError, match="not both"):
        Deletion("x", 5, "5", user_id=7)
    with pytest.raises(ValueError, match="instance"):
        Deletion("mastodon", None, None, local_id="109")


def test_only_scrub_geo_keeps_the_post() -> None:
    keeps = {reason for reason in REASONS if not Deletion("x", 1, "1", reason=reason).forgets_post}
    assert keeps == {"scrub_geo"}
    assert Deletion("x", 1, "1", reason="a reason X adds later").forgets_post


def test_a_conversion_is_empty_only_when_it_gives_nothing() -> None:
    assert Conversion().empty
    assert not Conversion(control=True).empty
    assert not Conversion(deletions=[Deletion("x", 1, "1")]).empty
    assert not Conversion(edits=[{"id": 1}]).empty
    got = Conversion()
    assert (got.posts, got.problems, got.deletions, got.edits, got.control) == (
        [], [], [], [], False)

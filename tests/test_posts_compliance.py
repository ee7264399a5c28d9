"""Files for ``socialsight forget --from``: X batch compliance results, plain lists of ids
and links, JSON arrays of them; every bad line named by its number, and nothing read whole.

The result lines are X's documented shape (docs.x.com, batch compliance quickstart,
"Result format"): one JSON object per line with id, action, created_at, redacted_at and
reason.
"""

from __future__ import annotations

import gzip
import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from socialsight.posts import compliance
from socialsight.posts.bluesky import post_uri
from socialsight.posts.canonical import Deletion, derived_id
from socialsight.posts.compliance import BadLine, iter_deletions, read_deletions

DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
URI = post_uri(DID, "3l3qo2vuowo2b")


def result(tweet_id: str, reason: str, action: str = "delete") -> str:
    return json.dumps({"id": tweet_id, "action": action, "created_at": "2024-01-10T12:00:00.000Z",
                       "redacted_at": "2024-01-12T08:30:00.000Z", "reason": reason})


def post(tweet_id: int, reason: str = "deleted") -> Deletion:
    return Deletion("x", tweet_id, str(tweet_id), reason=reason)


def write(tmp_path: Path, text: str | bytes, name: str = "ids.txt") -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8", newline="")
    else:
        path.write_bytes(text)
    return path


# --- X batch compliance results --------------------------------------------------------------


TWEET_RESULTS = "\n".join([
    result("1234567890", "deleted"),
    result("1234567891", "suspended"),
    result("1234567892", "protected"),
    result("1234567893", "bounced"),
    result("1234567894", "scrub_geo"),
]) + "\n"


def test_a_tweets_job_result_names_each_post_and_why(tmp_path: Path) -> None:
    deletions, bad = read_deletions(write(tmp_path, TWEET_RESULTS, "results.json"), "tweets")
    assert bad == []
    assert deletions == [post(1234567890), post(1234567891, "suspended"),
                         post(1234567892, "protected"), post(1234567893, "bounced"),
                         post(1234567894, "scrub_geo")]
    # scrub_geo asks for the location only; the caller decides what that means
    assert [d.forgets_post for d in deletions] == [True, True, True, True, False]


def test_a_users_job_result_names_users_whose_posts_go(tmp_path: Path) -> None:
    text = "\n".join([result("2244994945", "deactivated"), result("783214", "suspended")])
    deletions, bad = read_deletions(write(tmp_path, text), "users")
    assert bad == []
    assert deletions == [Deletion("x", None, None, reason="deactivated", user_id=2244994945),
                         Deletion("x", None, None, reason="suspended", user_id=783214)]


def test_bad_result_lines_are_named_by_their_number(tmp_path: Path) -> None:
    lines = [
        result("1234567890", "deleted"),
        '{"id": "1234567891", "action": "delete", "reason": "deleted"',  # cut off
        json.dumps({"action": "delete", "reason": "deleted"}),  # no id
        result("0", "deleted"),  # not positive
        result(str(2**63), "deleted"),  # over 63 bits
        result("-12", "deleted"),
        result("12a", "deleted"),
        result("1234567897", "deleted", action="redact"),  # an action X does not document
        json.dumps({"id": "1234567898", "action": "delete", "reason": 7}),
        json.dumps({"id": "1234567899", "action": "delete"}),  # no reason: deleted
        result("1234567900", "a reason X adds later"),
    ]
    deletions, bad = read_deletions(write(tmp_path, "\n".join(lines)))
    assert deletions == [post(1234567890), post(1234567899),
                         post(1234567900, "a reason X adds later")]
    assert [b.line for b in bad] == [2, 3, 4, 5, 6, 7, 8, 9]
    reasons = [b.reason for b in bad]
    assert reasons[0].startswith("not JSON")
    assert reasons[1] == "a compliance result without an id"
    assert "out of range" in reasons[2] and "out of range" in reasons[3]
    assert "no numeric id" in reasons[4] and "no numeric id" in reasons[5]
    assert reasons[6] == "unknown compliance action 'redact' (X documents 'delete')"
    assert reasons[7].startswith("a compliance reason that is no word")
    assert bad[0].raw == lines[1]


def test_v1_delete_notices_are_read_too(tmp_path: Path) -> None:
    notice = {"delete": {"status": {"id": 1149825924029980674,
                                    "id_str": "1149825924029980674", "user_id": 3,
                                    "user_id_str": "3"}, "timestamp_ms": "1562975237000"}}
    text = json.dumps(notice) + "\n" + json.dumps({"delete": {"status": {}}}) + "\n"
    deletions, bad = read_deletions(write(tmp_path, text))
    assert deletions == [post(1149825924029980674)]
    assert [(b.line, b.reason.split(":")[0]) for b in bad] == [
        (2, "a delete message without a usable status id")]


# --- plain lists ----------------------------------------------------------------------------

LIST = f"""# posts to forget, 2024-09-10
1234567890

x:1234567891
user:2244994945
https://x.com/nookreader/status/1234567892
https://twitter.com/nookreader/status/1234567893?s=20
{URI}
https://bsky.app/profile/{DID}/post/3l3qo3abcde2k
https://mastodon.social/@bookish/113001000000000001
https://mastodon.social/@ursula_fan@fosstodon.org/113001000000000002
https://fosstodon.org/users/ursula_fan/statuses/112998877766655544
  "1234567894"
"""


def test_a_plain_list_of_ids_and_links(tmp_path: Path) -> None:
    deletions, bad = read_deletions(write(tmp_path, LIST))
    assert bad == []
    quoted = post_uri(DID, "3l3qo3abcde2k")
    bea = "https://mastodon.social/users/bookish/statuses/113001000000000001"
    ursula = "https://fosstodon.org/users/ursula_fan/statuses/112998877766655544"
    assert deletions == [
        post(1234567890), post(1234567891),
        Deletion("x", None, None, user_id=2244994945),
        post(1234567892), post(1234567893),
        Deletion("bluesky", derived_id("bluesky", URI), URI),
        Deletion("bluesky", derived_id("bluesky", quoted), quoted),
        Deletion("mastodon", derived_id("mastodon", bea), bea,
                 local_id="113001000000000001", instance="mastodon.social"),
        # another instance's status as mastodon.social shows it: its id there only
        Deletion("mastodon", None, None, local_id="113001000000000002",
                 instance="mastodon.social"),
        Deletion("mastodon", derived_id("mastodon", ursula), ursula),
        post(1234567894),
    ]


def test_users_kind_reads_bare_ids_as_users(tmp_path: Path) -> None:
    deletions, _ = read_deletions(["2244994945", "x:783214",
                                   "https://x.com/a/status/1234567892"], "users")
    assert deletions == [Deletion("x", None, None, user_id=2244994945),
                         Deletion("x", None, None, user_id=783214),
                         post(1234567892)]  # a link to a post stays a post


@pytest.mark.parametrize(("line", "reason"), [
    ("@nookreader", "is a handle"),
    ("nookreader", "not a post id"),
    ("１２３", "not a post id"),  # full-width digits: not an id
    ("0", "out of range"),
    ("99999999999999999999", "out of range"),
    ("x:", "no numeric id"),
    ("at://alice.bsky.social/app.bsky.feed.post/3l3qo2vuowo2b", "by DID"),
    (f"at://{DID}/app.bsky.feed.like/3l3qo2vuowo2b", "no post"),
    ("https://bsky.app/profile/alice.bsky.social/post/3l3qo2vuowo2b", "by a DID"),
    ("https://x.com/nookreader", "no post"),
    ("https:///nothing", "without a host"),
    ('"unterminated', "not JSON"),
    ("[1, 2]", "not a post id"),
])
def test_what_names_no_post_is_a_bad_line(line: str, reason: str) -> None:
    deletions, bad = read_deletions(["1234567890", line, "1234567891"])
    assert deletions == [post(1234567890), post(1234567891)]
    (only,) = bad
    assert only.line == 2 and reason in only.reason and only.raw == line


# --- the shape of a file ----------------------------------------------------------------------


def test_first_and_last_lines_crlf_bom_and_no_final_newline(tmp_path: Path) -> None:
    text = "\ufeff1234567890\r\n\r\n# note\r\n1234567891\r\n1234567892"
    deletions, bad = read_deletions(write(tmp_path, text))
    assert deletions == [post(1234567890), post(1234567891), post(1234567892)]
    assert bad == []


def test_line_numbers_count_blank_lines_and_the_bom(tmp_path: Path) -> None:
    _, bad = read_deletions(write(tmp_path, "\ufeff\n\nnope\n1234567890\n\nnope again"))
    assert [(b.line, b.raw) for b in bad] == [(3, "nope"), (6, "nope again")]


@pytest.mark.parametrize("text", ["", "\n\n  \n", "\ufeff", "# only a comment\n", "[]", " [ ] "])
def test_an_empty_file_names_nothing(tmp_path: Path, text: str) -> None:
    assert read_deletions(write(tmp_path, text)) == ([], [])


def test_a_gzipped_file_by_its_name_or_its_bytes(tmp_path: Path) -> None:
    data = gzip.compress(TWEET_RESULTS.encode())
    for name in ("results.json.gz", "results.json"):
        deletions, bad = read_deletions(write(tmp_path, data, name))
        assert [d.post_id for d in deletions] == list(range(1234567890, 1234567895))
        assert bad == []


def test_a_cut_gzip_gives_what_came_before_the_cut(tmp_path: Path) -> None:
    data = gzip.compress("".join(f"{10**12 + i}\n" for i in range(20_000)).encode())
    deletions, bad = read_deletions(write(tmp_path, data[: len(data) // 2], "cut.txt.gz"))
    assert 0 < len(deletions) < 20_000
    assert [d.post_id for d in deletions] == [10**12 + i for i in range(len(deletions))]
    (cut,) = bad
    assert cut.reason.startswith("the file ends early or is corrupt")


def test_not_utf8_is_a_bad_line(tmp_path: Path) -> None:
    deletions, bad = read_deletions(write(tmp_path, b"1234567890\n\xff\xfe12\n1234567891\n"))
    assert [d.post_id for d in deletions] == [1234567890, 1234567891]
    assert [(b.line, b.reason.split(":")[0]) for b in bad] == [(2, "not UTF-8 text")]


def test_a_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_deletions(tmp_path / "nope.txt")
    with pytest.raises(ValueError, match="kind"):
        read_deletions([], "posts")  # type: ignore[arg-type]


# --- JSON arrays ------------------------------------------------------------------------------

ARRAY = """[
  "1234567890", 1234567891,
  "{uri}",
  {result},
  "nope",
  99999999999999999999,
  {{"id": "1234567893",
    "action": "delete", "reason": "suspended"}},
  [1234567894],
  null
]
""".format(uri=URI, result=result("1234567892", "deleted"))


def _array_checks(deletions: list[Deletion], bad: list[BadLine]) -> None:
    assert deletions == [post(1234567890), post(1234567891),
                         Deletion("bluesky", derived_id("bluesky", URI), URI),
                         post(1234567892), post(1234567893, "suspended")]
    assert [(b.line, b.reason) for b in bad] == [
        (5, "not a post id, an at:// uri or a link to a post"),
        (6, "post id 99999999999999999999 is out of range (1 to 2^63-1)"),
        (9, "not an id: a JSON list"),
        (10, "not an id: a JSON NoneType"),
    ]


def test_a_json_array_of_ids_links_and_results(tmp_path: Path) -> None:
    _array_checks(*read_deletions(write(tmp_path, ARRAY, "ids.json")))


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64])
def test_a_json_array_cut_into_chunks_anywhere(tmp_path: Path, size: int,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compliance, "CHUNK_BYTES", size)
    escaped = ' ["1234567890", "a \\"quoted\\" [not, an] id", 1234567891]'
    deletions, bad = read_deletions(write(tmp_path, escaped))
    assert deletions == [post(1234567890), post(1234567891)]
    assert [b.raw for b in bad] == ['"a \\"quoted\\" [not, an] id"']
    _array_checks(*read_deletions(write(tmp_path, ARRAY, "ids.json")))


@pytest.mark.parametrize(("text", "found", "bad"), [
    ("[1234567890,,1234567891]", [1234567890, 1234567891],
     [(1, "an empty item in the JSON array (a stray comma)")]),
    ("[1234567890, 1234567891", [1234567890], [(1, "the file ends inside the JSON array")]),
    ('[1234567890, "12345', [1234567890], [(1, "the file ends inside the JSON array")]),
    ("[1234567890]\n\n  1234567891", [1234567890], [(3, "data after the end of the JSON array")]),
    ("[1234567890, 1234567891,]", [1234567890, 1234567891], []),  # a trailing comma
])
def test_broken_arrays(tmp_path: Path, text: str, found: list[int],
                       bad: list[tuple[int, str]]) -> None:
    deletions, problems = read_deletions(write(tmp_path, text))
    assert [d.post_id for d in deletions] == found
    assert [(b.line, b.reason) for b in problems] == bad


# --- nothing read whole ----------------------------------------------------------------------


def test_lines_are_read_one_at_a_time() -> None:
    """An endless list still gives its first ids at once."""
    endless: Any = (f"{10**12 + i}" for i in itertools.count())
    first = list(itertools.islice(iter_deletions(endless), 3))
    assert [d.post_id for d in first] == [10**12, 10**12 + 1, 10**12 + 2]  # type: ignore[union-attr]
    array: Any = itertools.chain(["["], (f"{10**12 + i}," for i in itertools.count()))
    first = list(itertools.islice(iter_deletions(array), 2))
    assert [d.post_id for d in first] == [10**12, 10**12 + 1]  # type: ignore[union-attr]


def test_a_line_too_long_is_skipped_and_reading_goes_on(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compliance, "MAX_LINE_BYTES", 100)
    monkeypatch.setattr(compliance, "CHUNK_BYTES", 16)
    text = "1234567890\n" + "9" * 1000 + "\n1234567891\n" + "8" * 500
    deletions, bad = read_deletions(write(tmp_path, text))
    assert [d.post_id for d in deletions] == [1234567890, 1234567891]
    assert [(b.line, b.reason) for b in bad] == [
        (2, "a line longer than 100 bytes"), (4, "a line longer than 100 bytes")]


def test_many_ids_stream_from_a_gzipped_file(tmp_path: Path) -> None:
    count = 200_000
    data = gzip.compress("".join(f"{10**15 + i}\n" for i in range(count)).encode())
    path = write(tmp_path, data, "many.txt.gz")
    seen = 0
    for found in iter_deletions(path):
        assert isinstance(found, Deletion) and found.post_id == 10**15 + seen
        seen += 1
    assert seen == count

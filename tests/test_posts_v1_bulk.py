"""The bulk v1.1 converter gives exactly the rows of the per-record adapter, and hands
back every line it should not take."""

from __future__ import annotations

import copy
import json
from typing import Any

import pyarrow as pa
import pytest

from socialsight.lake.schema import PARTITION, TWEETS
from socialsight.posts.canonical import partition_of
from socialsight.posts.detect import convert
from socialsight.posts.v1_bulk import BulkConverter
from socialsight.sources.files import read_records
from tests.conftest import status

COLUMNS = [*TWEETS.names, PARTITION]


@pytest.fixture(scope="module")
def bulk() -> Any:
    converter = BulkConverter()
    yield converter
    converter.close()


def per_record(lines: list[str]) -> list[dict[str, Any]]:
    rows = []
    for line in lines:
        _, conversion = convert(json.loads(line))
        for post in conversion.posts:
            post["raw_json"] = line.strip()
            post[PARTITION] = partition_of(post["timestamp_ms"])
            rows.append(post)
    return pa.Table.from_pylist(rows, schema=TWEETS.append(pa.field(PARTITION, pa.string()))
                                ).to_pylist()


def in_bulk(bulk: BulkConverter, lines: list[str]) -> tuple[list[dict[str, Any]], list[int]]:
    result = bulk.convert(pa.array(lines, pa.large_string()))
    return result.table.select(COLUMNS).to_pylist(), result.rest


def assert_same_rows(bulk: BulkConverter, lines: list[str]) -> None:
    fast, rest = in_bulk(bulk, lines)
    assert rest == []
    slow = per_record(lines)
    assert len(fast) == len(slow)
    for a, b in zip(fast, slow, strict=True):
        for column in COLUMNS:
            assert a[column] == b[column], (a["id"], column)


def test_real_v1_tweets_convert_exactly_as_the_adapter_does(bulk, shared_v1):
    paths = sorted(shared_v1.glob("*.jsonl"))
    assert paths, f"no *.jsonl in {shared_v1}"
    for path in paths:
        lines = [line for line in path.read_text().splitlines() if line.strip()]
        assert_same_rows(bulk, lines)


def _variants() -> list[dict[str, Any]]:
    base = status(101, "short text", urls=["https://shop.example/dp/B01"],
                  photos=["https://pbs.twimg.com/media/a.jpg"], hashtags=["deal"])
    long_post = copy.deepcopy(base)
    long_post.update(id=102, id_str="102", truncated=True, text="cut…")
    long_post["extended_tweet"] = {
        "full_text": "the whole long text " * 10,
        "entities": {"hashtags": [{"text": "long", "indices": [0, 5]}], "urls": [],
                     "user_mentions": [{"id": 7, "id_str": "7", "screen_name": "m",
                                        "name": "M", "indices": [1, 2]}], "symbols": []},
        "extended_entities": {"media": [{"id_str": "555", "type": "photo",
                                         "media_url_https": "https://pbs.twimg.com/x.jpg"}]},
    }
    retweet = status(103, "RT @orig: cut", retweet_of=long_post | {"user": {
        "id": 9, "id_str": "9", "screen_name": "orig", "name": "Orig"}})
    quote = copy.deepcopy(base)
    quote.update(id=104, id_str="104", is_quote_status=True, quoted_status=base,
                 quoted_status_id_str="101", quoted_status_id=101)
    search_api = copy.deepcopy(base)  # search results: full_text, no timestamp_ms
    search_api.update(id=105, id_str="105", full_text=search_api.pop("text") + " and more")
    del search_api["timestamp_ms"]
    only_str = copy.deepcopy(base)
    only_str.update(id_str="106", in_reply_to_status_id_str="101", in_reply_to_user_id_str="42")
    del only_str["id"]
    only_number = copy.deepcopy(base)
    only_number.update(id=107)
    del only_number["id_str"]
    no_extended = status(108, "no photos at all")
    return [base, long_post, retweet, quote, search_api, only_str, only_number, no_extended]


def test_every_v1_variant_converts_exactly_as_the_adapter_does(bulk):
    assert_same_rows(bulk, [json.dumps(v) for v in _variants()])


def test_lines_it_cannot_take_are_handed_back_by_position(bulk):
    good = json.dumps(status(1, "good"))
    no_user_id = status(2, "x")
    no_user_id["user"] = {"screen_name": "nobody"}
    lines = [
        good,
        '{"id": 3, "text": "cut off',
        json.dumps({"delete": {"status": {"id": 5, "id_str": "5"}}}),
        json.dumps({"data": [{"id": "6", "text": "v2"}], "includes": {}}),
        json.dumps({**status(4, "no id"), "id": None, "id_str": None}),
        json.dumps(no_user_id),
        json.dumps({**status(8, "bad time"), "created_at": "yesterday", "timestamp_ms": None}),
        "[1, 2, 3]",
        good.replace('"id": 1', '"id": 9').replace('"id_str": "1"', '"id_str": "9"'),
    ]
    rows, rest = in_bulk(bulk, lines)
    assert [r["id"] for r in rows] == [1, 9]
    assert rest == [1, 2, 3, 4, 5, 6, 7]


def test_a_field_of_the_wrong_type_is_null_and_raw_json_keeps_it(bulk):
    post = status(11, "odd counts")
    post["retweet_count"] = "many"
    post["user"]["followers_count"] = {"lots": True}
    rows, rest = in_bulk(bulk, [json.dumps(post)])
    assert rest == []
    assert rows[0]["retweet_count"] is None
    assert rows[0]["user"]["followers_count"] is None
    assert rows[0]["user"]["screen_name"] == "shopper"
    assert json.loads(rows[0]["raw_json"])["retweet_count"] == "many"


def test_raw_json_is_the_line_without_its_line_end(bulk, tmp_path):
    line = json.dumps(status(12, "crlf"))
    path = tmp_path / "crlf.jsonl"
    path.write_bytes(b"  " + line.encode() + b"\r\n\r\n" + line.encode())
    blocks = list(read_records(str(path), blocks=True))
    assert [b.numbers.to_pylist() for b in blocks] == [[1, 3]]
    result = bulk.convert(blocks[0].lines)
    assert result.table.column("raw_json").to_pylist() == [line, line]


def test_the_structure_follows_the_table_contract():
    # Every tweets column but the ones the converter makes is read from the line.
    from socialsight.posts.v1_bulk import _input_structure

    read = _input_structure()
    made = {"platform", "raw_json"}
    assert set(TWEETS.names) - made <= set(read)

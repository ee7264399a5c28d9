"""posts.intake: what `import` and `run` both do to a post before the lake writes it."""

from __future__ import annotations

import pyarrow as pa

from socialsight.intake.prepare import prepare, with_languages

ENGLISH = "The weather is lovely today and we are going to the beach with the children."
GERMAN = "Das Wetter ist heute wunderschön und wir gehen mit den Kindern an den Strand."


def test_prepare_fills_what_the_platform_left_out() -> None:
    post = prepare({"id": 1, "text": ENGLISH, "lang": None}, "posts.jsonl", 12, '{"id": 1}')
    assert post["lang"] == "en"
    assert post["raw_json"] == '{"id": 1}'
    assert (post["_source"], post["_line"]) == ("posts.jsonl", 12)


def test_prepare_keeps_what_the_post_has() -> None:
    post = {"id": 2, "text": GERMAN, "lang": "fr", "raw_json": "kept",
            "_source": "bluesky:#kindle"}
    prepare(post, "elsewhere", raw="not used")
    assert post["lang"] == "fr" and post["raw_json"] == "kept"
    assert post["_source"] == "bluesky:#kindle" and "_line" not in post


def test_a_post_without_text_gets_no_language() -> None:
    post = prepare({"id": 3, "text": ""}, "x:search:kindle")
    assert not post.get("lang") and post["_source"] == "x:search:kindle"
    assert "raw_json" not in post or post["raw_json"] is None


def test_posts_converted_in_bulk_get_the_same_languages() -> None:
    table = pa.table({"text": [ENGLISH, GERMAN, None, ENGLISH],
                      "lang": [None, None, None, "de"]})
    filled = with_languages(table).column("lang").to_pylist()
    one_by_one = [prepare({"text": t, "lang": lang}, "s")["lang"]
                  for t, lang in zip(table.column("text").to_pylist(),
                                     table.column("lang").to_pylist(), strict=True)]
    assert filled == one_by_one == ["en", "de", None, "de"]

"""PII in the lake: ``enrich`` writes each English post's PII to ``tweet_entities`` as
``PII:<TYPE>`` rows whose offsets point into the post's own text; the entity queries do
not count them; ``language.redact_pii`` masks their values and ``language.pii = false``
writes none; ``forget`` takes them with the post."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from socialsight.explore.filters import Filters
from socialsight.explore.sentiment import entities as top_entities
from socialsight.lake.store import Lake
from socialsight.query.engine import Engine, seed_queries
from tests.conftest import status, write_jsonl

CARD = "4111 1111 1111 1111"
# Emoji of several code points each and a link before the PII: offsets counted in
# anything but code points would miss it.
LEAD = "👍🏽 👨‍👩‍👧 https://t.co/abc123 "
POSTS = {
    1: LEAD + f"Mail me at jane.doe@example.com or pay with my card {CARD} thanks!",
    2: "jane@example.com wrote to me about the launch in Houston, call 206-555-0147",
    3: "Écrivez-moi à jean@exemple.fr, merci beaucoup pour votre aide et à bientôt",
    4: "What a wonderful launch in Houston today!",
}


@pytest.fixture
def enriched(cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Import POSTS and enrich them (text only: they have no photos), with the
    ``language`` settings given; returns the lake."""
    monkeypatch.setenv("SOCIALSIGHT_ENRICH_WORKERS", "1")
    posts = write_jsonl(tmp_path / "posts.jsonl",
                        [status(i, text) for i, text in POSTS.items()])

    def run(**language: str) -> Lake:
        for key, value in language.items():
            monkeypatch.setenv(f"SOCIALSIGHT_LANGUAGE_{key.upper()}", value)
        assert cli("import", str(posts)).exit_code == 0
        result = cli("enrich")
        assert result.exit_code == 0, result.output
        return Lake(str(tmp_path / "lake"))

    return run


def pii_rows(lake: Lake) -> dict[int, list[tuple[str, str, int, int]]]:
    """Each post's PII rows: (type, entity, begin, end), in order of their offsets."""
    out: dict[int, list[tuple[str, str, int, int]]] = {}
    for r in sorted(lake.read("tweet_entities").to_pylist(),
                    key=lambda r: (r["tweetid"], r["beginoffset"])):
        if r["type"].startswith("PII:"):
            out.setdefault(r["tweetid"], []).append(
                (r["type"], r["entity"], r["beginoffset"], r["endoffset"]))
    return out


def test_pii_rows_sit_beside_the_entities_with_offsets_into_the_posts_text(
        enriched: Any, cli: Any) -> None:
    lake = enriched()
    found = pii_rows(lake)
    assert [(kind, value) for kind, value, _, _ in found[1]] == [
        ("PII:URL", "https://t.co/abc123"), ("PII:EMAIL", "jane.doe@example.com"),
        ("PII:CREDIT_DEBIT_NUMBER", CARD)]
    # At the very start and the very end of a text.
    assert [(kind, value) for kind, value, _, _ in found[2]] == [
        ("PII:EMAIL", "jane@example.com"), ("PII:PHONE", "206-555-0147")]
    assert found[2][0][2] == 0 and found[2][-1][3] == len(POSTS[2])
    assert 3 not in found  # French: no PII run
    assert 4 not in found or all(k == "PII:DATE_TIME" for k, *_ in found[4])
    # The offsets count code points of tweets.text, which is tweet_sentiments.originaltext.
    texts = {r["id"]: r["text"] for r in lake.read("tweets").to_pylist()}
    originals = {r["tweetid"]: r["originaltext"]
                 for r in lake.read("tweet_sentiments").to_pylist()}
    for tweetid, rows in found.items():
        assert texts[tweetid] == originals[tweetid] == POSTS[tweetid]
        for _, value, begin, end in rows:
            assert texts[tweetid][begin:end] == value
    scores = [r["score"] for r in lake.read("tweet_entities").to_pylist()
              if r["type"].startswith("PII:")]
    assert all(0.5 <= s <= 1 for s in scores)

    # The entities are still there, and no entity query counts a PII row.
    entities = {(r["entity"], r["type"]) for r in lake.read("tweet_entities").to_pylist()}
    assert ("Houston", "LOCATION") in entities
    engine = Engine(lake)
    top = engine.execute(seed_queries()["top_entities"]).table.to_pylist()
    assert top and not any(r["type"].startswith("PII:") for r in top)
    assert {"type": "LOCATION", "entity": "Houston", "mentions": 2} in top
    by_type = top_entities(engine, Filters())
    assert by_type["types"] and not any(t.startswith("PII:") for t in by_type["types"])

    # forget takes a post's PII rows with its other rows.
    assert cli("forget", "--post", "1", "--reason", "test").exit_code == 0
    after = Lake(lake.url).read("tweet_entities").to_pylist()
    assert not any(r["tweetid"] == 1 for r in after)
    assert 2 in pii_rows(Lake(lake.url))


def test_redact_pii_writes_the_type_instead_of_the_value(enriched: Any) -> None:
    lake = enriched(redact_pii="true")
    found = pii_rows(lake)
    assert [value for _, value, _, _ in found[1]] == [
        "https://t.co/abc123", "[EMAIL]", "[CREDIT_DEBIT_NUMBER]"]  # a link is kept
    assert [value for _, value, _, _ in found[2]] == ["[EMAIL]", "[PHONE]"]
    # The raw posts are kept as they came.
    [post] = [r for r in lake.read("tweets").to_pylist() if r["id"] == 1]
    assert "jane.doe@example.com" in post["text"] and "jane.doe@example.com" in post["raw_json"]


def test_language_pii_off_writes_no_pii_rows(enriched: Any) -> None:
    lake = enriched(pii="false")
    rows = lake.read("tweet_entities").to_pylist()
    assert rows and not any(r["type"].startswith("PII:") for r in rows)

"""Text analysis as a reader of the post would judge it: who and where, how it feels,
which language — and nothing made of emoji, hashtags, mentions or links."""

from __future__ import annotations

import json

import pytest

from socialsight.language.analyze import analyse_texts
from socialsight.language.prepare import masked, readable
from socialsight.language.sentiment import sentiment


def one(text: str, lang: str | None = None):
    return analyse_texts([text], [lang])[0]


def entities(text: str) -> dict[str, str]:
    return {e.text: e.type for e in one(text).entities}


def test_the_text_read_is_the_post_without_retweet_prefix_and_links():
    text = "RT @nasa: Launch window opens at 9pm &amp; the crew is ready https://t.co/Ab12"
    assert readable(text) == "Launch window opens at 9pm & the crew is ready"
    result = one(text)
    assert result.originaltext == text and result.text == readable(text)


def test_the_mask_keeps_every_offset_and_blanks_what_is_not_words():
    text = "🇺🇸 Go @TeamUSA! #Olympics2024 https://t.co/x 👨‍👩‍👧 RT @a now"
    blank = masked(text)
    assert len(blank) == len(text)
    for piece in ("🇺🇸", "@TeamUSA", "#Olympics2024", "https://t.co/x", "👨‍👩‍👧"):
        start = text.index(piece)
        assert blank[start:start + len(piece)].strip() == "", piece
    assert blank.startswith("   Go ")


def test_people_places_and_companies_with_offsets_into_the_post():
    text = "Tim Cook opened the new Apple store in Paris yesterday 😍 #apple @tim"
    found = one(text).entities
    kinds = {e.text: e.type for e in found}
    assert kinds["Tim Cook"] == "PERSON"
    assert kinds["Apple"] == "ORGANIZATION"
    assert kinds["Paris"] == "LOCATION"
    assert kinds["yesterday"] == "DATE"
    for entity in found:
        assert text[entity.begin:entity.end] == entity.text
        assert 0.5 <= entity.score <= 1.0


def test_emoji_hashtags_mentions_and_links_are_never_entities():
    text = ("😩😤 so done with @JohnSmith and #LondonTraffic, John Smith, in London 👨‍👩‍👧 🇺🇸 "
            "https://t.co/AbC https://www.example.com/Paris")
    found = one(text).entities
    # The person and the place written out are found; their mention, hashtag and link not.
    assert [(e.text, e.type) for e in found] == [("John Smith", "PERSON"),
                                                 ("London", "LOCATION")], found
    for entity in found:
        assert text[entity.begin:entity.end] == entity.text


def test_sentiment_reads_like_a_person_and_the_scores_sum_to_one():
    cases = {
        "I absolutely love my new phone, best purchase ever! 😍": "POSITIVE",
        "Worst customer service ever. Never flying with them again 😡": "NEGATIVE",
        "The store opens at 9am on Monday.": "NEUTRAL",
        "The food was amazing but the service was terrible.": "MIXED",
    }
    for text, expected in cases.items():
        result = sentiment(text)
        assert result.label == expected, text
        scores = (result.positive, result.negative, result.neutral, result.mixed)
        assert abs(sum(scores) - 1) < 1e-5 and all(0 <= s <= 1 for s in scores)
        assert max(scores) == {"POSITIVE": result.positive, "NEGATIVE": result.negative,
                               "NEUTRAL": result.neutral, "MIXED": result.mixed}[expected]


@pytest.mark.parametrize("text", [
    # informational text with words VADER counts as positive ("credit", "payment")
    "Your AnyCompany credit card payment of $24.53 is due by July 31st. We will withdraw "
    "it from your bank account on the due date.",
    "The new store opens at 9am on Main Street, next to the station.",
    "Council publishes the 2024 budget: road repairs, two new libraries and a pool.",
])
def test_plain_informational_text_is_neutral(text: str) -> None:
    result = sentiment(text)
    assert result.label == "NEUTRAL", (text, result)
    assert result.neutral == max(result.positive, result.negative, result.neutral,
                                 result.mixed)


def test_clearly_one_sided_words_win_over_a_neutral_reading() -> None:
    # the model reads this as news; VADER's words are clearly negative (sentiment.STRONG)
    result = sentiment("Three hours waiting at Gate 14 and still no word from the airline. "
                       "Missed my connection in Chicago. Not happy.")
    assert result.label == "NEGATIVE" and result.negative == max(
        result.positive, result.negative, result.neutral, result.mixed)


def test_without_the_fitted_model_vaders_thresholds_decide(monkeypatch, tmp_path) -> None:
    from socialsight.language import sentiment as module

    assert module.weights() is not None, "run python -m bench.comprehend --fit"
    monkeypatch.setattr(module, "DATA", tmp_path / "none.json")
    module.weights.cache_clear()
    try:  # VADER alone: "credit" makes the notice POSITIVE
        assert sentiment("Your credit card payment of $24.53 is due by July 31st.").label \
            == "POSITIVE"
    finally:
        module.weights.cache_clear()


@pytest.mark.parametrize(("text", "lang"), [
    ("Je suis très content de mon nouveau téléphone, merci beaucoup !", "fr"),
    ("Hoy es un día maravilloso para ir a la playa con mis amigos", "es"),
    ("Heute ist das Wetter in Berlin wirklich schön", "de"),
])
def test_other_languages_get_their_language_and_a_reason_not_a_sentiment(text, lang):
    result = one(text)
    assert result.lang == lang and result.lang_score > 0.8
    assert result.sentiment is None and result.entities == []
    assert "not supported" in (result.skipped or "")


def test_the_platforms_tag_decides_only_when_the_text_cannot():
    assert one("lol", "en").lang == "en"  # too short to tell: the platform knows
    assert one("Je suis très content de mon nouveau téléphone", "en").lang == "fr"
    empty = one("https://t.co/abc")
    assert empty.skipped == "no text to analyse" and empty.sentiment is None


def test_a_shouted_post_does_not_turn_words_into_people():
    kinds = entities("SHOUTOUT TO EVERYONE WHO CAME TONIGHT, AMAZING CROWD")
    assert "PERSON" not in kinds.values() and "ORGANIZATION" not in kinds.values()


def test_key_phrases_are_noun_phrases_of_the_post():
    text = "Loving the new running shoes from the shop downtown"
    phrases = [k.text for k in one(text).key_phrases]
    assert "the new running shoes" in phrases
    assert any(p.startswith("the shop") for p in phrases)
    for phrase in one(text).key_phrases:
        assert text[phrase.begin:phrase.end] == phrase.text


def test_analyze_text_prints_comprehends_fields(cli):
    result = cli("analyze-text", "Loving the new Nike store in Paris!")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert set(body) == {"Sentiment", "SentimentScore", "Entities", "KeyPhrases",
                         "PiiEntities", "Languages", "Skipped"}
    assert body["Sentiment"] == "POSITIVE"
    assert body["Languages"][0]["LanguageCode"] == "en"
    assert {"Text": "Paris", "Type": "LOCATION"}.items() <= body["Entities"][-1].items()


def test_import_fills_the_language_the_platform_did_not_give(cli, tmp_path):
    from socialsight.lake.store import Lake
    from tests.conftest import status, write_jsonl

    untagged = status(1, "Hoy es un día maravilloso para ir a la playa con mis amigos")
    untagged["lang"] = None
    tagged = status(2, "Un texte en français, mais étiqueté autrement")
    tagged["lang"] = "und"
    posts = write_jsonl(tmp_path / "posts.jsonl", [untagged, tagged])
    assert cli("import", str(posts)).exit_code == 0
    langs = {r["id"]: r["lang"] for r in Lake(str(tmp_path / "lake")).read("tweets").to_pylist()}
    assert langs == {1: "es", 2: "und"}  # the platform's own tag is kept as it came


def test_a_huge_text_is_analysed_up_to_a_limit_not_choked_on():
    from socialsight.language.analyze import MAX_CHARS

    text = "Lovely day in Paris with friends. " + "x" * 2_000_000
    result = one(text)
    assert result.sentiment is not None and result.sentiment.label == "POSITIVE"
    paris = next(e for e in result.entities if e.text == "Paris")
    assert text[paris.begin:paris.end] == "Paris"
    assert len(result.originaltext) == MAX_CHARS


def test_an_entity_never_runs_across_the_end_of_a_sentence() -> None:
    from socialsight.language import entities
    from socialsight.language.spans import cut, entity_pieces

    text = "Hello, Zhang Wei. Your card is due by July 31st. Dr. Lee and John F. Kennedy agree."
    found = {(e.type, e.text) for e in entities.analyse([text])[0][0]}
    assert ("PERSON", "Zhang Wei") in found
    assert not any("." in name and "Your" in name for _, name in found)
    # initials and titles are not ends of sentences; a second sentence is not the entity
    assert cut(text, text.index("Dr."), text.index(" agree")) == [
        (text.index("Dr."), text.index(" agree"))]
    begin = text.index("Zhang")
    assert entity_pieces(text, begin, text.index(" card")) == [(begin, begin + 9)]

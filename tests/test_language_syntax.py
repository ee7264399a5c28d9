"""DetectSyntax's tokens: every word with Comprehend's part of speech, offsets in code
points, and the tagger's own probability as its score."""

from __future__ import annotations

import botocore.session

from socialsight.language.syntax import TAGS, Token, syntax


def tokens(text: str) -> list[Token]:
    found = syntax([text])[0]
    assert [t.id for t in found] == list(range(1, len(found) + 1))
    for token in found:
        assert text[token.begin:token.end] == token.text
        assert token.text.strip() == token.text != ""
        assert 0 < token.score <= 1
    return found


def test_a_plain_sentence_gets_the_tags_a_grammar_book_gives() -> None:
    found = tokens("I love this small city.")
    assert [(t.text, t.tag) for t in found] == [
        ("I", "PRON"), ("love", "VERB"), ("this", "DET"), ("small", "ADJ"),
        ("city", "NOUN"), (".", "PUNCT")]
    found = tokens("She was in Paris and it rained.")
    assert [t.tag for t in found] == ["PRON", "AUX", "ADP", "PROPN", "CCONJ", "PRON", "VERB",
                                      "PUNCT"]


def test_scores_are_the_taggers_probabilities_not_a_constant() -> None:
    found = tokens("Dear Maria, your card was charged $42.10 on Monday. lol 😀")
    scores = {t.text: t.score for t in found}
    assert len(set(scores.values())) > 3
    assert scores[","] > 0.99 and scores["card"] > 0.99  # plain words: sure
    assert scores["lol"] < 0.95 and scores["😀"] < 0.95  # slang and emoji: less so
    assert min(scores.values()) < max(scores.values())


def test_first_and_last_characters_whitespace_and_empty_texts() -> None:
    found = tokens("Go!")
    assert [(t.text, t.begin, t.end) for t in found] == [("Go", 0, 2), ("!", 2, 3)]
    found = tokens("  two\n\nlines  ")
    assert [t.text for t in found] == ["two", "lines"]  # whitespace is no token
    assert syntax([]) == []
    assert syntax(["", "   \n"]) == [[], []]


def test_offsets_count_code_points_past_emoji() -> None:
    text = "👍🏽👨‍👩‍👧 Seattle rocks"
    found = tokens(text)
    seattle = next(t for t in found if t.text == "Seattle")
    assert (seattle.begin, seattle.end) == (8, 15)  # code points (UTF-16 would say 13)
    assert seattle.tag == "PROPN"


def test_a_text_of_5000_bytes_and_many_texts_at_once() -> None:
    sentence = "The new store in Boston opened on Monday with 300 people waiting outside. "
    long = (sentence * 70)[:5000]
    many = syntax([long, "Hi.", long])
    assert len(many[0]) > 800 and many[0] == many[2]
    assert [t.text for t in many[1]] == ["Hi", "."]


def test_every_tag_is_one_of_comprehends() -> None:
    model = botocore.session.get_session().get_service_model("comprehend")
    assert set(TAGS.values()) <= set(model.shape_for("PartOfSpeechTagType").enum)
    text = "Wow!!! I can't believe @bob paid $5 for 2 #coffees at 9am :) https://x.co"
    assert {t.tag for t in tokens(text)} <= set(TAGS.values())

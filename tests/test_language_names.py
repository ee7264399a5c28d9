"""Whether words are a person's name, and the name cut out of a longer span."""

from __future__ import annotations

import pytest

from socialsight.language import names


@pytest.mark.parametrize(("words", "person"), [
    ("Maria Lopez", True), ("Ji-hoon Lee", True), ("O'Neil", True),
    ("Team Alpha", False), ("Customer", False), ("Northwind Bank", False),
    ("Monday", False), ("Terminal 5", False), ("Victoria Station", False), ("the Smiths", False),
    ("Sunshine Spa", False), ("Rosa Cafe", False),
])
def test_words_that_can_be_a_name(words: str, person: bool) -> None:
    assert names.is_person(words) is person


@pytest.mark.parametrize(("text", "name"), [
    ("Dear Ms Ann Lee", "Ann Lee"),
    ("Applicant Rohan Mehta", "Rohan Mehta"),
    ("Ring Gareth", "Gareth"),
    ("Julia Gillard PM", "Julia Gillard"),
    ("Zhang Wei's", "Zhang Wei"),
    ("John F. Kennedy.", "John F. Kennedy"),
    ("Jane Q.", "Jane Q."),
    ("Ann Lee.", "Ann Lee"),
    ("Dear Customer", None),
    ("Acme Services Ltd", None),
    ("the Lees", None),
    ("Room 101", None),
])
def test_a_span_is_cut_down_to_the_name(text: str, name: str | None) -> None:
    span = names.name_span(text, 0, len(text))
    assert (text[span[0]:span[1]] if span else None) == name

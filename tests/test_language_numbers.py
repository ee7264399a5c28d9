"""Comprehend's types for numbers, identifiers and addresses (language/numbers.py), and
calibrated entity scores (language/calibration.py), as DetectEntities answers them."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from socialsight.language import calibration, numbers

NOTICE = ("Hello Zhang Wei, I am John. Your AnyCompany Financial Services, LLC credit card "
          "account 1111-0000-1111-0008 has a minimum payment of $24.53 that is due by July "
          "31st. We will withdraw your payment from your bank account number XXXXXX1111 with "
          "the routing number XXXXX0000. Customer feedback for Sunshine Spa, 123 Main St, "
          "Anywhere. Send comments to Alice at AnySpa@example.com.")


def spans(found: list[tuple[int, int]], text: str) -> list[str]:
    return [text[s:e] for s, e in found]


@pytest.mark.parametrize("text, expected", [
    ("card 1111-0000-1111-0008 due", ["1111-0000-1111-0008"]),
    ("account XXXXXX1111.", ["XXXXXX1111"]),
    ("ending in •••• 1234 today", ["•••• 1234"]),
    ("call (555) 010-2345 now", ["(555) 010-2345"]),
    ("or +44 20 7946 0958", ["+44 20 7946 0958"]),
    ("write to AnySpa@example.com.", ["AnySpa@example.com"]),
    ("order 123456789", ["123456789"]),
    ("1111-0000-1111-0008", ["1111-0000-1111-0008"]),  # the whole text, first and last
])
def test_identifiers_are_found_by_their_form(text: str, expected: list[str]) -> None:
    assert spans(numbers.identifiers(text), text) == expected


@pytest.mark.parametrize("text", [
    "on 12/25/2017 at 8:30", "1,000,000 views", "in 2019", "pi is 3.14159",
    "room 123456", "$1234567.89", "XXX rated", "", "50% off",
])
def test_dates_amounts_and_short_numbers_are_not_identifiers(text: str) -> None:
    assert numbers.identifiers(text) == []


def test_a_price_keeps_its_currency_and_a_share_its_percent_sign() -> None:
    text = "pay $24.53 or €3, 60% off"
    assert text[slice(*numbers.amount(text, 5, 10))] == "$24.53"
    assert text[slice(*numbers.amount(text, 15, 16))] == "€3"
    assert text[slice(*numbers.amount(text, 18, 20))] == "60%"
    assert numbers.amount("24.53", 0, 5) == (0, 5)  # nothing before the first character


@pytest.mark.parametrize("text, kind", [
    ("90 minutes", "QUANTITY"), ("nearly three years", "QUANTITY"), ("10-year", "QUANTITY"),
    ("half an hour", "QUANTITY"), ("July 31st", "DATE"), ("last year", "DATE"),
    ("tonight", "DATE"),
])
def test_a_length_of_time_is_a_quantity_and_a_date_stays_a_date(text: str, kind: str) -> None:
    assert numbers.retype(text, 0, len(text), "DATE") == kind


@pytest.mark.parametrize("text, kind", [
    ("3:30pm", "DATE"), ("9:15 a.m.", "DATE"), ("16:05", "DATE"), ("7pm", "DATE"),
    ("30", "QUANTITY"), ("3.5", "QUANTITY"), ("25:70", "QUANTITY"), ("13pm", "QUANTITY"),
])
def test_a_time_of_day_counted_as_a_number_is_a_date(text: str, kind: str) -> None:
    assert numbers.retype(text, 0, len(text), "QUANTITY") == kind


@pytest.mark.parametrize("text, kind, expected", [
    ("Alice at ", "PERSON", "Alice"),
    ("number XXXXX0000", "OTHER", "XXXXX0000"),
    ("New York City's", "LOCATION", "New York City"),
    ("The United States", "LOCATION", "United States"),
    ("The Godfather", "TITLE", "The Godfather"),
    ("the end of the month", "DATE", "end of the month"),
    ("a year", "DATE", "a year"),
    ("University of Oxford", "ORGANIZATION", "University of Oxford"),
    ("Apple Inc.", "ORGANIZATION", "Apple Inc."),
])
def test_a_span_loses_the_words_it_spilled_into(text: str, kind: str, expected: str) -> None:
    assert text[slice(*numbers.trim(text, 0, len(text), kind))] == expected


def test_street_addresses() -> None:
    text = "Send it to 123 Main St, Anywhere, or 742 Evergreen Terrace. Not 5 Stars."
    assert spans(numbers.streets(text), text) == ["123 Main St", "742 Evergreen Terrace"]


def test_the_billing_notice_gets_comprehends_types() -> None:
    from socialsight.language import entities

    [(found, _)] = entities.analyse([NOTICE], key_phrases=False)
    got = {(e.text, e.type) for e in found}
    assert {("Zhang Wei", "PERSON"), ("AnyCompany Financial Services, LLC", "ORGANIZATION"),
            ("1111-0000-1111-0008", "OTHER"), ("$24.53", "QUANTITY"),
            ("July 31st", "DATE"), ("XXXXXX1111", "OTHER"), ("XXXXX0000", "OTHER"),
            ("123 Main St", "LOCATION"), ("AnySpa@example.com", "OTHER")} <= got
    # no span runs on ("number XXXXX0000", "Alice at AnySpa@example.com")
    assert not any(" " in e.text and e.type == "OTHER" and "@" in e.text for e in found)
    assert all(NOTICE[e.begin:e.end] == e.text for e in found)
    scores = [e.score for e in found]
    assert all(0 < s < 1 for s in scores) and len(set(scores)) > 3  # not 1.0 for all


@dataclass
class Fake:
    begin: int
    end: int
    type: str
    raw: float
    rule: bool = False


def test_the_calibration_is_fitted_and_a_surer_beam_scores_higher() -> None:
    assert calibration.weights() is not None, "run python -m bench.comprehend --fit"
    text = "We met Jane Doe in Paris."
    low = calibration.score(text, Fake(7, 15, "PERSON", 0.6))
    high = calibration.score(text, Fake(7, 15, "PERSON", 0.99))
    assert 0 < low < high < 1


def test_without_weights_the_beams_probability_is_the_score(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(calibration, "DATA", tmp_path / "none.json")
    calibration.weights.cache_clear()
    try:
        assert calibration.score("Paris", Fake(0, 5, "LOCATION", 0.8125)) == 0.8125
    finally:
        calibration.weights.cache_clear()

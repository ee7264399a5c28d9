"""A date and its time are one moment, as a reader marks them; two dates are two."""

from __future__ import annotations

import pytest

from socialsight.language import dates


@pytest.mark.parametrize(("piece", "kind"), [
    ("10:42", "time"), ("9:15am", "time"), ("noon", "time"), ("Tuesday", "day"),
    ("Fri.", "day"), ("3 June 2025", "date"), ("02/05/2025", "date"),
    ("June 3 at 9pm", "both"), ("tomorrow", "other"), ("this week", "other"),
])
def test_each_piece_has_its_kind(piece: str, kind: str) -> None:
    assert dates.kind(piece) == kind


def span(text: str, piece: str) -> tuple[int, int]:
    begin = text.index(piece)
    return begin, begin + len(piece)


@pytest.mark.parametrize(("text", "first", "second", "joined"), [
    ("due 02/05/2025 at 10:42 sharp", "02/05/2025", "10:42", True),
    ("from 15:00 on 04/10/2025", "15:00", "04/10/2025", True),
    ("19 May 2025, 02:13", "19 May 2025", "02:13", True),
    ("Sat @ 10am", "Sat", "10am", True),
    # Two of a kind side by side stay apart, and so do pieces across a line or a word.
    ("open 10:00 - 12:00", "10:00", "12:00", False),
    ("Mon, Tue", "Mon", "Tue", False),
    ("02/05/2025\n10:42", "02/05/2025", "10:42", False),
    ("on 02/05/2025 until 10:42", "02/05/2025", "10:42", False),
])
def test_a_date_and_its_time_join_only_side_by_side(
        text: str, first: str, second: str, joined: bool) -> None:
    assert dates.joins(text, span(text, first), span(text, second)) is joined


def test_a_capitalised_weekday_before_a_date_starts_it() -> None:
    text = "Seen Fri 15 Aug 2025 and fri 16 Aug"
    assert dates.weekday_start(text, text.index("15"), 0) == text.index("Fri")
    # Lower case is a word, not a weekday; nor may the start go back past the span before.
    assert dates.weekday_start(text, text.index("16"), 0) == text.index("16")
    assert dates.weekday_start(text, text.index("15"), text.index("15")) == text.index("15")


def test_a_time_zone_after_a_time_joins_it_but_not_after_a_date() -> None:
    text = "lands 16:05 UTC+1 on 3 June EST"
    begin, end = span(text, "16:05")
    assert text[begin:dates.zone_end(text, begin, end, len(text))] == "16:05 UTC+1"
    begin, end = span(text, "3 June")
    assert dates.zone_end(text, begin, end, len(text)) == end
    # Not past the start of the next span.
    begin, end = span(text, "16:05")
    assert dates.zone_end(text, begin, end, end + 2) == end

"""Masking PII as ``language.redact_pii`` does: each span of a masked type becomes
``[TYPE]`` exactly where the detector found it — at the start, at the end, side by side,
past emoji and links — and offsets read back from the lake are not trusted to be tidy."""

from __future__ import annotations

import pytest

from socialsight.language import pii, redaction

CARD = "4111 1111 1111 1111"
# Emoji (a skin tone and a joined family: several code points each) and a link before
# the PII, so an offset counted in anything but code points would land off it.
BEFORE = "👍🏽 👨‍👩‍👧 https://t.co/abc123 "


def spans(text: str) -> list[tuple[str, int, int]]:
    return [(p.type, p.begin, p.end) for p in pii.detect([text])[0]]


@pytest.mark.parametrize(("text", "masked"), [
    # PII at the very start and at the very end.
    ("jane@example.com", "[EMAIL]"),
    ("jane@example.com wrote, call 206-555-0147", "[EMAIL] wrote, call [PHONE]"),
    # Emoji and a link before the span; the link itself is not masked.
    (BEFORE + f"card {CARD}!", BEFORE + "card [CREDIT_DEBIT_NUMBER]!"),
    # Two spans side by side.
    ("bob@example.org 206-555-0147", "[EMAIL] [PHONE]"),
    # Links and dates are left as written.
    ("Due on August 15, 2024, see https://example.com/bill",
     "Due on August 15, 2024, see https://example.com/bill"),
    ("Hi Maria Lopez. Your card", "Hi [NAME]. Your card"),
    ("", ""),
])
def test_redact_masks_each_span_by_its_type(text: str, masked: str) -> None:
    assert redaction.redact(text, spans(text)) == masked


@pytest.mark.parametrize(("given", "masked"), [
    ([("EMAIL", 0, 3), ("PHONE", 3, 6)], "[EMAIL][PHONE]6789"),  # touching spans
    ([("EMAIL", 0, 4), ("PHONE", 2, 6)], "[EMAIL]6789"),  # overlapping: one wider mask
    ([("PHONE", 7, 99)], "0123456[PHONE]"),  # past the end: up to the end
    ([("PHONE", 10, 12), ("EMAIL", None, 3), ("SSN", 5, 5)], "0123456789"),  # none fits
    ([("URL", 0, 5), ("DATE_TIME", 5, 10)], "0123456789"),  # kept types
    ([("PHONE", 6, 9), ("EMAIL", 1, 3)], "0[EMAIL]345[PHONE]9"),  # in any order
])
def test_redact_trusts_no_offsets_read_back_from_the_lake(
        given: list[tuple[str, int | None, int | None]], masked: str) -> None:
    assert redaction.redact("0123456789", given) == masked


def test_a_piece_of_the_text_is_masked_where_spans_run_into_it() -> None:
    text = f"Visa card {CARD} expires"
    found = spans(text)
    begin = text.index("Visa")
    piece = text[begin:text.index(" expires")]
    assert redaction.redact(piece, found, begin) == "Visa card [CREDIT_DEBIT_NUMBER]"
    # A span that starts before the piece masks the part inside it.
    assert redaction.redact("3456", [("PHONE", 0, 6)], 3) == "[PHONE]6"


def test_the_lake_family_and_the_masked_types_are_tables() -> None:
    kept, masked = redaction.KEPT, redaction.MASKED
    assert kept | masked == set(pii.TYPES) and not kept & masked
    assert kept == {"DATE_TIME", "URL"}
    assert redaction.row_type("EMAIL") == "PII:EMAIL" and redaction.kind_of("PII:EMAIL") == "EMAIL"
    assert redaction.kind_of("PERSON") is None and redaction.kind_of(None) is None
    assert redaction.shown("EMAIL", "a@b.co") == "[EMAIL]"
    assert redaction.shown("URL", "https://b.co") == "https://b.co"

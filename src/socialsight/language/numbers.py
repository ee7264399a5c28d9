"""Comprehend's types for numbers, identifiers and addresses the recogniser mistypes.

spaCy's small English model (trained on OntoNotes) reads a card number as a DATE or a
CARDINAL, leaves the currency sign out of a price, runs "number XXXXX0000" together, and
does not know e-mail addresses. Comprehend's DetectEntities calls an identifier — a card,
account, routing, order or phone number, an e-mail address — ``OTHER``, and keeps a
price's currency in its ``QUANTITY`` ("$24.53"). This module finds those spans by their
form (:func:`identifiers`) and mends the recogniser's spans around them
(:func:`currency`, :func:`trim`); :mod:`socialsight.language.entities` applies them.
"""

from __future__ import annotations

import re

from socialsight.language import dates

# Digits or masked digits (XXXX1111, ••••1111) in groups split by a space, a hyphen, a
# dot or a slash: a card, account, phone or order number. Dates are told apart below.
_UNIT = r"[0-9Xx*\u2022#]"
_GROUPED = (r"(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?)?" + _UNIT + r"{2,}"
            r"(?:[ .-]" + _UNIT + r"{2,}){1,5}")
_RUN = _UNIT + r"{6,}"
IDENTIFIER = re.compile(r"(?<![\w$\u20ac\u00a3\u00a5.,/:-])(?:" + _GROUPED + "|" + _RUN
                        + r"|\(\d{2,4}\)[ .-]?\d{3}[ .-]?\d{4})(?![\w%/:-]|[.,]\d)")
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?<!\.)")
# What a number that is not an identifier looks like: a date, a time, a year, a count
# written with thousands separators, a decimal, a score.
DATE_LIKE = re.compile(r"(?:\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|\d{1,2}:\d{2}(?::\d{2})?)")
THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+")
MIN_DIGITS = 7  # fewer digits (and no mask) is a count or a code too short to be an id
CURRENCY = re.compile(r"(?:[A-Z]{0,2}\$|[\u20ac\u00a3\u00a5\u20b9\u20a9\u20bd\u20ba\u20a6"
                      r"\u20b1\u20aa\u0e3f\u20ab])\s?$")
# Words a span of a name may not start or end with (the recogniser's spill-over, and the
# remnant of a span an identifier was cut out of: "number XXXXX0000", "Alice at").
EDGE_WORDS = frozenset(("a", "an", "the", "at", "in", "on", "to", "from", "by", "for", "with",
                        "and", "or", "of", "number", "no", "num", "nr", "is", "was", "are",
                        "via", "per"))
LEGAL_FORM = re.compile(r"(?:LLC|L\.L\.C\.|Inc\.?|Ltd\.?|Corp\.?|Co\.|PLC|plc|GmbH|AG|S\.A\.|"
                        r"SA|LLP|LP|N\.V\.|B\.V\.|Pty\.? Ltd\.?)")
# A length of time ("90 minutes", "nearly three years", "a 10-year"): Comprehend's
# QUANTITY, where spaCy says DATE or TIME. A date ("May 3", "last year") stays a DATE.
_COUNT = (r"(?:\d+(?:[.,/]\d+)?|an?|half\s+an?|one|two|three|four|five|six|seven|eight|"
          r"nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|sixty|a\s+few|"
          r"several|a\s+couple\s+of)")
DURATION = re.compile(r"(?i:(?:about|nearly|almost|over|some|more\s+than|less\s+than|"
                      r"under|around|roughly|only|just)\s+)?(?i:" + _COUNT + r")[\s-]+"
                      r"(?i:(?:second|minute|min|hour|hr|day|week|month|year|yr|decade|"
                      r"century)s?)")
# A street address: a house number, capitalised words, a street type ("123 Main St",
# "742 Evergreen Terrace"). Comprehend's LOCATION, whatever spaCy made of its pieces.
STREET = re.compile(
    r"(?<![\w$.,-])\d{1,6}[A-Za-z]?\s+(?:(?:North|South|East|West|[NSEW]\.?)\s+)?"
    r"(?:[A-Z][A-Za-z'-]*\s+){1,3}(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|"
    r"Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Ter|Square|Sq|Parkway|Pkwy|Highway|Hwy|"
    r"Circle|Cir)\b")
NAMED = frozenset({"PERSON", "ORGANIZATION", "LOCATION", "COMMERCIAL_ITEM", "TITLE",
                   "EVENT", "OTHER"})


def _digits(text: str) -> int:
    return sum(c.isdigit() for c in text)


def identifiers(text: str) -> list[tuple[int, int]]:
    """``[begin, end)`` of every identifier in ``text``: e-mail addresses, and numbers of
    at least :data:`MIN_DIGITS` digits (or with masked digits) that are not a date, a
    time or an amount."""
    spans = [m.span() for m in EMAIL.finditer(text)]
    for match in IDENTIFIER.finditer(text):
        value = match.group()
        masked = any(c in "Xx*\u2022#" for c in value)
        if masked and not any(c.isdigit() for c in value) and len(value) < 8:
            continue  # "XXX", "***": a censored word, not a number
        if not masked and (_digits(value) < MIN_DIGITS or DATE_LIKE.fullmatch(value)
                           or THOUSANDS.fullmatch(value)):
            continue
        if masked and value.strip("Xx").isalpha():
            continue
        if any(s < match.end() and match.start() < e for s, e in spans):
            continue
        spans.append(match.span())
    return sorted(spans)


def trim(text: str, begin: int, end: int, kind: str = "OTHER") -> tuple[int, int]:
    """``[begin, end)`` without the lower-case :data:`EDGE_WORDS` it starts or ends with,
    nor the spaces and punctuation around them (a final "." stays: "Inc."); a name also
    loses a possessive ("New York City's") and, but for a title, a leading "The"."""
    while True:
        while begin < end and not text[begin].isalnum() and text[begin] not in "$(":
            begin += 1
        while end > begin and not (text[end - 1].isalnum() or text[end - 1] in ".)"):
            end -= 1
        piece = text[begin:end]
        if kind in NAMED and re.search(r"['\u2019]s$", piece) and end - begin > 3:
            end -= 2
            continue
        first = re.match(r"([a-z]+|The)\b", piece)
        word = first.group(1) if first else ""
        if ((word in EDGE_WORDS and (kind in NAMED or word == "the"))
                or (word == "The" and kind != "TITLE")) and first and \
                first.end() < end - begin:
            begin += first.end()
            continue
        last = re.search(r"\b([a-z]+)$", piece)
        if last and last.group(1) in EDGE_WORDS and last.start() > 0:
            end = begin + last.start()
            continue
        return begin, end


def retype(text: str, begin: int, end: int, kind: str) -> str:
    """Comprehend's type for a span the recogniser called ``kind``: a length of time is
    a QUANTITY, not a DATE; a time of day ("3:30pm", which the recogniser may count as a
    number) is a DATE, as Comprehend's DATE holds times."""
    if kind == "DATE" and DURATION.fullmatch(text, begin, end):
        return "QUANTITY"
    if kind == "QUANTITY" and dates.TIME.fullmatch(text, begin, end):
        return "DATE"
    return kind


def amount(text: str, begin: int, end: int) -> tuple[int, int]:
    """A QUANTITY with its currency sign before it ("$24.53", "US$ 5", "€3") and its
    percent sign after it ("60%")."""
    match = CURRENCY.search(text, max(0, begin - 4), begin)
    if match:
        begin = match.start()
    if text.startswith("%", end):
        end += 1
    return begin, end


def streets(text: str) -> list[tuple[int, int]]:
    """``[begin, end)`` of every street address ("123 Main St") in ``text``."""
    return [m.span() for m in STREET.finditer(text)]


def remnant(text: str, begin: int, end: int) -> bool:
    """Whether what is left of a name an identifier was cut out of is still a name: it
    starts with a capital, and is not one word opening a sentence ("Call", "Send")."""
    piece = text[begin:end]
    if not piece or not piece[0].isupper():
        return False
    opens = re.search(r"(?:^|[.!?:]\s+|\n\s*)$", text[:begin]) is not None
    return not (opens and len(piece.split()) == 1)

"""Where a span the entity recogniser found must stop: sentence and clause boundaries.

spaCy's small recogniser sometimes runs an entity across the end of a sentence ("Zhang
Wei. Your" as one PERSON) or into a bracket or a new line. :func:`cut` splits a span
there — but not after an initial or an abbreviation ("John F. Kennedy", "Dr. Lee",
"Jan. 5") — and trims each piece. DetectEntities (:mod:`socialsight.language.entities`)
and DetectPiiEntities (:mod:`socialsight.language.pii`) both cut their spans here.
"""

from __future__ import annotations

import re


def words(text: str) -> frozenset[str]:
    """The words of a word list written as text (a table of words, one set)."""
    return frozenset(text.split())


# The end of a sentence or clause, brackets, quotes, a line break.
BREAK = re.compile(r"[.!?;:]+(?=\s|$)|[()\[\]{}\"\u201c\u201d|]|\s*\n\s*")
# Words after which a full stop ends an abbreviation, not a sentence.
ABBREVIATIONS = words("""
mr mrs ms mx dr prof st jr sr mt ft no vs jan feb mar apr jun jul aug sep sept oct nov dec
mon tue tues wed thu thurs fri sat sun
""")
# A piece that starts with one of these is the next sentence the span ran into, not
# part of the entity.
FUNCTION_WORDS = words("""
your you our we my i the a an this that these those his her their its it if when after
before thanks thank please and or but so
""")


def cut(text: str, begin: int, end: int) -> list[tuple[int, int]]:
    """``[begin, end)`` of ``text`` cut at sentence and clause boundaries, each piece
    trimmed of the punctuation around it (a final "." or "'" stays: "Inc.")."""
    pieces, start = [], begin
    for match in BREAK.finditer(text, begin, end):
        if match.group().startswith("."):
            word = re.search(r"(\w+)$", text[start:match.start()])
            if word and ((len(word.group(1)) == 1 and word.group(1).isupper())
                         or word.group(1).lower() in ABBREVIATIONS):
                continue
        pieces.append((start, match.start()))
        start = match.end()
    pieces.append((start, end))
    out = []
    for s, e in pieces:
        while s < e and not text[s].isalnum():
            s += 1
        while e > s and not (text[e - 1].isalnum() or text[e - 1] in ".'"):
            e -= 1
        if e > s:
            out.append((s, e))
    return out


def entity_pieces(text: str, begin: int, end: int) -> list[tuple[int, int]]:
    """The pieces of an entity's span that are the entity: its first piece, and any later
    one that does not start a new sentence with a function word ("Zhang Wei. Your" →
    "Zhang Wei"; "Paris; London" → both)."""
    pieces = cut(text, begin, end)
    return [(s, e) for i, (s, e) in enumerate(pieces)
            if i == 0 or text[s:e].split()[0].lower() not in FUNCTION_WORDS]

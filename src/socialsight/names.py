"""What a brand's or a concept's name may be: one line a person can read.

A name is shown on every page, in every table and in every answer of the AWS API, so it
is 1 to :data:`LONGEST` characters of printable text once its spacing is tidied: no
control characters, surrogates or private code points (a code point this Python's
Unicode tables do not know yet, a new emoji, is kept), and none of the invisible
characters that would make two names look alike or a page show a name backwards
(:data:`HIDDEN`: the bidirectional overrides and isolates, zero-width spaces). The
joiners a script or an emoji needs (U+200C, U+200D) and the direction marks of
right-to-left text (U+200E, U+200F) are kept. ``brands`` and ``concepts`` are taken:
they are the AWS API's projects of every brand and every concept
(``DetectCustomLabels``).
"""

from __future__ import annotations

import re
import unicodedata

from socialsight.errors import InputError

LONGEST = 100
RESERVED = frozenset({"brands", "concepts"})  # the AWS API's projects of all of a kind
# format characters (Unicode category Cf) a name may not hold; the other Cf ones are kept
HIDDEN = frozenset({0x00AD, 0x200B, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0xFEFF,
                    *range(0x202A, 0x202F), *range(0x2066, 0x206A)})


def tidy(name: str) -> str:
    """``name`` with each run of spaces one space, and none at either end."""
    return " ".join(name.split())


def check(name: str, what: str) -> str:
    """``name`` tidied (:func:`tidy`), or an :class:`InputError` saying what ``what`` (a
    brand, a concept) may be called."""
    name = tidy(name)
    if not name:
        raise InputError(f"a {what}'s name cannot be blank")
    if len(name) > LONGEST:
        raise InputError(f"a {what}'s name is at most {LONGEST} characters "
                         f"({len(name):,} given)")
    odd = next((c for c in name if _hidden(c)), None)
    if odd is not None:
        raise InputError(f"a {what}'s name is printable characters: it holds "
                         f"U+{ord(odd):04X} ({unicodedata.name(odd, 'a control character')})")
    if project_name(name) in RESERVED:
        kind = project_name(name)[:-1]
        raise InputError(f"{name!r} is taken (the AWS API's project of every {kind}): name "
                         f"the {what} otherwise")
    return name


def project_name(name: str) -> str:
    """A brand's or concept's name as a project's name in an ARN (``DetectCustomLabels``):
    lower case, each run of characters other than a-z, 0-9, _ and . one hyphen ("Blue
    Bottle": blue-bottle). A name with none of those (日本) is asked for by its id."""
    return re.sub(r"[^a-z0-9_.]+", "-", name.casefold()).strip("-")


def _hidden(character: str) -> bool:
    kind = unicodedata.category(character)
    return kind in ("Cc", "Cs", "Co") or (kind == "Cf" and ord(character) in HIDDEN)

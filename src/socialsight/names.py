"""What a brand's or a concept's name may be: one line a person can read.

A name is shown on every page, in every table and in every answer of the AWS API, so it
is 1 to :data:`LONGEST` characters of printable text once its spacing is tidied: no
control characters, and none of Unicode's invisible format characters (a right-to-left
override or a zero-width space would make two names look alike, or a page show a name
backwards). ``brands`` and ``concepts`` are taken: they are the AWS API's projects of
every brand and every concept (``DetectCustomLabels``).
"""

from __future__ import annotations

import unicodedata

from socialsight.errors import InputError

LONGEST = 100
RESERVED = frozenset({"brands", "concepts"})  # the AWS API's projects of all of a kind


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
    odd = next((c for c in name if unicodedata.category(c)[0] == "C"), None)
    if odd is not None:
        raise InputError(f"a {what}'s name is printable characters: it holds "
                         f"U+{ord(odd):04X} ({unicodedata.name(odd, 'a control character')})")
    if name.casefold() in RESERVED:
        raise InputError(f"{name!r} is taken (the AWS API's project of every "
                         f"{name.casefold()[:-1]}): name the {what} otherwise")
    return name

"""A brand's word mark in the text read in a photo.

A brand named in a photo — on a shirt, a sign, a package — is found in the lines the
text analysis read (``textdetections``): its words, case-insensitive, as whole words
(``ACME`` is not found in ``ACMEWARE``), in order, and tolerant of one misread
character in a word of five letters or more — one that looks like it (OCR reads
``Debian`` as ``Deb1an``), or any one in a word of eight or more — but not of a letter
more or less, so that a common word one letter away (``back``, ``block``) is not the
brand ``Black``. A word mark written without its space (``cocacola`` for Coca Cola)
is found too.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

TOLERANT_FROM = 5  # letters a word needs before one misread letter is forgiven
ANY_LETTER_FROM = 8  # letters from which any one letter may be misread, not only look-alikes
# Characters OCR takes for one another (case-folded).
LOOKALIKE = ("0oqd", "1il|!j", "5s", "2z", "8b", "6b", "9gq", "ce", "uv", "nh", "rn", "vy")
MISREAD = 0.85  # confidence kept when a letter was forgiven
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


@dataclass(frozen=True)
class Mention:
    """A brand's word mark in a line of a photo: the brand, the text as read, the
    confidence (0–100) and the line's box (relative: left, top, width, height)."""

    name: str
    text: str
    confidence: float
    box: tuple[float, float, float, float]


def words(text: str) -> list[str]:
    """The words of ``text``, case-folded and without accents' marks."""
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return [w.casefold() for w in _WORD.findall(plain)]


def _near(read: str, wanted: str) -> int | None:
    """0 if ``read`` is ``wanted``; 1 if one letter was misread — swapped for one that
    looks like it (:data:`LOOKALIKE`: ``1`` for ``i``, ``0`` for ``o``) in a word of
    :data:`TOLERANT_FROM` letters or more, or for any letter in a word of
    :data:`ANY_LETTER_FROM` or more; else None. A letter more or less is not a misread:
    ``back`` is not ``black``."""
    if read == wanted:
        return 0
    if len(read) != len(wanted) or len(wanted) < TOLERANT_FROM:
        return None
    differ = [(a, b) for a, b in zip(read, wanted, strict=True) if a != b]
    if len(differ) != 1:
        return None
    got, want = differ[0]
    if len(wanted) >= ANY_LETTER_FROM or any(got in g and want in g for g in LOOKALIKE):
        return 1
    return None


def find(marks: Mapping[str, Sequence[str]], lines: Iterable[Mapping[str, Any]] | None
         ) -> list[Mention]:
    """The brands whose word marks (``marks``: brand → its words, such as ``["Coca
    Cola", "Coke"]``) the photo's text ``lines`` show; ``lines`` are
    ``textdetections`` entries (the lake's lower-case fields), of which LINE entries
    are read; None where text was not looked for. The most sure mention of each brand,
    most sure first."""
    wanted = {name: [(mark, words(mark)) for mark in marks_ if words(mark)]
              for name, marks_ in marks.items()}
    best: dict[str, Mention] = {}
    for line in lines or ():
        if (line.get("type") or "LINE") != "LINE":
            continue
        read = words(str(line.get("detectedtext") or ""))
        if not read:
            continue
        geometry = line.get("geometry") or {}
        bbox = geometry.get("boundingbox") or {}
        box = tuple(float(bbox.get(k) or 0.0) for k in ("left", "top", "width", "height"))
        sure = float(line.get("confidence") or 0.0)
        for name, forms in wanted.items():
            for mark, parts in forms:
                misread = _in_line(read, parts)
                if misread is None:
                    continue
                confidence = round(sure * (MISREAD if misread else 1.0), 3)
                if name not in best or confidence > best[name].confidence:
                    best[name] = Mention(name, mark, confidence, box)  # type: ignore[arg-type]
    return sorted(best.values(), key=lambda m: (-m.confidence, m.name))


def _in_line(read: list[str], parts: list[str]) -> int | None:
    """How many letters were forgiven finding ``parts`` as consecutive words of
    ``read`` (or all run together as one word), or None where they are not there."""
    found: int | None = None
    n = len(parts)
    for start in range(len(read) - n + 1):
        misread = 0
        for got, want in zip(read[start:start + n], parts, strict=True):
            near = _near(got, want)
            if near is None:
                break
            misread += near
        else:
            if misread <= 1 and (found is None or misread < found):
                found = misread
    if n > 1:
        joined = "".join(parts)
        for word in read:
            near = _near(word, joined)
            if near is not None and (found is None or near < found):
                found = near
    return found

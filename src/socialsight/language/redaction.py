"""PII in the lake and on the dashboard: how its rows are marked, and how it is masked.

The PII of a post (:func:`socialsight.language.pii.find`) goes to ``tweet_entities`` as rows
whose type is ``PII:<TYPE>`` (:data:`FAMILY`), beside the entities. ``language.redact_pii``
masks it: a PII row's value is written as ``[TYPE]``, and the dashboard shows each span
of a post's text that a PII row marks as ``[TYPE]`` (:func:`redact`) — every type but
those in :data:`KEPT`.
"""

from __future__ import annotations

from collections.abc import Iterable

from socialsight.language.pii import TYPES

# The rows of PII in ``tweet_entities`` have this prefix on their type ("PII:EMAIL"): they
# sit beside the entities, and a query of entities by their exact types never counts them.
FAMILY = "PII:"
# What ``language.redact_pii`` leaves as written: a post's links and dates are what it
# shares, not who it is about. Every other type the detector marks is masked.
KEPT = frozenset({"DATE_TIME", "URL"})
MASKED = frozenset(TYPES) - KEPT


def row_type(kind: str) -> str:
    """The ``tweet_entities.type`` of a PII type: ``EMAIL`` → ``PII:EMAIL``."""
    return FAMILY + kind


def kind_of(type_: str | None) -> str | None:
    """The PII type of a ``tweet_entities.type`` (``PII:EMAIL`` → ``EMAIL``); None for an
    entity's own type."""
    return type_[len(FAMILY):] if type_ and type_.startswith(FAMILY) else None


def placeholder(kind: str) -> str:
    """What stands for a masked value: ``[EMAIL]``."""
    return f"[{kind}]"


def shown(kind: str, value: str) -> str:
    """``value`` as redaction shows it: its placeholder when its type is masked."""
    return placeholder(kind) if kind in MASKED else value


def redact(text: str, spans: Iterable[tuple[str, int | None, int | None]],
           start: int = 0) -> str:
    """``text`` with each span of a :data:`MASKED` type, (type, begin, end) in code points
    as :func:`find` gives them, replaced by its :func:`placeholder`. ``text`` may be a
    piece of the post's text that starts at ``start`` (an entity's value): the spans keep
    the post's offsets, and one that runs into the piece masks the part inside it.

    The spans are read back from the lake, so they are not trusted to be tidy: one that
    overlaps the one before widens that one's mask (the placeholder covers both), an end
    past the text stops at its end, and a span without offsets or outside the text is
    left out.
    """
    out: list[str] = []
    at = 0
    for begin, end, kind in _masked(spans, start, len(text)):
        if begin < at:  # overlaps the span masked before it: mask on to its end
            at = max(at, end)
            continue
        out += [text[at:begin], placeholder(kind)]
        at = end
    out.append(text[at:])
    return "".join(out)


def _masked(spans: Iterable[tuple[str, int | None, int | None]], start: int, length: int,
            ) -> list[tuple[int, int, str]]:
    """The spans of masked types that fall in the ``length`` characters from ``start``, as
    (begin, end, type) relative to ``start``, in order, each cut to those characters."""
    out = []
    for kind, begin, end in spans:
        if kind in MASKED and begin is not None and end is not None:
            begin, end = max(begin - start, 0), min(end - start, length)
            if begin < end:
                out.append((begin, end, kind))
    return sorted(out)

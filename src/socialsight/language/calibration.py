"""Entity scores that mean something: the chance that an entity is right.

spaCy's small recogniser is trained greedily, so the beam's probability of a span is
near 1.0 for most spans, right or wrong (DetectEntities gave 1.0 to 44% of its entities,
and wrong ones scored 0.91 on average against 0.95 for right ones). Comprehend's Score is
a confidence a user can threshold on. This module maps what is known of an entity —
the beam's probability, whether the beam found it at all, its type, its length and case,
whether it was found by its form (an identifier, an address) — to the probability that the span and
type are right, by a logistic regression fitted on people's annotations
(``python -m bench.comprehend --fit``, on the two thirds of bench/textset that are not
set aside). The weights live in ``data/entity_calibration.json``; without them the
beam's probability is the score.
"""

from __future__ import annotations

import json
import math
import re
from functools import cache
from pathlib import Path
from typing import Any, Protocol

DATA = Path(__file__).resolve().parent / "data" / "entity_calibration.json"
GROUPS = {"PERSON": "person", "ORGANIZATION": "organization", "LOCATION": "location",
          "DATE": "date", "QUANTITY": "quantity", "OTHER": "other",
          "TITLE": "work", "EVENT": "work", "COMMERCIAL_ITEM": "work"}
NAMES = ("bias", "beam logit", "beam missed it", "found by its form", "one word", "three words +",
         "no capital", "opens a sentence", *(f"type {g}" for g in sorted(set(GROUPS.values()))))
OPENS = re.compile(r"(?:^|[.!?:]\s+|\n)\W*$")  # the text before a sentence's first word
L2 = 1.0  # ridge on the weights (not the bias): a few hundred examples
UNSCORED = 0.5


class Found(Protocol):
    @property
    def begin(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def type(self) -> str: ...
    @property
    def raw(self) -> float: ...
    @property
    def rule(self) -> bool: ...


def features(text: str, found: Found) -> list[float]:
    """The entity's features, in :data:`NAMES` order."""
    piece = text[found.begin:found.end]
    words = len(piece.split())
    p = min(max(found.raw, 0.01), 0.99)
    group = GROUPS.get(found.type, "other")
    named = found.type not in ("DATE", "QUANTITY")
    return [1.0, math.log(p / (1 - p)), float(found.raw == UNSCORED and not found.rule),
            float(found.rule), float(words == 1), float(words >= 3),
            float(named and not any(c.isupper() for c in piece)),
            float(OPENS.search(text[:found.begin]) is not None),
            *(float(group == g) for g in sorted(set(GROUPS.values())))]


@cache
def weights() -> tuple[float, ...] | None:
    """The fitted weights, or None when there are none (the beam's probability is used)."""
    if not DATA.is_file():
        return None
    data = json.loads(DATA.read_text())
    if tuple(data["features"]) != NAMES:
        return None  # fitted on other features: refit with bench.comprehend --fit
    return tuple(float(w) for w in data["weights"])


def score(text: str, found: Found) -> float:
    """The probability that the entity's span and type are right (6 decimals)."""
    w = weights()
    if w is None:
        return round(found.raw, 6)
    z = sum(a * b for a, b in zip(w, features(text, found), strict=True))
    return round(1 / (1 + math.exp(-z)), 6)


def fit(examples: list[tuple[list[float], bool]], iterations: int = 50) -> Path:
    """Fit the logistic regression on (features, right) by Newton's method and write it."""
    import numpy as np

    from socialsight.models import logistic

    x = np.array([f for f, _ in examples], dtype=float)
    y = np.array([r for _, r in examples], dtype=float)
    ridge = np.full(x.shape[1], L2)
    ridge[0] = 0.0
    w = logistic.fit(x, y, ridge, iterations)
    record: dict[str, Any] = {
        "features": list(NAMES), "weights": [round(float(v), 6) for v in w],
        "examples": len(examples), "right": int(y.sum()),
        "fitted by": "python -m bench.comprehend --fit (bench/textset, the dev part)"}
    DATA.parent.mkdir(parents=True, exist_ok=True)
    DATA.write_text(json.dumps(record, indent=1) + "\n")
    weights.cache_clear()
    return DATA

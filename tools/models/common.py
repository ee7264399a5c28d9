"""Helpers shared by the model build scripts in this folder."""

from __future__ import annotations

import hashlib
import statistics
import time
from pathlib import Path
from typing import Any


def median_ms(session: Any, feed: dict[str, Any], runs: int = 30) -> float:
    """The median milliseconds of one run of ``session`` on ``feed``, after 5 to warm up."""
    for _ in range(5):
        session.run(None, feed)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        session.run(None, feed)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def sha256(path: Path) -> str:
    """The sha256 of a file, as socialsight.models.runtime checks it."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()

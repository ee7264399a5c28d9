"""socialsight: what social-media images say, analysed on your own machine.

The Python API (:mod:`socialsight.api`) is importable from here: ``open_lake``,
``analyze_photo``, ``analyze_text`` and ``seed_queries``. It is loaded on first use,
so ``import socialsight`` stays instant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from socialsight.api import (
        Enrolment,
        LakeHandle,
        analyze_photo,
        analyze_text,
        open_lake,
        seed_queries,
    )

__all__ = ["Enrolment", "LakeHandle", "__version__", "analyze_photo", "analyze_text",
           "open_lake", "seed_queries"]


def __getattr__(name: str) -> Any:
    if name in __all__ and name != "__version__":
        from socialsight import api

        return getattr(api, name)
    raise AttributeError(f"module 'socialsight' has no attribute {name!r}")

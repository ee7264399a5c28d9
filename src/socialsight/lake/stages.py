"""The stages of the lake's errors log (``errors.stage``): where something failed.

Kept apart from :mod:`socialsight.lake.errors` so that the CLI can list them without
loading Arrow.
"""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    """Where an error happened (``errors.stage``)."""

    IMPORT = "import"
    COLLECT = "collect"
    FETCH = "fetch"
    DECODE = "decode"
    ANALYSE = "analyse"
    ANALYSE_TEXT = "analyse-text"


PHOTO_STAGES = (Stage.FETCH, Stage.DECODE, Stage.ANALYSE)  # a photo's row failed

"""Finished photo analyses, kept next to the photos in the lake and reused.

A photo analysed before under the same model pack and settings (a retweet, a re-post)
is read from here instead of being analysed again; failures are not kept, so they are
tried again.
"""

from __future__ import annotations

import orjson

from socialsight.analysis import PhotoAnalysis
from socialsight.lake import state
from socialsight.lake.store import Lake

CACHE = state.path("analysis_cache")  # <pack>/<ab>/<sha256>.json: one photo's analysis


class AnalysisCache:
    """Finished analyses by (sha256, pack version), next to the photos in the lake."""

    def __init__(self, lake: Lake, pack: str) -> None:
        self.lake, self.pack = lake, pack

    def _path(self, sha256: str) -> str:
        return self.lake.path(CACHE, self.pack, sha256[:2], f"{sha256}.json")

    def get(self, sha256: str) -> PhotoAnalysis | None:
        try:
            with self.lake.fs.open(self._path(sha256), "rb") as handle:
                return PhotoAnalysis.from_dict(orjson.loads(handle.read()))
        except (FileNotFoundError, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return None

    def put(self, sha256: str, analysis: PhotoAnalysis) -> None:
        if analysis.errors:
            return  # only finished analyses are reused; failures are tried again
        self.lake.write_bytes(self._path(sha256), orjson.dumps(
            analysis.as_dict(), option=orjson.OPT_SERIALIZE_NUMPY))

"""What runs the analyses of ``socialsight enrich``: the :class:`Executor` protocol.

Two executors stand behind it, both on the analysis leaf
(:mod:`socialsight.analysis`) only: worker processes on this machine
(:class:`socialsight.scale.local.Analyser`) and actors on a Ray cluster
(:class:`socialsight.scale.ray.RayAnalyser`). The lake is written by the caller.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from socialsight.analysis import Failure, PhotoAnalysis, TextAnalysis
from socialsight.config import Settings


class Executor(Protocol):
    """Runs the analyses; a failure is the photo's or the post's, not the run's."""

    def map(self, photos: Sequence[bytes]) -> Iterator[PhotoAnalysis]:
        """Each photo's analysis, in order; a failure is in that photo's ``errors``."""
        ...

    def map_posts(self, texts: Sequence[str | None],
                  langs: Sequence[str | None]) -> list[TextAnalysis | Failure]:
        """Each post's text analysis, in order, or the failure that stopped it."""
        ...

    def close(self) -> None:
        """End the workers."""
        ...


def make_executor(settings: Settings) -> Executor:
    """The executor ``enrich.executor`` names, with its workers started."""
    if settings.enrich.executor == "ray":  # the GPUs are the cluster's, not this machine's
        from socialsight.scale.ray import RayAnalyser

        return RayAnalyser(settings)
    from socialsight.models.runtime import check_device
    from socialsight.scale.local import Analyser

    check_device(settings.vision.device)  # a GPU asked for and missing: one line, now
    return Analyser(settings.vision, settings.fetch.max_pixels, settings.enrich.workers,
                    settings.language.key_phrases)

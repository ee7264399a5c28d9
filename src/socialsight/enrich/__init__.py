"""``socialsight enrich``: every photo of every imported post, analysed once, into the lake.

The plan is read from the lake itself (:mod:`.plan`): the photos
(:mod:`socialsight.lake.photos`) of every ``tweets`` file not yet marked done, less
the (tweetid, mediaid) rows ``media_rekognition`` already holds. Photos then go
through in batches of ``enrich.batch_photos`` (:mod:`.runner`):

1. the distinct URLs are fetched (concurrently, through the fetch guards) while the
   previous batch is being analysed;
2. each photo is kept once in the lake's content-addressed store; a photo analysed
   before under the same model pack and settings (a retweet, a re-post) is read from
   the analysis cache (:mod:`.cache`) instead of being analysed again;
3. the rest are analysed (:mod:`.analysis`) by a pool of worker processes (one per core
   by default), or by actors on a Ray cluster (``enrich.executor = "ray"``): the
   executors are in :mod:`socialsight.scale`;
4. one ``media_rekognition`` row per (post, photo) and one ``errors`` row per failure
   (:mod:`.rows`) are committed as one atomic batch whose file names derive from its keys.

A crash loses at most the batch in flight: on the next run the committed rows are
skipped, and a re-written batch lands on the same file names, so nothing is doubled.
A photo that cannot be fetched, decoded or analysed still gets its row — with
``image_labels`` as far as it got and the reasons in ``analysis_errors`` — and an
``errors`` row; :func:`retry` analyses those again and rewrites their files in place.
"""

from __future__ import annotations

from socialsight.analysis import analyse_bytes, analyse_many, analyse_posts
from socialsight.config import Settings
from socialsight.enrich.plan import Plan
from socialsight.enrich.runner import Enricher, EnrichSummary
from socialsight.lake.store import Lake
from socialsight.progress import NO_PROGRESS, Progress

__all__ = ["EnrichSummary", "Enricher", "Plan", "analyse_bytes", "analyse_many",
           "analyse_posts", "enrich", "retry"]


def enrich(lake: Lake, settings: Settings,
           progress: Progress = NO_PROGRESS) -> EnrichSummary:
    """Analyse every photo of ``lake`` not analysed yet; see EnrichSummary for the counts.
    ``progress`` hears the "posts" read and the "photos" analysed."""
    return Enricher(lake, settings, progress).run()


def retry(lake: Lake, settings: Settings,
          progress: Progress = NO_PROGRESS) -> EnrichSummary:
    """Analyse again the photos whose fetch, decode or analysis failed."""
    return Enricher(lake, settings, progress).retry()

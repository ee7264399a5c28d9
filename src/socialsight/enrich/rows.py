"""The lake's rows of an analysis: ``media_rekognition`` for a photo of a post, the
text tables for a post, and the ``errors`` rows of what failed.

A post's PII goes to ``tweet_entities`` beside its entities, as rows whose type is
``PII:<TYPE>`` (:data:`socialsight.language.redaction.FAMILY`), with the detector's score and
offsets into the post's text; with ``language.redact_pii`` the value of a masked type
is written as ``[TYPE]``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from socialsight.analysis import Failure, PhotoAnalysis, TextAnalysis
from socialsight.enrich.plan import PhotoRef, PostBatch
from socialsight.errors import MediaError, SocialsightError
from socialsight.lake.errors import ErrorRow, Stage
from socialsight.lake.schema import (
    MEDIA_REKOGNITION,
    PARTITION,
    TWEET_ENTITIES,
    TWEET_KEYPHRASES,
    TWEET_SENTIMENTS,
    partitioned,
)
from socialsight.language.redaction import row_type, shown
from socialsight.media.fetch import Failure as FetchFailure

MEDIA_ROWS = partitioned(MEDIA_REKOGNITION)
SENTIMENT_ROWS = partitioned(TWEET_SENTIMENTS)
# The class of an exception, as the reasons of failed analyses begin ("ValueError: …").
RAISED = re.compile(r"([A-Za-z_][A-Za-z0-9_]*): ")


def error_class(reason: str) -> str:
    """The class of the exception a failed analysis raised, which its reason names
    first (``f"{type(exc).__name__}: {exc}"``); a reason that names none (the analysis
    process died, so nothing was raised) is a :class:`~socialsight.errors.SocialsightError`."""
    raised = RAISED.match(reason)
    return raised.group(1) if raised else SocialsightError.__name__


def stage_of(analysis: str) -> Stage:
    """The errors stage of one of a photo's ``analysis_errors``."""
    return Stage(analysis) if analysis in (Stage.FETCH, Stage.DECODE) else Stage.ANALYSE


def photo_row(ref: PhotoRef, item: Any, sha: str, analysis: PhotoAnalysis | None,
              celebrities: dict[str, Any] | None = None,
              custom: list[dict[str, Any]] | None = None,
              ) -> tuple[dict[str, Any], list[ErrorRow]]:
    """The ``media_rekognition`` row of one photo of one post, and its error rows.

    ``item`` is what the fetch gave (a photo, or a :class:`~socialsight.media.fetch.Failure`);
    ``celebrities`` the ``celebrityrecognition`` of the analysed photo, ``custom`` its
    ``customlabels`` (the enrolled brands found in it)."""
    row: dict[str, Any] = {
        "tweetid": ref.tweetid, "mediaid": ref.mediaid, "text": ref.text,
        "media_url": ref.url, PARTITION: ref.dt, "image_labels": None, "sha256": None,
        "width": None, "height": None, "model_versions": None, "analysis_errors": [],
        "face_embeddings": None, "preview": ref.preview, "embedding": None, "phash": None,
        "local_features": None,
    }
    if isinstance(item, FetchFailure):
        stage = Stage.FETCH
        row["analysis_errors"] = [{"analysis": str(stage), "error": str(item.error)}]
        return row, [ErrorRow(stage=stage, source=ref.url, reason=str(item.error),
                              post_id=ref.tweetid, error_class=type(item.error).__name__,
                              transient=item.error.transient)]
    assert analysis is not None
    labels = analysis.image_labels
    if labels is not None:
        labels = dict(labels)
        labels["celebrityrecognition"] = celebrities
        labels["customlabels"] = custom
    row.update(image_labels=labels, sha256=sha, width=analysis.width,
               height=analysis.height, model_versions=analysis.model_versions,
               face_embeddings=analysis.embeddings, embedding=analysis.embedding,
               phash=analysis.phash, local_features=analysis.local_features,
               analysis_errors=[{"analysis": a, "error": e} for a, e in analysis.errors])
    errs = [ErrorRow(stage=stage_of(a), source=ref.url, reason=f"{a}: {e}",
                     post_id=ref.tweetid,
                     error_class=MediaError.__name__ if a == Stage.DECODE else error_class(e))
            for a, e in analysis.errors]
    return row, errs


def photo_error_ids(row: dict[str, Any]) -> list[str]:
    """The ids of the error rows a media_rekognition row's analysis errors were logged as."""
    stages = dict.fromkeys(stage_of(e["analysis"]) for e in row["analysis_errors"] or [])
    return [ErrorRow(stage=stage, source=row["media_url"], reason="",
                     post_id=row["tweetid"]).error_id for stage in stages]


def post_error_id(tweetid: int) -> str:
    """The id of the error row of a post whose text analysis failed."""
    return ErrorRow(stage=Stage.ANALYSE_TEXT, source=f"post {tweetid}", reason="",
                    post_id=tweetid).error_id


def pii_rows(tweetid: int, dt: str, found: Sequence[tuple[str, str, float, int, int]],
             redact: bool) -> list[dict[str, Any]]:
    """The ``tweet_entities`` rows of a post's PII (text, type, score, begin, end)."""
    return [{"tweetid": tweetid, "type": row_type(kind), "score": score,
             "entity": shown(kind, text) if redact else text,
             "beginoffset": begin, "endoffset": end, PARTITION: dt}
            for text, kind, score, begin, end in found]


def text_tables(batch: PostBatch, results: Sequence[TextAnalysis | Failure], model: str,
                pii: bool = True, redact: bool = False,
                ) -> tuple[dict[str, pa.Table], list[ErrorRow]]:
    """The text tables of a batch of posts (sentiments, entities and PII, key phrases),
    and the error rows of the posts whose analysis failed. ``pii`` (``language.pii``)
    writes the PII rows; ``redact`` (``language.redact_pii``) masks their values."""
    sentiments, entities, phrases, errors = [], [], [], []
    for tweetid, original, result in zip(batch.ids, batch.texts, results, strict=True):
        row: dict[str, Any] = {
            "tweetid": tweetid, "originaltext": original, PARTITION: batch.dt, "model": model}
        if isinstance(result, Failure):
            row.update(text=None, sentiment=None, lang=None, langscore=None,
                       skipped=f"error: {result.reason}")
            errors.append(ErrorRow(stage=Stage.ANALYSE_TEXT, source=f"post {tweetid}",
                                   reason=result.reason, post_id=tweetid,
                                   error_class=error_class(result.reason)))
            sentiments.append(row)
            continue
        scores = result.sentiment or (None,) * 5
        row.update(text=result.text, lang=result.lang, langscore=result.lang_score,
                   skipped=result.skipped, sentiment=scores[0], sentimentposscore=scores[1],
                   sentimentnegscore=scores[2], sentimentneuscore=scores[3],
                   sentimentmixedscore=scores[4])
        sentiments.append(row)
        entities += [{"tweetid": tweetid, "entity": text, "type": kind, "score": score,
                      "beginoffset": begin, "endoffset": end, PARTITION: batch.dt}
                     for text, kind, score, begin, end in result.entities]
        if pii:
            entities += pii_rows(tweetid, batch.dt, result.pii, redact)
        phrases += [{"tweetid": tweetid, "keyphrase": text, "score": None,
                     "beginoffset": begin, "endoffset": end, PARTITION: batch.dt}
                    for text, begin, end in result.key_phrases]
    return {
        "tweet_sentiments": pa.Table.from_pylist(sentiments, schema=SENTIMENT_ROWS),
        "tweet_entities": pa.Table.from_pylist(entities, schema=partitioned(TWEET_ENTITIES)),
        "tweet_keyphrases": pa.Table.from_pylist(phrases,
                                                 schema=partitioned(TWEET_KEYPHRASES)),
    }, errors

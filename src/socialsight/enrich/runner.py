"""The run of ``socialsight enrich`` and of ``socialsight retry``: :class:`Enricher`.

Photos go through in batches of ``enrich.batch_photos``: a batch's distinct URLs are
fetched (on an asyncio loop on its own thread) while the previous batch is analysed;
each photo is kept once in the photo store, read from the analysis cache where it was
analysed before, and analysed by the executor (:mod:`socialsight.scale`) otherwise;
its rows and error rows are committed as one atomic batch.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import contextlib
import dataclasses
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from socialsight.analysis import PhotoAnalysis, pack_version
from socialsight.config import Settings
from socialsight.enrich.cache import AnalysisCache
from socialsight.enrich.plan import PhotoRef, Plan, PostBatch, dt_of
from socialsight.enrich.rows import (
    MEDIA_ROWS,
    SENTIMENT_ROWS,
    photo_error_ids,
    photo_row,
    post_error_id,
    text_tables,
)
from socialsight.errors import LakeError
from socialsight.lake.audit import forgotten
from socialsight.lake.errors import ErrorLog, ErrorRow, mark_resolved
from socialsight.lake.schema import MEDIA_REKOGNITION, PARTITION
from socialsight.lake.store import Lake
from socialsight.media.fetch import Failure, Fetcher, Photo
from socialsight.media.store import PhotoStore
from socialsight.progress import NO_PROGRESS, Progress
from socialsight.scale.base import Executor, make_executor

log = logging.getLogger(__name__)


@dataclass
class EnrichSummary:
    photos: int = 0  # rows written
    analysed: int = 0  # distinct photos run through the models
    cached: int = 0  # distinct photos whose analysis was already known
    failed: int = 0  # rows with at least one analysis error
    posts: int = 0  # posts whose text was analysed
    posts_failed: int = 0  # of which the analysis failed
    files_done: int = 0


class _Loop:
    """An asyncio loop on its own thread, so fetching overlaps with analysing."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="socialsight-fetch",
                                       daemon=True)
        self.thread.start()

    def submit(self, coro: Any) -> cf.Future[Any]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


class Enricher:
    """Analyses photos into one lake; one instance per run."""

    def __init__(self, lake: Lake, settings: Settings,
                 progress: Progress = NO_PROGRESS,
                 keep_workers: bool = False) -> None:
        self.lake, self.settings = lake, settings
        self.keep_workers = keep_workers  # for repeated runs: close() ends the workers
        self.stop = threading.Event()  # set it to end a run after the batch in hand
        self.progress = progress  # "posts" read, "photos" analysed
        self.store = PhotoStore(lake)
        self.summary = EnrichSummary()
        self._gallery: Any = None
        self._brands: Any = None
        # What the workers analyse with: a logo is found from a photo's local features,
        # so with a brand enrolled they are found even where vision.local_features is
        # off (and kept, as `brands add` keeps those it finds from then on).
        vision = settings.vision
        if not vision.local_features and len(self._enrolled()):
            vision = vision.model_copy(update={"local_features": True})
        self.analysis_settings = settings.model_copy(update={"vision": vision})
        self.cache = AnalysisCache(lake, pack_version(vision))
        self._pending_errors: list[ErrorRow] = []
        self._pool_analyser: Executor | None = None
        self._errors = ErrorLog(lake)
        self._forgotten_photos = forgotten(lake).photos

    def run(self, plan: Plan | None = None, lock: bool = True) -> EnrichSummary:
        """Analyse everything ``plan`` (default: the lake's whole plan) lists: the text
        of every post first, then every photo. ``lock``: take the lake's writer lock
        (off when the caller holds it)."""
        with self.lake.lock() if lock else contextlib.nullcontext():
            plan = plan or Plan(self.lake, self.settings.vision.previews)
            self.progress.start("posts", plan.total_posts)
            self.progress.start("photos", plan.total)
            step = self.settings.enrich.batch_posts
            batches = [(path, refs[i:i + self.batch_size])
                       for path, refs in plan.files
                       for i in range(0, max(len(refs), 1), self.batch_size)]
            try:
                for posts in plan.posts.values():
                    for start in range(0, len(posts), step):
                        if self.stop.is_set():
                            return self.summary
                        self.lake.commit(self._analyse_posts(posts.slice(start, start + step)))
                self._run_batches(batches, on_file_done=plan.mark_done)
            finally:
                if not self.keep_workers:
                    self._close_analyser()
        return self.summary

    def close(self) -> None:
        """End the worker processes (after runs with ``keep_workers``)."""
        self._close_analyser()

    def _analyser(self) -> Executor:
        if self._pool_analyser is None:
            self._pool_analyser = make_executor(self.analysis_settings)
        return self._pool_analyser

    def _close_analyser(self) -> None:
        if self._pool_analyser is not None:
            self._pool_analyser.close()
            self._pool_analyser = None

    def _analyse_posts(self, batch: PostBatch) -> dict[str, pa.Table]:
        """Sentiment, entities, PII, key phrases and language of a batch of posts: the
        tables to commit (with the error rows gathered so far)."""
        from socialsight.language.analyze import MODEL_VERSIONS

        results = self._analyser().map_posts(batch.texts, batch.langs)
        language = self.settings.language
        tables, errors = text_tables(batch, results, MODEL_VERSIONS["sentiment"],
                                     language.pii, language.redact_pii)
        posts = tables["tweet_sentiments"].num_rows
        self._pending_errors += errors
        self.summary.posts += posts
        self.summary.posts_failed += len(errors)
        self.progress.advance("posts", posts)
        return {**tables, "errors": self._error_table()}

    @property
    def batch_size(self) -> int:
        return self.settings.enrich.batch_photos

    def _run_batches(self, batches: list[tuple[str, list[PhotoRef]]],
                     on_file_done: Callable[[str], None] | None = None,
                     ) -> list[pa.Table]:
        if not batches:
            return []
        loop = _Loop()
        fetcher = Fetcher(self.settings.fetch)
        written: list[pa.Table] = []
        try:
            loop.submit(fetcher.__aenter__()).result()
            pending = self._fetch(loop, fetcher, batches[0][1]) if batches else None
            for index, (path, refs) in enumerate(batches):
                if self.stop.is_set():
                    break
                fetched = pending.result() if pending is not None else []
                nxt = batches[index + 1] if index + 1 < len(batches) else None
                pending = self._fetch(loop, fetcher, nxt[1]) if nxt else None
                rows, errors = self._analyse(refs, fetched)
                self._pending_errors += errors
                if on_file_done is None:  # the caller commits (retry rewrites files)
                    written.append(rows)
                    continue
                self._commit(rows)
                if nxt is None or nxt[0] != path:
                    on_file_done(path)
                    self.summary.files_done += 1
        finally:
            loop.submit(fetcher.__aexit__()).result()
            loop.close()
        return written

    def _fetch(self, loop: _Loop, fetcher: Fetcher, refs: list[PhotoRef],
               ) -> cf.Future[list[Photo | Failure]]:
        urls = list(dict.fromkeys(r.url for r in refs))
        return loop.submit(fetcher.fetch_many(urls))

    def _analyse(self, refs: list[PhotoRef], fetched: list[Photo | Failure],
                 ) -> tuple[pa.Table, list[ErrorRow]]:
        by_url: dict[str, Photo | Failure] = {}
        urls = list(dict.fromkeys(r.url for r in refs))
        for url, item in zip(urls, fetched, strict=True):
            by_url[url] = item
        results: dict[str, PhotoAnalysis] = {}  # sha256 → analysis
        shas: dict[str, str] = {}  # url → sha256
        todo: dict[str, bytes] = {}
        for url, item in by_url.items():
            if isinstance(item, Failure):
                continue
            sha = shas[url] = item.sha256
            if sha in results or sha in todo or sha in self._forgotten_photos:
                continue  # a photo `forget` removed is not kept or analysed again
            try:
                self.store.put(item.data, item.mime)
            except LakeError as exc:
                log.warning("%s", exc)
            cached = self.cache.get(sha)
            if cached is not None:
                if not self.settings.vision.face_recognition:
                    cached = dataclasses.replace(cached, embeddings=None)
                results[sha] = cached
                self.summary.cached += 1
            else:
                todo[sha] = item.data
        analyses = self._analyser().map(list(todo.values())) if todo else iter(())
        for sha, analysis in zip(todo, analyses, strict=True):
            if not self.settings.vision.face_recognition:
                analysis = dataclasses.replace(analysis, embeddings=None)
            results[sha] = analysis
            self.summary.analysed += 1
            try:
                self.cache.put(sha, analysis)
            except OSError as exc:
                log.warning("cannot cache the analysis of %s: %s", sha[:12], exc)
        rows, errors = [], []
        for ref in refs:
            sha = shas.get(ref.url, "")
            if sha in self._forgotten_photos:
                continue
            found = results.get(sha)
            row, errs = photo_row(ref, by_url[ref.url], sha, found, self._celebrities(found),
                                  self._brands_in(found))
            rows.append(row)
            errors += errs
        self.progress.advance("photos", len(refs))
        self.summary.photos += len(rows)
        self.summary.failed += sum(1 for r in rows if r["analysis_errors"])
        return pa.Table.from_pylist(rows, schema=MEDIA_ROWS), errors

    def _celebrities(self, analysis: PhotoAnalysis | None) -> dict[str, Any] | None:
        """The ``celebrityrecognition`` of an analysed photo: the known people in it."""
        if analysis is None or analysis.image_labels is None:
            return None
        from socialsight import people

        if self._gallery is None:
            self._gallery = people.Gallery.load(self.lake)
        labels = people.attach(analysis.image_labels, analysis.embeddings, self._gallery)
        return labels["celebrityrecognition"]

    def _brands_in(self, analysis: PhotoAnalysis | None) -> list[dict[str, Any]] | None:
        """The ``customlabels`` of an analysed photo: the enrolled brands in it (null
        while no brand is enrolled: nothing was looked for)."""
        if analysis is None or analysis.image_labels is None:
            return None
        from socialsight import brands

        enrolled = self._enrolled()
        if not len(enrolled):
            return None
        labels = brands.attach(analysis.image_labels, analysis.local_features, enrolled)
        return list(labels["customlabels"])

    def _enrolled(self) -> Any:
        """The lake's enrolled brands (:class:`socialsight.brands.Brands`), loaded once."""
        from socialsight import brands

        if self._brands is None:
            try:
                self._brands = brands.Brands.load(self.lake)
            except LakeError as exc:  # the photos are still analysed; rescan once mended
                log.error("%s: no brand is looked for in this run; mend or remove the file, "
                          "then run `socialsight brands rescan`", exc)
                self._brands = brands.Brands()
        return self._brands

    def _error_table(self) -> pa.Table:
        """The error rows gathered since the last call that the lake does not hold yet."""
        table = self._errors.fresh(self._pending_errors)
        self._pending_errors = []
        self._errors.logged(table)
        return table

    def _retry_posts(self) -> list[str]:
        """Analyse again the posts whose text analysis failed; returns the fixed error ids."""
        resolved: list[str] = []
        for path in self.lake.files("tweet_sentiments"):
            table = self.lake.read_file(path)
            skipped = table.column("skipped").to_pylist()
            failed = [i for i, why in enumerate(skipped) if why and why.startswith("error:")]
            if not failed:
                continue
            rows = table.to_pylist()
            batch = PostBatch(dt_of(path), [rows[i]["tweetid"] for i in failed],
                              [rows[i]["originaltext"] for i in failed], [None] * len(failed))
            tables = self._analyse_posts(batch)
            new = {r["tweetid"]: r for r in tables.pop("tweet_sentiments").to_pylist()}
            for i in failed:
                tweetid = rows[i]["tweetid"]
                rows[i] = new[tweetid]
                if not (rows[i]["skipped"] or "").startswith("error:"):
                    resolved.append(post_error_id(tweetid))
            self.lake.commit(tables)
            self.lake.rewrite(path, pa.Table.from_pylist(rows, schema=SENTIMENT_ROWS))
        return resolved

    def _commit(self, rows: pa.Table) -> None:
        self.lake.commit({"media_rekognition": rows, "errors": self._error_table()})

    def retry(self) -> EnrichSummary:
        """Analyse again every photo whose row has an analysis error; rewrite those files."""
        with self.lake.lock():
            jobs = []
            for path in self.lake.files("media_rekognition"):
                table = self.lake.read_file(path)
                counts = pc.fill_null(pc.list_value_length(table.column("analysis_errors")), 0)
                failed = [i for i, n in enumerate(counts.to_pylist()) if n]
                if failed:
                    dt = dt_of(path)
                    rows = table.take(failed).to_pylist()
                    refs = [PhotoRef(r["tweetid"], r["mediaid"], r["media_url"], r["text"], dt,
                                     r.get("preview")) for r in rows]
                    jobs.append((path, table, failed, rows, refs))
            batches = [(path, refs[i:i + self.batch_size])
                       for path, _, _, _, refs in jobs
                       for i in range(0, len(refs), self.batch_size)]
            self.progress.start("photos", sum(len(refs) for *_, refs in jobs))
            try:
                resolved = self._retry_posts()
                results = iter(self._run_batches(batches))
            finally:
                self._close_analyser()
            for path, table, failed, old_rows, refs in jobs:
                fresh: list[dict[str, Any]] = []
                while len(fresh) < len(refs):
                    fresh += next(results).drop_columns([PARTITION]).to_pylist()
                merged = table.to_pylist()
                for index, old, new in zip(failed, old_rows, fresh, strict=True):
                    merged[index] = new
                    if not new["analysis_errors"]:
                        resolved += photo_error_ids(old)
                self.lake.rewrite(path, pa.Table.from_pylist(merged, schema=MEDIA_REKOGNITION))
            self.lake.commit({"errors": self._error_table()})
            if resolved:
                mark_resolved(self.lake, resolved)
        return self.summary

"""``socialsight enrich``: every photo of every imported post, analysed once, into the lake.

The plan is read from the lake itself: the photos (``extended_entities.media`` of type
photo) of every ``tweets`` file not yet marked done, less the (tweetid, mediaid) rows
``media_rekognition`` already holds. Photos then go through in batches of
``enrich.batch_photos``:

1. the distinct URLs are fetched (concurrently, through the fetch guards) while the
   previous batch is being analysed;
2. each photo is kept once in the lake's content-addressed store; a photo analysed
   before under the same model pack and settings (a retweet, a re-post) is read from
   the analysis cache instead of being analysed again;
3. the rest are analysed by a pool of worker processes (one per core by default),
   or by actors on a Ray cluster (``enrich.executor = "ray"``, :mod:`socialsight.scale`);
4. one ``media_rekognition`` row per (post, photo) and one ``errors`` row per failure
   are committed as one atomic batch whose file names derive from its keys.

A crash loses at most the batch in flight: on the next run the committed rows are
skipped, and a re-written batch lands on the same file names, so nothing is doubled.
A photo that cannot be fetched, decoded or analysed still gets its row — with
``image_labels`` as far as it got and the reasons in ``analysis_errors`` — and an
``errors`` row; :func:`retry` analyses those again and rewrites their files in place.
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import contextlib
import hashlib
import io
import logging
import multiprocessing
import os
import posixpath
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from socialsight.config import Settings, VisionSettings
from socialsight.errors import LakeError, MediaError, SocialsightError
from socialsight.lake.schema import (
    ERRORS,
    MEDIA_REKOGNITION,
    PARTITION,
    TWEET_ENTITIES,
    TWEET_KEYPHRASES,
    TWEET_SENTIMENTS,
    partitioned,
)
from socialsight.lake.store import Lake
from socialsight.lake.writer import ErrorRow, KeyIndex
from socialsight.media.fetch import Failure, Fetcher, Photo
from socialsight.media.store import PhotoStore

log = logging.getLogger(__name__)

STATE = "_state/enrich"  # one marker per tweets file whose photos are all done
RESOLVED = "_state/resolved"  # error ids that a retry fixed
CACHE = "_media/analysis"  # <pack>/<ab>/<sha256>.json: one photo's analysis
MEDIA_ROWS = partitioned(MEDIA_REKOGNITION)


@dataclass(frozen=True)
class PhotoRef:
    """One photo of one post: a future ``media_rekognition`` row."""

    tweetid: int
    mediaid: str
    url: str
    text: str | None
    dt: str


@dataclass
class EnrichSummary:
    photos: int = 0  # rows written
    analysed: int = 0  # distinct photos run through the models
    cached: int = 0  # distinct photos whose analysis was already known
    failed: int = 0  # rows with at least one analysis error
    posts: int = 0  # posts whose text was analysed
    posts_failed: int = 0  # of which the analysis failed
    files_done: int = 0


# --- the plan --------------------------------------------------------------------------


def photos_of(table: pa.Table, dt: str) -> list[PhotoRef]:
    """The photos of the ``tweets`` rows in ``table`` (id, text, extended_entities)."""
    media = pc.struct_field(table.column("extended_entities"), "media")
    flat = pc.list_flatten(media)
    if len(flat) == 0:
        return []
    owner = pc.list_parent_indices(media).to_numpy()
    kind = pc.struct_field(flat, "type").to_pylist()
    https = pc.struct_field(flat, "media_url_https").to_pylist()
    plain = pc.struct_field(flat, "media_url").to_pylist()
    ids = pc.struct_field(flat, "id_str").to_pylist()
    tweet_ids = table.column("id").to_pylist()
    texts = table.column("text").to_pylist()
    out = []
    for i, k in enumerate(kind):
        url = https[i] or plain[i]
        if k != "photo" or not url:
            continue
        row = int(owner[i])
        out.append(PhotoRef(tweet_ids[row], ids[i] or url, url, texts[row], dt))
    return out


def _dt_of(path: str) -> str:
    return posixpath.basename(posixpath.dirname(path)).split("=", 1)[1]


def _marker(lake: Lake, path: str) -> str:
    name = f"{_dt_of(path)}__{posixpath.basename(path)}.done"
    return lake.path(STATE, name)


@dataclass
class PostBatch:
    """Posts of one tweets file whose text is not analysed yet."""

    dt: str
    ids: list[int]
    texts: list[str | None]
    langs: list[str | None]

    def __len__(self) -> int:
        return len(self.ids)

    def slice(self, start: int, stop: int) -> PostBatch:
        return PostBatch(self.dt, self.ids[start:stop], self.texts[start:stop],
                         self.langs[start:stop])


class Plan:
    """What is left to analyse: the posts and photos of tweets files not marked done."""

    def __init__(self, lake: Lake) -> None:
        self.lake = lake
        self.files: list[tuple[str, list[PhotoRef]]] = []
        self.posts: dict[str, PostBatch] = {}
        done_keys: dict[str, set[tuple[int, str]]] = {}
        done_posts: dict[str, set[int]] = {}
        for path in lake.files("tweets"):
            if lake.fs.exists(_marker(lake, path)):
                continue
            dt = _dt_of(path)
            if dt not in done_keys:
                done_keys[dt] = _keys(lake, dt)
                done_posts[dt] = set(lake.read("tweet_sentiments", ["tweetid"], dt=dt)
                                     .column("tweetid").to_pylist())
            with lake.fs.open(path, "rb") as handle:
                table = pq.read_table(handle, columns=["id", "text", "lang",
                                                       "extended_entities"])
            refs = [r for r in photos_of(table, dt)
                    if (r.tweetid, r.mediaid) not in done_keys[dt]]
            self.files.append((path, refs))
            ids, texts = table.column("id").to_pylist(), table.column("text").to_pylist()
            langs = table.column("lang").to_pylist()
            todo = [i for i, tid in enumerate(ids) if tid not in done_posts[dt]]
            self.posts[path] = PostBatch(dt, [ids[i] for i in todo], [texts[i] for i in todo],
                                         [langs[i] for i in todo])

    @property
    def total(self) -> int:
        """Photos left to analyse."""
        return sum(len(refs) for _, refs in self.files)

    @property
    def total_posts(self) -> int:
        """Posts whose text is left to analyse."""
        return sum(len(batch) for batch in self.posts.values())

    def mark_done(self, path: str) -> None:
        photos = next((len(refs) for p, refs in self.files if p == path), 0)
        marker = _marker(self.lake, path)
        self.lake.fs.makedirs(posixpath.dirname(marker), exist_ok=True)
        with self.lake.fs.open(marker, "wb") as handle:
            handle.write(orjson.dumps({"photos": photos,
                                       "at": datetime.now(UTC).isoformat()}))


def _keys(lake: Lake, dt: str) -> set[tuple[int, str]]:
    rows = lake.read("media_rekognition", ["tweetid", "mediaid"], dt=dt)
    return set(zip(rows.column("tweetid").to_pylist(), rows.column("mediaid").to_pylist(),
                   strict=True))


# --- analysing one photo (in a worker process) -------------------------------------------


def pack_version(settings: VisionSettings) -> str:
    """What an analysis depends on besides the photo: models and the settings that matter."""
    from socialsight.vision.analyze import LABEL_MODEL_VERSION, model_versions

    key = orjson.dumps([LABEL_MODEL_VERSION, model_versions(), settings.min_confidence,
                        settings.max_labels, settings.gate], option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(key, digest_size=6).hexdigest()


def analyse_bytes(data: bytes, settings: VisionSettings, max_pixels: int) -> dict[str, Any]:
    """One photo's analysis as plain data (what the cache and the rows are made of)."""
    return analyse_many([data], settings, max_pixels)[0]


def analyse_many(photos: Sequence[bytes], settings: VisionSettings,
                 max_pixels: int) -> list[dict[str, Any]]:
    """:func:`analyse_bytes` of several photos, their models run in batches
    (``vision.batch_size``); a photo that cannot be decoded is that photo's error."""
    from PIL import Image

    from socialsight.media.sniff import dimensions, pil_reason
    from socialsight.vision.analyze import analyze_batch, model_versions

    versions = model_versions()
    out: list[dict[str, Any]] = []
    decoded: dict[int, Image.Image] = {}
    for index, data in enumerate(photos):
        try:
            dimensions(data, max_pixels)
            image = Image.open(io.BytesIO(data))
            image.load()
            decoded[index] = image
            out.append({})
        except (OSError, ValueError, Image.DecompressionBombError, SocialsightError) as exc:
            out.append({"image_labels": None, "width": None, "height": None,
                        "embeddings": None,
                        "errors": [("decode", f"cannot decode photo: {pil_reason(exc)}")],
                        "model_versions": versions})
    results = analyze_batch(list(decoded.values()), settings)
    for index, result in zip(decoded, results, strict=True):
        out[index] = {"image_labels": result.image_labels(), "width": result.width,
                      "height": result.height, "embeddings": result.embeddings,
                      "errors": list(result.errors), "model_versions": versions}
    return out


def analyse_posts(texts: list[str | None], langs: list[str | None],
                  key_phrases: bool = True) -> list[dict[str, Any]]:
    """Each post's text analysis as plain data (what the text tables are made of)."""
    from socialsight.language.analyze import analyse_texts

    out = []
    for r in analyse_texts([t or "" for t in texts], langs, key_phrases):
        s = r.sentiment
        out.append({
            "text": r.text, "lang": r.lang, "lang_score": r.lang_score, "skipped": r.skipped,
            "sentiment": None if s is None else (s.label, s.positive, s.negative, s.neutral,
                                                 s.mixed),
            "entities": [(e.text, e.type, e.score, e.begin, e.end) for e in r.entities],
            "key_phrases": [(k.text, k.begin, k.end) for k in r.key_phrases],
        })
    return out


_worker_settings: tuple[VisionSettings, int, bool] | None = None
PR_SET_PDEATHSIG = 1  # prctl(2): a signal for this process when its parent dies
PARENT_POLL_SECONDS = 1.0


def _init_worker(settings: VisionSettings, max_pixels: int, key_phrases: bool,
                 parent: int) -> None:
    global _worker_settings
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    _worker_settings = (settings, max_pixels, key_phrases)
    die_with(parent)


def die_with(parent: int) -> None:
    """End this worker process when ``parent`` does, even by kill -9 (no orphans).

    Linux tells the worker at once (``PR_SET_PDEATHSIG``); everywhere, a thread checks
    every second that the parent is still there. The signal is SIGUSR1, not SIGKILL:
    Linux sends it when the *thread* that started the worker ends (``run`` starts them
    on its enrich thread), so the handler exits only if the parent process is gone.
    Call it from the worker's main thread.
    """
    def check(*_: object) -> None:
        if os.getppid() != parent:
            os._exit(1)

    if sys.platform.startswith("linux"):
        import ctypes

        signal.signal(signal.SIGUSR1, check)
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGUSR1, 0, 0, 0)
    check()  # the parent died before the signal was asked for

    def watch() -> None:
        while True:
            time.sleep(PARENT_POLL_SECONDS)
            check()

    threading.Thread(target=watch, name="socialsight-parent-watch", daemon=True).start()


def _work(photos: list[bytes]) -> list[dict[str, Any]]:
    assert _worker_settings is not None
    return analyse_many(photos, *_worker_settings[:2])


def _work_posts(posts: tuple[list[str | None], list[str | None]]) -> list[dict[str, Any]]:
    assert _worker_settings is not None
    return analyse_posts(*posts, key_phrases=_worker_settings[2])


def failed_analysis(analysis: str, error: str) -> dict[str, Any]:
    """The analysis of a photo that ``analysis`` failed on (the reason in ``error``)."""
    return {"image_labels": None, "width": None, "height": None, "embeddings": None,
            "model_versions": {}, "errors": [(analysis, error)]}


class Executor(Protocol):
    """What runs the analyses: :class:`Analyser` here, or Ray actors
    (:class:`socialsight.scale.ray_executor.RayAnalyser`); the lake is written by the caller."""

    def map(self, photos: Sequence[bytes]) -> Iterator[dict[str, Any]]:
        """Each photo's :func:`analyse_bytes`, in order; a failure is that photo's error."""
        ...

    def map_posts(self, batch: PostBatch) -> list[dict[str, Any] | str]:
        """Each post's :func:`analyse_posts`, or the error that stopped it."""
        ...

    def close(self) -> None:
        """End the workers."""
        ...


def make_executor(settings: Settings) -> Executor:
    """The executor ``enrich.executor`` names, with its workers started."""
    from socialsight.vision.runtime import check_device

    if settings.enrich.executor == "ray":  # the GPUs are the cluster's, not this machine's
        from socialsight.scale.ray_executor import RayAnalyser

        return RayAnalyser(settings)
    check_device(settings.vision.device)  # a GPU asked for and missing: one line, now
    return Analyser(settings.vision, settings.fetch.max_pixels, settings.enrich.workers,
                    settings.language.key_phrases)


class Analyser:
    """Runs :func:`analyse_bytes` in worker processes (or in this one, with 1 worker)."""

    def __init__(self, settings: VisionSettings, max_pixels: int, workers: int,
                 key_phrases: bool = True) -> None:
        self.settings, self.max_pixels, self.key_phrases = settings, max_pixels, key_phrases
        self.workers = workers or os.cpu_count() or 1
        self._pool: cf.ProcessPoolExecutor | None = None
        if self.workers > 1:
            self._pool = self._start()

    def _start(self) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(
            self.workers, mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(self.settings, self.max_pixels, self.key_phrases, os.getpid()))

    def map(self, photos: Sequence[bytes]) -> Iterator[dict[str, Any]]:
        """Each photo's analysis, in order; a crash is that photo's error, not the run's.

        Photos go to the workers ``vision.batch_size`` at a time (one at a time on the
        CPU, where that spreads them best over the processes)."""
        from socialsight.vision.analyze import batch_size

        size = batch_size(self.settings)
        chunks = [list(photos[i:i + size]) for i in range(0, len(photos), size)]
        if self._pool is None:
            for chunk in chunks:
                yield from analyse_many(chunk, self.settings, self.max_pixels)
            return
        try:
            futures = [self._pool.submit(_work, chunk) for chunk in chunks]
        except cf.process.BrokenProcessPool:
            futures = []
        if len(futures) < len(chunks):  # the pool broke before this batch
            self._restart()
            yield from (self._alone(data) for data in photos)
            return
        for index, future in enumerate(futures):
            try:
                yield from future.result()
            except cf.process.BrokenProcessPool:
                # A worker died (a model crashed, or the OOM killer): the rest of the
                # batch goes one photo at a time, so only the culprit fails.
                log.warning("an analysis process died; analysing the rest one by one")
                self._restart()
                yield from (self._alone(data) for chunk in chunks[index:] for data in chunk)
                return
            except Exception as exc:
                yield from (failed_analysis("analyse", f"{type(exc).__name__}: {exc}")
                            for _ in chunks[index])

    def map_posts(self, batch: PostBatch) -> list[dict[str, Any] | str]:
        """Each post's text analysis, or the error that stopped its share of the batch."""
        size = -(-len(batch) // self.workers)
        chunks = [(batch.texts[i:i + size], batch.langs[i:i + size])
                  for i in range(0, len(batch), size)]
        if self._pool is None:
            try:
                return list(analyse_posts(batch.texts, batch.langs, self.key_phrases))
            except Exception as exc:  # as in a worker: the batch's posts get error rows
                return [f"{type(exc).__name__}: {exc}"] * len(batch)
        try:
            futures = [self._pool.submit(_work_posts, chunk) for chunk in chunks]
        except cf.process.BrokenProcessPool:
            self._restart()
            futures = [self._pool.submit(_work_posts, chunk) for chunk in chunks]
        out: list[dict[str, Any] | str] = []
        for (texts, _), future in zip(chunks, futures, strict=True):
            try:
                out += future.result()
            except cf.process.BrokenProcessPool:
                self._restart()
                out += ["the analysis process crashed"] * len(texts)
            except Exception as exc:  # a model failing on this share of the batch
                out += [f"{type(exc).__name__}: {exc}"] * len(texts)
        return out

    def _restart(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = self._start()

    def _alone(self, data: bytes) -> dict[str, Any]:
        assert self._pool is not None
        try:
            return self._pool.submit(_work, [data]).result()[0]
        except cf.process.BrokenProcessPool:
            self._restart()
            return failed_analysis("analyse", "the analysis process crashed on this photo")
        except Exception as exc:
            return failed_analysis("analyse", f"{type(exc).__name__}: {exc}")

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


# --- the analysis cache ----------------------------------------------------------------


class AnalysisCache:
    """Finished analyses by (sha256, pack version), next to the photos in the lake."""

    def __init__(self, lake: Lake, pack: str) -> None:
        self.lake, self.pack = lake, pack

    def _path(self, sha256: str) -> str:
        return self.lake.path(CACHE, self.pack, sha256[:2], f"{sha256}.json")

    def get(self, sha256: str) -> dict[str, Any] | None:
        try:
            with self.lake.fs.open(self._path(sha256), "rb") as handle:
                value: dict[str, Any] = orjson.loads(handle.read())
                return value
        except (FileNotFoundError, orjson.JSONDecodeError):
            return None

    def put(self, sha256: str, analysis: dict[str, Any]) -> None:
        if analysis["errors"]:
            return  # only finished analyses are reused; failures are tried again
        path = self._path(sha256)
        temp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
        self.lake.fs.makedirs(posixpath.dirname(path), exist_ok=True)
        with self.lake.fs.open(temp, "wb") as handle:
            handle.write(orjson.dumps(analysis, option=orjson.OPT_SERIALIZE_NUMPY))
        self.lake.fs.mv(temp, path)


# --- the run ---------------------------------------------------------------------------


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
                 on_photos: Callable[[int], None] | None = None,
                 keep_workers: bool = False) -> None:
        self.lake, self.settings = lake, settings
        self.keep_workers = keep_workers  # for repeated runs: close() ends the workers
        self.stop = threading.Event()  # set it to end a run after the batch in hand
        self.on_photos = on_photos
        self.store = PhotoStore(lake)
        self.cache = AnalysisCache(lake, pack_version(settings.vision))
        self.summary = EnrichSummary()
        self._gallery: Any = None
        self._pending_errors: list[ErrorRow] = []
        self._pool_analyser: Executor | None = None
        self.on_posts: Callable[[int], None] | None = None
        self._error_ids = KeyIndex(lake, "errors", "error_id", partitioned=False)

    def run(self, plan: Plan | None = None, lock: bool = True) -> EnrichSummary:
        """Analyse everything ``plan`` (default: the lake's whole plan) lists: the text
        of every post first, then every photo. ``lock``: take the lake's writer lock
        (off when the caller holds it)."""
        with self.lake.lock() if lock else contextlib.nullcontext():
            plan = plan or Plan(self.lake)
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
            self._pool_analyser = make_executor(self.settings)
        return self._pool_analyser

    def _close_analyser(self) -> None:
        if self._pool_analyser is not None:
            self._pool_analyser.close()
            self._pool_analyser = None

    def _analyse_posts(self, batch: PostBatch) -> dict[str, pa.Table]:
        """Sentiment, entities, key phrases and language of a batch of posts: the tables
        to commit (with the error rows gathered so far)."""
        from socialsight.language.analyze import MODEL_VERSIONS

        sentiments, entities, phrases, errors = [], [], [], []
        for tweetid, original, result in zip(batch.ids, batch.texts,
                                             self._analyser().map_posts(batch), strict=True):
            row: dict[str, Any] = {
                "tweetid": tweetid, "originaltext": original, PARTITION: batch.dt,
                "model": MODEL_VERSIONS["sentiment"]}
            if isinstance(result, str):
                row.update(text=None, sentiment=None, lang=None, langscore=None,
                           skipped=f"error: {result}")
                errors.append(ErrorRow(stage="analyse-text", source=f"post {tweetid}",
                                       reason=result, post_id=tweetid,
                                       error_class="AnalysisError"))
                sentiments.append(row)
                continue
            scores = result["sentiment"] or (None,) * 5
            row.update(text=result["text"], lang=result["lang"],
                       langscore=result["lang_score"], skipped=result["skipped"],
                       sentiment=scores[0], sentimentposscore=scores[1],
                       sentimentnegscore=scores[2], sentimentneuscore=scores[3],
                       sentimentmixedscore=scores[4])
            sentiments.append(row)
            entities += [{"tweetid": tweetid, "entity": text, "type": kind, "score": score,
                          "beginoffset": begin, "endoffset": end, PARTITION: batch.dt}
                         for text, kind, score, begin, end in result["entities"]]
            phrases += [{"tweetid": tweetid, "keyphrase": text, "score": None,
                         "beginoffset": begin, "endoffset": end, PARTITION: batch.dt}
                        for text, begin, end in result["key_phrases"]]
        self._pending_errors += errors
        self.summary.posts += len(sentiments)
        self.summary.posts_failed += len(errors)
        if self.on_posts is not None:
            self.on_posts(len(sentiments))
        return {
            "tweet_sentiments": pa.Table.from_pylist(sentiments,
                                                     schema=partitioned(TWEET_SENTIMENTS)),
            "tweet_entities": pa.Table.from_pylist(entities, schema=partitioned(TWEET_ENTITIES)),
            "tweet_keyphrases": pa.Table.from_pylist(phrases,
                                                     schema=partitioned(TWEET_KEYPHRASES)),
            "errors": self._error_table(),
        }

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
        results: dict[str, dict[str, Any]] = {}  # sha256 → analysis
        shas: dict[str, str] = {}  # url → sha256
        todo: dict[str, bytes] = {}
        for url, item in by_url.items():
            if isinstance(item, Failure):
                continue
            sha = shas[url] = item.sha256
            if sha in results or sha in todo:
                continue
            try:
                self.store.put(item.data, item.mime)
            except LakeError as exc:
                log.warning("%s", exc)
            cached = self.cache.get(sha)
            if cached is not None:
                results[sha] = cached
                self.summary.cached += 1
            else:
                todo[sha] = item.data
        analyses = self._analyser().map(list(todo.values())) if todo else iter(())
        for sha, analysis in zip(todo, analyses, strict=True):
            results[sha] = analysis
            self.summary.analysed += 1
            try:
                self.cache.put(sha, analysis)
            except OSError as exc:
                log.warning("cannot cache the analysis of %s: %s", sha[:12], exc)
        rows, errors = [], []
        for ref in refs:
            item = by_url[ref.url]
            sha = shas.get(ref.url, "")
            row, errs = self._row(ref, item, sha, results.get(sha))
            rows.append(row)
            errors += errs
        if self.on_photos is not None:
            self.on_photos(len(refs))
        self.summary.photos += len(rows)
        self.summary.failed += sum(1 for r in rows if r["analysis_errors"])
        return pa.Table.from_pylist(rows, schema=MEDIA_ROWS), errors

    def _row(self, ref: PhotoRef, item: Photo | Failure, sha: str,
             analysis: dict[str, Any] | None,
             ) -> tuple[dict[str, Any], list[ErrorRow]]:
        row: dict[str, Any] = {
            "tweetid": ref.tweetid, "mediaid": ref.mediaid, "text": ref.text,
            "media_url": ref.url, PARTITION: ref.dt, "image_labels": None, "sha256": None,
            "width": None, "height": None, "model_versions": None, "analysis_errors": [],
            "face_embeddings": None,
        }
        if isinstance(item, Failure):
            stage = "fetch"
            row["analysis_errors"] = [{"analysis": stage, "error": str(item.error)}]
            return row, [ErrorRow(stage=stage, source=ref.url, reason=str(item.error),
                                  post_id=ref.tweetid, error_class=type(item.error).__name__,
                                  transient=item.error.transient)]
        assert analysis is not None
        labels = analysis["image_labels"]
        embeddings = analysis.get("embeddings")
        if labels is not None:
            labels = dict(labels)
            labels["celebrityrecognition"] = self._celebrities(labels, embeddings)
        row.update(image_labels=labels, sha256=sha, width=analysis["width"],
                   height=analysis["height"], model_versions=analysis["model_versions"],
                   face_embeddings=embeddings,
                   analysis_errors=[{"analysis": a, "error": e} for a, e in analysis["errors"]])
        errs = [ErrorRow(stage=_stage(a), source=ref.url, reason=f"{a}: {e}",
                         post_id=ref.tweetid,
                         error_class=MediaError.__name__ if a == "decode" else "AnalysisError")
                for a, e in analysis["errors"]]
        return row, errs

    def _celebrities(self, labels: dict[str, Any], embeddings: list[Any] | None,
                     ) -> dict[str, Any] | None:
        from socialsight import people

        if self._gallery is None:
            self._gallery = people.Gallery.load(self.lake)
        return people.recognise(self._gallery, labels.get("facedetails") or [], embeddings)

    def _error_table(self) -> pa.Table:
        """The error rows gathered since the last call that the lake does not hold yet."""
        fresh: dict[str, ErrorRow] = {}
        for err in self._pending_errors:
            fresh.setdefault(err.error_id, err)
        self._pending_errors = []
        if fresh:
            ids = pa.array(list(fresh), pa.string())
            seen = self._error_ids.seen("*", ids).to_pylist()
            fresh = {k: v for (k, v), old in zip(fresh.items(), seen, strict=True) if not old}
            self._error_ids.add("*", pa.array(list(fresh), pa.string()))
        return pa.Table.from_pylist([e.as_row() for e in fresh.values()],
                                    schema=partitioned(ERRORS))

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
            dt = _dt_of(path)
            batch = PostBatch(dt, [rows[i]["tweetid"] for i in failed],
                              [rows[i]["originaltext"] for i in failed], [None] * len(failed))
            tables = self._analyse_posts(batch)
            new = {r["tweetid"]: r for r in tables.pop("tweet_sentiments").to_pylist()}
            for i in failed:
                tweetid = rows[i]["tweetid"]
                rows[i] = new[tweetid]
                if not (rows[i]["skipped"] or "").startswith("error:"):
                    resolved.append(ErrorRow(stage="analyse-text", source=f"post {tweetid}",
                                             reason="", post_id=tweetid).error_id)
            self.lake.commit(tables)
            self.lake.rewrite(path, pa.Table.from_pylist(rows,
                                                         schema=partitioned(TWEET_SENTIMENTS)))
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
                    dt = _dt_of(path)
                    rows = table.take(failed).to_pylist()
                    refs = [PhotoRef(r["tweetid"], r["mediaid"], r["media_url"], r["text"], dt)
                            for r in rows]
                    jobs.append((path, table, failed, rows, refs))
            batches = [(path, refs[i:i + self.batch_size])
                       for path, _, _, _, refs in jobs
                       for i in range(0, len(refs), self.batch_size)]
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
                        resolved += _error_ids(old)
                self.lake.rewrite(path, pa.Table.from_pylist(merged, schema=MEDIA_REKOGNITION))
            self.lake.commit({"errors": self._error_table()})
            if resolved:
                mark_resolved(self.lake, resolved)
        return self.summary


def _stage(analysis: str) -> str:
    return analysis if analysis in ("fetch", "decode") else "analyse"


def _error_ids(row: dict[str, Any]) -> list[str]:
    """The ids of the error rows a media_rekognition row's analysis errors were logged as."""
    stages = dict.fromkeys(_stage(e["analysis"]) for e in row["analysis_errors"] or [])
    return [ErrorRow(stage=stage, source=row["media_url"], reason="",
                     post_id=row["tweetid"]).error_id for stage in stages]


def mark_resolved(lake: Lake, error_ids: list[str]) -> None:
    """Record that these error rows were fixed by a retry (they stay in ``errors``)."""
    ids = sorted(set(error_ids))
    name = hashlib.blake2b("\n".join(ids).encode(), digest_size=10).hexdigest()
    path = lake.path(RESOLVED, f"{name}.json")
    lake.fs.makedirs(posixpath.dirname(path), exist_ok=True)
    with lake.fs.open(path, "wb") as handle:
        handle.write(orjson.dumps({"error_ids": ids, "at": datetime.now(UTC).isoformat()}))


def resolved_ids(lake: Lake) -> set[str]:
    """Every error id a retry has fixed."""
    folder = lake.path(RESOLVED)
    out: set[str] = set()
    if not lake.fs.exists(folder):
        return out
    for path in lake.fs.ls(folder, detail=False):
        try:
            with lake.fs.open(path, "rb") as handle:
                out.update(orjson.loads(handle.read())["error_ids"])
        except (OSError, orjson.JSONDecodeError, KeyError) as exc:
            log.warning("ignoring unreadable %s: %s", path, exc)
    return out


def enrich(lake: Lake, settings: Settings,
           on_photos: Callable[[int], None] | None = None) -> EnrichSummary:
    """Analyse every photo of ``lake`` not analysed yet; see EnrichSummary for the counts."""
    return Enricher(lake, settings, on_photos).run()


def retry(lake: Lake, settings: Settings,
          on_photos: Callable[[int], None] | None = None) -> EnrichSummary:
    """Analyse again the photos whose fetch, decode or analysis failed."""
    return Enricher(lake, settings, on_photos).retry()


def failed_posts(lake: Lake) -> int:
    """How many ``tweet_sentiments`` rows record a failed text analysis."""
    total = 0
    for path in lake.files("tweet_sentiments"):
        skipped = lake.read_file(path, ["skipped"]).column("skipped")
        total += int(pc.sum(pc.starts_with(pc.fill_null(skipped, ""), "error:")).as_py() or 0)
    return total


def failed_photos(lake: Lake) -> int:
    """How many ``media_rekognition`` rows carry an analysis error (what retry would redo)."""
    total = 0
    for path in lake.files("media_rekognition"):
        errors = lake.read_file(path, ["analysis_errors"]).column("analysis_errors")
        total += int(pc.sum(pc.greater(pc.fill_null(pc.list_value_length(errors), 0), 0))
                     .as_py() or 0)
    return total

"""The ``local`` executor of ``socialsight enrich``: a pool of worker processes.

Each worker loads its models once and keeps them; a worker that dies (a model crash,
the OOM killer) costs only the photo it was on: the rest of its batch is analysed
again one photo at a time on a fresh pool. Workers end with the process that started
them, even when it is killed with kill -9 (:func:`die_with`).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence

from socialsight.analysis import (
    Failure,
    PhotoAnalysis,
    TextAnalysis,
    analyse_photos,
    analyse_texts,
    failed_analysis,
)
from socialsight.config import VisionSettings

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1  # prctl(2): a signal for this process when its parent dies
PARENT_POLL_SECONDS = 1.0
CRASHED = "the analysis process crashed"

_worker_settings: tuple[VisionSettings, int, bool] | None = None


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


def _work(photos: list[bytes]) -> list[PhotoAnalysis]:
    assert _worker_settings is not None
    return analyse_photos(photos, *_worker_settings[:2])


def _work_posts(posts: tuple[list[str | None], list[str | None]]) -> list[TextAnalysis]:
    assert _worker_settings is not None
    return analyse_texts(*posts, key_phrases=_worker_settings[2])


class Analyser:
    """Runs the analyses in worker processes (or in this one, with 1 worker)."""

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

    def map(self, photos: Sequence[bytes]) -> Iterator[PhotoAnalysis]:
        """Each photo's analysis, in order; a crash is that photo's error, not the run's.

        Photos go to the workers ``vision.batch_size`` at a time (one at a time on the
        CPU, where that spreads them best over the processes)."""
        from socialsight.vision.analyze import batch_size

        size = batch_size(self.settings)
        chunks = [list(photos[i:i + size]) for i in range(0, len(photos), size)]
        if self._pool is None:
            for chunk in chunks:
                yield from analyse_photos(chunk, self.settings, self.max_pixels)
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
                yield from (failed_analysis("analyse", Failure.of(exc).reason)
                            for _ in chunks[index])

    def map_posts(self, texts: Sequence[str | None],
                  langs: Sequence[str | None]) -> list[TextAnalysis | Failure]:
        """Each post's text analysis, or the failure that stopped its share of the batch."""
        size = -(-len(texts) // self.workers)
        chunks = [(list(texts[i:i + size]), list(langs[i:i + size]))
                  for i in range(0, len(texts), size)]
        if self._pool is None:
            try:
                return list(analyse_texts(texts, langs, self.key_phrases))
            except Exception as exc:  # as in a worker: the batch's posts get error rows
                return [Failure.of(exc)] * len(texts)
        try:
            futures = [self._pool.submit(_work_posts, chunk) for chunk in chunks]
        except cf.process.BrokenProcessPool:
            self._restart()
            futures = [self._pool.submit(_work_posts, chunk) for chunk in chunks]
        out: list[TextAnalysis | Failure] = []
        for (share, _), future in zip(chunks, futures, strict=True):
            try:
                out += future.result()
            except cf.process.BrokenProcessPool:
                self._restart()
                out += [Failure(CRASHED)] * len(share)
            except Exception as exc:  # a model failing on this share of the batch
                out += [Failure.of(exc)] * len(share)
        return out

    def worker_pids(self) -> set[int]:
        """The process ids of the worker processes up now (none with 1 worker: the
        analyses run in this process). Workers start as the first batches come."""
        if self._pool is None:
            return set()
        return set(self._pool._processes or ())  # the one place that looks inside the pool

    def _restart(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = self._start()

    def _alone(self, data: bytes) -> PhotoAnalysis:
        assert self._pool is not None
        try:
            return self._pool.submit(_work, [data]).result()[0]
        except cf.process.BrokenProcessPool:
            self._restart()
            return failed_analysis("analyse", f"{CRASHED} on this photo")
        except Exception as exc:
            return failed_analysis("analyse", Failure.of(exc).reason)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

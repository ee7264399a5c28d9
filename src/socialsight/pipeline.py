"""``socialsight run``: collection and enrichment together, as one long-running process.

The collector (:mod:`socialsight.collect`) runs on the main thread's event loop and
commits batches of posts; the enricher runs on a second thread and analyses whatever
the lake holds that is not analysed yet — woken by each commit, and every few
seconds in any case — with its worker processes kept between rounds. Both write one
lake under one writer lock. Ctrl-C or SIGTERM stops the sources, commits what was
collected, lets the enricher finish the batch in hand, and exits; everything left is
picked up by the next run (or ``socialsight enrich``).

The deletions and edits the sources report (``collect.honour_deletions``) are applied
by the enricher's thread between its rounds (:mod:`socialsight.forget`), so no round
writes a forgotten post's rows back after it was forgotten; once a day (and at the
start) that thread also applies the retention windows and compacts the lake
(:mod:`socialsight.retention`, :mod:`socialsight.lake.compact`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pyarrow as pa

from socialsight.collect import Collector, CollectStats
from socialsight.config import Settings
from socialsight.enrich import Enricher, EnrichSummary
from socialsight.forget import Forgetter
from socialsight.intake.writer import BatchResult
from socialsight.lake.store import Lake
from socialsight.posts.canonical import Deletion
from socialsight.sources.base import Source

log = logging.getLogger(__name__)

IDLE_SECONDS = 5.0  # the enricher looks for work at least this often
UPKEEP_SECONDS = 24 * 3600.0  # retention and compaction, once a day


@dataclass
class Status:
    """What a status line shows."""

    collect: CollectStats
    enrich: EnrichSummary = field(default_factory=EnrichSummary)
    rounds: int = 0
    enriching: bool = False
    error: str | None = None
    forgotten: int = 0  # posts forgotten because their platform deleted them
    replaced: int = 0  # posts replaced by their edited version


class Pipeline:
    def __init__(self, lake: Lake, settings: Settings, sources: Sequence[Source],
                 enrich: bool = True) -> None:
        self.lake, self.settings, self.sources = lake, settings, list(sources)
        honour = settings.collect.honour_deletions
        # Held by the collector's commits and by what rewrites or removes files on the
        # enricher's thread (forgets, retention, compaction): never both at once.
        self._writing = threading.RLock()
        self.collector = Collector(lake, self.sources, settings.collect, self._committed,
                                   self._queue_change if honour else None, self._writing)
        self.status = Status(self.collector.stats)
        self.enrich = enrich
        self.forgetter = Forgetter(lake)
        self._changes: list[tuple[list[Deletion], pa.Table | None]] = []
        self._changes_lock = threading.Lock()
        self._upkept = 0.0  # when retention and compaction last ran (monotonic)
        self._wake = threading.Event()
        self._done = threading.Event()
        self._enricher: Enricher | None = None
        self._worker: threading.Thread | None = None
        self._interrupted = False
        self._commits = 0

    def _committed(self, result: BatchResult) -> None:
        if result.written:
            self._commits += 1
            self._wake.set()

    def _queue_change(self, deletions: list[Deletion], edits: pa.Table | None) -> set[int]:
        """Keep the sources' deletions and edits for the enricher's thread (or apply
        them now when nothing enriches, or when that thread has stopped: analysis failed)."""
        if not self.enrich or self._worker is None or not self._worker.is_alive():
            self._apply_changes()  # what a stopped enricher's thread left
            return self._apply((deletions, edits))
        with self._changes_lock:
            self._changes.append((deletions, edits))
        self._wake.set()
        return set()

    def _apply(self, change: tuple[list[Deletion], pa.Table | None]) -> set[int]:
        try:
            with self._writing:
                gone = self.forgetter(*change)
        except Exception as exc:  # a failed forget must not stop collection
            log.exception("cannot apply deletions")
            self.status.error = f"cannot apply deletions: {exc}"
            return set()
        self.status.forgotten, self.status.replaced = (self.forgetter.forgotten,
                                                       self.forgetter.replaced)
        return gone

    def _apply_changes(self) -> None:
        with self._changes_lock:
            changes, self._changes = self._changes, []
        for change in changes:
            self._apply(change)

    def _upkeep(self) -> None:
        """Retention and compaction, once a day (the lake's lock is held by run)."""
        if self._upkept and time.monotonic() - self._upkept < UPKEEP_SECONDS:
            return
        self._upkept = time.monotonic()
        from socialsight.lake.compact import compact
        from socialsight.retention import apply

        try:
            with self._writing:
                apply(self.lake, self.settings.retention)
                compact(self.lake)
        except Exception as exc:  # keep collecting; the next day tries again
            log.exception("retention or compaction failed")
            self.status.error = f"retention or compaction failed: {exc}"

    def run(self, stop: asyncio.Event | None = None,
            on_tick: Callable[[Status], None] | None = None) -> Status:
        """Collect and enrich until the sources end or a signal (or ``stop``) says stop."""
        self.lake.recover()
        with self.lake.lock():
            worker = self._worker = threading.Thread(
                target=self._enrich_loop, name="socialsight-enrich", daemon=True)
            if self.enrich:
                worker.start()
            try:
                asyncio.run(self._collect(stop, on_tick))
            except BaseException:
                self._interrupted = True
                raise
            finally:
                # Stopped: finish the batch in hand. Sources ended: analyse all of it.
                self._done.set()
                self._wake.set()
                if self._interrupted and self._enricher is not None:
                    self._enricher.stop.set()
                if self.enrich:
                    while worker.is_alive():
                        worker.join(0.5)
                        if on_tick is not None:
                            on_tick(self.status)
                    self._apply_changes()  # queued after the thread's last round
        return self.status

    async def _collect(self, stop: asyncio.Event | None,
                       on_tick: Callable[[Status], None] | None) -> None:
        stop = stop or asyncio.Event()
        loop = asyncio.get_running_loop()
        watcher = asyncio.create_task(self._watch(stop))
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, stop.set)
        ticker = asyncio.create_task(self._tick(on_tick)) if on_tick else None
        try:
            await self.collector.run(stop)
        finally:
            watcher.cancel()
            if ticker is not None:
                ticker.cancel()
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                    loop.remove_signal_handler(sig)

    async def _watch(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._interrupted = True
        if self._enricher is not None:
            self._enricher.stop.set()

    async def _tick(self, on_tick: Callable[[Status], None]) -> None:
        while True:
            on_tick(self.status)
            await asyncio.sleep(0.5)

    def _enrich_loop(self) -> None:
        enricher = self._enricher = Enricher(self.lake, self.settings, keep_workers=True)
        self.status.enrich = enricher.summary
        try:
            while True:
                self._wake.wait(IDLE_SECONDS)
                self._wake.clear()
                seen = self._commits
                self.status.enriching = True
                try:
                    self._apply_changes()
                    self._upkeep()
                    enricher.run(lock=False)
                    self._apply_changes()
                except Exception as exc:  # keep collecting; say why analysis stopped
                    log.exception("enrichment failed")
                    self.status.error = f"enrichment failed: {exc}"
                    return
                finally:
                    self.status.enriching = False
                self.status.rounds += 1
                if self._done.is_set() and (self._interrupted or seen == self._commits):
                    return
        finally:
            enricher.close()


def run(lake: Lake, settings: Settings, sources: Sequence[Source], enrich: bool = True,
        on_tick: Callable[[Status], None] | None = None) -> Status:
    """Collect from ``sources`` (and enrich) until stopped; see Pipeline."""
    started = time.monotonic()
    status = Pipeline(lake, settings, sources, enrich).run(on_tick=on_tick)
    log.info("ran for %.0f s", time.monotonic() - started)
    return status

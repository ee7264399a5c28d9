"""``socialsight run``: collection and enrichment together, as one long-running process.

The collector (:mod:`socialsight.collect`) runs on the main thread's event loop and
commits batches of posts; the enricher runs on a second thread and analyses whatever
the lake holds that is not analysed yet — woken by each commit, and every few
seconds in any case — with its worker processes kept between rounds. Both write one
lake under one writer lock. Ctrl-C or SIGTERM stops the sources, commits what was
collected, lets the enricher finish the batch in hand, and exits; everything left is
picked up by the next run (or ``socialsight enrich``).
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

from socialsight.collect import Collector, CollectStats
from socialsight.config import Settings
from socialsight.enrich import Enricher, EnrichSummary
from socialsight.intake.writer import BatchResult
from socialsight.lake.store import Lake
from socialsight.sources.base import Source

log = logging.getLogger(__name__)

IDLE_SECONDS = 5.0  # the enricher looks for work at least this often


@dataclass
class Status:
    """What a status line shows."""

    collect: CollectStats
    enrich: EnrichSummary = field(default_factory=EnrichSummary)
    rounds: int = 0
    enriching: bool = False
    error: str | None = None


class Pipeline:
    def __init__(self, lake: Lake, settings: Settings, sources: Sequence[Source],
                 enrich: bool = True) -> None:
        self.lake, self.settings, self.sources = lake, settings, list(sources)
        self.collector = Collector(lake, self.sources, settings.collect, self._committed)
        self.status = Status(self.collector.stats)
        self.enrich = enrich
        self._wake = threading.Event()
        self._done = threading.Event()
        self._enricher: Enricher | None = None
        self._interrupted = False
        self._commits = 0

    def _committed(self, result: BatchResult) -> None:
        if result.written:
            self._commits += 1
            self._wake.set()

    def run(self, stop: asyncio.Event | None = None,
            on_tick: Callable[[Status], None] | None = None) -> Status:
        """Collect and enrich until the sources end or a signal (or ``stop``) says stop."""
        self.lake.recover()
        with self.lake.lock():
            worker = threading.Thread(target=self._enrich_loop, name="socialsight-enrich",
                                      daemon=True)
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
                    enricher.run(lock=False)
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

"""The ``ray`` executor of ``socialsight enrich``: analysis actors on a Ray cluster.

The driver (``enrich`` or ``run``) keeps doing everything else — the plan, fetching,
the photo store, the analysis cache, every lake commit and marker — so the lake it
writes is the one the ``local`` executor writes. Only the two analysis functions the
local worker processes call, :func:`socialsight.analysis.analyse_photos` and
:func:`socialsight.analysis.analyse_texts`, run on the cluster, in one long-lived
actor per worker: each loads its models on first use and keeps them for the whole run.

Each batch of photos is cut into a few chunks per actor (fewer round trips, and the
fast actors take more chunks); the text of a batch of posts into one chunk per actor.
A chunk whose actor died (a model crash, the OOM killer) is analysed again one photo at
a time on the restarted actors, so only the culprit gets an error row — as with the
local pool.

``enrich.ray_address`` unset starts a local cluster (and shuts it down at the end);
``auto``, ``HOST:PORT`` or ``ray://HOST:PORT`` joins an existing one, which must have
socialsight (and its models) installed on every node. See docs/ray.md.

A local cluster dies with the process that started it, even by kill -9: Ray starts
its own processes (GCS, raylet) fate-shared with the driver (``PR_SET_PDEATHSIG`` on
Linux, a reaper process elsewhere); the actors end with their raylet, and Ray's
dashboard and runtime-env agents notice it gone and exit within about a minute (Ray
2.60, checked by hand). Linux's signal comes when the *thread* that started Ray ends,
so the thread that starts the cluster (``run``'s enrich thread) must be the one that
shuts it down. An existing cluster outlives the driver, as it should; the driver's
actors are not detached, so Ray ends them when the driver's job dies.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import time
from collections import deque
from collections.abc import Iterator, Sequence
from typing import Any

from socialsight.analysis import (
    Failure,
    PhotoAnalysis,
    TextAnalysis,
    analyse_photos,
    analyse_texts,
    failed_analysis,
)
from socialsight.config import Settings, VisionSettings
from socialsight.errors import ConfigError

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'socialsight[ray]'"
CONNECT_SECONDS = 3.0  # a cluster address that does not answer by then is refused
START_SECONDS = 300.0  # actors not placed by then: the cluster lacks what they ask for
RESTART_POLL = 0.2  # seconds between asking a restarting actor whether it is back
CHUNKS_PER_ACTOR = 4  # chunks of a photo batch per actor: balance against round trips
CRASHED = "the analysis process crashed"


def import_ray() -> Any:
    """The ``ray`` module, or a one-line error saying how to install it."""
    # Nothing leaves the machine unasked: Ray's usage statistics stay off unless the
    # user turned them on themselves.
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        import ray
    except ImportError as exc:
        raise ConfigError(f"the ray executor needs Ray, which is not installed: "
                          f"{INSTALL_HINT}") from exc
    return ray


def check_address(address: str | None) -> None:
    """Refuse an address that is malformed or does not answer (Ray itself would hang)."""
    if address is None or address == "auto":
        return
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"invalid Ray address {address!r}: use auto, HOST:PORT (a "
                          "cluster's head) or ray://HOST:PORT (Ray Client)")
    try:
        socket.create_connection((host.strip("[]"), int(port)), CONNECT_SECONDS).close()
    except OSError as exc:
        why = exc.strerror or str(exc) or type(exc).__name__
        raise ConfigError(f"cannot reach the Ray cluster at {address}: {why}") from exc


def check(settings: Settings) -> None:
    """Fail early, with one line, where the ray executor cannot start."""
    if settings.enrich.executor == "ray":
        import_ray()
        check_address(settings.enrich.ray_address)


def connect(settings: Settings) -> bool:
    """Join (or start) the cluster; True when this call started it, so it should end it."""
    ray = import_ray()
    if ray.is_initialized():  # the caller's own Ray session: use it, leave it running
        return False
    address = settings.enrich.ray_address
    check_address(address)
    # Ray's own notices (token set-up, no SIGTERM handler on `run`'s enrich thread) are
    # noise here; a dying actor is reported by this module's logger.
    options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                               "logging_level": logging.ERROR}
    if address is None:  # "local": a new cluster, whatever RAY_ADDRESS says
        workers = settings.enrich.workers
        options["num_cpus"] = workers * settings.vision.threads if workers else None
    try:
        ray.init(address=address or "local", **options)
    except (ConnectionError, RuntimeError, TimeoutError, ValueError) as exc:
        where = address or "a local cluster"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"cannot start Ray ({where}): {first}") from exc
    return address is None


class AnalysisActor:
    """One Ray actor: the analysis of one process, whose models load once and stay."""

    def __init__(self, vision: VisionSettings, max_pixels: int, key_phrases: bool) -> None:
        os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
        self.vision, self.max_pixels, self.key_phrases = vision, max_pixels, key_phrases

    def ready(self) -> int:
        """The actor's process id, once it is up (and its device is there)."""
        from socialsight.models.runtime import check_device

        check_device(self.vision.device)
        return os.getpid()

    def photos(self, photos: list[bytes]) -> list[PhotoAnalysis]:
        """Each photo's analysis, their models run in batches (``vision.batch_size``);
        an exception is that photo's error, not the chunk's."""
        try:
            return analyse_photos(photos, self.vision, self.max_pixels)
        except Exception:  # one analysis of many: find the culprit photo by photo
            log.warning("a batch of photos failed; analysing it one photo at a time")
        out = []
        for data in photos:
            try:
                out += analyse_photos([data], self.vision, self.max_pixels)
            except Exception as exc:
                out.append(failed_analysis("analyse", Failure.of(exc).reason))
        return out

    def posts(self, texts: list[str | None], langs: list[str | None]) -> list[TextAnalysis]:
        """Each post's text analysis."""
        return analyse_texts(texts, langs, self.key_phrases)


class RayAnalyser:
    """The :class:`socialsight.scale.base.Executor` that runs the analyses on Ray actors."""

    def __init__(self, settings: Settings) -> None:
        self._ray = import_ray()
        self._started = connect(settings)
        try:
            self.actors = self._start_actors(settings)
        except BaseException:
            self._shutdown()
            raise

    def _start_actors(self, settings: Settings) -> list[Any]:
        ray = self._ray
        resources = ray.cluster_resources()
        cpus = float(resources.get("CPU", 1.0))
        per_actor = min(float(settings.vision.threads), cpus)
        fit = max(1, int(cpus // per_actor))
        count = settings.enrich.workers or fit
        if count > fit:
            log.warning("%d analysis actors asked for, the cluster's %g CPUs fit %d",
                        count, cpus, fit)
            count = fit
        gpus = settings.enrich.ray_gpus
        if gpus is None:  # share what the cluster has; at most one GPU per actor
            gpus = math.floor(min(1.0, float(resources.get("GPU", 0)) / count) * 1e4) / 1e4
        actor = ray.remote(num_cpus=per_actor, num_gpus=gpus, max_restarts=-1,
                           max_task_retries=0)(AnalysisActor)
        actors = [actor.remote(settings.vision, settings.fetch.max_pixels,
                               settings.language.key_phrases) for _ in range(count)]
        try:
            pids = ray.get([a.ready.remote() for a in actors], timeout=START_SECONDS)
        except ray.exceptions.RayTaskError as exc:  # an actor refused: say why, once
            raise ConfigError(f"the analysis actors cannot start: {exc.cause}") from None
        except ray.exceptions.GetTimeoutError as exc:
            raise ConfigError(f"the Ray cluster did not start {count} analysis actors "
                              f"({per_actor:g} CPUs and {gpus:g} GPUs each) within "
                              f"{START_SECONDS:.0f} s") from exc
        log.info("analysing on %d Ray actors (processes %s), %g GPUs each", count, pids, gpus)
        return actors

    def map(self, photos: Sequence[bytes]) -> Iterator[PhotoAnalysis]:
        """Each photo's analysis, in order; a crash is that photo's error, not the run's."""
        size = max(1, -(-len(photos) // (len(self.actors) * CHUNKS_PER_ACTOR)))
        chunks = [list(photos[i:i + size]) for i in range(0, len(photos), size)]
        results = self._dispatch("photos", [(chunk,) for chunk in chunks])
        for chunk, result in zip(chunks, results, strict=True):
            if isinstance(result, list):
                yield from result
            elif self._crashed(result):
                log.warning("an analysis actor died; analysing its photos one by one")
                yield from self._one_by_one(chunk)
            else:
                yield from [failed_analysis("analyse", self._reason(result))] * len(chunk)

    def _one_by_one(self, photos: list[bytes]) -> list[PhotoAnalysis]:
        self._await_restarts()
        out = []
        for result in self._dispatch("photos", [([data],) for data in photos]):
            if isinstance(result, list):
                out += result
            elif self._crashed(result):
                out.append(failed_analysis("analyse", f"{CRASHED} on this photo"))
            else:
                out.append(failed_analysis("analyse", self._reason(result)))
        return out

    def map_posts(self, texts: Sequence[str | None],
                  langs: Sequence[str | None]) -> list[TextAnalysis | Failure]:
        """Each post's text analysis, or the failure that stopped its share of the batch."""
        size = max(1, -(-len(texts) // len(self.actors)))
        chunks = [(list(texts[i:i + size]), list(langs[i:i + size]))
                  for i in range(0, len(texts), size)]
        out: list[TextAnalysis | Failure] = []
        for (share, _), result in zip(chunks, self._dispatch("posts", chunks), strict=True):
            if isinstance(result, list):
                out += result
            else:
                reason = CRASHED if self._crashed(result) else self._reason(result)
                out += [Failure(reason)] * len(share)
        return out

    def _dispatch(self, method: str, jobs: Sequence[tuple[Any, ...]]) -> list[Any]:
        """Run ``method(*job)`` for every job on whichever actor is free; each job's
        result or exception, in the jobs' order."""
        ray = self._ray
        out: list[Any] = [None] * len(jobs)
        todo = deque(enumerate(jobs))
        idle = deque(self.actors)
        running: dict[Any, tuple[int, Any]] = {}
        while todo or running:
            while todo and idle:
                index, job = todo.popleft()
                actor = idle.popleft()
                running[getattr(actor, method).remote(*job)] = (index, actor)
            done, _ = ray.wait(list(running), num_returns=1)
            for ref in done:
                index, actor = running.pop(ref)
                idle.append(actor)
                try:
                    out[index] = ray.get(ref)
                except ray.exceptions.RayError as exc:
                    out[index] = exc
        return out

    def _await_restarts(self) -> None:
        """Wait until every actor answers again (Ray restarts a dead one): a photo sent
        to an actor Ray has not yet seen die fails too, and would be counted as the
        photo that crashed it. An actor that stays down shows as crashes after this."""
        ray = self._ray
        deadline = time.monotonic() + START_SECONDS
        for actor in self.actors:
            while time.monotonic() < deadline:
                try:  # a restarting actor refuses calls at once ("temporarily unavailable")
                    ray.get(actor.ready.remote(), timeout=deadline - time.monotonic())
                    break
                except ray.exceptions.ActorUnavailableError:
                    time.sleep(RESTART_POLL)
                except ray.exceptions.RayError:
                    break  # gone for good, or too slow: its photos show as crashed

    def _crashed(self, exc: BaseException) -> bool:
        """Whether the actor died (rather than the analysis raising)."""
        return not isinstance(exc, self._ray.exceptions.RayTaskError)

    @staticmethod
    def _reason(exc: BaseException) -> str:
        cause = getattr(exc, "cause", None) or exc
        return f"{type(cause).__name__}: {cause}"

    def close(self) -> None:
        for actor in self.actors:
            self._ray.kill(actor)
        self.actors = []
        self._shutdown()

    def _shutdown(self) -> None:
        if self._started:
            self._ray.shutdown()
            self._started = False

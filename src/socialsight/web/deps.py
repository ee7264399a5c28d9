"""What the dashboard's pages share: the lake and its engine, the page cache, the
request's filters and paging, and ``render``, the frame every page is drawn in.

Views import this module; ``app`` imports the views. Nothing here imports a view.
"""

from __future__ import annotations

import contextlib
import posixpath
import shlex
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException

from socialsight import __version__
from socialsight.config import Settings
from socialsight.explore.filters import PLATFORMS, Filters
from socialsight.explore.paging import page_number
from socialsight.lake import state
from socialsight.lake.schema import TABLES
from socialsight.lake.store import Lake
from socialsight.query.engine import Engine
from socialsight.web.photos import Photos

HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=HERE / "templates")
# A table that was empty when the engine connected is looked for again this often.
RECHECK_SECONDS = 10.0
CACHE_ITEMS = 256  # page results remembered
# The side folders of what users enrol, whose views the engine makes when it connects.
ENROLLED = (state.path("brands"), state.path("concepts"))
CACHE_SECONDS = 30.0  # how long, where the lake has no version (object stores)

def missing_lake(lake: Lake) -> str | None:
    """What to tell people while ``lake`` has not been made yet (None once it has).

    ``serve`` starts without a lake: the AWS API needs none, and its collections alone
    do not make one. The dashboard's pages say this instead.
    """
    from socialsight.aws.collections import FOLDER as COLLECTIONS

    with contextlib.suppress(OSError):
        if lake.fs.exists(lake.root) and any(
                posixpath.basename(path.rstrip("/")) != COLLECTIONS
                for path in lake.fs.ls(lake.root, detail=False)):
            return None
    where = shlex.quote(lake.url)
    return (f"There is no lake at {lake.url} yet: make one with `socialsight demo --lake "
            f"{where}` (sample posts) or `socialsight import FILE --lake {where}`.")


class Lakeside:
    """The lake, its query engine and photos, as the app's requests share them."""

    def __init__(self, lake: Lake, settings: Settings) -> None:
        self.lake = lake
        self.settings = settings
        self.photos = Photos(lake)
        self._engine: Engine | None = None
        self._engine_version: int | None = None
        self._enrolled_version: int | None = None
        self._empty: set[str] = set()
        self._checked = 0.0
        self._cache: OrderedDict[tuple[str, str, str], tuple[int | None, float, Any]] = \
            OrderedDict()
        self._cache_lock = threading.Lock()
        self._made = False

    def missing(self) -> str | None:
        """What to tell a visitor while the lake has not been made (None once it has)."""
        if self._made:
            return None
        message = missing_lake(self.lake)
        self._made = message is None
        return message

    def cached(self, compute: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
        """``compute(engine, *args)``, remembered until the lake changes.

        A page's queries cost seconds on a big lake; the lake changes only when a batch
        is committed, so the same page with the same filters is answered from memory
        until then. Object-store lakes (no version) are remembered for CACHE_SECONDS.
        """
        version = self.lake.version()
        now = time.monotonic()
        key = (compute.__module__, compute.__qualname__, repr(args))
        with self._cache_lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] == version and (
                    version is not None or now - hit[1] < CACHE_SECONDS):
                self._cache.move_to_end(key)
                return hit[2]
        value = compute(self.engine, *args)
        with self._cache_lock:
            self._cache[key] = (version, now, value)
            while len(self._cache) > CACHE_ITEMS:
                self._cache.popitem(last=False)
        return value

    @property
    def engine(self) -> Engine:
        """The engine; rebuilt when a table that had no files has gained some."""
        now = time.monotonic()
        # the views of what is enrolled (brands, concepts) are made when the engine
        # connects: a change to them makes a new engine
        enrolled = self.lake.version(ENROLLED)
        stale = self._engine is not None and (
            (self._engine.frozen and self._engine_version != self.lake.version())
            or enrolled != self._enrolled_version)
        if self._engine is None or stale or (
                self._empty and now - self._checked > RECHECK_SECONDS
                and any(self.lake.has_data(t) for t in self._empty)):
            # A new engine rather than a refresh: requests still running keep the old one.
            self._engine = Engine(self.lake, self.settings.serve.sql_timeout_seconds,
                                  self.settings.query)
            self._engine_version = self.lake.version()
            self._enrolled_version = enrolled
            self._empty = {t for t in TABLES if not self.lake.has_data(t)}
        if self._empty and now - self._checked > RECHECK_SECONDS:
            self._checked = now
        return self._engine


def lakeside(request: Request) -> Lakeside:
    side: Lakeside = request.app.state.lakeside
    return side


def need_lake(request: Request) -> None:
    """The pages' dependency: a 503 that names the command to run while there is no lake."""
    message = lakeside(request).missing()
    if message:
        raise HTTPException(503, message)


def engine(request: Request) -> Engine:
    return lakeside(request).engine


def cached(request: Request, compute: Callable[..., dict[str, Any]], *args: Any
           ) -> dict[str, Any]:
    """``compute(engine, *args)`` for this request, from memory while the lake is unchanged."""
    return lakeside(request).cached(compute, *args)


def filters(
    start: Annotated[str | None, Query(description="First day, YYYY-MM-DD (UTC).")] = None,
    end: Annotated[str | None, Query(description="Last day, YYYY-MM-DD (UTC).")] = None,
    platform: Annotated[str | None, Query(description="x, bluesky, mastodon or file.")] = None,
    q: Annotated[str | None, Query(description="Words in the post, or #hashtag.")] = None,
) -> Filters:
    return Filters.parse(start, end, platform, q)


def page_param(page: Annotated[str | None, Query(
        description="Page of the photo grid, from 1.")] = None) -> int:
    return page_number(page)


def per_page(request: Request) -> int:
    """Photos in one page of a grid (``serve.photos_per_page``)."""
    return lakeside(request).settings.serve.photos_per_page


EngineDep = Annotated[Engine, Depends(engine)]
FiltersDep = Annotated[Filters, Depends(filters)]
PageDep = Annotated[int, Depends(page_param)]
PerPageDep = Annotated[int, Depends(per_page)]


def render(request: Request, template: str, data: dict[str, Any], page: str,
           title: str, chosen: Filters | None = None, status_code: int = 200) -> HTMLResponse:
    """A page: its template with the data its JSON twin returns, and the shared frame."""
    chosen = chosen or Filters()
    context = {
        "data": data, "page": page, "title": title, "platforms": PLATFORMS,
        "pages": request.app.state.navigation,
        "filters": chosen, "qs": chosen.query_string(), "version": __version__,
    }
    return TEMPLATES.TemplateResponse(request, template, context, status_code=status_code)



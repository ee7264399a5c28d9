"""The dashboard's app: settings, the query engine, security, templates and routes.

``create_app`` is all the CLI calls; ``views/`` hold the pages. Every page has a
JSON twin under ``/api`` that returns the very dict its template is rendered from.
"""

from __future__ import annotations

import contextlib
import importlib.util
import posixpath
import shlex
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Form, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException

from socialsight import __version__
from socialsight.config import Settings
from socialsight.errors import ConfigError, InputError, LakeError, QueryError
from socialsight.explore.filters import PLATFORMS, Filters
from socialsight.explore.paging import page_number
from socialsight.lake.schema import TABLES
from socialsight.lake.store import Lake
from socialsight.query.engine import Engine
from socialsight.web import security
from socialsight.web.photos import SIZES, NotFound, Photos

HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=HERE / "templates")
# A table that was empty when the engine connected is looked for again this often.
RECHECK_SECONDS = 10.0
CACHE_ITEMS = 256  # page results remembered
CACHE_SECONDS = 30.0  # how long, where the lake has no version (object stores)

# The pages, in the order the navigation shows them: (path, name, title).
PAGES = (
    ("/", "overview", "Overview"),
    ("/buzz", "buzz", "Buzz"),
    ("/labels", "labels", "Labels"),
    ("/faces", "faces", "Faces"),
    ("/suspect", "suspect", "Suspect content"),
    ("/people", "people", "People"),
    ("/sentiment", "sentiment", "Sentiment"),
    ("/sql", "sql", "SQL"),
)


def chart_library() -> Path:
    """plotly.js as the plotly package ships it: served by the app, never from a CDN."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("the dashboard needs the plotly package: pip install plotly")
    path = Path(next(iter(spec.submodule_search_locations))) / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise ConfigError(f"plotly.js is missing from the plotly package ({path})")
    return path


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
        stale = self._engine is not None and self._engine.frozen and (
            self._engine_version != self.lake.version())
        if self._engine is None or stale or (
                self._empty and now - self._checked > RECHECK_SECONDS
                and any(self.lake.has_data(t) for t in self._empty)):
            # A new engine rather than a refresh: requests still running keep the old one.
            self._engine = Engine(self.lake, self.settings.serve.sql_timeout_seconds,
                                  self.settings.query)
            self._engine_version = self.lake.version()
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
        "data": data, "page": page, "title": title, "pages": PAGES, "platforms": PLATFORMS,
        "filters": chosen, "qs": chosen.query_string(), "version": __version__,
    }
    return TEMPLATES.TemplateResponse(request, template, context, status_code=status_code)


def create_app(lake: Lake, settings: Settings) -> FastAPI:
    """The dashboard for ``lake``, and the AWS API at ``POST /``; security follows
    ``settings.serve``."""
    from socialsight.aws import protocol
    from socialsight.aws.core import AwsContext
    from socialsight.web.views import ALL

    serve = settings.serve
    security.check_bind(serve.host, serve.token)
    security.check_aws_keys(serve.aws_access_key_id, serve.aws_secret_access_key)
    app = FastAPI(title="socialsight", version=__version__, docs_url="/api/docs",
                  redoc_url=None, openapi_url="/api/openapi.json")
    app.state.lakeside = Lakeside(lake, settings)
    app.middleware("http")(security.Guard(serve.host, serve.token))
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    plotly = chart_library()

    @app.get("/static-vendor/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(plotly, media_type="text/javascript",
                            headers={"Cache-Control": "public, max-age=86400"})

    @app.get("/photos/{sha256}", include_in_schema=False)
    def photo(request: Request, sha256: str,
              size: Annotated[int | None, Query()] = None,
              blur: Annotated[bool, Query()] = False) -> Response:
        if size is not None and size not in SIZES:
            size = min(SIZES, key=lambda s: abs(s - size))  # type: ignore[operator]
        data, mime = lakeside(request).photos.get(sha256, size, blur)
        return Response(data, media_type=mime, headers={
            "Cache-Control": "private, max-age=3600",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'"})

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(request: Request, next: str | None = None) -> HTMLResponse:
        return render(request, "login.html", {"next": security.safe_next(next)}, "login",
                      "Sign in")

    @app.post("/login", include_in_schema=False)
    def login(request: Request, token: Annotated[str, Form()] = "",
              next: Annotated[str, Form()] = "/") -> Response:
        if not serve.token:
            return RedirectResponse(security.safe_next(next), 303)
        request.cookies[security.COOKIE] = token
        if not security.token_matches(request, serve.token):
            return render(request, "login.html", {"next": security.safe_next(next),
                                                  "error": "That is not the token."},
                          "login", "Sign in", status_code=401)
        response = RedirectResponse(security.safe_next(next), 303)
        response.set_cookie(security.COOKIE, token, httponly=True, samesite="strict",
                            max_age=30 * 86400)
        return response

    for router in ALL:
        app.include_router(router, dependencies=[Depends(need_lake)])
    protocol.mount(app, AwsContext(settings, lake))  # boto3's Rekognition and Comprehend
    _errors(app)
    return app


# What each of socialsight's errors answers (Starlette picks the most specific class).
ERROR_STATUS: dict[type[Exception], tuple[int, str]] = {
    InputError: (400, ""),
    QueryError: (400, ""),
    NotFound: (404, ""),
    LakeError: (500, "the lake cannot be read: "),
}


def _errors(app: FastAPI) -> None:
    """socialsight's errors as a JSON message for /api, an error page for people."""

    def answer(request: Request, status: int, message: str) -> Response:
        if request.url.path.startswith(("/api/", "/photos/")):
            return JSONResponse({"error": message}, status)
        return render(request, "error.html", {"message": message, "status": status},
                      "error", "Error", status_code=status)

    def handler(status: int, prefix: str) -> Callable[[Request, Exception], Response]:
        return lambda request, exc: answer(request, status, prefix + str(exc))

    for kind, (status, prefix) in ERROR_STATUS.items():
        app.add_exception_handler(kind, handler(status, prefix))

    @app.exception_handler(RequestValidationError)
    def bad_request(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "body"))
        return answer(request, 400, f"{where or 'request'}: {first.get('msg', 'invalid')}")

    @app.exception_handler(HTTPException)
    def http_error(request: Request, exc: HTTPException) -> Response:
        return answer(request, exc.status_code, str(exc.detail))

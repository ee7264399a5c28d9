"""The dashboard's app: security, static files, photos, sign-in, routes and error pages.

``create_app`` is all the CLI calls. The pages come from the page table
(:mod:`socialsight.web.pages`: every page has a JSON twin under ``/api`` that returns
the very dict its template is rendered from) and ``views/`` (the handlers that change
something); what they share is :mod:`socialsight.web.deps`. Errors become statuses
in one table, :data:`ERROR_STATUS`.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Form, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from socialsight import __version__
from socialsight.config import Settings
from socialsight.errors import (
    ConfigError,
    InputError,
    LakeBusyError,
    LakeError,
    NotFoundError,
    QueryError,
)
from socialsight.lake.store import Lake
from socialsight.people import GalleryBusy
from socialsight.web import pages, security
from socialsight.web.deps import HERE, Lakeside, lakeside, need_lake, render
from socialsight.web.photos import SIZES
from socialsight.web.views import ALL


def chart_library() -> Path:
    """plotly.js as the plotly package ships it: served by the app, never from a CDN."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("the dashboard needs the plotly package: pip install plotly")
    path = Path(next(iter(spec.submodule_search_locations))) / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise ConfigError(f"plotly.js is missing from the plotly package ({path})")
    return path


def create_app(lake: Lake, settings: Settings) -> FastAPI:
    """The dashboard for ``lake``, and the AWS API at ``POST /``; security follows
    ``settings.serve``."""
    from socialsight.aws import protocol
    from socialsight.aws.core import AwsContext

    serve = settings.serve
    security.check_bind(serve.host, serve.token)
    security.check_aws_keys(serve.aws_access_key_id, serve.aws_secret_access_key)
    # FastAPI's own /docs page loads Swagger UI from a CDN: blocked by the pages' CSP,
    # and nothing here may need the network; /api/docs is a page of the dashboard's own
    app = FastAPI(title="socialsight", version=__version__, docs_url=None,
                  redoc_url=None, openapi_url="/api/openapi.json")
    app.state.lakeside = Lakeside(lake, settings)
    app.state.navigation = pages.NAVIGATION
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
        # The browser asks again each time (a 304 while the photo is still in the lake), so
        # a photo that is forgotten is never shown from its cache.
        etag = f'"{sha256}-{size or 0}-{int(blur)}"'
        headers = {"Cache-Control": "private, no-cache", "ETag": etag,
                   "X-Content-Type-Options": "nosniff",
                   "Content-Security-Policy": "default-src 'none'"}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        return Response(data, media_type=mime, headers=headers)

    @app.get("/api/docs", response_class=HTMLResponse, include_in_schema=False)
    def api_docs(request: Request) -> HTMLResponse:
        return render(request, "api.html", {"operations": operations(app.openapi())},
                      "api", "The JSON API")

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

    for router in (pages.routes(), *ALL):
        app.include_router(router, dependencies=[Depends(need_lake)])
    protocol.mount(app, AwsContext(settings, lake))  # boto3's Rekognition and Comprehend
    _errors(app)
    return app


def operations(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """Each operation of an OpenAPI schema, for the /api/docs page: its method, path,
    first paragraph of description and parameters."""
    out = []
    for path, methods in sorted(schema.get("paths", {}).items()):
        for method, op in methods.items():
            text = (op.get("description") or op.get("summary") or "").replace("``", "").strip()
            out.append({
                "method": method.upper(), "path": path,
                "summary": " ".join(text.split("\n\n")[0].split()),
                "parameters": [{"name": p.get("name", ""), "where": p.get("in", "query"),
                                "description": " ".join(
                                    (p.get("description") or "").split())}
                               for p in op.get("parameters", [])]})
    return out


# What each of socialsight's errors answers, the one place the web maps errors to
# statuses (Starlette picks the most specific class).
ERROR_STATUS: dict[type[Exception], tuple[int, str]] = {
    InputError: (400, ""),
    QueryError: (400, ""),
    NotFoundError: (404, ""),
    LakeBusyError: (409, ""),
    GalleryBusy: (409, "the people gallery is not changed: "),
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

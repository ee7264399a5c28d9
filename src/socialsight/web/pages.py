"""The page table: each page's HTML route, its JSON twin under ``/api``, and the navigation.

A :class:`Page` names what the page computes (an ``explore`` function, remembered by
:func:`~socialsight.web.deps.cached` until the lake changes), the template that draws
it and the parameters it takes. ``routes()`` makes both routes of every page from the
table: ``GET path`` renders the template with the very dict that ``GET /api/...``
returns. Pages that also change something (people, SQL) keep those handlers in their
own module under ``views/``.

A new page: an ``explore`` function, a template, and one row in :data:`PAGES`.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from socialsight.explore.brands import brands
from socialsight.explore.buzz import buzz
from socialsight.explore.faces import faces
from socialsight.explore.filters import Filters
from socialsight.explore.known import people, person
from socialsight.explore.labels import label_photos, labels
from socialsight.explore.overview import overview, pipeline_status
from socialsight.explore.photo import photo_detail
from socialsight.explore.sentiment import sentiment
from socialsight.explore.suspect import suspect
from socialsight.web.deps import FiltersDep, PageDep, PerPageDep, cached, lakeside, render
from socialsight.web.views.sql import DialectParam, SqlParam, page_data

Data = dict[str, Any]
# What a page's computation is given besides the request, by the name it is listed
# under in Page.params; a name in the path ({pid}) is a string from the path.
PARAMS: dict[str, Any] = {
    "chosen": FiltersDep, "page": PageDep, "size": PerPageDep,
    "sql": SqlParam, "dialect": DialectParam,
}
OPTIONAL = {"sql", "dialect"}  # query parameters that default to None
PATH_PARAM = re.compile(r"{(\w+)(?::\w+)?}")


def query(compute: Callable[..., Data]) -> Callable[..., Data]:
    """A page that is ``compute(engine, *params)``, remembered until the lake changes."""

    def data(request: Request, *args: Any) -> Data:
        return cached(request, compute, *args)

    data.__doc__ = compute.__doc__
    return data


def _overview(request: Request, chosen: Filters) -> Data:
    """Posts and photos over time by platform, the share with photos, the pipeline."""
    # The pipeline is the whole lake's: remembered once for every filter.
    return {**cached(request, overview, chosen), "pipeline": cached(request, pipeline_status)}


def _people(request: Request, chosen: Filters, page: int, size: int) -> Data:
    """Known people with their photos; a page of the faces no one matches; whether faces
    are matched at all (``vision.face_recognition``)."""
    return {**cached(request, people, chosen, page, size),
            "face_recognition": lakeside(request).settings.vision.face_recognition}


def _photo(request: Request, tweetid: str, mediaid: str) -> Data:
    """One analysed photo and its post, the post's PII masked where
    ``language.redact_pii`` says so."""
    redact = lakeside(request).settings.language.redact_pii
    return cached(request, photo_detail, tweetid, mediaid, redact)


def _photo_title(data: Data) -> str:
    post = data["post"]
    who = f"@{post['screen_name']}" if post["screen_name"] else f"post {post['id']}"
    return f"Photo from {who}"


@dataclass(frozen=True)
class Page:
    """One page: ``GET path`` (HTML) and its JSON twin ``GET /api/...``."""

    path: str  # the HTML route; the JSON twin is "/api" + path ("/api/<name>" for "/")
    name: str  # the navigation entry it belongs to
    title: str | Callable[[Data], str]  # or made from the page's data
    compute: Callable[..., Data]  # compute(request, *params) → the page's data
    template: str
    params: tuple[str, ...] = ()  # in compute's order: PARAMS' names and path names
    summary: str = ""  # the JSON twin's description in /api/docs
    nav: str = ""  # its name in the navigation ("": not listed there)

    @property
    def api(self) -> str:
        return "/api" + (self.path if self.path != "/" else "/" + self.name)

    def heading(self, data: Data) -> str:
        return self.title(data) if callable(self.title) else self.title


# Every page; the navigation lists those with a nav name, in this order.
PAGES: tuple[Page, ...] = (
    Page("/", "overview", "Overview", _overview, "overview.html", ("chosen",), nav="Overview"),
    Page("/buzz", "buzz", "Buzz", query(buzz), "buzz.html", ("chosen",), nav="Buzz",
         summary="Top linked domains, Amazon product links, top hashtags, photos seen in "
         "several posts."),
    Page("/labels", "labels", "Labels", query(labels), "labels.html", ("chosen",),
         nav="Labels",
         summary="The labels found on most photos, with their parents and share of photos."),
    Page("/labels/{name:path}", "labels", lambda data: f"Label: {data['label']}",
         query(label_photos), "label.html", ("chosen", "name", "page", "size"),
         summary="One label's photos (name in any case), most confident first, a page at "
         "a time."),
    Page("/faces", "faces", "Faces", query(faces), "faces.html", ("chosen", "page", "size"),
         nav="Faces", summary="Faces by top emotion, age range and gender; a page of faces "
         "cropped from photos."),
    Page("/suspect", "suspect", "Suspect content", query(suspect), "suspect.html",
         ("chosen", "page", "size"), nav="Suspect content",
         summary="Suspect photos by moderation label and reason, and a page of them with why."),
    Page("/people", "people", "People", _people, "people.html",
         ("chosen", "page", "size"), nav="People",
         summary="Known people with their photos, posts and faces; a page of faces no one "
         "matches."),
    Page("/people/{pid}", "people", lambda data: str(data["person"]["name"]), query(person),
         "person.html", ("chosen", "pid", "page", "size"),
         summary="One known person and a page of the photos they are recognised in."),
    Page("/brands", "brands", "Brands", query(brands), "brands.html", ("chosen",),
         nav="Brands", summary="Each enrolled brand's posts in photos and in text, over "
         "time and by platform; image-only mentions; top photos with the logo boxed; "
         "sentiment."),
    Page("/sentiment", "sentiment", "Sentiment and entities", query(sentiment),
         "sentiment.html", ("chosen",), nav="Sentiment",
         summary="Sentiment over time and overall, top entities by type, key phrases, "
         "skipped posts."),
    Page("/photo/{tweetid}/{mediaid}", "photo", _photo_title, _photo,
         "photo.html", ("tweetid", "mediaid"),
         summary="One analysed photo: labels, faces, known people, text, moderation, and "
         "its post (its PII masked with language.redact_pii)."),
    Page("/sql", "sql", "SQL console", page_data, "sql.html", ("sql", "dialect"), nav="SQL",
         summary="The console's page data: the seed's queries, the dialects, the row and "
         "time limits."),
)

# The navigation: (path, name, label) of each listed page.
NAVIGATION: tuple[tuple[str, str, str], ...] = tuple(
    (p.path, p.name, p.nav) for p in PAGES if p.nav)


def _signature(page: Page, returns: Any) -> inspect.Signature:
    """The routes' parameters, so FastAPI reads each from the path, query or a dependency."""
    in_path = set(PATH_PARAM.findall(page.path))
    parameters = [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                    annotation=Request)]
    for name in page.params:
        parameters.append(inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY,
            annotation=str if name in in_path else PARAMS[name],
            default=None if name in OPTIONAL else inspect.Parameter.empty))
    return inspect.Signature(parameters, return_annotation=returns)


def _routes(router: APIRouter, page: Page) -> None:
    stem = page.template.removesuffix(".html")

    def as_json(request: Request, **params: Any) -> Data:
        return page.compute(request, *(params[name] for name in page.params))

    def as_html(request: Request, **params: Any) -> HTMLResponse:
        data = page.compute(request, *(params[name] for name in page.params))
        return render(request, page.template, data, page.name, page.heading(data),
                      params.get("chosen"))

    as_json.__name__ = as_json.__qualname__ = f"{stem}_json"
    as_json.__doc__ = page.summary or page.compute.__doc__
    as_json.__signature__ = _signature(page, Data)  # type: ignore[attr-defined]
    as_html.__name__ = as_html.__qualname__ = f"{stem}_page"
    as_html.__signature__ = _signature(page, HTMLResponse)  # type: ignore[attr-defined]
    router.add_api_route(page.api, as_json, methods=["GET"])
    router.add_api_route(page.path, as_html, methods=["GET"], response_class=HTMLResponse,
                         include_in_schema=False)


def routes() -> APIRouter:
    """Both routes of every page in :data:`PAGES`."""
    router = APIRouter()
    for page in PAGES:
        _routes(router, page)
    return router

"""Labels: the labels found on most photos, and each label's photos."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from socialsight.explore.labels import label_photos, labels, page_number
from socialsight.web.app import EngineDep, FiltersDep, lakeside, render

router = APIRouter()
PageParam = Annotated[str | None, Query(description="Page of the grid, from 1.")]


@router.get("/api/labels")
def labels_json(engine: EngineDep, chosen: FiltersDep) -> dict[str, Any]:
    """The labels found on most photos, with their parents and share of photos."""
    return labels(engine, chosen)


@router.get("/labels", response_class=HTMLResponse, include_in_schema=False)
def labels_page(request: Request, engine: EngineDep, chosen: FiltersDep) -> HTMLResponse:
    return render(request, "labels.html", labels(engine, chosen), "labels", "Labels", chosen)


def _label(request: Request, engine: EngineDep, chosen: FiltersDep, name: str,
           page: str | None) -> dict[str, Any]:
    per_page = lakeside(request).settings.serve.photos_per_page
    return label_photos(engine, chosen, name, page_number(page), per_page)


@router.get("/api/labels/{name:path}")
def label_json(request: Request, engine: EngineDep, chosen: FiltersDep, name: str,
               page: PageParam = None) -> dict[str, Any]:
    """One label's photos (name in any case), most confident first, a page at a time."""
    return _label(request, engine, chosen, name, page)


@router.get("/labels/{name:path}", response_class=HTMLResponse, include_in_schema=False)
def label_page(request: Request, engine: EngineDep, chosen: FiltersDep, name: str,
               page: PageParam = None) -> HTMLResponse:
    data = _label(request, engine, chosen, name, page)
    return render(request, "label.html", data, "labels", f"Label: {data['label']}", chosen)

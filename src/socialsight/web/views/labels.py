"""Labels: the labels found on most photos, and each label's photos."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from socialsight.explore.labels import label_photos, labels
from socialsight.web.app import FiltersDep, PageDep, PerPageDep, cached, render

router = APIRouter()


@router.get("/api/labels")
def labels_json(request: Request, chosen: FiltersDep) -> dict[str, Any]:
    """The labels found on most photos, with their parents and share of photos."""
    return cached(request, labels, chosen)


@router.get("/labels", response_class=HTMLResponse, include_in_schema=False)
def labels_page(request: Request, chosen: FiltersDep) -> HTMLResponse:
    return render(request, "labels.html", cached(request, labels, chosen), "labels", "Labels",
                  chosen)


@router.get("/api/labels/{name:path}")
def label_json(request: Request, chosen: FiltersDep, name: str, page: PageDep,
               size: PerPageDep) -> dict[str, Any]:
    """One label's photos (name in any case), most confident first, a page at a time."""
    return cached(request, label_photos, chosen, name, page, size)


@router.get("/labels/{name:path}", response_class=HTMLResponse, include_in_schema=False)
def label_page(request: Request, chosen: FiltersDep, name: str, page: PageDep,
               size: PerPageDep) -> HTMLResponse:
    data = cached(request, label_photos, chosen, name, page, size)
    return render(request, "label.html", data, "labels", f"Label: {data['label']}", chosen)

"""Faces: top emotions, ages and genders of the faces in the photos, and a face gallery."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from socialsight.explore.faces import faces, page_number
from socialsight.web.app import EngineDep, FiltersDep, lakeside, render

router = APIRouter()
PageParam = Annotated[str | None, Query(description="The gallery's page, from 1.")]


def _data(request: Request, engine: EngineDep, chosen: FiltersDep,
          page: str | None) -> dict[str, Any]:
    per_page = lakeside(request).settings.serve.photos_per_page
    return faces(engine, chosen, page_number(page), per_page)


@router.get("/api/faces")
def faces_json(request: Request, engine: EngineDep, chosen: FiltersDep,
               page: PageParam = None) -> dict[str, Any]:
    """Faces by top emotion, age range and gender; a page of faces cropped from photos."""
    return _data(request, engine, chosen, page)


@router.get("/faces", response_class=HTMLResponse, include_in_schema=False)
def faces_page(request: Request, engine: EngineDep, chosen: FiltersDep,
               page: PageParam = None) -> HTMLResponse:
    return render(request, "faces.html", _data(request, engine, chosen, page), "faces",
                  "Faces", chosen)

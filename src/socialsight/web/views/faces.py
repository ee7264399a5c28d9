"""Faces: top emotions, ages and genders of the faces in the photos, and a face gallery."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from socialsight.explore.faces import faces
from socialsight.web.app import FiltersDep, PageDep, PerPageDep, cached, render

router = APIRouter()


@router.get("/api/faces")
def faces_json(request: Request, chosen: FiltersDep, page: PageDep,
               size: PerPageDep) -> dict[str, Any]:
    """Faces by top emotion, age range and gender; a page of faces cropped from photos."""
    return cached(request, faces, chosen, page, size)


@router.get("/faces", response_class=HTMLResponse, include_in_schema=False)
def faces_page(request: Request, chosen: FiltersDep, page: PageDep,
               size: PerPageDep) -> HTMLResponse:
    return render(request, "faces.html", cached(request, faces, chosen, page, size), "faces",
                  "Faces", chosen)

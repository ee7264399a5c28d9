"""Suspect content: photos with moderation labels or marked sensitive, blurred until asked."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from socialsight.explore.faces import page_number
from socialsight.explore.suspect import suspect
from socialsight.web.app import EngineDep, FiltersDep, lakeside, render

router = APIRouter()
PageParam = Annotated[str | None, Query(description="The grid's page, from 1.")]


def _data(request: Request, engine: EngineDep, chosen: FiltersDep,
          page: str | None) -> dict[str, Any]:
    per_page = lakeside(request).settings.serve.photos_per_page
    return suspect(engine, chosen, page_number(page), per_page)


@router.get("/api/suspect")
def suspect_json(request: Request, engine: EngineDep, chosen: FiltersDep,
                 page: PageParam = None) -> dict[str, Any]:
    """Suspect photos by moderation label and reason, and a page of them with why."""
    return _data(request, engine, chosen, page)


@router.get("/suspect", response_class=HTMLResponse, include_in_schema=False)
def suspect_page(request: Request, engine: EngineDep, chosen: FiltersDep,
                 page: PageParam = None) -> HTMLResponse:
    return render(request, "suspect.html", _data(request, engine, chosen, page), "suspect",
                  "Suspect content", chosen)

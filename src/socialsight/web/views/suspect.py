"""Suspect content: photos with moderation labels or marked sensitive, blurred until asked."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from socialsight.explore.suspect import suspect
from socialsight.web.app import FiltersDep, PageDep, PerPageDep, cached, render

router = APIRouter()


@router.get("/api/suspect")
def suspect_json(request: Request, chosen: FiltersDep, page: PageDep,
                 size: PerPageDep) -> dict[str, Any]:
    """Suspect photos by moderation label and reason, and a page of them with why."""
    return cached(request, suspect, chosen, page, size)


@router.get("/suspect", response_class=HTMLResponse, include_in_schema=False)
def suspect_page(request: Request, chosen: FiltersDep, page: PageDep,
                 size: PerPageDep) -> HTMLResponse:
    return render(request, "suspect.html", cached(request, suspect, chosen, page, size),
                  "suspect", "Suspect content", chosen)

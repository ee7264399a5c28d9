"""Overview: posts and photos over time by platform, photo share, pipeline status."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from socialsight.explore.filters import Filters
from socialsight.explore.overview import overview, pipeline_status
from socialsight.web.app import FiltersDep, cached, render

router = APIRouter()


@router.get("/api/overview")
def overview_json(request: Request, chosen: FiltersDep) -> dict[str, Any]:
    """Posts and photos over time by platform, the share with photos, the pipeline."""
    return _overview(request, chosen)


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def overview_page(request: Request, chosen: FiltersDep) -> HTMLResponse:
    return render(request, "overview.html", _overview(request, chosen), "overview",
                  "Overview", chosen)


def _overview(request: Request, chosen: Filters) -> dict[str, Any]:
    # The pipeline is the whole lake's: remembered once for every filter.
    return {**cached(request, overview, chosen), "pipeline": cached(request, pipeline_status)}

"""Buzz: linked domains, product links, hashtags and the most re-shared photos."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from socialsight.explore.buzz import buzz
from socialsight.web.app import FiltersDep, cached, render

router = APIRouter()


@router.get("/api/buzz")
def buzz_json(request: Request, chosen: FiltersDep) -> dict[str, Any]:
    """Top linked domains, Amazon product links, top hashtags, photos seen in several posts."""
    return cached(request, buzz, chosen)


@router.get("/buzz", response_class=HTMLResponse, include_in_schema=False)
def buzz_page(request: Request, chosen: FiltersDep) -> HTMLResponse:
    return render(request, "buzz.html", cached(request, buzz, chosen), "buzz", "Buzz", chosen)

"""Sentiment and entities: sentiment over time and overall, entities, key phrases."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from socialsight.explore.sentiment import sentiment
from socialsight.web.app import FiltersDep, cached, render

router = APIRouter()


@router.get("/api/sentiment")
def sentiment_json(request: Request, chosen: FiltersDep) -> dict[str, Any]:
    """Sentiment over time and overall, top entities by type, key phrases, skipped posts."""
    return cached(request, sentiment, chosen)


@router.get("/sentiment", response_class=HTMLResponse, include_in_schema=False)
def sentiment_page(request: Request, chosen: FiltersDep) -> HTMLResponse:
    return render(request, "sentiment.html", cached(request, sentiment, chosen), "sentiment",
                  "Sentiment and entities", chosen)

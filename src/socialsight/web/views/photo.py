"""Photo: one photo with what the models found drawn over it, and its post."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from socialsight.explore.photo import photo_detail
from socialsight.web.app import cached, render

router = APIRouter()


@router.get("/api/photo/{tweetid}/{mediaid}")
def photo_json(request: Request, tweetid: str, mediaid: str) -> dict[str, Any]:
    """One analysed photo: labels, faces, known people, text, moderation, and its post."""
    return cached(request, photo_detail, tweetid, mediaid)


@router.get("/photo/{tweetid}/{mediaid}", response_class=HTMLResponse, include_in_schema=False)
def photo_page(request: Request, tweetid: str, mediaid: str) -> HTMLResponse:
    data = cached(request, photo_detail, tweetid, mediaid)
    post = data["post"]
    who = f"@{post['screen_name']}" if post["screen_name"] else f"post {post['id']}"
    return render(request, "photo.html", data, "photo", f"Photo from {who}")

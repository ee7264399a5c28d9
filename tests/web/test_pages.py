"""The page table: every page answers as HTML and as its /api twin, and the navigation
lists the pages in their order."""

from __future__ import annotations

import re
from typing import Any

NAVIGATION = [("/", "Overview"), ("/buzz", "Buzz"), ("/labels", "Labels"), ("/faces", "Faces"),
              ("/suspect", "Suspect content"), ("/people", "People"),
              ("/sentiment", "Sentiment"), ("/sql", "SQL")]


def test_every_page_of_the_navigation_answers_with_its_json_twin(client: Any) -> None:
    page = client.get("/")
    assert page.status_code == 200
    nav = page.text[page.text.index("<nav"):page.text.index("</nav>")]
    links = re.findall(r'href="(/[^"?]*)[^"]*"[^>]*>\s*([^<]+?)\s*<', nav)
    assert [(path, label) for path, label in links if (path, label) in NAVIGATION] == NAVIGATION
    for path, _ in NAVIGATION:
        html = client.get(path)
        twin = client.get("/api" + (path if path != "/" else "/overview"))
        assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
        assert twin.status_code == 200 and isinstance(twin.json(), dict)


def test_the_api_docs_list_each_twin_with_its_description(client: Any) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in ("/api/overview", "/api/buzz", "/api/labels", "/api/labels/{name}",
                 "/api/faces", "/api/suspect", "/api/people", "/api/people/{pid}",
                 "/api/sentiment", "/api/photo/{tweetid}/{mediaid}", "/api/sql"):
        assert paths[path]["get"]["description"], path
    assert "post" in paths["/api/people"] and "delete" in paths["/api/people/{pid}"]
    assert not any(path.startswith(("/buzz", "/labels", "/sql")) for path in paths)
    faces = {p["name"] for p in paths["/api/faces"]["get"]["parameters"]}
    assert {"start", "end", "platform", "q", "page"} <= faces


def test_the_api_docs_page_works_offline_under_the_pages_own_policy(client: Any) -> None:
    """The footer's "JSON API" link: a page of the dashboard's own (FastAPI's Swagger UI
    would load from a CDN, which the CSP and an offline machine both refuse)."""
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    for path in ("/api/brands", "/api/faces", "/api/sql", "/api/openapi.json"):
        assert path in html, path
    assert "<script src=\"http" not in html and "cdn" not in html.lower()
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert client.get("/docs").status_code == 404


def test_a_missing_photo_or_person_is_a_404(client: Any) -> None:
    assert client.get("/api/photo/1/none").status_code == 404
    assert client.get("/api/people/nobody").status_code == 404
    assert client.get("/people/nobody").status_code == 404

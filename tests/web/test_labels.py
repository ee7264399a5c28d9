"""Labels: the labels on most photos, and each label's photos a page at a time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from socialsight.lake.store import Lake
from tests.web.conftest import dashboard_settings


@pytest.fixture(scope="module")
def paged(demo_lake: Lake) -> Iterator[Any]:
    """The app with two photos a page."""
    from fastapi.testclient import TestClient

    from socialsight.web.app import create_app

    app = create_app(demo_lake, dashboard_settings(demo_lake, photos_per_page=2))
    with TestClient(app, base_url="http://localhost") as test_client:
        yield test_client


def test_labels_count_photos_with_their_parents(client: Any) -> None:
    data = client.get("/api/labels").json()
    assert data["photos"] == 22
    by_name = {label["name"]: label for label in data["labels"]}
    cat = by_name["Cat"]
    assert cat["photos"] == 4 and cat["share"] == round(4 / 22, 4)
    assert cat["parents"] == ["Mammal", "Pet", "Animal"]  # Rekognition's, not WordNet's
    assert {"Person", "Coffee", "Text"} <= set(by_name)
    counts = [label["photos"] for label in data["labels"]]
    assert counts == sorted(counts, reverse=True)
    page = client.get("/labels").text
    assert 'href="/labels/Cat"' in page and 'href="/labels/Coffee"' in page


def test_filters_narrow_the_labels(client: Any) -> None:
    data = client.get("/api/labels", params={"q": "cat"}).json()
    assert data["photos"] == 3
    assert {label["name"] for label in data["labels"]} >= {"Cat", "Pet"}
    assert "Coffee" not in {label["name"] for label in data["labels"]}
    page = client.get("/labels", params={"q": "cat"}).text
    assert 'href="/labels/Cat?q=cat"' in page


def test_a_label_shows_its_photos_most_confident_first(client: Any) -> None:
    data = client.get("/api/labels/cAT").json()  # any case
    assert data["label"] == "Cat" and data["total"] == 4
    assert data["page"] == 1 and data["pages"] == 1 and len(data["photos"]) == 4
    assert all(isinstance(card["tweetid"], str) for card in data["photos"])
    sure = [card["confidence"] for card in data["photos"]]
    assert sure == sorted(sure, reverse=True)
    assert data["photos"][0]["caption"] == f"confidence {sure[0]:.1f}%"
    page = client.get("/labels/Cat").text
    assert page.count('<img src="/photos/') == 4 and f"confidence {sure[0]:.1f}%" in page


def test_an_unknown_label_is_an_empty_grid(client: Any) -> None:
    answer = client.get("/labels/Unicorn")
    assert answer.status_code == 200
    assert "No photo of these posts has the label “Unicorn”." in answer.text
    data = client.get("/api/labels/Unicorn").json()
    assert data["total"] == 0 and data["photos"] == []


def test_label_pages_follow_the_setting(paged: Any) -> None:
    first = paged.get("/api/labels/Face").json()
    assert first["total"] == 5 and first["pages"] == 3 and len(first["photos"]) == 2
    last = paged.get("/api/labels/Face", params={"page": 3}).json()
    assert len(last["photos"]) == 1
    seen = {c["mediaid"] for n in (1, 2, 3)
            for c in paged.get("/api/labels/Face", params={"page": n}).json()["photos"]}
    assert len(seen) == 5
    html = paged.get("/labels/Face", params={"page": 2, "q": "e"}).text
    assert "page 2 of" in html and 'href="?q=e&amp;page=3"' in html


@pytest.mark.parametrize(("path", "message"), [
    ("/api/labels/" + "x" * 101, "at most 100 characters"),
    ("/api/labels/Cat?page=0", "page must be a whole number"),
    ("/api/labels/Cat?page=abc", "page must be a whole number"),
    ("/api/labels/Cat?page=99999999999999999999999", "page must be a whole number"),
    ("/api/labels/Cat?page=2", "only 1 page, not 2"),
    ("/api/labels/Cat?start=someday", "start must be a date"),
])
def test_bad_requests_are_a_clear_400(client: Any, path: str, message: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 400 and message in answer.json()["error"]


def test_a_long_label_name_is_an_error_page(client: Any) -> None:
    answer = client.get("/labels/" + "x" * 101)
    assert answer.status_code == 400 and "at most 100 characters" in answer.text


@pytest.mark.slow
def test_a_click_on_a_label_bar_opens_its_photos(page: Any) -> None:
    page.goto("/labels?end=2024-07-02")
    page.wait_for_selector("#top-labels[data-rendered='true'] .main-svg")
    names = [label["name"] for label in page.evaluate("SS.data().labels.slice(0, 20)")]
    bars = page.locator("#top-labels .bars .point")
    box = bars.nth(names[::-1].index("Cat")).bounding_box()  # bars are drawn bottom-up
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_url("**/labels/Cat?end=2024-07-02")
    assert page.inner_text("h1") == "Label: Cat"
    assert page.locator("ul.grid li img").count() == 2  # the third cat was posted on July 3
    assert page.inner_text("#label-count") == "2 photos"

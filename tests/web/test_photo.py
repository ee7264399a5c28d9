"""Photo detail: the photo with its boxes drawn over it, what the models found, its post."""

from __future__ import annotations

from typing import Any

import pytest

from socialsight.lake.store import Lake

# The demo's posts and their one photo each (the demo corpus gives them these ids).
GRACE = ("9000000000000006", "90000000000000060")  # grace-hopper.jpg: a known face, text
BANNER = ("9000000000000005", "90000000000000050")  # sale-banner.png: "SUMMER SALE"
SENSITIVE = ("9000000000000013", "90000000000000130")  # the post is marked possibly_sensitive
PRODUCT = ("9000000000000011", "90000000000000110")  # links an amazon.com/dp/ page
RETWEET = ("9000000000000009", "90000000000000090")


def photo(client: Any, ids: tuple[str, str]) -> dict[str, Any]:
    answer = client.get(f"/api/photo/{ids[0]}/{ids[1]}")
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()
    return data


def test_a_known_face_is_named_with_its_emotions_and_age(client: Any) -> None:
    data = photo(client, GRACE)
    assert data["photo"]["media_url"].endswith("grace-hopper.jpg")
    assert data["photo"]["tweetid"] == GRACE[0] and data["photo"]["mediaid"] == GRACE[1]
    assert [p["name"] for p in data["people"]] == ["Grace Hopper"]
    assert data["people"][0]["confidence"] > 75
    face = data["faces"][0]
    assert face["person"] == "Grace Hopper"
    assert 1 <= len(face["emotions"]) <= 3
    confidences = [e["confidence"] for e in face["emotions"]]
    assert confidences == sorted(confidences, reverse=True)
    assert face["age"]["low"] <= face["age"]["high"]
    assert "Grace Hopper" in data["overlay"]["faces"][0]["caption"]
    person = next(label for label in data["labels"] if label["name"] == "Person")
    assert person["instances"] and 0 <= person["instances"][0]["box"]["left"] < 1
    assert data["model_versions"] and data["analysis_errors"] == []


def test_text_lines_come_with_their_polygons(client: Any) -> None:
    data = photo(client, BANNER)
    assert "SUMMER SALE" in [line["text"] for line in data["text"]]
    assert len(data["overlay"]["text"]) == len(data["text"])
    for line in data["text"]:
        points = [tuple(map(float, p.split(","))) for p in line["points"].split()]
        assert len(points) >= 3 and all(0 <= v <= 1 for p in points for v in p)


def test_the_post_comes_with_its_links_sentiment_and_entities(client: Any) -> None:
    post = photo(client, PRODUCT)["post"]
    assert post["id"] == PRODUCT[0] and post["screen_name"] == "readmore_rita"
    assert any("amazon.com/dp/" in (link["href"] or "") for link in post["links"])
    assert post["sentiment"]["label"] and set(post["sentiment"]["scores"]) == {
        "positive", "negative", "neutral", "mixed"}
    assert "Kindle" in post["text"] and post["time"].startswith("2024-07-02")
    assert photo(client, RETWEET)["post"]["retweet"] is True
    grace = photo(client, GRACE)["post"]
    assert "Grace Hopper" in [e["entity"] for e in grace["entities"]]
    page = client.get(f"/photo/{PRODUCT[0]}/{PRODUCT[1]}")
    assert page.status_code == 200
    assert 'href="https://www.amazon.com/dp/' in page.text
    assert 'rel="noopener noreferrer nofollow" target="_blank"' in page.text
    assert 'class="filters"' not in page.text  # no filter bar on this page


def test_a_sensitive_photo_is_sent_blurred(client: Any) -> None:
    data = photo(client, SENSITIVE)
    assert data["photo"]["sensitive"] is True and data["post"]["possibly_sensitive"] is True
    page = client.get(f"/photo/{SENSITIVE[0]}/{SENSITIVE[1]}").text
    assert 'class="stage veiled"' in page and "blur=1" in page
    assert "blur=1" not in client.get(f"/photo/{BANNER[0]}/{BANNER[1]}").text


@pytest.mark.parametrize(("path", "status", "message"), [
    ("/api/photo/abc/1", 400, "digits only"),
    ("/api/photo/-1/1", 400, "digits only"),
    ("/api/photo/1/1", 404, "no post 1"),
    ("/api/photo/99999999999999999999999/1", 404, "no post"),
    (f"/api/photo/{GRACE[0]}/nope", 404, f"post {GRACE[0]} has no photo nope"),
    (f"/api/photo/{GRACE[0]}/{'9' * 500}", 400, "photo id"),
])
def test_bad_or_unknown_ids_get_a_clear_answer(client: Any, path: str, status: int,
                                               message: str) -> None:
    answer = client.get(path)
    assert answer.status_code == status and message in answer.json()["error"]


def test_an_unknown_photo_page_says_so(client: Any) -> None:
    page = client.get("/photo/1/1")
    assert page.status_code == 404 and "no post 1 in the lake" in page.text


def test_the_overlay_draws_every_box_and_layers_can_be_hidden(client: Any, page: Any) -> None:
    data = photo(client, GRACE)
    labels = sum(len(label["instances"]) for label in data["labels"])
    assert labels >= 1 and len(data["faces"]) == 1 and len(data["text"]) >= 1
    page.goto(f"/photo/{GRACE[0]}/{GRACE[1]}")
    page.wait_for_selector("#stage img")
    assert page.locator("svg.overlay .layer-labels rect").count() == labels
    assert page.locator("svg.overlay .layer-faces rect").count() == 1
    assert page.locator("svg.overlay .layer-text polygon").count() == len(data["text"])
    face_tag = page.locator(".tag.layer-faces")
    assert "Grace Hopper" in face_tag.inner_text()
    # the overlay is stacked exactly over the photo
    img, svg = page.locator("#stage img").bounding_box(), page.locator("svg.overlay").bounding_box()
    assert img and svg and img["width"] > 100
    assert all(abs(img[k] - svg[k]) < 1 for k in ("x", "y", "width", "height"))
    page.uncheck("input[data-layer=faces]")
    assert not face_tag.is_visible() and not page.locator(".layer-faces rect").is_visible()
    assert page.locator(".layer-labels rect").first.is_visible()
    page.check("input[data-layer=faces]")
    assert face_tag.is_visible()

    page.goto(f"/photo/{BANNER[0]}/{BANNER[1]}")
    assert page.locator("svg.overlay .layer-text polygon").count() == len(photo(client, BANNER)[
        "text"]) >= 3
    assert "SUMMER SALE" in page.inner_text("#text")


def test_a_sensitive_photo_is_revealed_by_a_click(demo_lake: Lake, page: Any) -> None:
    # demo_lake first: it is built before the browser starts, when this test runs alone
    page.goto(f"/photo/{SENSITIVE[0]}/{SENSITIVE[1]}")
    img = page.locator("#stage img")
    assert "blur=1" in img.get_attribute("src")
    assert not page.locator("svg.overlay").is_visible()
    img.click()
    page.wait_for_function("!document.querySelector('#stage img').src.includes('blur=1')")
    assert page.locator("svg.overlay").is_visible()
    assert page.locator(".layer-text polygon").first.is_visible()
    assert page.inner_text("#stage .badge") == "sensitive"

"""Suspect content: photos with moderation labels or in posts marked sensitive, blurred."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from socialsight.lake.store import Lake
from socialsight.query.engine import seed_queries
from tests.web.conftest import dashboard_settings
from tests.web.test_faces import copy_lake, rewrite_rows

MARKED_POST = "9000000000000013"  # the demo's post marked possibly_sensitive
CAT_POST = 9000000000000004


def test_suspect_photos_mean_what_the_seed_query_means(client: Any) -> None:
    data = client.get("/api/suspect").json()
    seed = client.app.state.lakeside.engine.execute(seed_queries()["suspect_content"])
    assert {c["tweetid"] for c in data["cards"]} == \
        {str(r["tweetid"]) for r in seed.table.to_pylist()} == {MARKED_POST}
    assert data["totals"] == {"photos": 1, "labelled": 0, "marked": 1}
    card = data["cards"][0]
    assert card["sensitive"] and card["marked"] and card["labels"] == []
    assert card["caption"] == "marked sensitive by the author/platform"
    assert data["reasons"] == [{"reason": "Marked sensitive by the author/platform",
                                "photos": 1}]


def test_every_suspect_photo_is_sent_blurred(client: Any) -> None:
    card = client.get("/api/suspect").json()["cards"][0]
    page = client.get("/suspect").text
    assert f'src="{card["src"]}?size=320&amp;blur=1"' in page
    assert f'data-src="{card["src"]}?size=320"' in page
    assert "marked sensitive by the author/platform" in page


def test_filters_and_pages_narrow_the_suspects(client: Any) -> None:
    none = client.get("/api/suspect", params={"q": "coffee"}).json()
    assert none["totals"]["photos"] == 0 and none["cards"] == [] and none["reasons"] == []
    assert "No suspect photos for these filters." in client.get("/suspect?q=coffee").text
    past = client.get("/api/suspect", params={"page": "2"})
    assert past.status_code == 400 and "only 1 page" in past.json()["error"]


def test_moderation_labels_are_counted_and_captioned(demo_lake: Lake, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from socialsight.web.app import create_app

    lake = copy_lake(demo_lake, tmp_path)

    def label(row: dict[str, Any]) -> None:
        if row["tweetid"] == CAT_POST:
            row["image_labels"]["moderationlabels"] = [
                {"name": "Violence", "parentname": "", "confidence": 91.23},
                {"name": "Weapons", "parentname": "Violence", "confidence": 91.23}]

    rewrite_rows(lake, "media_rekognition", label)
    with TestClient(create_app(lake, dashboard_settings(lake)),
                    base_url="http://localhost") as own:
        data = own.get("/api/suspect").json()
        assert data["totals"] == {"photos": 2, "labelled": 1, "marked": 1}
        assert [(r["label"], r["photos"]) for r in data["labels"]] == \
            [("Violence", 1), ("Weapons (Violence)", 1)]
        assert {r["reason"]: r["photos"] for r in data["reasons"]} == \
            {"Violence": 1, "Marked sensitive by the author/platform": 1}
        cat = next(c for c in data["cards"] if c["tweetid"] == str(CAT_POST))
        assert cat["caption"] == "Violence 91% · Weapons 91%" and not cat["marked"]
        assert f'data-src="{cat["src"]}?size=320"' in own.get("/suspect").text


def test_a_blurred_suspect_photo_is_revealed_by_a_click(page: Any) -> None:
    page.goto("/suspect")
    page.wait_for_selector("#suspect-reasons[data-rendered='true'] .main-svg")
    assert page.inner_text("#suspect-labels") == "No moderation labels for these filters."
    photo = page.locator("ul.grid img").first
    assert "blur=1" in photo.get_attribute("src")
    photo.click()
    page.wait_for_selector("ul.grid img.revealed")
    assert "blur=1" not in photo.get_attribute("src")
    assert page.url.endswith("/suspect")  # the first click reveals; it does not navigate
    photo.evaluate("img => img.complete || new Promise(r => { img.onload = r; })")
    assert photo.evaluate("img => img.naturalWidth") > 0  # the sharp photo loaded

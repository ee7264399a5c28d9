"""Overview: the totals, charts by platform, and the pipeline's state, with filters."""

from __future__ import annotations

from typing import Any

import pytest


def test_overview_counts_posts_and_photos_of_the_demo(client: Any) -> None:
    data = client.get("/api/overview").json()
    assert data["totals"]["posts"] == 26
    assert data["totals"]["posts_with_photos"] == 22
    assert data["totals"]["photo_share"] == round(22 / 26, 4)
    assert {row["platform"]: row["posts"] for row in data["platforms"]} == {
        "x": 20, "mastodon": 3, "bluesky": 3}
    assert sum(row["posts"] for row in data["over_time"]) == 26
    assert data["pipeline"]["photos_waiting"] == 0 and data["pipeline"]["errors"] == []


def test_filters_narrow_every_number(client: Any) -> None:
    tagged = client.get("/api/overview", params={"q": "#SPACE"}).json()
    assert tagged["totals"]["posts"] == 3  # on X, Mastodon and Bluesky, whatever the case
    worded = client.get("/api/overview", params={"q": "coffee"}).json()
    assert 1 <= worded["totals"]["posts"] < 26
    day = client.get("/api/overview", params={"start": "2024-07-02", "end": "2024-07-02"})
    assert day.json()["totals"]["posts"] == 9
    mastodon = client.get("/api/overview", params={"platform": "mastodon"}).json()
    assert mastodon["totals"]["posts"] == 3 and mastodon["totals"]["photo_share"] == 1.0
    none = client.get("/api/overview", params={"platform": "file"}).json()
    assert none["totals"]["posts"] == 0 and none["totals"]["photo_share"] is None


def test_bad_filters_get_a_clear_message(client: Any) -> None:
    answer = client.get("/api/overview", params={"start": "yesterday"})
    assert answer.status_code == 400
    assert "start must be a date" in answer.json()["error"]
    backwards = client.get("/api/overview", params={"start": "2024-07-03", "end": "2024-07-01"})
    assert "ends" in backwards.json()["error"]
    page = client.get("/", params={"platform": "myspace"})
    assert page.status_code == 400 and "unknown platform" in page.text


@pytest.mark.slow
def test_overview_page_draws_its_charts(page: Any) -> None:
    page.goto("/")
    for chart in ("posts-over-time", "photos-over-time", "platform-share"):
        page.wait_for_selector(f"#{chart}[data-rendered='true'] .main-svg")
    assert page.inner_text("#total-posts") == "26"
    page.fill("input[name=q]", "#space")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**q=%23space**")
    assert page.inner_text("#total-posts") == "3"

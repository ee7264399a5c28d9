"""Buzz: linked domains, Amazon product links, hashtags, and photos shared by several posts."""

from __future__ import annotations

import re
from typing import Any

import pytest

from socialsight.explore.buzz import FIRST_LINE

AMAZON_POST = "9000000000000011"


def test_buzz_counts_domains_and_hashtags_of_the_demo(client: Any) -> None:
    data = client.get("/api/buzz").json()
    top = data["domains"][:2]  # two posts each (ties in name order)
    assert top == [{"domain": "brewlab.example.com", "links": 2, "posts": 2},
                   {"domain": "shop.example.com", "links": 2, "posts": 2}]
    assert "www.amazon.com" in {d["domain"] for d in data["domains"]}
    tags = {t["tag"]: t for t in data["hashtags"]}
    assert tags["spacex"]["label"] == "SpaceX" and tags["spacex"]["posts"] == 1
    assert {"space", "womeninstem", "deal", "kindle", "reading"} <= set(tags)


def test_product_links_show_the_photo_and_who_posted(client: Any) -> None:
    products = client.get("/api/buzz").json()["products"]
    assert [p["tweetid"] for p in products] == [AMAZON_POST]  # ids are strings
    link = products[0]
    assert link["url"] == "https://www.amazon.com/dp/B0EXAMPLE"
    assert link["author"] == "Rita Reads"
    assert link["href"] == f"/photo/{AMAZON_POST}/{link['mediaid']}"
    page = client.get("/buzz").text
    assert "https://www.amazon.com/dp/B0EXAMPLE" in page and f"{link['src']}?size=160" in page


def test_the_first_line_is_the_first_line_of_text_in_the_photo(client: Any) -> None:
    engine = client.app.state.lakeside.engine
    rows = engine.rows(f"SELECT {FIRST_LINE} AS line FROM media_rekognition p "
                       "WHERE tweetid = 9000000000000005")
    assert rows == [{"line": "SUMMER SALE"}]


def test_reshared_photos_are_counted_by_posts(client: Any) -> None:
    reshared = client.get("/api/buzz").json()["reshared"]
    assert all(r["posts"] >= 2 for r in reshared)
    assert [r["posts"] for r in reshared] == sorted((r["posts"] for r in reshared), reverse=True)
    coffee = next(r for r in reshared if "9000000000000009" in r["tweetids"])
    assert "9000000000000003" in coffee["tweetids"]  # the retweet carries the same photo
    assert coffee["caption"] == f"{coffee['posts']} posts"
    # The sale banner is in a post marked sensitive: the grid sends it blurred.
    banner = next(r for r in reshared if "9000000000000013" in r["tweetids"])
    assert banner["sensitive"]
    assert f"{banner['src']}?size=320&amp;blur=1" in client.get("/buzz").text


def test_filters_narrow_the_buzz(client: Any) -> None:
    tagged = client.get("/api/buzz", params={"q": "#SPACEX"}).json()
    assert [t["label"] for t in tagged["hashtags"]] == ["SpaceX"]
    assert [d["domain"] for d in tagged["domains"]] == ["www.spacex.com"]
    assert tagged["reshared"] == [] and tagged["products"] == []
    page = client.get("/buzz", params={"q": "#SPACEX"}).text
    assert "No photo appears in more than one of these posts." in page
    assert "No Amazon product links" in page
    empty = client.get("/api/buzz", params={"platform": "file"}).json()
    assert empty["domains"] == [] and empty["hashtags"] == []


def test_hashtag_links_keep_the_other_filters(client: Any) -> None:
    page = client.get("/buzz", params={"start": "2024-07-01"}).text
    links = re.findall(r'<a class="hashtag" href="([^"]+)"', page)
    assert "?start=2024-07-01&amp;q=%23SpaceX" in links


def test_bad_filters_are_a_clear_400(client: Any) -> None:
    answer = client.get("/api/buzz", params={"end": "soon"})
    assert answer.status_code == 400 and "end must be a date" in answer.json()["error"]


@pytest.mark.slow
def test_buzz_charts_render_and_a_hashtag_bar_filters(page: Any) -> None:
    page.goto("/buzz")
    page.wait_for_selector("#top-domains[data-rendered='true'] .main-svg")
    page.wait_for_selector("#top-hashtags[data-rendered='true'] .main-svg")
    labels = [f"#{t['label']}" for t in page.evaluate("SS.data().hashtags")]
    bars = page.locator("#top-hashtags .bars .point")
    # Horizontal bars are drawn bottom-up: the last label is the first bar.
    box = bars.nth(labels[::-1].index("#SpaceX")).bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_url("**/buzz?q=%23SpaceX")
    assert page.input_value("input[name=q]") == "#SpaceX"
    assert page.locator("#hashtags a.hashtag").all_inner_texts() == ["#SpaceX"]

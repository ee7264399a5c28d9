"""Faces: emotions as the seed counts them, ages, genders, and faces cropped from photos."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from socialsight.explore.faces import crop
from socialsight.lake.store import Lake
from socialsight.query.engine import seed_queries
from tests.web.conftest import dashboard_settings

ASTRONAUT_POST = "9000000000000002"  # one of three posts of the same astronaut portrait


def test_emotions_are_counted_as_the_seed_counts_them(client: Any) -> None:
    data = client.get("/api/faces").json()
    seed = client.app.state.lakeside.engine.execute(seed_queries()["top_emotions"])
    assert [(r["emotion"], r["faces"]) for r in data["emotions"]] == \
        [(r["emotion"], r["count"]) for r in seed.table.to_pylist()] == [("HAPPY", 3), ("CALM", 2)]
    assert data["totals"] == {"faces": 5, "photos": 5, "smiling_share": 0.6,
                              "glasses_share": None}


def test_ages_and_genders_of_the_demo_faces(client: Any) -> None:
    data = client.get("/api/faces").json()
    ages = {r["ages"]: r["faces"] for r in data["ages"]}
    assert ages["20–29"] == 3 and ages["70+"] == 2  # the astronaut 24–34; Grace Hopper 69–90
    assert sum(ages.values()) == 5  # every face in one bucket
    assert list(ages) == ["0–12", "13–19", "20–29", "30–39", "40–49", "50–59", "60–69", "70+"]
    assert data["genders"] == [{"gender": "Female", "faces": 3}, {"gender": "Male", "faces": 2}]


def test_the_gallery_crops_each_face_and_links_its_post(client: Any) -> None:
    gallery = client.get("/api/faces").json()["gallery"]
    assert len(gallery) == 5
    astronaut = next(f for f in gallery if f["tweetid"] == ASTRONAUT_POST)
    assert astronaut["href"] == f"/photo/{ASTRONAUT_POST}/{astronaut['mediaid']}"
    assert astronaut["caption"] == "Happy · 24–34" and astronaut["face"] == 0
    assert astronaut["src"] == f"/photos/{astronaut['sha256']}?size=640"
    page = client.get("/faces").text
    style = (f"background-image: url('/photos/{astronaut['sha256']}?size=640'); "
             f"background-size: {astronaut['crop']['size']}; "
             f"background-position: {astronaut['crop']['position']}")
    assert style in page and f'href="{astronaut["href"]}"' in page


def test_a_crop_is_the_square_around_the_face_kept_inside_the_photo() -> None:
    box = {"left": 0.4, "top": 0.4, "width": 0.2, "height": 0.2}
    assert crop(box, 100, 100) == {"size": "333.33% 333.33%", "position": "50.00% 50.00%"}
    corner = crop({"left": 0.0, "top": 0.0, "width": 0.1, "height": 0.2}, 200, 100)
    assert corner["position"] == "0.00% 0.00%"  # not past the photo's edge
    assert corner["size"] == "666.67% 333.33%"  # square on screen: 30 of 200 by 30 of 100 px
    whole = crop({"left": 0.0, "top": 0.0, "width": 1.0, "height": 1.0}, 300, 300)
    assert whole == {"size": "100.00% 100.00%", "position": "0.00% 0.00%"}


def test_filters_narrow_the_faces(client: Any) -> None:
    grace = client.get("/api/faces", params={"q": "grace"}).json()
    assert grace["totals"]["faces"] == 2 and grace["emotions"] == [{"emotion": "CALM",
                                                                    "faces": 2}]
    none = client.get("/api/faces", params={"platform": "mastodon"}).json()
    assert none["totals"]["faces"] == 0 and none["gallery"] == [] and none["pages"] == 0
    assert "No faces for these filters." in client.get("/faces?platform=mastodon").text


def test_the_gallery_is_paginated(demo_lake: Lake) -> None:
    from fastapi.testclient import TestClient

    from socialsight.web.app import create_app

    app = create_app(demo_lake, dashboard_settings(demo_lake, photos_per_page=2))
    with TestClient(app, base_url="http://localhost") as small:
        first, last = (small.get("/api/faces", params={"page": n}).json() for n in (1, 3))
        assert (first["page"], first["pages"], len(first["gallery"])) == (1, 3, 2)
        assert len(last["gallery"]) == 1 and first["totals"]["faces"] == 5
        seen = {(f["tweetid"], f["face"]) for n in (1, 2, 3)
                for f in small.get("/api/faces", params={"page": n}).json()["gallery"]}
        assert len(seen) == 5
        assert 'rel="next" href="?page=2"' in small.get("/faces").text
        for bad in ("4", "0", "-1", "two", "9" * 30):
            answer = small.get("/api/faces", params={"page": bad})
            assert answer.status_code == 400 and "page" in answer.json()["error"]


def copy_lake(demo_lake: Lake, tmp_path: Path) -> Lake:
    """A copy of the demo lake a test may change (the session's lake stays as it is)."""
    return Lake(str(shutil.copytree(demo_lake.root, tmp_path / "lake")))


def rewrite_rows(lake: Lake, table: str, change: Callable[[dict[str, Any]], None]) -> None:
    """Change every row of a lake table in place, file by file."""
    for path in lake.files(table):
        rows = lake.read_file(path)
        changed = rows.to_pylist()
        for row in changed:
            change(row)
        lake.rewrite(path, pa.Table.from_pylist(changed, schema=rows.schema))


@pytest.fixture
def sensitive_lake(demo_lake: Lake, tmp_path: Path) -> Lake:
    """A copy of the demo lake in which the astronaut's first post is marked sensitive."""
    lake = copy_lake(demo_lake, tmp_path)

    def mark(row: dict[str, Any]) -> None:
        row["possibly_sensitive"] = row["possibly_sensitive"] or row["id_str"] == ASTRONAUT_POST

    rewrite_rows(lake, "tweets", mark)
    return lake


def test_faces_of_sensitive_photos_are_blurred_until_clicked(sensitive_lake: Lake) -> None:
    from fastapi.testclient import TestClient

    from socialsight.web.app import create_app

    app = create_app(sensitive_lake, dashboard_settings(sensitive_lake))
    with TestClient(app, base_url="http://localhost") as own:
        gallery = own.get("/api/faces").json()["gallery"]
        blurred = [f for f in gallery if f["sensitive"]]
        assert [f["tweetid"] for f in blurred] == [ASTRONAUT_POST]
        face = blurred[0]
        assert face["src"] == f"/photos/{face['sha256']}?size=640&blur=1"
        page = own.get("/faces").text
        assert f"url('/photos/{face['sha256']}?size=640&amp;blur=1')" in page
        assert f'data-src="/photos/{face["sha256"]}?size=640"' in page
        assert page.count('class="face blurred"') == 1


def test_the_faces_page_draws_its_charts_and_faces(page: Any) -> None:
    page.goto("/faces")
    for chart in ("emotions", "ages", "genders"):
        page.wait_for_selector(f"#{chart}[data-rendered='true'] .main-svg")
    faces = page.locator("#face-gallery .face")
    assert faces.count() == 5
    shown = faces.first.evaluate("f => getComputedStyle(f).backgroundImage")
    assert "/photos/" in shown and "size=640" in shown
    assert page.locator("#emotions").inner_text().count("Happy") == 1

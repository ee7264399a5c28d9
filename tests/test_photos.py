"""What is analysed of a post's media: import, enrich, SQL and the dashboard agree.

A post's videos and animated GIFs are media, not photos: none of them counts them as
photos. Enrich analyses their preview images too (``vision.previews``), marking those
rows ``preview``; the overview counts photos, previews and videos apart, and once
enrich has run nothing is left waiting.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pyarrow as pa

from socialsight.config import load_settings
from socialsight.enrich import Enricher, Plan
from socialsight.explore.overview import pipeline_status
from socialsight.lake.schema import MEDIA_REKOGNITION
from socialsight.lake.store import Lake
from socialsight.query.engine import Engine
from tests.conftest import status, write_jsonl
from tests.test_enrich import PhotoHandler, enrich_env, label_names, photos, rows  # noqa: F401


def _found(output: str) -> int:
    """The "photos found" of ``socialsight import``'s summary."""
    match = re.search(r"photos found\D+([\d,]+)", output)
    assert match, output
    return int(match.group(1).replace(",", ""))


def _pipeline(lake_dir: Path) -> dict[str, Any]:
    engine = Engine(Lake(str(lake_dir)))
    try:
        return pipeline_status(engine)
    finally:
        engine.close()


def _moving(post: dict[str, Any], kind: str, thumbnail: str) -> dict[str, Any]:
    """``post`` with its one medium turned into a video or an animated GIF (whose
    media_url is a still of it, as X sends them)."""
    (medium,) = post["extended_entities"]["media"]
    medium.update(type=kind, media_url_https=thumbnail,
                  media_url=thumbnail.replace("https://", "http://"),
                  video_info={"aspect_ratio": [16, 9], "variants": [
                      {"content_type": "video/mp4", "url": f"{thumbnail}.mp4"}]})
    post["entities"]["media"] = [dict(medium)]
    return post


def _posts(tmp_path: Path, photos: str) -> Path:  # noqa: F811
    return write_jsonl(tmp_path / "posts.jsonl", [
        status(1, "A cup of coffee", photos=[f"{photos}/coffee.png"]),
        _moving(status(2, "A video of a cat", photos=[f"{photos}/chelsea.png"]),
                "video", f"{photos}/chelsea.png"),
        _moving(status(3, "A GIF of astronauts", photos=[f"{photos}/astronaut.png"]),
                "animated_gif", f"{photos}/astronaut.png"),
        status(4, "No media at all"),
    ])


def test_video_and_gif_previews_are_analysed_as_previews_and_photos_stay_photos(
        cli, tmp_path, photos, enrich_env):  # noqa: F811
    lake = tmp_path / "lake"
    result = cli("import", str(_posts(tmp_path, photos)), "--lake", str(lake))
    assert result.exit_code == 0, result.output

    assert _found(result.output) == 1  # photos found: the previews are not photos
    assert Plan(Lake(str(lake))).total == 3
    assert Plan(Lake(str(lake)), previews=False).total == 1
    before = _pipeline(lake)
    assert {k: before[k] for k in ("photos", "previews", "videos_and_gifs", "photos_waiting",
                                   "previews_analysed")} == {
        "photos": 1, "previews": 2, "videos_and_gifs": 2, "photos_waiting": 1,
        "previews_analysed": 0}

    result = cli("enrich", "--lake", str(lake))
    assert result.exit_code == 0, result.output
    after = _pipeline(lake)
    assert {k: after[k] for k in ("photos", "photos_analysed", "photos_waiting", "previews",
                                  "previews_analysed", "photos_failed")} == {
        "photos": 1, "photos_analysed": 1, "photos_waiting": 0, "previews": 2,
        "previews_analysed": 2, "photos_failed": 0}
    assert PhotoHandler.hits.get("chelsea.png") == 1  # the video's still, fetched once
    got = {r["tweetid"]: r for r in rows(lake)}
    assert {t: r["preview"] for t, r in got.items()} == {1: False, 2: True, 3: True}
    assert "Cat" in label_names(got[2]) and "Coffee" in label_names(got[1])
    assert all(not r["analysis_errors"] for r in got.values())

    # SQL sees the same photos and previews, keyed and flagged as media_rekognition has them.
    engine = Engine(Lake(str(lake)))
    try:
        listed = engine.execute(
            "SELECT tweetid, mediaid, type, preview FROM tweet_photos ORDER BY tweetid"
        ).table.to_pylist()
        analysed = engine.execute(
            "SELECT tweetid, mediaid, preview FROM media_rekognition ORDER BY tweetid"
        ).table.to_pylist()
    finally:
        engine.close()
    assert [(r["tweetid"], r["type"], r["preview"]) for r in listed] == [
        (1, "photo", False), (2, "video", True), (3, "animated_gif", True)]
    assert [{k: r[k] for k in ("tweetid", "mediaid", "preview")} for r in listed] == analysed


def test_the_photo_page_says_what_a_preview_is(cli, tmp_path, photos, enrich_env):  # noqa: F811
    from fastapi.testclient import TestClient

    from socialsight.web.app import create_app
    from tests.web.conftest import dashboard_settings

    lake_dir = tmp_path / "lake"
    assert cli("import", str(_posts(tmp_path, photos)), "--lake", str(lake_dir)).exit_code == 0
    assert cli("enrich", "--lake", str(lake_dir)).exit_code == 0
    lake = Lake(str(lake_dir))
    with TestClient(create_app(lake, dashboard_settings(lake)),
                    base_url="http://localhost") as client:
        badges = {ids: client.get(f"/api/photo/{ids[0]}/{ids[1]}").json()["photo"]["preview"]
                  for ids in (("1", "10"), ("2", "20"), ("3", "30"))}
        assert badges == {("1", "10"): None, ("2", "20"): "video preview",
                          ("3", "30"): "GIF preview"}
        page = client.get("/photo/3/30")
        assert page.status_code == 200 and '<span class="pill">GIF preview</span>' in page.text
        assert "preview</span>" not in client.get("/photo/1/10").text
        for params in ({}, {"q": "a"}):  # the whole lake, and through the filters' CTEs
            totals = client.get("/api/overview", params=params).json()["totals"]
            assert (totals["photos"], totals["analysed_photos"], totals["analysed_previews"],
                    totals["videos_and_gifs"]) == (1, 1, 2, 2)
        assert "Video and GIF previews analysed" in client.get("/").text


def test_previews_can_be_switched_off(cli, tmp_path, photos, enrich_env):  # noqa: F811
    lake_dir = tmp_path / "lake"
    assert cli("import", str(_posts(tmp_path, photos)), "--lake", str(lake_dir)).exit_code == 0
    settings = load_settings(lake=str(lake_dir))
    settings.vision.previews = False
    summary = Enricher(Lake(str(lake_dir)), settings).run()
    assert summary.photos == 1
    assert [(r["tweetid"], r["preview"]) for r in rows(lake_dir)] == [(1, False)]
    assert "chelsea.png" not in PhotoHandler.hits  # no preview is fetched
    status_now = _pipeline(lake_dir)
    assert (status_now["photos_waiting"], status_now["previews_analysed"]) == (0, 0)


def test_a_retried_preview_stays_a_preview(cli, tmp_path, photos, enrich_env):  # noqa: F811
    lake_dir = tmp_path / "lake"
    assert cli("import", str(_posts(tmp_path, photos)), "--lake", str(lake_dir)).exit_code == 0
    PhotoHandler.fail_until["chelsea.png"] = 1_000  # the video's still: 503 every time
    assert cli("enrich", "--lake", str(lake_dir)).exit_code == 0
    video = next(r for r in rows(lake_dir) if r["tweetid"] == 2)
    assert video["preview"] is True and video["analysis_errors"]
    PhotoHandler.fail_until.clear()
    result = cli("retry", "--lake", str(lake_dir))
    assert result.exit_code == 0, result.output
    video = next(r for r in rows(lake_dir) if r["tweetid"] == 2)
    assert video["preview"] is True and not video["analysis_errors"]
    assert "Cat" in label_names(video)


def test_rows_written_before_previews_read_null_and_count_as_photos(tmp_path):
    old = MEDIA_REKOGNITION.remove(MEDIA_REKOGNITION.get_field_index("preview"))
    rows_then = pa.Table.from_pylist(
        [{"tweetid": 1, "mediaid": "10", "media_url": "https://example.com/a.jpg"}],
        schema=old).append_column("dt", pa.array(["2024-07-01"]))
    lake = Lake(str(tmp_path / "lake"))
    lake.commit({"media_rekognition": rows_then})
    engine = Engine(lake)
    try:
        table = engine.execute("SELECT tweetid, preview FROM media_rekognition").table
        assert table.to_pylist() == [{"tweetid": 1, "preview": None}]
        status_now = pipeline_status(engine)
    finally:
        engine.close()
    assert (status_now["photos_analysed"], status_now["previews_analysed"]) == (1, 0)


def test_the_real_x_fixture_counts_the_same_photos_everywhere(cli, tmp_path, shared_v1):
    files = sorted(str(p) for p in shared_v1.glob("*.jsonl"))
    assert files, f"no *.jsonl in {shared_v1}"
    lake = tmp_path / "lake"
    result = cli("import", *files, "--lake", str(lake))
    assert result.exit_code == 0, result.output

    found = _found(result.output)
    status_now = _pipeline(lake)
    assert found > 0
    assert Plan(Lake(str(lake))).total == found + 2  # and the two previews
    assert Plan(Lake(str(lake)), previews=False).total == found
    assert status_now["photos"] == status_now["photos_waiting"] == found
    assert status_now["videos_and_gifs"] == status_now["previews"] == 2  # a video, a GIF
    engine = Engine(Lake(str(lake)))
    try:
        previews = engine.execute("SELECT type, media_url FROM tweet_photos WHERE preview "
                                  "ORDER BY type").table.to_pylist()
    finally:
        engine.close()
    assert [p["type"] for p in previews] == ["animated_gif", "video"]
    assert all(p["media_url"].startswith("https://pbs.twimg.com/") for p in previews)

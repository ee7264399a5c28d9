"""What counts as a photo: import, enrich and the dashboard's overview agree.

A post's videos and animated GIFs are media, not photos: none of the three counts
them as photos, the overview counts them apart, and once enrich has run no photo is
left waiting.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from socialsight.enrich import Plan
from socialsight.explore.overview import pipeline_status
from socialsight.lake.store import Lake
from socialsight.query.engine import Engine
from tests.conftest import status, write_jsonl
from tests.test_enrich import PhotoHandler, enrich_env, photos  # noqa: F401


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


def test_a_video_and_a_gif_are_not_photos_and_no_photo_is_left_waiting(
        cli, tmp_path, photos, enrich_env):  # noqa: F811
    posts = write_jsonl(tmp_path / "posts.jsonl", [
        status(1, "A cup of coffee", photos=[f"{photos}/coffee.png"]),
        _moving(status(2, "A video of a cat", photos=[f"{photos}/chelsea.png"]),
                "video", f"{photos}/chelsea.png"),
        _moving(status(3, "A GIF of astronauts", photos=[f"{photos}/astronaut.png"]),
                "animated_gif", f"{photos}/astronaut.png"),
        status(4, "No media at all"),
    ])
    lake = tmp_path / "lake"
    result = cli("import", str(posts), "--lake", str(lake))
    assert result.exit_code == 0, result.output

    assert _found(result.output) == 1
    assert Plan(Lake(str(lake))).total == 1
    before = _pipeline(lake)
    assert (before["photos"], before["videos_and_gifs"], before["photos_waiting"]) == (1, 2, 1)

    result = cli("enrich", "--lake", str(lake))
    assert result.exit_code == 0, result.output
    after = _pipeline(lake)
    assert (after["photos"], after["photos_analysed"], after["photos_waiting"]) == (1, 1, 0)
    assert PhotoHandler.hits.get("chelsea.png") is None  # the video's still is not fetched

    # SQL sees the same photos, keyed as media_rekognition keys them.
    engine = Engine(Lake(str(lake)))
    try:
        photo_rows = engine.execute(
            "SELECT tweetid, mediaid, type FROM tweet_photos").table.to_pylist()
        analysed = engine.execute(
            "SELECT tweetid, mediaid FROM media_rekognition").table.to_pylist()
    finally:
        engine.close()
    assert [(r["tweetid"], r["type"]) for r in photo_rows] == [(1, "photo")]
    assert [{k: r[k] for k in ("tweetid", "mediaid")} for r in photo_rows] == analysed


def test_the_real_x_fixture_counts_the_same_photos_everywhere(cli, tmp_path, shared_v1):
    files = sorted(str(p) for p in shared_v1.glob("*.jsonl"))
    assert files, f"no *.jsonl in {shared_v1}"
    lake = tmp_path / "lake"
    result = cli("import", *files, "--lake", str(lake))
    assert result.exit_code == 0, result.output

    found = _found(result.output)
    status_now = _pipeline(lake)
    assert found > 0
    assert Plan(Lake(str(lake))).total == found
    assert status_now["photos"] == status_now["photos_waiting"] == found
    assert status_now["videos_and_gifs"] == 2  # one video, one animated GIF

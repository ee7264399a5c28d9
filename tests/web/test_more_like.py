"""Look-alikes on a lake built by the real pipeline: versions of a photo (re-encoded,
resized, captioned) counted together on Buzz, and "more like this" on the photo page,
in its JSON twin and in the Python API (issue 17)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw, ImageOps

import socialsight
from socialsight.lake.store import Lake
from tests.conftest import loopback_server, status, write_jsonl
from tests.test_enrich import PhotoHandler, _skimage_data, enrich_env  # noqa: F401

COFFEE = ("1", "10")


def _versions(folder: Path) -> None:
    data = _skimage_data()
    for name in ("coffee.png", "chelsea.png", "astronaut.png", "rocket.jpg"):
        (folder / name).write_bytes((data / name).read_bytes())
    coffee = Image.open(data / "coffee.png").convert("RGB")
    buffer = io.BytesIO()
    coffee.save(buffer, "JPEG", quality=40)
    (folder / "coffee-q40.jpg").write_bytes(buffer.getvalue())
    coffee.resize((coffee.width // 2, coffee.height // 2)).save(folder / "coffee-half.png")
    captioned = ImageOps.expand(coffee, border=(0, coffee.height // 6, 0, 0), fill="white")
    ImageDraw.Draw(captioned).text((10, 10), "monday mood", fill="black", font_size=28)
    captioned.save(folder / "coffee-caption.png")


@pytest.fixture
def versions_lake(cli: Any, tmp_path: Path, enrich_env: None) -> Iterator[Lake]:  # noqa: F811
    folder = tmp_path / "photos"
    folder.mkdir()
    _versions(folder)

    class Handler(PhotoHandler):
        pass

    Handler.folder, Handler.hits, Handler.fail_until, Handler.delay = folder, {}, {}, 0.0
    with loopback_server(Handler) as port:
        base = f"http://localhost:{port}"
        posts = write_jsonl(tmp_path / "posts.jsonl", [
            status(1, "Morning <script>alert(1)</script> coffee", photos=[f"{base}/coffee.png"]),
            status(2, "coffee again", photos=[f"{base}/coffee-q40.jpg"]),
            status(3, "small coffee", photos=[f"{base}/coffee-half.png"]),
            status(4, "monday", photos=[f"{base}/coffee-caption.png"], sensitive=True),
            status(5, "my cat", photos=[f"{base}/chelsea.png"]),
            status(6, "launch", photos=[f"{base}/astronaut.png"]),
            status(7, "lift-off", photos=[f"{base}/rocket.jpg"]),
            # a photo that cannot be fetched: a row without an embedding in the same file
            # as the others (DuckDB 2.0's list_inner_product refused the whole file)
            status(8, "gone", photos=[f"{base}/missing.jpg"]),
        ])
        assert cli("import", str(posts)).exit_code == 0
        result = cli("enrich")
        assert result.exit_code == 0, result.output
    yield Lake(str(tmp_path / "lake"))


@pytest.mark.slow
def test_versions_count_together_and_more_like_this_ranks_them_first(
        versions_lake: Lake) -> None:
    from fastapi.testclient import TestClient

    from socialsight.web.app import create_app
    from tests.web.conftest import dashboard_settings

    with socialsight.open_lake(versions_lake.url) as lake:
        groups = lake.sql("SELECT m.tweetid, v.version_of, v.how, v.versions FROM "
                          "media_rekognition m JOIN photo_versions v USING (sha256) "
                          "ORDER BY m.tweetid", dialect="duckdb").to_pylist()
        coffee = {r["version_of"] for r in groups if r["tweetid"] <= 4}
        assert len(coffee) == 1 and all(r["versions"] == 4 for r in groups if r["tweetid"] <= 4)
        others = [r for r in groups if r["tweetid"] > 4]
        assert len({r["version_of"] for r in others}) == 3 and coffee.isdisjoint(
            r["version_of"] for r in others)
        assert all(r["how"] == "same bytes" and r["versions"] == 1 for r in others)
        assert "photo_versions" in lake.tables()
        sha = lake.sql("SELECT sha256 FROM media_rekognition WHERE tweetid = 1"
                       ).column("sha256")[0].as_py()
        alike = lake.more_like(sha, k=6)
        assert [r["tweetid"] for r in alike[:3]] and {r["tweetid"] for r in alike[:3]} == {
            "2", "3", "4"}
        assert all(r["version"] for r in alike[:3]) and not any(r["version"] for r in alike[3:])
        assert set(alike[0]) == {"sha256", "tweetid", "mediaid", "media_url", "similarity",
                                 "version"}
        sims = [r["similarity"] for r in alike]
        assert sims == sorted(sims, reverse=True)
        assert {r["tweetid"] for r in lake.versions(sha)} == {"2", "3", "4"}
        # a photo file: its own embedding, compared with the lake's
        from_file = lake.more_like(_skimage_data() / "coffee.png", k=1)
        assert from_file[0]["sha256"] == sha and from_file[0]["similarity"] > 0.99

    with TestClient(create_app(versions_lake, dashboard_settings(versions_lake)),
                    base_url="http://localhost") as client:
        buzz = client.get("/api/buzz").json()["reshared"]
        assert len(buzz) == 1 and buzz[0]["posts"] == 4 and buzz[0]["versions"] == 4
        assert buzz[0]["tweetid"] == "1" and "4 versions" in buzz[0]["caption"]
        data = client.get(f"/api/photo/{COFFEE[0]}/{COFFEE[1]}").json()
        strip = data["more_like"]
        assert [c["sha256"] for c in strip] == [r["sha256"] for r in alike] + [
            c["sha256"] for c in strip[len(alike):]]
        assert {c["tweetid"] for c in strip[:3]} == {"2", "3", "4"}
        assert all(c["version"] for c in strip[:3]) and data["more_like_note"] is None
        captioned = next(c for c in strip if c["tweetid"] == "4")
        assert captioned["sensitive"] is True  # its post is marked: blurred here too
        page = client.get(f"/photo/{COFFEE[0]}/{COFFEE[1]}").text
        assert 'id="more-like"' in page and 'href="/photo/2/20"' in page
        assert f'src="/photos/{captioned["sha256"]}?size=320&amp;blur=1"' in page
        assert "version · " in page and "<script>alert" not in page


def test_an_old_lake_without_embeddings_gives_an_empty_strip_and_a_note(
        tmp_path: Path, cli: Any) -> None:
    import pyarrow as pa

    from socialsight.enrich.rows import MEDIA_ROWS
    from socialsight.explore.photo import more_like_this
    from socialsight.query.engine import Engine

    posts = write_jsonl(tmp_path / "posts.jsonl", [status(1, "old", photos=[
        "https://example.org/a.jpg"])])
    assert cli("import", str(posts)).exit_code == 0
    lake = Lake(str(tmp_path / "lake"))
    old = MEDIA_ROWS.remove(MEDIA_ROWS.get_field_index("phash"))
    old = old.remove(old.get_field_index("embedding"))
    row = {name: None for name in old.names} | {"tweetid": 1, "mediaid": "10",
                                                "sha256": "a" * 64}
    lake.commit({"media_rekognition": pa.Table.from_pylist([row], schema=old)})
    engine = Engine(lake)
    got = more_like_this(engine, "a" * 64)
    assert got["more_like"] == [] and "before embeddings" in got["more_like_note"]
    assert engine.rows("SELECT version_of, how FROM photo_versions") == [
        {"version_of": "a" * 64, "how": "same bytes"}]
    with socialsight.open_lake(lake.url) as handle:
        assert handle.more_like("a" * 64) == [] and handle.versions("a" * 64) == []

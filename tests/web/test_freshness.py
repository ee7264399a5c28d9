"""Pages are remembered between requests, but never past a change to the lake."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from fastapi.testclient import TestClient

from socialsight.ingest import import_files
from socialsight.lake.store import Lake
from socialsight.web.app import create_app
from tests.web.conftest import dashboard_settings

DEMO_POSTS = Path(__file__).resolve().parents[2] / "examples" / "demo" / "posts.jsonl"


def test_a_commit_shows_on_the_next_request(demo_lake: Lake, tmp_path: Path) -> None:
    copy = Lake(str(shutil.copytree(demo_lake.root, tmp_path / "lake")))
    client = TestClient(create_app(copy, dashboard_settings(copy)), base_url="http://localhost")
    assert client.get("/api/overview").json()["totals"]["posts"] == 26
    post = json.loads(DEMO_POSTS.read_text(encoding="utf-8").splitlines()[0])
    post.update(id=9100000000000001, id_str="9100000000000001", text="A new post #fresh")
    new = tmp_path / "new.jsonl"
    new.write_text(json.dumps(post).replace("{photos}", "http://localhost:9"), encoding="utf-8")
    import_files(copy, [str(new)])
    after = client.get("/api/overview").json()
    assert after["totals"]["posts"] == 27
    assert after["pipeline"]["posts_waiting"] == 1  # not analysed yet, and the page says so


def test_a_forgotten_post_and_photo_leave_the_pages_and_the_photo_cache(
        demo_lake: Lake, tmp_path: Path) -> None:
    from socialsight.forget import Request, forget

    copy = Lake(str(shutil.copytree(demo_lake.root, tmp_path / "lake")))
    client = TestClient(create_app(copy, dashboard_settings(copy)), base_url="http://localhost")
    assert client.get("/api/overview").json()["totals"]["posts"] == 26
    row = copy.read("media_rekognition", ["tweetid", "sha256"]).to_pylist()[0]
    first = client.get(f"/photos/{row['sha256']}?size=320")  # now cached, here and there
    assert first.status_code == 200 and "no-cache" in first.headers["cache-control"]
    again = {"If-None-Match": first.headers["etag"]}
    assert client.get(f"/photos/{row['sha256']}?size=320", headers=again).status_code == 304
    forget(copy, Request(photos=[row["sha256"]]))
    assert client.get(f"/photos/{row['sha256']}?size=320").status_code == 404
    assert client.get(f"/photos/{row['sha256']}?size=320", headers=again).status_code == 404
    forget(copy, Request(posts=[str(row["tweetid"])]))
    assert client.get("/api/overview").json()["totals"]["posts"] == 25

"""The lake on S3: every command on ``s3://bucket/prefix`` against a real S3 server (moto's
server mode) on loopback, with the same answers as a local lake, and a batch cut off by
a crash seen whole or not at all."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from socialsight.errors import LakeError
from socialsight.lake.store import Lake
from socialsight.media.store import PhotoStore
from socialsight.query.engine import seed_queries
from tests.conftest import status, write_jsonl
from tests.s3server import S3Server, moto_server, new_bucket
from tests.test_enrich import PhotoHandler, _skimage_data, enrich_env, photos  # noqa: F401

pytestmark = pytest.mark.s3

DAY = 86_400_000


@pytest.fixture(scope="module")
def s3_server() -> Iterator[S3Server]:
    with moto_server() as server:
        yield server


@pytest.fixture
def bucket(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh bucket on the loopback server, and the AWS environment that reaches it."""
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()  # no client made for another endpoint
    yield new_bucket(s3_server, monkeypatch)
    s3fs.S3FileSystem.clear_instance_cache()


def objects(server: S3Server, bucket: str) -> list[str]:
    """Every key in the bucket, straight from the server."""
    pages = server.client().get_paginator("list_objects_v2").paginate(  # type: ignore[attr-defined]
        Bucket=bucket)
    return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))


def seed_answers(lake: str) -> dict[str, list[str]]:
    """Every seed query's rows (as sorted JSON) on ``lake``, through one engine."""
    from socialsight.query.engine import Engine

    engine = Engine(Lake(lake))
    try:
        return {name: sorted(orjson.dumps(row, option=orjson.OPT_SORT_KEYS).decode()
                             for row in engine.execute(sql).table.to_pylist())
                for name, sql in seed_queries().items()}
    finally:
        engine.close()


@pytest.mark.slow
def test_import_enrich_query_and_errors_on_s3_answer_as_a_local_lake_does(
        cli, tmp_path, photos, enrich_env, s3_server, bucket):  # noqa: F811
    posts = write_jsonl(tmp_path / "posts.jsonl", [
        status(1, "Tim Cook loves his morning #coffee in Paris", photos=[f"{photos}/coffee.png"]),
        status(2, "Launch day in Houston!", photos=[f"{photos}/astronaut.png"], ms=DAY * 18091),
        status(3, "RT the same coffee", photos=[f"{photos}/coffee.png"]),
        status(4, "this one is gone", photos=[f"{photos}/missing.jpg"], sensitive=True),
        status(5, "Worst service ever at the Apple store in London"),
    ])
    url = f"s3://{bucket}/social/lake"
    for lake in (url, str(tmp_path / "local-lake")):
        imported = cli("import", str(posts), "--lake", lake)
        assert imported.exit_code == 0, imported.output
        assert "posts written           │ 5" in imported.output
        enriched = cli("enrich", "--lake", lake)
        assert enriched.exit_code == 0, enriched.output
    assert not (tmp_path / "lake").exists()  # nothing went to the default local lake

    keys = objects(s3_server, bucket)
    assert all(k.startswith("social/lake/") for k in keys)
    assert any(k.startswith("social/lake/media_rekognition/dt=") for k in keys)
    assert len([k for k in keys if k.startswith("social/lake/_media/")
                and not k.startswith("social/lake/_media/analysis/")]) == 2  # each photo once
    assert not [k for k in keys if "/_staging/" in k or "/_journal/" in k or k.endswith(".tmp")]

    on_s3 = seed_answers(url)
    assert on_s3 == seed_answers(str(tmp_path / "local-lake"))
    for name in ("top_labels", "top_entities"):  # and the same through the command
        result = cli("query", "--seed", name, "--format", "json", "--lake", url)
        assert result.exit_code == 0, result.output
        assert sorted(orjson.dumps(r, option=orjson.OPT_SORT_KEYS).decode()
                      for r in orjson.loads(result.stdout)) == on_s3[name]
    assert {"Coffee", "Person"} <= {orjson.loads(r)["label_name"] for r in on_s3["top_labels"]}
    assert [orjson.loads(r)["emotion"] for r in on_s3["top_emotions"]] == ["HAPPY"]
    assert {"Houston", "London"} <= {orjson.loads(r)["entity"] for r in on_s3["top_entities"]}
    assert {orjson.loads(r)["day"] for r in on_s3["sentiment_over_time"]} == {
        "2019-07-12", "2019-07-14"}

    listed = cli("errors", "--lake", url)
    assert listed.exit_code == 0
    assert "1 errors" in listed.output and "fetch" in listed.output
    assert "HTTP 404" in cli("errors", "--lake", url, "--stage", "fetch").output.replace("\n", "")

    again = cli("enrich", "--lake", url)
    assert "everything is analysed already" in again.output
    assert objects(s3_server, bucket) == keys  # nothing rewritten, nothing added


@pytest.mark.slow
def test_a_batch_cut_off_mid_publish_is_hidden_until_the_next_writer_finishes_it(
        cli, tmp_path, s3_server, bucket, monkeypatch):
    from socialsight.ingest import import_files

    url = f"s3://{bucket}/lake"
    first = write_jsonl(tmp_path / "first.jsonl", [status(1, "before the crash")])
    assert cli("import", str(first), "--lake", url).exit_code == 0
    # Two days: the batch is two objects, and the writer dies after moving one of them.
    cut = write_jsonl(tmp_path / "cut.jsonl", [
        status(2, "day one", ms=DAY * 18000), status(3, "day two", ms=DAY * 18001)])
    writer = Lake(url)
    moves: list[str] = []
    real_mv = writer.fs.mv

    def dies_after_one_move(src: str, dst: str, **kwargs: Any) -> None:
        if moves:
            raise ConnectionResetError("connection reset by peer")
        moves.append(dst)
        real_mv(src, dst, **kwargs)

    monkeypatch.setattr(writer.fs, "mv", dies_after_one_move)
    with pytest.raises(LakeError, match="stays hidden until the next write"):
        import_files(writer, [str(cut)])
    monkeypatch.undo()  # the environment again, and the real mv
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server.endpoint)
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)

    # The moved object is really there, but no reader sees it: not the lake, not SQL.
    moved = moves[0].split("/", 1)[1]
    assert moved in objects(s3_server, bucket)
    assert Lake(url).read("tweets").column("id").to_pylist() == [1]
    counted = cli("query", "SELECT count(*) AS n, max(id) AS top FROM tweets",
                  "--format", "json", "--lake", url)
    assert counted.exit_code == 0, counted.output
    assert orjson.loads(counted.stdout) == [{"n": 1, "top": 1}]

    # The next writer finishes the batch first: all of it appears, nothing twice.
    later = write_jsonl(tmp_path / "later.jsonl", [status(4, "after the crash")])
    assert cli("import", str(later), "--lake", url).exit_code == 0
    assert sorted(Lake(url).read("tweets").column("id").to_pylist()) == [1, 2, 3, 4]
    keys = objects(s3_server, bucket)
    assert not [k for k in keys if "/_staging/" in k or "/_journal/" in k]
    again = cli("import", str(cut), "--lake", url)
    assert "duplicates skipped      │ 2" in again.output


def test_writing_to_a_bucket_that_does_not_exist_is_a_clear_error(
        cli, tmp_path, s3_server, bucket):
    posts = write_jsonl(tmp_path / "posts.jsonl", [status(1, "hello")])
    result = cli("import", str(posts), "--lake", "s3://no-such-bucket-here/lake")
    assert result.exit_code == 1
    assert "no bucket 'no-such-bucket-here'" in result.output
    assert "Traceback" not in result.output
    names = {b["Name"] for b in s3_server.client().list_buckets()["Buckets"]}  # type: ignore
    assert "no-such-bucket-here" not in names  # refused, not created


def test_the_dashboard_serves_photos_from_an_s3_lake(bucket):
    from fastapi.testclient import TestClient
    from PIL import Image

    from socialsight.config import load_settings
    from socialsight.web.app import create_app

    lake = Lake(f"s3://{bucket}/lake")
    coffee = (_skimage_data() / "coffee.png").read_bytes()
    sha = PhotoStore(lake).put(coffee, "image/png")
    with TestClient(create_app(lake, load_settings(lake=lake.url)),
                    base_url="http://localhost") as client:
        whole = client.get(f"/photos/{sha}")
        assert whole.status_code == 200 and whole.content == coffee
        assert whole.headers["content-type"] == "image/png"
        thumb = client.get(f"/photos/{sha}", params={"size": 160})
        assert thumb.status_code == 200
        assert Image.open(_bytes_io(thumb.content)).width == 160
        assert client.get(f"/photos/{'0' * 64}").status_code == 404


def _bytes_io(data: bytes) -> Any:
    import io

    return io.BytesIO(data)


def test_a_photo_store_on_s3_keeps_each_photo_once_and_whole(bucket, s3_server):
    lake = Lake(f"s3://{bucket}/lake")
    store = PhotoStore(lake)
    data = (_skimage_data() / "coffee.png").read_bytes()
    sha = store.put(data, "image/png")
    assert store.put(data, "image/png") == sha
    assert store.has(sha, "image/png") and store.get(sha, "image/png") == data
    assert objects(s3_server, bucket) == [f"lake/_media/{sha[:2]}/{sha}.png"]

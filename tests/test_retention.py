"""Retention windows on posts of known ages, and a lake that keeps no face embeddings."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest

from socialsight.config import RetentionSettings
from socialsight.lake.audit import records
from socialsight.lake.store import Lake
from socialsight.retention import apply, cutoff
from tests.conftest import status, write_jsonl
from tests.test_enrich import PhotoHandler, enrich_env, photos, rows  # noqa: F401
from tests.test_forget import _holding

pytestmark = pytest.mark.slow

DAY = 86_400_000
TODAY = date(2024, 3, 31)
MS_TODAY = 1_711_843_200_000  # 2024-03-31T00:00:00Z


@pytest.fixture
def aged(cli, tmp_path, photos, enrich_env):  # noqa: F811
    """Posts 40, 20 and 2 days old; the oldest and newest show the same photo."""
    posts = write_jsonl(tmp_path / "posts.jsonl", [
        status(1, "forty days old qqold", ms=MS_TODAY - 40 * DAY,
               photos=[f"{photos}/coffee.png"]),
        status(2, "twenty days old", ms=MS_TODAY - 20 * DAY,
               photos=[f"{photos}/astronaut.png"]),
        status(3, "two days old", ms=MS_TODAY - 2 * DAY + 3_600_000,
               photos=[f"{photos}/coffee.png?new"]),
    ])
    assert cli("import", str(posts)).exit_code == 0
    assert cli("enrich").exit_code == 0
    return Lake(str(tmp_path / "lake"))


def _sha(name: str) -> str:
    return hashlib.sha256((PhotoHandler.folder / name).read_bytes()).hexdigest()


def test_the_cutoff_counts_days_back_from_today() -> None:
    assert cutoff(30, TODAY) == "2024-03-01"


def test_posts_past_their_window_go_with_photos_no_newer_post_shows(aged, tmp_path) -> None:
    lake_dir = tmp_path / "lake"
    dry = apply(aged, RetentionSettings(posts_days=30), today=TODAY, dry_run=True)
    assert dry.partitions and sorted(aged.read("tweets").column("id").to_pylist()) == [1, 2, 3]
    summary = apply(aged, RetentionSettings(posts_days=30), today=TODAY)
    assert summary.rows["tweets"] == 1
    assert sorted(aged.read("tweets").column("id").to_pylist()) == [2, 3]
    assert [r["tweetid"] for r in rows(lake_dir)] == [2, 3]
    assert _holding(lake_dir, "qqold") == []
    assert list((lake_dir / "_media").rglob(f"{_sha('coffee.png')}*"))  # post 3 shows it
    assert [r["action"] for r in records(aged)] == ["retention"]
    assert not apply(aged, RetentionSettings(posts_days=30), today=TODAY).changed


def test_photos_and_faces_past_their_windows_lose_bytes_and_embeddings(aged, tmp_path) -> None:
    lake_dir = tmp_path / "lake"
    astronaut = _sha("astronaut.png")
    before = {r["tweetid"]: r for r in rows(lake_dir)}
    assert before[2]["face_embeddings"] and before[2]["embedding"]
    summary = apply(aged, RetentionSettings(photos_days=10, faces_days=10), today=TODAY)
    assert summary.changed
    after = {r["tweetid"]: r for r in rows(lake_dir)}
    assert sorted(after) == [1, 2, 3]  # the rows stay
    for tid in (1, 2):
        assert after[tid]["embedding"] is None and after[tid]["local_features"] is None
        assert after[tid]["face_embeddings"] is None
        assert after[tid]["image_labels"]["celebrityrecognition"] is None
        assert after[tid]["image_labels"]["labels"] == before[tid]["image_labels"]["labels"]
    assert after[3]["embedding"] is not None  # within the window
    assert not list((lake_dir / "_media").rglob(f"{astronaut}*"))  # bytes and cache
    assert list((lake_dir / "_media").glob(f"*/{_sha('coffee.png')}.*"))  # post 3 shows it
    assert not apply(aged, RetentionSettings(photos_days=10, faces_days=10), today=TODAY).changed


def test_with_face_recognition_off_no_face_embedding_is_kept(
        cli, tmp_path, photos, enrich_env, monkeypatch) -> None:  # noqa: F811
    monkeypatch.setenv("SOCIALSIGHT_VISION_FACE_RECOGNITION", "false")
    posts = write_jsonl(tmp_path / "posts.jsonl", [
        status(1, "launch", photos=[f"{photos}/astronaut.png"])])
    cli("import", str(posts))
    assert cli("enrich").exit_code == 0
    (row,) = rows(tmp_path / "lake")
    assert row["image_labels"]["facedetails"]  # the face is still found
    assert row["face_embeddings"] is None
    for cached in (tmp_path / "lake" / "_media" / "analysis").rglob("*.json"):
        assert b'"embeddings":null' in cached.read_bytes()


def test_compact_applies_the_retention_windows_first(cli, tmp_path, monkeypatch) -> None:
    posts = write_jsonl(tmp_path / "posts.jsonl", [
        status(1, "old post"), status(2, "today", ms=int(__import__("time").time() * 1000))])
    cli("import", str(posts))
    monkeypatch.setenv("SOCIALSIGHT_RETENTION_POSTS_DAYS", "30")
    dry = cli("compact", "--dry-run")
    assert dry.exit_code == 0 and "would go" in dry.output
    assert sorted(Lake(str(tmp_path / "lake")).read("tweets").column("id").to_pylist()) == [1, 2]
    result = cli("compact")
    assert result.exit_code == 0, result.output
    assert "retention: 1 day(s) of posts" in result.output
    assert Lake(str(tmp_path / "lake")).read("tweets").column("id").to_pylist() == [2]

"""Overview: posts and photos over time by platform, the share with photos, the pipeline.

Photos are photos: a video's or GIF's preview image, analysed too, is counted apart
(``previews``), and the videos and GIFs themselves apart again (``videos_and_gifs``).
"""

from __future__ import annotations

from typing import Any

import pyarrow.compute as pc

from socialsight.explore.filters import PLATFORMS, Filters
from socialsight.lake.errors import PHOTO_STAGES, unresolved
from socialsight.lake.photos import OTHER_MEDIA_SQL, PHOTOS_SQL, PHOTOS_VIEW
from socialsight.query.engine import Engine

# Buckets an hour wide while the posts span at most this many days, a day wide after.
HOURLY_UP_TO_DAYS = 3
RECENT_ERRORS = 10
# Analysed rows (of media_rekognition or the photos CTE): photos, and video/GIF previews;
# a row written before previews were analysed (preview NULL) is a photo's.
_ANALYSED = ("count(*) FILTER (WHERE preview IS NOT TRUE) AS photos, "
             "count(*) FILTER (WHERE preview) AS previews")


def overview(engine: Engine, filters: Filters) -> dict[str, Any]:
    """Posts and photos over time by platform, and the share with photos (one scan)."""
    ctes, params = filters.ctes()
    hourly = engine.rows(
        f"WITH {ctes} SELECT date_trunc('hour', make_timestamp(timestamp_ms * 1000)) AS t, "
        "platform, count(*) AS posts, "
        f"count(*) FILTER (WHERE {PHOTOS_SQL} > 0) AS posts_with_photos, "
        f"coalesce(sum({PHOTOS_SQL}), 0) AS photos, "
        f"coalesce(sum({OTHER_MEDIA_SQL}), 0) AS videos "
        "FROM posts GROUP BY ALL ORDER BY t, platform", params)
    analysed = engine.rows(
        f"WITH {ctes} SELECT {_ANALYSED} FROM photos" if filters.params()
        else f"SELECT {_ANALYSED} FROM media_rekognition", params)[0]
    timed = [row["t"] for row in hourly if row["t"] is not None]
    span_days = (max(timed) - min(timed)).total_seconds() / 86_400 if timed else 0
    unit = "hour" if span_days <= HOURLY_UP_TO_DAYS else "day"
    posts = sum(int(row["posts"]) for row in hourly)
    with_photos = sum(int(row["posts_with_photos"]) for row in hourly)
    return {
        "filters": filters.as_dict(),
        "totals": {
            "posts": posts,
            "posts_with_photos": with_photos,
            "photo_share": round(with_photos / posts, 4) if posts else None,
            "photos": sum(int(row["photos"]) for row in hourly),
            "videos_and_gifs": sum(int(row["videos"]) for row in hourly),
            "analysed_photos": int(analysed["photos"]),
            "analysed_previews": int(analysed["previews"]),
        },
        "unit": unit,
        "over_time": _buckets(hourly, unit),
        "platforms": _platforms(hourly),
    }


def _buckets(hourly: list[dict[str, Any]], unit: str) -> list[dict[str, Any]]:
    """Hourly rows summed per ``unit`` (hour or day) and platform."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for row in hourly:
        if row["t"] is None:
            continue
        when = row["t"].strftime("%Y-%m-%dT%H:00" if unit == "hour" else "%Y-%m-%dT00:00")
        slot = out.setdefault((when, row["platform"]), {
            "t": when, "platform": row["platform"], "posts": 0, "photos": 0,
            "label": PLATFORMS.get(row["platform"], row["platform"])})
        slot["posts"] += int(row["posts"])
        slot["photos"] += int(row["photos"])
    return list(out.values())


def _platforms(hourly: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for row in hourly:
        slot = out.setdefault(row["platform"], {
            "platform": row["platform"], "posts": 0, "posts_with_photos": 0,
            "label": PLATFORMS.get(row["platform"], row["platform"])})
        slot["posts"] += int(row["posts"])
        slot["posts_with_photos"] += int(row["posts_with_photos"])
    return sorted(out.values(), key=lambda r: (-r["posts"], str(r["platform"])))


def pipeline_status(engine: Engine) -> dict[str, Any]:
    """The whole lake's backlog and errors (the filters do not apply: it is the pipeline's)."""
    counts = engine.rows(
        "SELECT (SELECT count(*) FROM tweets) AS posts, "
        "(SELECT count(*) FROM tweet_sentiments) AS posts_analysed, "
        f"(SELECT count(*) FILTER (WHERE NOT preview) FROM {PHOTOS_VIEW}) AS photos, "
        f"(SELECT count(*) FILTER (WHERE preview) FROM {PHOTOS_VIEW}) AS previews, "
        f"(SELECT count(*) FROM {PHOTOS_VIEW} t WHERE NOT t.preview AND NOT EXISTS ("
        "SELECT 1 FROM media_rekognition m WHERE m.tweetid = t.tweetid "
        "AND m.mediaid = t.mediaid)) AS photos_waiting, "
        f"(SELECT coalesce(sum({OTHER_MEDIA_SQL}), 0) FROM tweets) AS videos, "
        "(SELECT count(*) FILTER (WHERE preview IS NOT TRUE) FROM media_rekognition) "
        "AS photos_analysed, "
        "(SELECT count(*) FILTER (WHERE preview) FROM media_rekognition) AS previews_analysed"
    )[0]
    errors, recent = _errors(engine)
    return {
        "posts": int(counts["posts"]),
        "posts_waiting": max(0, int(counts["posts"]) - int(counts["posts_analysed"])),
        "photos": int(counts["photos"]),
        "photos_analysed": int(counts["photos_analysed"]),
        # error rows do not say whether they were a photo's or a preview's
        "photos_failed": sum(e["errors"] for e in errors if e["stage"] in PHOTO_STAGES),
        "photos_waiting": int(counts["photos_waiting"]),  # not tried yet (a failure has a row)
        "previews": int(counts["previews"]),  # of videos and GIFs, when enrich analyses them
        "previews_analysed": int(counts["previews_analysed"]),
        "videos_and_gifs": int(counts["videos"]),
        "errors": errors,
        "recent_errors": recent,
    }


def _errors(engine: Engine) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The errors not fixed since: how many per stage (most first) and the latest few."""
    rows = unresolved(engine.lake, ["occurred_at", "stage", "source", "reason"])
    by_stage = rows.group_by("stage").aggregate([("stage", "count"), ("occurred_at", "max")])
    errors = sorted(({"stage": r["stage"], "errors": int(r["stage_count"]),
                      "last": r["occurred_at_max"].isoformat() if r["occurred_at_max"] else None}
                     for r in by_stage.to_pylist()), key=lambda e: -e["errors"])
    latest = rows.take(pc.sort_indices(rows, [("occurred_at", "descending")])[:RECENT_ERRORS])
    recent = [{**r, "occurred_at": r["occurred_at"].isoformat()} for r in latest.to_pylist()]
    return errors, recent

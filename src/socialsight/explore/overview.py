"""Overview: posts and photos over time by platform, the share with photos, the pipeline."""

from __future__ import annotations

from typing import Any

from socialsight.explore.filters import PLATFORMS, Filters
from socialsight.query.engine import Engine

# Buckets an hour wide while the posts span at most this many days, a day wide after.
HOURLY_UP_TO_DAYS = 3
PHOTO_STAGES = ("fetch", "decode", "analyse")


def overview(engine: Engine, filters: Filters) -> dict[str, Any]:
    ctes, params = filters.ctes()
    totals = engine.rows(
        f"WITH {ctes} SELECT count(*) AS posts, "
        "count(*) FILTER (WHERE len(extended_entities.media) > 0) AS posts_with_photos, "
        "coalesce(sum(len(extended_entities.media)), 0) AS photos, "
        "(SELECT count(*) FROM photos) AS analysed_photos, "
        "min(timestamp_ms) AS first_ms, max(timestamp_ms) AS last_ms FROM posts", params)[0]
    span_days = ((totals["last_ms"] or 0) - (totals["first_ms"] or 0)) / 86_400_000
    unit = "hour" if span_days <= HOURLY_UP_TO_DAYS else "day"
    series = engine.rows(
        f"WITH {ctes} SELECT strftime(date_trunc('{unit}', "
        "make_timestamp(timestamp_ms * 1000)), '%Y-%m-%dT%H:%M') AS t, platform, "
        "count(*) AS posts, coalesce(sum(len(extended_entities.media)), 0) AS photos "
        "FROM posts WHERE timestamp_ms IS NOT NULL GROUP BY ALL ORDER BY t, platform", params)
    platforms = engine.rows(
        f"WITH {ctes} SELECT platform, count(*) AS posts, "
        "count(*) FILTER (WHERE len(extended_entities.media) > 0) AS posts_with_photos "
        "FROM posts GROUP BY ALL ORDER BY posts DESC", params)
    posts = int(totals["posts"])
    return {
        "filters": filters.as_dict(),
        "totals": {
            "posts": posts,
            "posts_with_photos": int(totals["posts_with_photos"]),
            "photo_share": round(totals["posts_with_photos"] / posts, 4) if posts else None,
            "photos": int(totals["photos"]),
            "analysed_photos": int(totals["analysed_photos"]),
        },
        "unit": unit,
        "over_time": [{**row, "label": PLATFORMS.get(row["platform"], row["platform"])}
                      for row in series],
        "platforms": [{**row, "label": PLATFORMS.get(row["platform"], row["platform"])}
                      for row in platforms],
        "pipeline": pipeline_status(engine),
    }


def pipeline_status(engine: Engine) -> dict[str, Any]:
    """The whole lake's backlog and errors (the filters do not apply: it is the pipeline's)."""
    from socialsight.enrich import resolved_ids

    counts = engine.rows(
        "SELECT (SELECT count(*) FROM tweets) AS posts, "
        "(SELECT count(*) FROM tweet_sentiments) AS posts_analysed, "
        "(SELECT coalesce(sum(len(extended_entities.media)), 0) FROM tweets) AS photos, "
        "(SELECT count(*) FROM media_rekognition) AS photos_analysed")[0]
    resolved = sorted(resolved_ids(engine.lake))
    errors = engine.rows(
        "SELECT stage, count(*) AS errors, max(occurred_at) AS last FROM errors "
        "WHERE NOT list_contains($resolved, error_id) GROUP BY ALL ORDER BY errors DESC",
        {"resolved": resolved})
    recent = engine.rows(
        "SELECT occurred_at, stage, source, reason FROM errors "
        "WHERE NOT list_contains($resolved, error_id) ORDER BY occurred_at DESC LIMIT 10",
        {"resolved": resolved})
    failed_photos = sum(int(e["errors"]) for e in errors if e["stage"] in PHOTO_STAGES)
    photos, analysed = int(counts["photos"]), int(counts["photos_analysed"])
    return {
        "posts": int(counts["posts"]),
        "posts_waiting": max(0, int(counts["posts"]) - int(counts["posts_analysed"])),
        "photos": photos,
        "photos_analysed": analysed,
        "photos_failed": failed_photos,
        "photos_waiting": max(0, photos - analysed - failed_photos),
        "errors": [{**e, "last": e["last"].isoformat() if e["last"] else None}
                   for e in errors],
        "recent_errors": [{**e, "occurred_at": e["occurred_at"].isoformat()} for e in recent],
    }

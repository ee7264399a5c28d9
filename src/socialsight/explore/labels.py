"""Labels: what the photos show (``image_labels.labels``), and the photos of one label.

A label counts photos, not posts: the seed's ``top_labels.sql`` counts one row per
(image, label) of ``media_image_labels_query``, which is the same thing.
"""

from __future__ import annotations

from typing import Any

from socialsight.errors import InputError
from socialsight.explore.filters import Filters, photo_card
from socialsight.explore.paging import window
from socialsight.query.engine import Engine

TOP = 50  # labels in the table (the chart shows the first CHARTED)
CHARTED = 20
MAX_NAME = 100

# One row per (photo, label) of the filtered photos.
LABELLED = (
    "labelled AS (SELECT tweetid, mediaid, sha256, sensitive, timestamp_ms, l.name, "
    "l.confidence, list_transform(l.parents, lambda x: x.name) AS parents FROM (SELECT "
    "tweetid, mediaid, sha256, sensitive, timestamp_ms, unnest(image_labels.labels) AS l "
    "FROM photos) WHERE l.name IS NOT NULL)"
)


def labels(engine: Engine, filters: Filters, limit: int = TOP) -> dict[str, Any]:
    """The labels found on most photos, with their parents and share of photos."""
    ctes, params = filters.ctes()
    photos = int(engine.rows(f"WITH {ctes} SELECT count(*) AS n FROM photos", params)[0]["n"])
    rows = engine.rows(
        f"WITH {ctes}, {LABELLED} SELECT mode(name) AS name, "
        "count(DISTINCT (tweetid, mediaid)) AS photos, round(avg(confidence), 1) AS confidence, "
        "any_value(parents ORDER BY len(parents) DESC) AS parents FROM labelled "
        "GROUP BY lower(name) ORDER BY photos DESC, lower(name) LIMIT $limit",
        {**params, "limit": limit})
    return {
        "filters": filters.as_dict(),
        "photos": photos,
        "charted": CHARTED,
        "labels": [{**row, "photos": int(row["photos"]), "parents": row["parents"] or [],
                    "share": round(row["photos"] / photos, 4) if photos else None}
                   for row in rows],
    }


def label_photos(engine: Engine, filters: Filters, name: str, page: int = 1,
                 per_page: int = 60) -> dict[str, Any]:
    """One label's photos, most confident first, a page at a time; matched whatever its case."""
    name = check_name(name)
    ctes, params = filters.ctes()
    params = {**params, "name": name}
    found = engine.rows(
        f"WITH {ctes}, {LABELLED} SELECT count(DISTINCT (tweetid, mediaid)) AS n, "
        "mode(name) AS name, any_value(parents ORDER BY len(parents) DESC) AS parents "
        "FROM labelled WHERE lower(name) = lower($name)", params)[0]
    total = int(found["n"])
    pages, limits = window(page, per_page, total)
    rows = engine.rows(
        f"WITH {ctes}, {LABELLED} SELECT tweetid, mediaid, any_value(sha256) AS sha256, "
        "bool_or(sensitive) AS sensitive, max(confidence) AS confidence FROM labelled "
        "WHERE lower(name) = lower($name) GROUP BY tweetid, mediaid "
        "ORDER BY confidence DESC, max(timestamp_ms) DESC, tweetid, mediaid "
        "LIMIT $limit OFFSET $offset",
        {**params, **limits})
    shown = found["name"] or name
    return {
        "filters": filters.as_dict(),
        "label": shown,
        "parents": found["parents"] or [],
        "total": total,
        "page": page,
        "pages": pages,
        "per_page": per_page,
        "photos": [{**photo_card(row), "confidence": round(row["confidence"], 1),
                    "caption": f"confidence {row['confidence']:.1f}%",
                    "alt": f"{shown} ({row['confidence']:.0f}% sure)"} for row in rows],
    }


def check_name(name: str) -> str:
    """A label's name as a request gives it: stripped, not empty, at most MAX_NAME long."""
    name = name.strip()
    if not name:
        raise InputError("which label? /labels/NAME, e.g. /labels/Cat")
    if len(name) > MAX_NAME:
        raise InputError(f"a label name is at most {MAX_NAME} characters")
    return name

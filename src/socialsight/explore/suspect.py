"""Suspect content: photos with moderation labels, or whose post is marked sensitive.

The meaning of the seed's ``suspect_content.sql``: a photo is suspect when its
``moderationlabels`` are not empty or its post is ``possibly_sensitive`` (the
``sensitive`` column of the ``photos`` CTE). The seed lists one row per link of the
post (its ``UNNEST(entities.urls)``), dropping posts without a link; here every
suspect photo is one card, link or not.
"""

from __future__ import annotations

from typing import Any

from socialsight.explore.filters import Filters, photo_card
from socialsight.explore.paging import window
from socialsight.query.engine import Engine

MARKED = "Marked sensitive by the author/platform"
# The suspect photos, with why: their moderation labels, and whether the post is marked.
SUSPECT = (
    "suspect AS (SELECT p.tweetid, p.mediaid, p.sha256, p.sensitive, p.timestamp_ms, "
    "coalesce(t.possibly_sensitive, false) AS marked, "
    "coalesce(p.image_labels.moderationlabels, []) AS labels "
    "FROM photos p JOIN posts t ON t.id = p.tweetid WHERE p.sensitive)"
)


def suspect(engine: Engine, filters: Filters, page: int = 1,
            per_page: int = 60) -> dict[str, Any]:
    """Everything the Suspect content page shows: counts by label, and a page of photos."""
    ctes, params = filters.ctes()
    totals = engine.rows(
        f"WITH {ctes}, {SUSPECT} SELECT count(*) AS photos, "
        "count(*) FILTER (WHERE len(labels) > 0) AS labelled, "
        "count(*) FILTER (WHERE marked) AS marked FROM suspect", params)[0]
    total = int(totals["photos"])
    pages, limits = window(page, per_page, total)
    rows = engine.rows(
        f"WITH {ctes}, {SUSPECT} SELECT * FROM suspect "
        "ORDER BY timestamp_ms DESC NULLS LAST, tweetid DESC, mediaid "
        "LIMIT $limit OFFSET $offset",
        {**params, **limits})
    return {
        "filters": filters.as_dict(),
        "totals": {"photos": total, "labelled": int(totals["labelled"]),
                   "marked": int(totals["marked"])},
        "labels": by_label(engine, filters),
        "reasons": by_reason(engine, filters, int(totals["marked"])),
        "cards": [suspect_card(row) for row in rows],
        "page": page, "pages": pages, "per_page": per_page,
    }


def by_label(engine: Engine, filters: Filters) -> list[dict[str, Any]]:
    """Suspect photos per moderation label (with its parent, where it has one)."""
    ctes, params = filters.ctes()
    rows = engine.rows(
        f"WITH {ctes}, {SUSPECT} SELECT l.name AS name, nullif(l.parentname, '') AS parent, "
        "count(DISTINCT (tweetid, mediaid)) AS photos FROM (SELECT tweetid, mediaid, "
        "unnest(labels) AS l FROM suspect) "
        "WHERE l.name IS NOT NULL GROUP BY ALL ORDER BY photos DESC, name, parent", params)
    return [{**row, "label": f"{row['name']} ({row['parent']})" if row["parent"]
             else row["name"]} for row in rows]


def by_reason(engine: Engine, filters: Filters, marked: int) -> list[dict[str, Any]]:
    """Suspect photos per top of the label tree (a parent, or a label without one), and
    those whose post is marked sensitive."""
    ctes, params = filters.ctes()
    rows = engine.rows(
        f"WITH {ctes}, {SUSPECT} SELECT coalesce(nullif(l.parentname, ''), l.name) AS reason, "
        "count(DISTINCT (tweetid, mediaid)) AS photos FROM (SELECT tweetid, mediaid, "
        "unnest(labels) AS l FROM suspect) "
        "WHERE l.name IS NOT NULL GROUP BY ALL ORDER BY photos DESC, reason", params)
    if marked:
        rows.append({"reason": MARKED, "photos": marked})
    return sorted(rows, key=lambda r: -int(r["photos"]))


def suspect_card(row: dict[str, Any]) -> dict[str, Any]:
    """A suspect photo's card (always blurred first), captioned with why it is suspect."""
    labels = [{"name": lb["name"], "parent": lb.get("parentname") or None,
               "confidence": round(float(lb["confidence"] or 0), 1)}
              for lb in row["labels"] if lb and lb.get("name")]
    labels.sort(key=lambda lb: -lb["confidence"])
    words = [f"{lb['name']} {lb['confidence']:.0f}%" for lb in labels]
    if row["marked"]:
        words.append(MARKED[0].lower() + MARKED[1:])
    return {**photo_card({**row, "sensitive": True}), "labels": labels,
            "marked": bool(row["marked"]), "caption": " · ".join(words),
            "alt": "Suspect photo: " + " · ".join(words)}

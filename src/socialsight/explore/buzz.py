"""Buzz: the domains posts link to, product links, hashtags and the most re-shared photos.

Domains and product links mean what the seed's ``top_domains.sql`` and
``product_links.sql`` mean; everything reads posts through the page's filters.
"""

from __future__ import annotations

from typing import Any

from socialsight.explore.filters import Filters, photo_card
from socialsight.query.engine import Engine

TOP = 10  # domains and hashtags shown
PRODUCT_LINKS = 50  # as many as the seed's product_links.sql returns
RESHARED = 24  # photos in the re-shared grid
VERSIONS_UP_TO = 25_000  # distinct photos up to which versions are grouped (~6 s)
RESHARED_IDS = 10  # of each one's posts, the ids listed
# Amazon's stores (amazon.com, amazon.co.uk, amazon.de, ...) and its short links, as hosts.
AMAZON_HOST = r"^(www\.|smile\.)?amazon\.(com|[a-z]{2}|co\.[a-z]{2}|com\.[a-z]{2})$"
AMAZON_SHORT = ("amzn.to", "amzn.eu", "a.co")
# Every link of a filtered post: unnest() in the select list, which DuckDB runs as a
# plain scan (a lateral ``FROM posts, unnest(...)`` is planned as a dependent join, ~15×
# slower on 10 million posts).
LINKS = "links AS (SELECT id, unnest(entities.urls) AS u FROM posts)"
# The first line of text found in a photo: the LINE with the lowest id; else what the
# seed takes (element 1 of textdetections, whatever its type).
FIRST_LINE = (
    "coalesce(list_min(list_transform(list_filter(p.image_labels.textdetections, "
    "lambda d: d.type = 'LINE'), lambda d: {'id': d.id, 'text': d.detectedtext})).text, "
    "p.image_labels.textdetections[1].detectedtext)"
)


def buzz(engine: Engine, filters: Filters) -> dict[str, Any]:
    """Everything the Buzz page shows."""
    return {
        "filters": filters.as_dict(),
        "domains": top_domains(engine, filters),
        "products": product_links(engine, filters),
        "hashtags": top_hashtags(engine, filters),
        "reshared": reshared_photos(engine, filters),
    }


def top_domains(engine: Engine, filters: Filters, limit: int = TOP) -> list[dict[str, Any]]:
    """The hosts of the links in posts (lower case), by links, as top_domains.sql counts."""
    ctes, params = filters.ctes()
    return engine.rows(
        f"WITH {ctes}, {LINKS} SELECT lower(url_extract_host(u.expanded_url)) AS domain, "
        "count(*) AS links, count(DISTINCT id) AS posts FROM links "
        "WHERE url_extract_host(u.expanded_url) IS NOT NULL "
        "GROUP BY ALL ORDER BY links DESC, domain LIMIT $limit", {**params, "limit": limit})


def product_links(engine: Engine, filters: Filters,
                  limit: int = PRODUCT_LINKS) -> list[dict[str, Any]]:
    """Amazon product pages (``/dp/``) linked from posts with a photo, and its first line."""
    ctes, params = filters.ctes()
    rows = engine.rows(
        f"WITH {ctes}, links AS (SELECT id, user_name, screen_name, u.expanded_url AS url, "
        "lower(url_extract_host(u.expanded_url)) AS host FROM (SELECT id, "
        "\"user\".name AS user_name, \"user\".screen_name AS screen_name, "
        "unnest(entities.urls) AS u FROM posts)) "
        f"SELECT p.tweetid, p.mediaid, p.sha256, p.sensitive, {FIRST_LINE} AS first_line, "
        "l.url, l.user_name, l.screen_name FROM links l JOIN photos p ON p.tweetid = l.id "
        "WHERE (regexp_matches(l.host, $amazon) OR list_contains($short, l.host)) "
        "AND position('/dp/' IN coalesce(url_extract_path(l.url), '')) > 0 "
        "ORDER BY p.timestamp_ms DESC, p.tweetid, p.mediaid LIMIT $limit",
        {**params, "amazon": AMAZON_HOST, "short": list(AMAZON_SHORT), "limit": limit})
    return [{**photo_card(row), "first_line": row["first_line"], "url": row["url"],
             "author": row["user_name"], "screen_name": row["screen_name"],
             "alt": f"Photo of the post linking {row['url']}"} for row in rows]


def top_hashtags(engine: Engine, filters: Filters, limit: int = TOP) -> list[dict[str, Any]]:
    """Hashtags by posts, whatever their case; each shown in its most common form."""
    ctes, params = filters.ctes()
    return engine.rows(
        f"WITH {ctes} SELECT lower(h.text) AS tag, mode(h.text) AS label, "
        "count(DISTINCT id) AS posts FROM (SELECT id, unnest(entities.hashtags) AS h "
        "FROM posts) "
        "WHERE h.text <> '' GROUP BY tag ORDER BY posts DESC, tag LIMIT $limit",
        {**params, "limit": limit})


def reshared_photos(engine: Engine, filters: Filters,
                    limit: int = RESHARED) -> list[dict[str, Any]]:
    """The same image in two posts or more, most posts first: versions of an image
    (re-encoded, resized, cropped, captioned: the ``photo_versions`` view) count together,
    each shown by its first post's photo."""
    ctes, params = filters.ctes()
    [count] = engine.rows("SELECT count(DISTINCT sha256) AS n FROM media_rekognition")
    # grouping versions compares photos with photos: past VERSIONS_UP_TO photos the page
    # would wait on it, so a big lake counts the same bytes only (docs/dashboard.md)
    versions = ("photo_versions" if int(count["n"]) <= VERSIONS_UP_TO else
                "(SELECT DISTINCT sha256, sha256 AS version_of FROM media_rekognition "
                "WHERE sha256 IS NOT NULL)")
    rows = engine.rows(
        f"WITH {ctes} SELECT v.version_of, count(DISTINCT p.tweetid) AS posts, "
        "count(DISTINCT p.sha256) AS versions, "
        "arg_min({'tweetid': p.tweetid, 'mediaid': p.mediaid, 'sha256': p.sha256}, "
        "[p.timestamp_ms, p.tweetid]) AS first, "
        "bool_or(p.sensitive) AS sensitive, "
        "list_transform(list_slice(list(DISTINCT p.tweetid ORDER BY p.tweetid), 1, $ids), "
        "lambda i: i::VARCHAR) AS ids, "
        "any_value(p.image_labels.labels[1].name) AS label "
        f"FROM photos AS p JOIN {versions} AS v ON v.sha256 = p.sha256 "
        "GROUP BY v.version_of HAVING count(DISTINCT p.tweetid) >= 2 "
        "ORDER BY posts DESC, v.version_of LIMIT $limit",
        {**params, "limit": limit, "ids": RESHARED_IDS})
    return [{**photo_card({**row, **row["first"]}), "posts": int(row["posts"]),
             "versions": int(row["versions"]), "tweetids": row["ids"],
             "caption": _caption(int(row["posts"]), int(row["versions"])),
             "alt": f"{row['label']}, in {row['posts']} posts" if row["label"]
             else f"Photo in {row['posts']} posts"} for row in rows]


def _caption(posts: int, versions: int) -> str:
    return f"{posts} posts" + (f" · {versions} versions" if versions > 1 else "")

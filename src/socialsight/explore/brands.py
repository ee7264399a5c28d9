"""Brands: where each enrolled brand is seen in photos and named in text, side by side.

What is counted are posts, from the ``brand_mentions`` view (:mod:`socialsight.query.brands`):
a post mentions a brand *in photos* when one of its photos shows the brand's logo or
word mark (``customlabels``), and *in text* when its text names it (a word, a
#hashtag, an @handle or a link). A post whose photos show the brand and whose text
does not name it is an **image-only** mention: what listening to text alone misses.
The image-only share is those posts over every post that mentions the brand.

Every enrolled brand is listed, mentioned or not (:class:`socialsight.brands.Brands`),
so competitors sit side by side; labels of a brand no longer enrolled (until the next
rescan takes them off) are left out. Sentiment is ``tweet_sentiments``' of the posts
showing the brand beside the posts naming it.

Enrolling from the dashboard (:func:`enrol`, :func:`forget`) changes the brands under
the lake's writer lock and then looks for every brand in every past photo again
(:func:`socialsight.brands.rescan`), as ``socialsight brands add`` and ``remove`` do.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from typing import Any

from PIL import Image

from socialsight import brands as enrolled
from socialsight.config import FetchSettings
from socialsight.errors import InputError, LakeBusyError, LakeError, MediaError, NotFoundError
from socialsight.explore.filters import PLATFORMS, Filters, photo_card
from socialsight.explore.sentiment import SENTIMENTS
from socialsight.media.photo import decode
from socialsight.query.engine import Engine

TOP_PHOTOS = 24
MAX_ID = 64
# How a brand was found, as brand_mentions' ``found`` says it, and how the page says it.
FOUND: dict[str, str] = {"logo": "logo in a photo", "text": "word mark in a photo",
                         "word": "word in the text", "hashtag": "hashtag", "handle": "@handle",
                         "link": "link"}
_WRITING = threading.Lock()  # one change to the brands in this process at a time

# The filtered posts' mentions of the enrolled brands ($names), and one row per brand
# and post: where the post mentions it.
MENTIONS = (
    "mentions AS (SELECT * FROM brand_mentions WHERE list_contains($names, brand) "
    "AND tweetid IN (SELECT id FROM posts)), "
    "per_post AS (SELECT brand, tweetid, any_value(platform) AS platform, "
    "any_value(dt) AS dt, bool_or(place = 'photo') AS in_photo, "
    "bool_or(place = 'text') AS in_text FROM mentions GROUP BY brand, tweetid)"
)
COUNTS = ("count(*) AS posts, count_if(in_photo) AS photo, count_if(in_text) AS text, "
          "count_if(in_photo AND in_text) AS both, "
          "count_if(in_photo AND NOT in_text) AS image_only")


def brands(engine: Engine, chosen: Filters) -> dict[str, Any]:
    """Everything the Brands page shows: each enrolled brand's posts in photos and in
    text (over time, by platform, image-only), its top photos, and sentiment."""
    listed = enrolled.Brands.load(engine.lake).brands()
    names = [b.name for b in listed]
    ctes, params = chosen.ctes()
    params = {**params, "names": names}
    head = f"WITH {ctes}, {MENTIONS} "
    counts = {r["brand"]: r for r in engine.rows(
        head + f"SELECT brand, {COUNTS} FROM per_post GROUP BY brand", params)}
    photos = {r["brand"]: r for r in engine.rows(
        head + "SELECT brand, count(DISTINCT (tweetid, mediaid)) AS photos, "
        "count(DISTINCT (tweetid, mediaid)) FILTER (WHERE found = 'logo') AS logo_photos "
        "FROM mentions WHERE place = 'photo' GROUP BY brand", params)}
    found = engine.rows(head + "SELECT brand, found, count(DISTINCT tweetid) AS posts "
                        "FROM mentions GROUP BY ALL", params)
    feeling = engine.rows(
        head + "SELECT b.brand, s.sentiment, count_if(b.in_photo) AS photo, "
        "count_if(b.in_text) AS text FROM per_post b JOIN tweet_sentiments s "
        "ON s.tweetid = b.tweetid WHERE s.sentiment IS NOT NULL GROUP BY ALL", params)
    rows = [_brand(b, counts.get(b.name), photos.get(b.name),
                   [f for f in found if f["brand"] == b.name],
                   [f for f in feeling if f["brand"] == b.name]) for b in listed]
    rows.sort(key=lambda r: (-r["posts"], r["name"].casefold()))
    total = engine.rows(
        head + "SELECT count(*) AS posts, count_if(in_photo) AS photo, count_if(in_text) "
        "AS text, count_if(image_only) AS image_only FROM (SELECT tweetid, "
        "bool_or(in_photo) AS in_photo, bool_or(in_text) AS in_text, "
        "bool_or(in_photo AND NOT in_text) AS image_only FROM per_post GROUP BY tweetid)",
        params)[0]
    return {
        "filters": chosen.as_dict(),
        "brands": rows,
        "by_day": engine.rows(
            head + f"SELECT dt AS t, brand, {COUNTS} FROM per_post WHERE dt IS NOT NULL "
            "GROUP BY ALL ORDER BY t, brand", params),
        "by_platform": engine.rows(
            head + f"SELECT platform, brand, {COUNTS} FROM per_post GROUP BY ALL "
            "ORDER BY brand, platform", params),
        "photos": top_photos(engine, chosen, names),
        "totals": _totals(len(listed), total),
        "sentiments": list(SENTIMENTS),
        "found": FOUND,
        "platforms": PLATFORMS,
    }


def _brand(brand: enrolled.Brand, counts: dict[str, Any] | None,
           photos: dict[str, Any] | None, found: list[dict[str, Any]],
           feeling: list[dict[str, Any]]) -> dict[str, Any]:
    counts = counts or {}
    posts = int(counts.get("posts") or 0)
    image_only = int(counts.get("image_only") or 0)
    return {
        "id": brand.id, "name": brand.name, "words": list(brand.words) or [brand.name],
        "logos": brand.logos,
        "added_at": brand.added_at.isoformat() if brand.added_at else None,
        "posts": posts,
        "photo_posts": int(counts.get("photo") or 0),
        "text_posts": int(counts.get("text") or 0),
        "both_posts": int(counts.get("both") or 0),
        "image_only_posts": image_only,
        "image_only_share": image_only / posts if posts else None,
        "photos": int((photos or {}).get("photos") or 0),
        "logo_photos": int((photos or {}).get("logo_photos") or 0),
        "found": {f["found"]: int(f["posts"]) for f in found},
        "sentiment": {place: {s: next((int(f[place]) for f in feeling
                                       if f["sentiment"] == s), 0) for s in SENTIMENTS}
                      for place in ("photo", "text")},
    }


def _totals(listed: int, row: dict[str, Any]) -> dict[str, Any]:
    posts = int(row["posts"] or 0)
    image_only = int(row["image_only"] or 0)
    return {"brands": listed, "posts": posts, "photo_posts": int(row["photo"] or 0),
            "text_posts": int(row["text"] or 0), "image_only_posts": image_only,
            "image_only_share": image_only / posts if posts else None}


def top_photos(engine: Engine, chosen: Filters, names: list[str],
               limit: int = TOP_PHOTOS) -> list[dict[str, Any]]:
    """The photos that show an enrolled brand, each image once per brand (however many
    posts share it), logos before word marks, most confident first; with the box."""
    ctes, params = chosen.ctes()
    rows = engine.rows(
        f"WITH {ctes}, {MENTIONS}, shown AS (SELECT m.brand, m.found, m.confidence, "
        "m.boundingbox, ph.tweetid, ph.mediaid, ph.sha256, ph.width, ph.height, "
        "ph.sensitive, ph.timestamp_ms FROM mentions m JOIN photos ph "
        "ON ph.tweetid = m.tweetid AND ph.mediaid = m.mediaid WHERE m.place = 'photo') "
        "SELECT brand, bool_or(sensitive) AS sensitive, count(DISTINCT tweetid) AS posts, "
        "arg_max({'tweetid': tweetid, 'mediaid': mediaid, 'sha256': sha256, "
        "'width': width, 'height': height, 'found': found, 'confidence': confidence, "
        "'box': boundingbox}, (found = 'logo', confidence, timestamp_ms)) AS best "
        "FROM shown GROUP BY brand, coalesce(sha256, tweetid::VARCHAR || '/' || mediaid) "
        "ORDER BY bool_or(found = 'logo') DESC, max(confidence) DESC NULLS LAST, "
        "max(timestamp_ms) DESC NULLS LAST, brand LIMIT $limit",
        {**params, "names": names, "limit": limit})
    return [_photo(row) for row in rows]


def _photo(row: dict[str, Any]) -> dict[str, Any]:
    best = row["best"]
    card = photo_card({**best, "sensitive": row["sensitive"]})
    confidence = best["confidence"]
    how = "logo" if best["found"] == "logo" else "word mark"
    caption = f"{row['brand']} · {how}" + (f" {confidence:.0f}%" if confidence is not None
                                           else "")
    posts = int(row["posts"])
    if posts > 1:
        caption += f" · in {posts} posts"
    return {**card, "brand": row["brand"], "found": best["found"], "confidence": confidence,
            "box": _box(best["box"]), "width": best["width"], "height": best["height"],
            "posts": posts, "caption": caption, "alt": f"Photo showing {caption}"}


def _box(box: dict[str, Any] | None) -> dict[str, float] | None:
    """The box in percent of the photo, clamped to it (the page draws it with CSS)."""
    if not box or any(box.get(k) is None for k in ("left", "top", "width", "height")):
        return None
    left = min(max(float(box["left"]), 0.0), 1.0)
    top = min(max(float(box["top"]), 0.0), 1.0)
    width = min(max(float(box["width"]), 0.0), 1.0 - left)
    height = min(max(float(box["height"]), 0.0), 1.0 - top)
    return {k: round(v * 100, 2) for k, v in
            (("left", left), ("top", top), ("width", width), ("height", height))}


# --- changing the brands -----------------------------------------------------------------


def enrol(engine: Engine, fetch: FetchSettings, name: str, words: list[str],
          uploads: list[tuple[str, bytes]]) -> dict[str, Any]:
    """Enrol ``name`` with its ``words`` and logo images (``uploads``: file name, bytes),
    then look for every brand in every past photo. An image that is not a photo, or a
    logo with too little detail, is an InputError naming it, and nothing is saved."""
    words = [w for w in words if w.strip()] or ([] if uploads else [name])  # default: the name
    sources = _labels([filename for filename, _ in uploads])
    data = dict(zip(sources, (blob for _, blob in uploads), strict=True))

    def load(source: str) -> tuple[Image.Image, str]:
        blob = data[source]
        try:
            return decode(blob, fetch, source), hashlib.sha256(blob).hexdigest()
        except MediaError as exc:
            raise InputError(str(exc)) from exc

    with _WRITING:
        before = enrolled.Brands.load(engine.lake).find_brand(name)
        try:
            bid = enrolled.enrol(engine.lake, name, sources, words, load)
        except enrolled.BrandsBusy as exc:
            raise LakeBusyError(f"the brands are not changed: {exc}") from exc
        brand = enrolled.Brands.load(engine.lake).find_brand(bid)
        if brand is None:  # another process forgot it at once
            raise NotFoundError(f"{name} was enrolled, then removed by another process")
        done = _rescan(engine, f"{brand.name} is enrolled")
    return {"id": bid, "name": brand.name, "words": list(brand.words) or [brand.name],
            "logos": brand.logos, "logos_added": brand.logos - (before.logos if before else 0),
            "rescan": dataclasses.asdict(done)}


def forget(engine: Engine, bid: str) -> dict[str, Any]:
    """Forget an enrolled brand (by id), and take its labels off every past photo."""
    with _WRITING:
        try:
            brand = enrolled.forget(engine.lake, bid)
        except enrolled.BrandsBusy as exc:
            raise LakeBusyError(f"the brands are not changed: {exc}") from exc
        if brand is None:
            raise NotFoundError(f"no brand enrolled has the id {bid[:MAX_ID]!r}")
        done = _rescan(engine, f"{brand.name} is forgotten")
    return {"id": brand.id, "name": brand.name, "rescan": dataclasses.asdict(done)}


def _rescan(engine: Engine, done: str) -> enrolled.Rescanned:
    try:
        return enrolled.rescan(engine.lake)
    except LakeError as exc:
        raise LakeBusyError(f"{done}, but past photos are not searched again yet ({exc}): "
                            "run `socialsight brands rescan` when it is done") from exc


def _labels(filenames: list[str]) -> list[str]:
    """Each upload's file name as the brand keeps it: printable, short, unique."""
    out: list[str] = []
    for i, filename in enumerate(filenames, 1):
        base = "".join(c for c in filename.replace("\\", "/").rsplit("/", 1)[-1]
                       if c.isprintable())[:100].strip() or f"logo {i}"
        label, n = base, 2
        while label in out:
            label, n = f"{base} ({n})", n + 1
        out.append(label)
    return out

"""One photo in full: what each model found in it, where, and the post it came with.

Boxes are Rekognition's ratios of the photo's width and height (left, top, width,
height), text polygons its ratio points, so the page can draw them over the photo
at any size. A photo is sensitive as the ``photos`` CTE says (the post was marked,
or a moderation label was found); the page blurs it until it is asked not to.

With ``redact_pii`` (``language.redact_pii``) the post's text, its entities and its PII are
shown masked: each PII span that ``tweet_entities`` holds for the post (offsets into
``tweets.text``, the text enrich read) becomes ``[TYPE]``
(:func:`socialsight.language.redaction.redact`).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

from socialsight.api import more_like
from socialsight.errors import InputError, NotFoundError
from socialsight.explore.filters import PLATFORMS, Filters, photo_card
from socialsight.language.redaction import kind_of, redact, shown
from socialsight.query.engine import Engine

POST_ID = re.compile(r"[0-9]+")
MAX_POST_DIGITS = 19
MAX_MEDIA_ID = 200
INT64_MAX = 2**63 - 1
TOP_EMOTIONS = 3
# The yes/no attributes of a face, in the order the page lists them.
FACE_ATTRIBUTES = ("smile", "eyeglasses", "sunglasses", "beard", "mustache", "eyesopen",
                   "mouthopen")
SAME_FACE = 0.5  # a known person's box and a face box overlapping this much are one face
SCORES = ("positive", "negative", "neutral", "mixed")
# What the page calls a preview image, by the v1.1 type of the medium it is a still of.
PREVIEW_BADGES = {"video": "video preview", "animated_gif": "GIF preview"}
MORE_LIKE = 12  # photos in the "more like this" strip
MORE_LIKE_UP_TO = 100_000  # analysed photos up to which the page compares them all


def photo_detail(engine: Engine, tweetid: str, mediaid: str,
                 redact_pii: bool = False) -> dict[str, Any]:
    """Everything the photo page shows; NotFoundError for a post or photo not in the lake.
    ``redact_pii`` masks the PII of the post's text."""
    post_id = parse_post_id(tweetid)
    if not mediaid or len(mediaid) > MAX_MEDIA_ID:
        raise InputError(f"a photo id is 1 to {MAX_MEDIA_ID} characters")
    post = _post(engine, post_id)
    photos = _photos_of(engine, post_id)
    row = next((p for p in photos if str(p["mediaid"]) == mediaid), None)
    if row is None:
        raise NotFoundError(_missing(post, tweetid, mediaid))
    labels = row["image_labels"] or {}
    people = known_people(labels)
    faces = face_details(labels, people)
    text = text_lines(labels)
    label_list = image_labels(labels)
    return {
        "filters": Filters().as_dict(),
        "photo": {
            **photo_card(row),
            "width": row["width"], "height": row["height"],
            "media_url": row["media_url"], "media_href": safe_href(row["media_url"]),
            "alt": _alt_text(post, mediaid) or f"Photo of post {tweetid}",
            "preview": _preview_badge(post, mediaid) if row.get("preview") else None,
        },
        "labels": label_list,
        "faces": faces,
        "people": people,
        "text": text,
        "moderation": [
            {"name": m.get("name"), "parent": m.get("parentname") or None,
             "confidence": _pct(m.get("confidence"))}
            for m in labels.get("moderationlabels") or []],
        "analysis_errors": [dict(e) for e in row["analysis_errors"] or []],
        "model_versions": dict(sorted((row["model_versions"] or {}).items())),
        "label_model_version": labels.get("labelmodelversion"),
        "overlay": overlay(label_list, faces, text),
        "post": post_summary(engine, post, redact_pii),
        "others": [photo_card(p) for p in photos if p is not row],
        **more_like_this(engine, row.get("sha256")),
    }


def more_like_this(engine: Engine, sha256: str | None,
                   k: int = MORE_LIKE) -> dict[str, Any]:
    """``more_like``: the lake's photos most like this one by embedding, each a photo card
    with its similarity and whether it is a version of this one (blurred as everywhere
    when sensitive); ``more_like_note``: why there are none, when the photo has no
    embedding."""
    if not sha256:
        return {"more_like": [], "more_like_note": "The photo itself is not in the lake."}
    [count] = engine.rows("SELECT count(*) AS n FROM media_rekognition "
                          "WHERE embedding IS NOT NULL")
    if int(count["n"]) > MORE_LIKE_UP_TO:  # every embedding is compared: seconds per page
        return {"more_like": [], "more_like_note": (
            f"More like this compares every photo, and this lake has over "
            f"{MORE_LIKE_UP_TO:,}: use the Python API's lake.more_like(sha256) for it.")}
    found = more_like(engine, sha256, k)
    ctes, params = Filters().ctes()
    marked = {r["sha256"]: bool(r["sensitive"]) for r in engine.rows(
        f"WITH {ctes} SELECT sha256, bool_or(sensitive) AS sensitive FROM photos "
        "WHERE list_contains($shas, sha256) GROUP BY sha256",
        {**params, "shas": [r["sha256"] for r in found.rows]})} if found.rows else {}
    cards = []
    for r in found.rows:
        percent = round(100 * max(0.0, r["similarity"]))
        cards.append({
            **photo_card({**r, "sensitive": marked.get(r["sha256"], False)}),
            "media_url": r["media_url"], "similarity": r["similarity"],
            "version": r["version"],
            "caption": f"version · {percent}% alike" if r["version"] else f"{percent}% alike",
            "alt": f"A photo {percent}% like this one"})
    note = found.note and ("This photo was analysed before embeddings were stored: nothing "
                           "to compare it with.")
    return {"more_like": cards, "more_like_note": note}


def parse_post_id(tweetid: str) -> int:
    """A post id from a URL: digits only, and small enough to be one."""
    if not POST_ID.fullmatch(tweetid or ""):
        raise InputError(f"a post id is digits only, not {tweetid[:40]!r}")
    if len(tweetid) > MAX_POST_DIGITS or int(tweetid) > INT64_MAX:
        raise NotFoundError(f"no post {tweetid[:40]} in the lake")
    return int(tweetid)


def _post(engine: Engine, post_id: int) -> dict[str, Any]:
    rows = engine.rows(
        "SELECT id, platform, text, created_at, timestamp_ms, possibly_sensitive, lang, "
        "\"user\".name AS author, \"user\".screen_name AS screen_name, "
        "entities.urls AS urls, entities.hashtags AS hashtags, "
        "extended_entities.media AS media, retweeted_status.id_str AS retweet_of, "
        "quoted_status_id_str AS quote_of, in_reply_to_status_id_str AS reply_to "
        "FROM tweets WHERE id = $id LIMIT 1", {"id": post_id})
    if not rows:
        raise NotFoundError(f"no post {post_id} in the lake")
    return rows[0]


def _photos_of(engine: Engine, post_id: int) -> list[dict[str, Any]]:
    """The post's analysed photos, in the ``photos`` CTE's terms, with their analyses."""
    ctes, params = Filters().ctes()
    return engine.rows(
        f"WITH {ctes} SELECT p.*, m.model_versions, m.analysis_errors FROM photos p "
        "JOIN media_rekognition m ON m.tweetid = p.tweetid AND m.mediaid = p.mediaid "
        "WHERE p.tweetid = $id ORDER BY p.mediaid", {**params, "id": post_id})


def _missing(post: dict[str, Any], tweetid: str, mediaid: str) -> str:
    media = post.get("media") or []
    if any(mediaid in (m.get("id_str"), m.get("id")) for m in media):
        return (f"photo {mediaid} of post {tweetid} has not been analysed (yet, or it "
                "failed: `socialsight errors` says why)")
    return f"post {tweetid} has no photo {mediaid}"


def _preview_badge(post: dict[str, Any], mediaid: str) -> str:
    """What the analysed image of a video or GIF is: a "video preview" or "GIF preview"."""
    kind = next((m.get("type") for m in post.get("media") or []
                 if mediaid in (m.get("id_str"), m.get("id"))), None)
    return PREVIEW_BADGES.get(str(kind), "video preview")


def _alt_text(post: dict[str, Any], mediaid: str) -> str | None:
    for media in post.get("media") or []:
        if mediaid in (media.get("id_str"), media.get("id")):
            alt: str | None = media.get("ext_alt_text")
            return alt
    return None


# --- what the models found ------------------------------------------------------------


def image_labels(labels: dict[str, Any]) -> list[dict[str, Any]]:
    """Labels with their confidence, parents and instance boxes."""
    return [
        {"name": lab.get("name"),
         "confidence": _pct(lab.get("confidence")),
         "parents": [p["name"] for p in lab.get("parents") or [] if p.get("name")],
         "instances": [{"box": box(i.get("boundingbox")), "confidence": _pct(i.get("confidence"))}
                       for i in lab.get("instances") or [] if box(i.get("boundingbox"))]}
        for lab in labels.get("labels") or []]


def known_people(labels: dict[str, Any]) -> list[dict[str, Any]]:
    """Enrolled people recognised in the photo, with how sure the match is."""
    celebrities = (labels.get("celebrityrecognition") or {}).get("celebrityfaces") or []
    return [
        {"name": c.get("name"), "id": c.get("id"),
         "confidence": _pct(c.get("matchconfidence")),
         "urls": [{"url": u, "href": safe_href(u)} for u in c.get("urls") or []],
         "box": box((c.get("face") or {}).get("boundingbox"))}
        for c in celebrities]


def face_details(labels: dict[str, Any], people: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each face: its box, top emotions, age, gender and yes/no attributes; who, if known."""
    faces = []
    for number, face in enumerate(labels.get("facedetails") or [], 1):
        where = box(face.get("boundingbox"))
        emotions = sorted(face.get("emotions") or [],
                          key=lambda e: e.get("confidence") or 0, reverse=True)
        age, gender = face.get("agerange") or {}, face.get("gender") or {}
        faces.append({
            "number": number,
            "box": where,
            "confidence": _pct(face.get("confidence")),
            "person": _person_at(where, people),
            "emotions": [{"type": e.get("type"), "confidence": _pct(e.get("confidence"))}
                         for e in emotions[:TOP_EMOTIONS]],
            "age": {"low": age.get("low"), "high": age.get("high")} if age else None,
            "gender": ({"value": gender.get("value"), "confidence": _pct(gender.get("confidence"))}
                       if gender.get("value") else None),
            "attributes": [
                {"name": name, "value": bool(face[name].get("value")),
                 "confidence": _pct(face[name].get("confidence"))}
                for name in FACE_ATTRIBUTES if face.get(name)],
        })
    return faces


def _person_at(where: dict[str, float] | None, people: list[dict[str, Any]]) -> str | None:
    best = max(people, key=lambda p: overlap(where, p["box"]), default=None)
    if best is not None and overlap(where, best["box"]) >= SAME_FACE:
        name: str | None = best["name"]
        return name
    return None


def text_lines(labels: dict[str, Any]) -> list[dict[str, Any]]:
    """The LINE text detections: the text, its confidence and its polygon's points."""
    lines = []
    for found in labels.get("textdetections") or []:
        if found.get("type") != "LINE":
            continue
        geometry = found.get("geometry") or {}
        points = [(p["x"], p["y"]) for p in geometry.get("polygon") or []
                  if _finite(p.get("x")) and _finite(p.get("y"))]
        where = box(geometry.get("boundingbox"))
        if len(points) < 3 and where:
            points = _corners(where)
        lines.append({"text": found.get("detectedtext"),
                      "confidence": _pct(found.get("confidence")),
                      "points": " ".join(f"{_r(x)},{_r(y)}" for x, y in points), "box": where})
    return lines


def overlay(labels: list[dict[str, Any]], faces: list[dict[str, Any]],
            text: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """What the page draws over the photo, layer by layer, each shape with its caption."""
    return {
        "labels": [{"box": i["box"], "caption": lab["name"]}
                   for lab in labels for i in lab["instances"]],
        "faces": [{"box": f["box"], "caption": _face_caption(f)} for f in faces if f["box"]],
        "text": [{"points": t["points"], "caption": t["text"]} for t in text if t["points"]],
    }


def _face_caption(face: dict[str, Any]) -> str:
    parts = [face["person"]] if face["person"] else []
    if face["emotions"]:
        parts.append(str(face["emotions"][0]["type"]).lower())
    age = face["age"]
    if age and age["low"] is not None and age["high"] is not None:
        parts.append(f"{age['low']}–{age['high']}")
    return " · ".join(parts) or f"face {face['number']}"


# --- the post -------------------------------------------------------------------------


def post_summary(engine: Engine, post: dict[str, Any],
                 redact_pii: bool = False) -> dict[str, Any]:
    """The post: author, time, text, links, hashtags, sentiment, entities and PII;
    ``redact_pii`` shows the text, entities and PII with each PII span masked."""
    post_id = int(post["id"])
    sentiment = engine.rows(
        "SELECT sentiment, sentimentposscore AS positive, sentimentnegscore AS negative, "
        "sentimentneuscore AS neutral, sentimentmixedscore AS mixed, lang, model, skipped "
        "FROM tweet_sentiments WHERE tweetid = $id LIMIT 1", {"id": post_id})
    rows = engine.rows(
        "SELECT entity, type, score, beginoffset, endoffset FROM tweet_entities "
        "WHERE tweetid = $id ORDER BY beginoffset NULLS LAST, entity", {"id": post_id})
    kinds = [kind_of(r["type"]) for r in rows]  # a PII type, or None for an entity
    entities = [r for r, kind in zip(rows, kinds, strict=True) if kind is None]
    pii = [(kind, r) for r, kind in zip(rows, kinds, strict=True) if kind is not None]
    spans = [(kind, r["beginoffset"], r["endoffset"]) for kind, r in pii]
    ms = post["timestamp_ms"]
    when = datetime.fromtimestamp(ms / 1000, UTC) if ms is not None else None
    text = post["text"] or ""
    return {
        "id": str(post_id),
        "author": post["author"],
        "screen_name": post["screen_name"],
        "platform": post["platform"],
        "platform_label": PLATFORMS.get(post["platform"] or "", post["platform"]),
        "time": when.strftime("%Y-%m-%d %H:%M UTC") if when else post["created_at"],
        "iso_time": when.isoformat().replace("+00:00", "Z") if when else None,
        "text": redact(text, spans) if redact_pii else text,
        "lang": post["lang"],
        "possibly_sensitive": bool(post["possibly_sensitive"]),
        "retweet": bool(post["retweet_of"]) or text.startswith("RT @"),
        "links": [{"url": u.get("url"), "expanded_url": u.get("expanded_url"),
                   "display_url": u.get("display_url") or u.get("expanded_url"),
                   "href": safe_href(u.get("expanded_url") or u.get("url"))}
                  for u in post["urls"] or []],
        "hashtags": [h["text"] for h in post["hashtags"] or [] if h.get("text")],
        "sentiment": _sentiment(sentiment[0]) if sentiment else None,
        "entities": [{"entity": _masked(e, spans) if redact_pii else e["entity"],
                      "type": e["type"], "score": _round(e["score"], 3)} for e in entities],
        "pii": [{"entity": shown(kind, r["entity"]) if redact_pii else r["entity"],
                 "type": kind, "score": _round(r["score"], 3)} for kind, r in pii],
    }


def _masked(entity: dict[str, Any], spans: list[tuple[str, int | None, int | None]]) -> str:
    """An entity's value with the PII spans that run into it masked ("Visa card 4111 …"
    → "Visa card [CREDIT_DEBIT_NUMBER]"); a value without offsets shows as it is."""
    value: str = entity["entity"] or ""
    begin = entity["beginoffset"]
    return value if begin is None else redact(value, spans, begin)


def _sentiment(row: dict[str, Any]) -> dict[str, Any]:
    return {"label": row["sentiment"], "lang": row["lang"], "model": row["model"],
            "skipped": row["skipped"],
            "scores": {name: _round(row[name], 3) for name in SCORES}}


# --- small helpers --------------------------------------------------------------------


def safe_href(url: str | None) -> str | None:
    """The URL if a link to it is safe to draw (http or https), else None."""
    if url and re.match(r"https?://", url, re.IGNORECASE):
        return url
    return None


def box(raw: dict[str, Any] | None) -> dict[str, float] | None:
    """A bounding box as ratios, clipped to the photo; None when it has no area."""
    if not raw or not all(_finite(raw.get(k)) for k in ("left", "top", "width", "height")):
        return None
    left, top = _clip(raw["left"]), _clip(raw["top"])
    right, bottom = _clip(raw["left"] + raw["width"]), _clip(raw["top"] + raw["height"])
    if right <= left or bottom <= top:
        return None
    return {"left": _r(left), "top": _r(top), "width": _r(right - left),
            "height": _r(bottom - top)}


def overlap(a: dict[str, float] | None, b: dict[str, float] | None) -> float:
    """Intersection over union of two boxes (0 when either is missing)."""
    if not a or not b:
        return 0.0
    w = min(a["left"] + a["width"], b["left"] + b["width"]) - max(a["left"], b["left"])
    h = min(a["top"] + a["height"], b["top"] + b["height"]) - max(a["top"], b["top"])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / (a["width"] * a["height"] + b["width"] * b["height"] - inter)


def _corners(where: dict[str, float]) -> list[tuple[float, float]]:
    left, top = where["left"], where["top"]
    right, bottom = left + where["width"], top + where["height"]
    return [(left, top), (right, top), (right, bottom), (left, bottom)]


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def _clip(value: float) -> float:
    return min(1.0, max(0.0, value))


def _r(value: float) -> float:
    return round(value, 4)


def _round(value: Any, digits: int) -> float | None:
    return round(float(value), digits) if _finite(value) else None


def _pct(value: Any, digits: int = 1) -> float | None:
    """A confidence as the models give it (0-100), rounded; None when there is none."""
    return _round(value, digits)

"""Faces: emotions, ages and genders of every face in the filtered photos, and a gallery.

Emotions are counted as the seed's ``top_emotions.sql`` counts them: each face's
most confident emotion (the first of equals, as its ``reduce`` keeps it), when that
confidence is over 50. The seed reads faces through ``media_image_labels_face_query``,
which keeps photos labelled Face; here every detected face counts (the face detector
found it, whatever the labeller said). Faces are numbered by their index in
``facedetails`` (from 0), the index ``face_embeddings`` shares.

The gallery crops each face out of its photo's thumbnail with CSS alone: the square
around the face, as ``background-size`` and ``background-position`` percentages.
"""

from __future__ import annotations

import re
from typing import Any

from socialsight.explore.filters import Filters
from socialsight.explore.paging import window
from socialsight.query.engine import Engine

TOP_EMOTION_OVER = 50.0  # as top_emotions.sql: a face's top emotion counts above this
AGE_BUCKETS = ((0, 12), (13, 19), (20, 29), (30, 39), (40, 49), (50, 59), (60, 69))
CROP_MARGIN = 1.5  # the crop's side is the face's longer side times this
THUMBNAIL = 640  # the width of the thumbnail faces are cropped from
SHA256 = re.compile(r"[0-9a-f]{64}")
# One row per face of a filtered photo: ``f`` its FaceDetail, ``face`` its index.
FACES = (
    "faces AS (SELECT tweetid, mediaid, sha256, width, height, sensitive, timestamp_ms, "
    "image_labels, unnest(image_labels.facedetails) AS f, "
    "generate_subscripts(image_labels.facedetails, 1) - 1 AS face FROM photos "
    "WHERE len(image_labels.facedetails) > 0)"
)
# The face's most confident emotion, as the seed's view reduces it.
TOP_EMOTION = (
    "CASE WHEN len(f.emotions) > 0 THEN list_reduce(f.emotions, lambda s, e: "
    "CASE WHEN e.confidence > s.confidence THEN e ELSE s END) END"
)
CARD_COLUMNS = (
    f"tweetid, mediaid, sha256, width, height, sensitive, face, {TOP_EMOTION} AS top, "
    "f.agerange AS age, f.gender.value AS gender, f.boundingbox AS box"
)


def faces(engine: Engine, filters: Filters, page: int = 1, per_page: int = 60) -> dict[str, Any]:
    """Everything the Faces page shows: the charts' counts and one page of the gallery."""
    ctes, params = filters.ctes()
    totals = engine.rows(
        f"WITH {ctes}, {FACES} SELECT count(*) AS faces, "
        "count(DISTINCT (tweetid, mediaid)) AS photos, "
        "count(*) FILTER (WHERE f.smile.value) AS smiling, count(f.smile.value) AS smile_known, "
        "count(*) FILTER (WHERE f.eyeglasses.value OR f.sunglasses.value) AS glasses, "
        # known where eyeglasses are, or sunglasses are seen: no sunglasses says nothing
        # of eyeglasses, which no offline model tells
        "count(*) FILTER (WHERE f.eyeglasses.value IS NOT NULL OR f.sunglasses.value) "
        "AS glasses_known "
        "FROM faces", params)[0]
    total = int(totals["faces"])
    pages, limits = window(page, per_page, total)
    gallery = engine.rows(
        f"WITH {ctes}, {FACES} SELECT {CARD_COLUMNS} FROM faces "
        "ORDER BY timestamp_ms DESC NULLS LAST, tweetid DESC, mediaid, face "
        "LIMIT $limit OFFSET $offset",
        {**params, **limits})
    return {
        "filters": filters.as_dict(),
        "totals": {
            "faces": total, "photos": int(totals["photos"]),
            "smiling_share": _share(totals["smiling"], totals["smile_known"]),
            "glasses_share": _share(totals["glasses"], totals["glasses_known"]),
        },
        "emotions": top_emotions(engine, filters),
        "ages": age_ranges(engine, filters),
        "genders": genders(engine, filters),
        "gallery": [face_card(row) for row in gallery],
        "page": page, "pages": pages, "per_page": per_page,
    }


def top_emotions(engine: Engine, filters: Filters) -> list[dict[str, Any]]:
    """Faces by their top emotion, when it is confident enough (top_emotions.sql)."""
    ctes, params = filters.ctes()
    return engine.rows(
        f"WITH {ctes}, {FACES}, tops AS (SELECT {TOP_EMOTION} AS top FROM faces) "
        "SELECT top.type AS emotion, count(*) AS faces FROM tops "
        "WHERE top.confidence > $over GROUP BY ALL ORDER BY faces DESC, emotion",
        {**params, "over": TOP_EMOTION_OVER})


def age_ranges(engine: Engine, filters: Filters) -> list[dict[str, Any]]:
    """Faces by the middle of their estimated age range, in the buckets of AGE_BUCKETS."""
    ctes, params = filters.ctes()
    rows = engine.rows(
        f"WITH {ctes}, {FACES} SELECT floor((f.agerange.low + f.agerange.high) / 2) AS age, "
        "count(*) AS faces FROM faces WHERE f.agerange.low IS NOT NULL "
        "AND f.agerange.high IS NOT NULL GROUP BY ALL", params)
    counts = dict.fromkeys([*(f"{lo}–{hi}" for lo, hi in AGE_BUCKETS),
                            f"{AGE_BUCKETS[-1][1] + 1}+"], 0)
    for row in rows:
        counts[age_bucket(int(row["age"]))] += int(row["faces"])
    return [{"ages": label, "faces": n} for label, n in counts.items()]


def age_bucket(age: int) -> str:
    for low, high in AGE_BUCKETS:
        if age <= high:
            return f"{low}–{high}"
    return f"{AGE_BUCKETS[-1][1] + 1}+"


def genders(engine: Engine, filters: Filters) -> list[dict[str, Any]]:
    """Faces by the gender the model estimated ("Unknown" where it gave none)."""
    ctes, params = filters.ctes()
    return engine.rows(
        f"WITH {ctes}, {FACES} SELECT coalesce(f.gender.value, 'Unknown') AS gender, "
        "count(*) AS faces FROM faces GROUP BY ALL ORDER BY faces DESC, gender", params)


def face_card(row: dict[str, Any]) -> dict[str, Any]:
    """One face of the gallery: its photo, where to crop it, and what it shows."""
    tweetid, mediaid = str(row["tweetid"]), str(row["mediaid"])
    top, age = row.get("top") or {}, row.get("age") or {}
    emotion = str(top["type"]).capitalize() if top.get("type") else None
    ages = f"{age['low']}–{age['high']}" if age.get("low") is not None else None
    sha = row.get("sha256") if SHA256.fullmatch(row.get("sha256") or "") else None
    sensitive = bool(row.get("sensitive"))
    sharp = f"/photos/{sha}?size={THUMBNAIL}" if sha else None
    words = [w for w in (emotion, f"aged {ages}" if ages else None) if w]
    return {
        "tweetid": tweetid, "mediaid": mediaid, "face": int(row["face"]), "sha256": sha,
        "sensitive": sensitive, "href": f"/photo/{tweetid}/{mediaid}",
        "src": f"{sharp}&blur=1" if sharp and sensitive else sharp,
        "sharp": sharp,
        "crop": crop(row.get("box"), row.get("width"), row.get("height")),
        "emotion": emotion, "ages": ages, "gender": row.get("gender"),
        "caption": " · ".join(w for w in (emotion, ages) if w) or "Face",
        "alt": "Face" + (": " + ", ".join(words) if words else ""),
    }


def crop(box: dict[str, Any] | None, width: int | None, height: int | None) -> dict[str, str]:
    """CSS that shows the square around ``box`` (ratios of the photo) in a square element."""
    box = box or {}
    w, h = float(width or 1), float(height or 1)  # unknown size: as if square
    bw, bh = float(box.get("width") or 1), float(box.get("height") or 1)
    left, top = float(box.get("left") or 0), float(box.get("top") or 0)
    side = min(max(bw * w, bh * h) * CROP_MARGIN, w, h)
    x0 = _clamp((left + bw / 2) * w - side / 2, 0.0, w - side)
    y0 = _clamp((top + bh / 2) * h - side / 2, 0.0, h - side)
    rw, rh = side / w, side / h
    return {"size": f"{100 / rw:.2f}% {100 / rh:.2f}%",
            "position": f"{_position(x0 / w, rw):.2f}% {_position(y0 / h, rh):.2f}%"}


def _position(offset: float, part: float) -> float:
    # background-position p% puts the image's p% point on the element's p% point.
    return 0.0 if part >= 1 else 100 * offset / (1 - part)


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(value, high))


def _share(part: Any, whole: Any) -> float | None:
    return round(int(part) / int(whole), 4) if whole else None

"""Known people: who is recognised where, and enrolling people from faces in the lake.

Counts mean what the seed's ``top_celebrities.sql`` counts (``celeb_view``: one row
per recognised face, so a photo with two people counts for both), with photos and
posts besides. Everyone enrolled in the gallery is listed, recognised or not.

Faces nobody is recognised as (``facedetails`` whose box is not among the photo's
``celebrityfaces``) can be enrolled: each face's embedding, kept at the same index in
``media_rekognition.face_embeddings``, joins the gallery, and every stored face is
matched again (:func:`socialsight.people.rematch`).
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import quote

import numpy as np

from socialsight.errors import InputError, LakeBusyError, LakeError, NotFoundError
from socialsight.explore.faces import face_card
from socialsight.explore.filters import Filters, photo_card
from socialsight.explore.paging import window
from socialsight.people import Gallery, person_id, rematch
from socialsight.query.engine import Engine

MAX_NAME = 100
MAX_URLS = 5
MAX_URL = 500
MAX_FACES = 50
MAX_ID = 64  # digits of a post id, characters of a media id
_WRITING = threading.Lock()  # one change to the gallery at a time in this process

# Every recognised face of a filtered photo.
MATCHES = (
    "matches AS (SELECT tweetid, mediaid, sha256, sensitive, timestamp_ms, c.id, c.name, "
    "c.urls, c.matchconfidence FROM (SELECT tweetid, mediaid, sha256, sensitive, "
    "timestamp_ms, unnest(image_labels.celebrityrecognition.celebrityfaces) AS c "
    "FROM photos))"
)
# Faces of filtered photos that match no one and have an embedding to enrol.
UNKNOWN = (
    "faces AS (SELECT p.tweetid, p.mediaid, p.sha256, p.width, p.height, p.sensitive, "
    "p.timestamp_ms, unnest(p.image_labels.facedetails) AS f, "
    "generate_subscripts(p.image_labels.facedetails, 1) - 1 AS face, "
    "list_transform(p.image_labels.celebrityrecognition.celebrityfaces, "
    "lambda c: c.face.boundingbox) AS known, "
    "list_transform(m.face_embeddings, lambda v: v IS NOT NULL) AS embedded "
    "FROM photos p JOIN media_rekognition m ON m.tweetid = p.tweetid "
    "AND m.mediaid = p.mediaid WHERE len(p.image_labels.facedetails) > 0), "
    "unknown AS (SELECT * FROM faces WHERE sha256 IS NOT NULL "
    "AND NOT coalesce(list_contains(known, f.boundingbox), false) "
    "AND coalesce(embedded[face + 1], false))"
)


def people(engine: Engine, filters: Filters, page: int = 1,
           per_page: int = 60) -> dict[str, Any]:
    """Everyone known, with where they appear; and a page of the faces no one matches."""
    ctes, params = filters.ctes()
    counts = engine.rows(
        f"WITH {ctes}, {MATCHES} SELECT id, any_value(name) AS name, count(*) AS faces, "
        "count(DISTINCT (tweetid, mediaid)) AS photos, count(DISTINCT tweetid) AS posts "
        "FROM matches WHERE id IS NOT NULL GROUP BY id", params)
    enrolled = {p["id"]: p for p in Gallery.load(engine.lake).people()}
    found = {row["id"]: row for row in counts}
    everyone = [_person(pid, enrolled.get(pid), found.get(pid))
                for pid in {**enrolled, **found}]
    everyone.sort(key=lambda p: (-p["photos"], -p["faces"], p["name"].casefold()))
    total = int(engine.rows(f"WITH {ctes}, {UNKNOWN} SELECT count(DISTINCT (sha256, face)) "
                            "AS n FROM unknown", params)[0]["n"])
    pages, limits = window(page, per_page, total)
    return {
        "filters": filters.as_dict(),
        "people": everyone,
        "unknown": unknown_faces(engine, filters, limits),
        "totals": {"people": len(everyone), "enrolled": len(enrolled),
                   "unknown_faces": total},
        "page": page, "pages": pages, "per_page": per_page,
    }


def _person(pid: str, enrolled: dict[str, Any] | None,
            found: dict[str, Any] | None) -> dict[str, Any]:
    source = enrolled or found or {}
    return {"id": pid, "name": str(source.get("name") or pid),
            "urls": web_urls((enrolled or {}).get("urls") or []),
            "enrolled_faces": int(enrolled["photos"]) if enrolled else 0,
            "faces": int(found["faces"]) if found else 0,
            "photos": int(found["photos"]) if found else 0,
            "posts": int(found["posts"]) if found else 0,
            "href": f"/people/{quote(pid, safe='')}"}


def unknown_faces(engine: Engine, filters: Filters,
                  limits: dict[str, int]) -> list[dict[str, Any]]:
    """A page (``limits``: paging.window's) of the faces no one is recognised as, each
    image once (however many posts share it)."""
    ctes, params = filters.ctes()
    rows = engine.rows(
        f"WITH {ctes}, {UNKNOWN} SELECT sha256, face, bool_or(sensitive) AS sensitive, "
        "count(DISTINCT tweetid) AS posts, arg_max({'tweetid': tweetid, 'mediaid': mediaid, "
        "'width': width, 'height': height, 'box': f.boundingbox, 'age': f.agerange, "
        "'gender': f.gender.value}, timestamp_ms) AS latest "
        "FROM unknown GROUP BY sha256, face "
        "ORDER BY max(timestamp_ms) DESC NULLS LAST, sha256, face LIMIT $limit OFFSET $offset",
        {**params, **limits})
    out = []
    for row in rows:
        card = face_card({**row["latest"], "sha256": row["sha256"], "face": row["face"],
                          "sensitive": row["sensitive"]})
        posts = int(row["posts"])
        card["posts"] = posts
        card["caption"] = " · ".join(w for w in (
            card["ages"] and f"aged {card['ages']}", f"in {posts} posts" if posts > 1 else None)
            if w) or "Face"
        out.append(card)
    return out


def person(engine: Engine, filters: Filters, pid: str, page: int = 1,
           per_page: int = 60) -> dict[str, Any]:
    """One person: who they are, and the filtered photos they are recognised in."""
    enrolled = {p["id"]: p for p in Gallery.load(engine.lake).people()}.get(pid)
    known = enrolled or _recognised(engine, pid)
    if known is None:
        raise NotFoundError(f"no one known has the id {pid[:MAX_ID]!r}")
    ctes, params = filters.ctes()
    params = {**params, "id": pid}
    total = int(engine.rows(f"WITH {ctes}, {MATCHES} SELECT count(DISTINCT (tweetid, mediaid)) "
                            "AS n FROM matches WHERE id = $id", params)[0]["n"])
    pages, limits = window(page, per_page, total)
    rows = engine.rows(
        f"WITH {ctes}, {MATCHES} SELECT tweetid, mediaid, sha256, bool_or(sensitive) AS "
        "sensitive, max(matchconfidence) AS confidence FROM matches WHERE id = $id "
        "GROUP BY tweetid, mediaid, sha256 "
        "ORDER BY confidence DESC NULLS LAST, max(timestamp_ms) DESC, tweetid DESC, mediaid "
        "LIMIT $limit OFFSET $offset",
        {**params, **limits})
    return {
        "filters": filters.as_dict(),
        "person": {"id": pid, "name": known["name"], "urls": web_urls(known.get("urls") or []),
                   "enrolled": enrolled is not None,
                   "enrolled_faces": int(enrolled["photos"]) if enrolled else 0,
                   "photos": total},
        "cards": [_match_card(row) for row in rows],
        "page": page, "pages": pages, "per_page": per_page,
    }


def _recognised(engine: Engine, pid: str) -> dict[str, Any] | None:
    """A person some photo was matched to, though no longer enrolled (any filters)."""
    rows = engine.rows(
        "SELECT any_value(c.name) AS name, any_value(c.urls) AS urls FROM (SELECT "
        "unnest(image_labels.celebrityrecognition.celebrityfaces) AS c "
        "FROM media_rekognition) WHERE c.id = $id "
        "HAVING count(*) > 0", {"id": pid})
    return rows[0] if rows else None


def _match_card(row: dict[str, Any]) -> dict[str, Any]:
    confidence = row["confidence"]
    caption = f"match {confidence:.0f}%" if confidence is not None else "match"
    return {**photo_card(row), "confidence": confidence, "caption": caption,
            "alt": f"Photo, {caption}"}


def web_urls(urls: list[str]) -> list[str]:
    """Only http(s) links: the page makes them clickable."""
    return [u for u in urls if isinstance(u, str) and u.lower().startswith(
        ("http://", "https://"))]


# --- changing the gallery ------------------------------------------------------------------


def enrol(engine: Engine, payload: Any) -> dict[str, Any]:
    """Enrol ``{name, urls, faces: [{tweetid, mediaid, face}]}`` and match every face again."""
    name, urls, refs = _enrolment(payload)
    found = [_embedding(engine, *ref) for ref in refs]
    with _WRITING:
        gallery = Gallery.load(engine.lake)
        before, pid = len(gallery), person_id(name)
        for photo, sha256, vector in found:
            gallery.add(name, photo, sha256, vector, urls)
        gallery.save(engine.lake)
        rows = _rematch(engine, f"{name} is enrolled")
    return {"id": pid, "name": " ".join(name.split()), "faces_added": len(gallery) - before,
            "photos_rematched": rows}


def forget(engine: Engine, pid: str) -> dict[str, Any]:
    """Forget an enrolled person (by id) and match every face again."""
    with _WRITING:
        gallery = Gallery.load(engine.lake)
        known = {p["id"]: p for p in gallery.people()}.get(pid)
        if known is None:
            raise NotFoundError(f"no one enrolled has the id {pid[:MAX_ID]!r}")
        removed = gallery.remove(pid)
        gallery.save(engine.lake)
        rows = _rematch(engine, f"{known['name']} is forgotten")
    return {"id": pid, "name": known["name"], "faces_removed": removed,
            "photos_rematched": rows}


def _rematch(engine: Engine, done: str) -> int:
    try:
        return rematch(engine.lake)[1]
    except LakeError as exc:
        raise LakeBusyError(f"{done}, but past photos are not matched again yet ({exc}): run "
                       "`socialsight people rematch` when it is done") from exc


def _enrolment(payload: Any) -> tuple[str, list[str], list[tuple[int, str, int]]]:
    """The name, links and faces of an enrolment; an InputError says what is wrong."""
    if not isinstance(payload, dict):
        raise InputError("send a JSON object: {name, urls, faces: [{tweetid, mediaid, face}]}")
    name = payload.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InputError("a person needs a name")
    if len(name.strip()) > MAX_NAME or any(ord(c) < 32 for c in name):
        raise InputError(f"a name is one line of at most {MAX_NAME} characters")
    urls = payload.get("urls") or []
    if not isinstance(urls, list) or len(urls) > MAX_URLS:
        raise InputError(f"urls is a list of at most {MAX_URLS} links")
    urls = [u.strip() for u in urls if isinstance(u, str) and u.strip()]
    if any(len(u) > MAX_URL or not web_urls([u]) or any(c.isspace() for c in u) for u in urls):
        raise InputError(f"a link starts with http:// or https:// and is at most {MAX_URL} "
                         "characters")
    faces = payload.get("faces")
    if not isinstance(faces, list) or not faces:
        raise InputError("choose at least one face to enrol")
    if len(faces) > MAX_FACES:
        raise InputError(f"enrol at most {MAX_FACES} faces at once")
    refs = list(dict.fromkeys(_face_ref(f) for f in faces))
    return name.strip(), urls, refs


def _face_ref(face: Any) -> tuple[int, str, int]:
    if not isinstance(face, dict):
        raise InputError("each face is {tweetid, mediaid, face}")
    tweetid, mediaid, index = face.get("tweetid"), face.get("mediaid"), face.get("face")
    text = str(tweetid) if isinstance(tweetid, int | str) and not isinstance(tweetid, bool) \
        else ""
    if not (text.isascii() and text.isdigit()) or len(text) > 19 or int(text) >= 2**63:
        raise InputError(f"tweetid must be a post's id, not {str(tweetid)[:MAX_ID]!r}")
    if not isinstance(mediaid, str) or not mediaid or len(mediaid) > MAX_ID:
        raise InputError(f"mediaid must be a photo's id, not {str(mediaid)[:MAX_ID]!r}")
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise InputError(f"face must be a face's index in the photo (0, 1, ...), not "
                         f"{str(index)[:MAX_ID]!r}")
    return int(text), mediaid, index


def _embedding(engine: Engine, tweetid: int, mediaid: str,
               face: int) -> tuple[str, str, np.ndarray]:
    """(photo, sha256, embedding) of one face in the lake; an InputError if it has none."""
    rows = engine.rows(
        "SELECT media_url, sha256, coalesce(len(image_labels.facedetails), 0) AS faces, "
        "face_embeddings[$index] AS embedding FROM media_rekognition "
        "WHERE tweetid = $tweetid AND mediaid = $mediaid LIMIT 1",
        {"tweetid": tweetid, "mediaid": mediaid, "index": min(face, 10**6) + 1})
    where = f"photo {mediaid} of post {tweetid}"
    if not rows:
        raise InputError(f"there is no analysed {where}")
    row = rows[0]
    if face >= row["faces"]:
        count = f"{row['faces']} face{'' if row['faces'] == 1 else 's'}"
        raise InputError(f"{where} has {count}: there is no face {face} (faces count from 0)")
    if row["embedding"] is None or not row["sha256"]:
        raise InputError(f"face {face} of {where} has no embedding to enrol (the face "
                         "model failed on it when the photo was analysed)")
    return row["media_url"] or row["sha256"], row["sha256"], np.asarray(row["embedding"],
                                                                         np.float32)

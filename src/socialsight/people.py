"""Known people: a gallery the user enrols, matched against every face (RecognizeCelebrities).

Rekognition recognises celebrities from Amazon's own gallery; socialsight recognises
the people *you* enrol — a brand's spokespeople, a campaign's faces, the accounts a
trust-and-safety team follows — with ``socialsight people add NAME PHOTO...``. Each
enrolled photo contributes one face embedding; the gallery is one Parquet file in the
lake (``_people/gallery.parquet``), rewritten whole on every change.

Every change is written under the lake's writer lock, wherever it comes from (the CLI,
the dashboard, a demo): :meth:`Gallery.save` takes it, reads the gallery as it is now
and applies this gallery's own changes to it, so an enrolment another process saved
meanwhile is kept. A remote lake (``s3://``) has no lock and trusts one writer at a
time, as for every write; the merge still keeps changes that do not land in the same
instant.

A face matches the enrolled person whose nearest embedding is closest, when that
distance is under :data:`socialsight.vision.embeddings.MATCH_DISTANCE`; the match
confidence is :func:`socialsight.vision.embeddings.similarity` of it. Faces are kept
with their embeddings in ``media_rekognition.face_embeddings``, so :func:`rematch`
applies a changed gallery to every past photo without analysing a photo again.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from socialsight.errors import InputError, LakeBusyError, LakeError
from socialsight.lake import state
from socialsight.lake.store import Lake
from socialsight.progress import NO_PROGRESS, Progress

log = logging.getLogger(__name__)

GALLERY = state.path("gallery", "gallery.parquet")
LOCK_WAIT_SECONDS = 5.0  # a change waits this long for another writer (changes take ms)
SCHEMA = pa.schema([
    ("id", pa.string()),
    ("name", pa.string()),
    ("urls", pa.list_(pa.string())),
    ("photo", pa.string()),  # the photo's file name or URL, as given
    ("photo_sha256", pa.string()),
    ("embedding", pa.list_(pa.float32())),
    ("added_at", pa.timestamp("ms", tz="UTC")),
])


def person_id(name: str) -> str:
    """A short, stable id for a name (Rekognition's celebrity ids are short strings too)."""
    return hashlib.blake2b(_norm(name).encode(), digest_size=4).hexdigest()


def _norm(name: str) -> str:
    return re.sub(r"\s+", " ", name).strip().casefold()


class GalleryBusy(LakeBusyError):
    """Another process holds the lake's writer lock: the gallery is not changed."""


def writing(lake: Lake) -> contextlib.AbstractContextManager[None]:
    """Hold the lake's writer lock, waiting up to :data:`LOCK_WAIT_SECONDS` for it."""
    return lake.lock_within(LOCK_WAIT_SECONDS, GalleryBusy)


def _keys(rows: pa.Table) -> list[tuple[str, str]]:
    """Each row's (person, photo): what makes an enrolled face itself."""
    return list(zip(rows.column("id").to_pylist(), rows.column("photo_sha256").to_pylist(),
                    strict=True))


@dataclass
class Gallery:
    """The enrolled faces: one row per (person, photo)."""

    rows: pa.Table
    _cached: tuple[pa.Table, Any] | None = field(default=None, repr=False, compare=False)
    # The faces as loaded: save() writes what changed since, onto the gallery as it is.
    _loaded: frozenset[tuple[str, str]] = field(default=frozenset(), repr=False,
                                                compare=False)

    @classmethod
    def load(cls, lake: Lake) -> Gallery:
        path = lake.path(GALLERY)
        try:
            with lake.fs.open(path, "rb") as handle:
                rows = pq.read_table(handle).cast(SCHEMA)
        except FileNotFoundError:
            rows = SCHEMA.empty_table()
        except (OSError, pa.ArrowException) as exc:
            raise LakeError(f"cannot read the people gallery {path}: {exc}") from exc
        return cls(rows, _loaded=frozenset(_keys(rows)))

    def save(self, lake: Lake, lock: bool = True) -> None:
        """Write the faces added and removed since :meth:`load` into the lake's gallery
        as it is now, under the lake's writer lock (``lock``: take it; off when the
        caller holds it). A busy lake is a :class:`GalleryBusy` after a short wait."""
        with writing(lake) if lock else contextlib.nullcontext():
            current = Gallery.load(lake).rows
            mine = _keys(self.rows)
            gone = self._loaded - set(mine)
            have = set(_keys(current))
            keep = [k not in gone for k in _keys(current)]
            new = [k not in self._loaded and k not in have for k in mine]
            merged = pa.concat_tables([current.filter(pa.array(keep, pa.bool_())),
                                       self.rows.filter(pa.array(new, pa.bool_()))])
            out = pa.BufferOutputStream()
            pq.write_table(merged, out, compression="zstd")
            lake.write_bytes(lake.path(GALLERY), out.getvalue().to_pybytes())
        self.rows, self._loaded = merged, frozenset(_keys(merged))

    def __len__(self) -> int:
        return self.rows.num_rows

    @property
    def matrix(self) -> np.ndarray:
        """The enrolled embeddings, one row each (built once per gallery state)."""
        return self._index()[0]

    def _index(self) -> tuple[np.ndarray, list[str], list[str], list[list[str]]]:
        # Every photo's faces are matched against the gallery: convert it once, not
        # once per photo; add() and remove() replace ``rows`` and so the index.
        if self._cached is None or self._cached[0] is not self.rows:
            if len(self):
                vectors = self.rows.column("embedding").to_pylist()
                matrix = np.asarray(vectors, dtype=np.float32)
            else:
                matrix = np.zeros((0, 0), dtype=np.float32)
            self._cached = (self.rows, (
                matrix, self.rows.column("id").to_pylist(),
                self.rows.column("name").to_pylist(),
                [u or [] for u in self.rows.column("urls").to_pylist()]))
        return self._cached[1]

    def people(self) -> list[dict[str, Any]]:
        """One entry per person: id, name, urls, photos, added."""
        out: dict[str, dict[str, Any]] = {}
        for row in self.rows.to_pylist():
            person = out.setdefault(row["id"], {"id": row["id"], "name": row["name"],
                                                "urls": [], "photos": 0,
                                                "added_at": row["added_at"]})
            person["photos"] += 1
            person["urls"] += [u for u in row["urls"] or [] if u not in person["urls"]]
        return sorted(out.values(), key=lambda p: p["name"].casefold())

    def add(self, name: str, photo: str, sha256: str, embedding: np.ndarray,
            urls: Sequence[str] = ()) -> str:
        if not name.strip():
            raise InputError("a person needs a name")
        pid = person_id(name)
        if any(p == sha256 and i == pid for p, i in zip(
                self.rows.column("photo_sha256").to_pylist(),
                self.rows.column("id").to_pylist(), strict=True)):
            return pid  # this photo of this person is enrolled already
        row = {"id": pid, "name": re.sub(r"\s+", " ", name).strip(), "urls": list(urls),
               "photo": photo, "photo_sha256": sha256,
               "embedding": np.asarray(embedding, dtype=np.float32).tolist(),
               "added_at": datetime.now(UTC)}
        self.rows = pa.concat_tables([self.rows, pa.Table.from_pylist([row], schema=SCHEMA)])
        return pid

    def remove(self, who: str) -> int:
        """Forget a person (by name or id); returns how many enrolled faces went."""
        ids = self.rows.column("id").to_pylist()
        names = [_norm(n) for n in self.rows.column("name").to_pylist()]
        keep = [i != who and n != _norm(who) for i, n in zip(ids, names, strict=True)]
        removed = keep.count(False)
        self.rows = self.rows.filter(pa.array(keep, pa.bool_()))
        return removed


def _face(detail: dict[str, Any]) -> dict[str, Any]:
    """The ``celebrityrecognition`` face struct: what a FaceDetail says of where the face is."""
    return {k: detail.get(k) for k in ("boundingbox", "confidence", "landmarks", "pose",
                                        "quality")}


def recognise(gallery: Gallery, facedetails: list[dict[str, Any]] | None,
              embeddings: Sequence[Sequence[float] | None] | None) -> dict[str, Any] | None:
    """The ``celebrityrecognition`` struct for one photo's faces (None: faces not looked for)."""
    if facedetails is None:
        return None
    from socialsight.vision.embeddings import MATCH_DISTANCE, similarity

    known: list[dict[str, Any]] = []
    unknown: list[dict[str, Any]] = []
    matrix, ids, names, urls = gallery._index()
    vectors = list(embeddings or [])
    for index, detail in enumerate(facedetails):
        vector = vectors[index] if index < len(vectors) else None
        if vector is None or not len(matrix):
            unknown.append(_face(detail))
            continue
        distances = np.linalg.norm(matrix - np.asarray(vector, dtype=np.float32), axis=1)
        best = int(distances.argmin())
        if float(distances[best]) >= MATCH_DISTANCE:
            unknown.append(_face(detail))
            continue
        known.append({"name": names[best], "id": ids[best], "urls": urls[best],
                      "matchconfidence": round(similarity(float(distances[best])), 3),
                      "face": _face(detail)})
    return {"celebrityfaces": known, "unrecognizedfaces": unknown,
            "orientationcorrection": None}


def attach(labels: dict[str, Any], embeddings: Sequence[Sequence[float] | None] | None,
           gallery: Gallery) -> dict[str, Any]:
    """A photo's ``image_labels`` with its ``celebrityrecognition``: the gallery's people
    among its faces, null where faces were not looked for (``facedetails`` null).

    The one place it is composed: ``socialsight enrich``, ``socialsight analyze`` and
    RecognizeCelebrities all call it, so the lake and the tools answer alike.
    """
    return labels | {"celebrityrecognition": recognise(gallery, labels.get("facedetails"),
                                                       embeddings)}


# --- enrolment ---------------------------------------------------------------------------


@dataclass
class Enrolled:
    photo: str
    faces: int  # faces found in the photo (the largest one is enrolled)


def enrol(lake: Lake, name: str, photos: Sequence[str], urls: Sequence[str],
          load: Callable[[str], tuple[Any, str]], threads: int = 1,
          directory: str | None = None, lock: bool = False) -> tuple[str, list[Enrolled]]:
    """Add ``name`` with the largest face of each photo; ``load`` gives (image, sha256).

    A photo without a face is an InputError naming it; nothing is saved unless every
    photo gave a face. ``lock``: take the lake's writer lock just for the write, after
    the faces are found (off: the caller holds it).
    """
    from socialsight.vision.embeddings import embed
    from socialsight.vision.faces import detect_faces

    gallery = Gallery.load(lake)
    done: list[Enrolled] = []
    pid = person_id(name)
    for photo in photos:
        image, sha256 = load(photo)
        image = image.convert("RGB")
        faces = detect_faces(image, threads=threads, directory=directory)
        if not faces:
            raise InputError(f"no face found in {photo}: enrol a photo where the face is "
                             "clearly visible")
        largest = max(faces, key=lambda f: f.box[2] * f.box[3])
        pid = gallery.add(name, photo, sha256, embed(image, largest, threads, directory), urls)
        done.append(Enrolled(photo, len(faces)))
    gallery.save(lake, lock=lock)
    return pid, done


def forget(lake: Lake, who: str,
           progress: Progress = NO_PROGRESS) -> tuple[int, int]:
    """Forget a person (by name or id) and match every stored face again, under the
    lake's writer lock; returns (enrolled faces removed, photos changed). ``progress``:
    as for :func:`rematch`."""
    with writing(lake):
        gallery = Gallery.load(lake)
        removed = gallery.remove(who)
        if not removed:
            return 0, 0
        gallery.save(lake, lock=False)
        return removed, rematch(lake, progress, lock=False)[1]


# --- applying the gallery to past photos -------------------------------------------------


def rematch(lake: Lake, progress: Progress = NO_PROGRESS,
            lock: bool = True) -> tuple[int, int]:
    """Match every stored face against the gallery again; returns (files, rows) changed.
    ``progress`` hears the ``media_rekognition`` "files" done; ``lock``: take the lake's
    writer lock (off when the caller holds it)."""
    files_changed = rows_changed = 0
    with writing(lake) if lock else contextlib.nullcontext():
        gallery = Gallery.load(lake)
        paths = lake.files("media_rekognition")
        progress.start("files", len(paths))
        for path in paths:
            table = lake.read_file(path)
            labels = table.column("image_labels").to_pylist()
            embeddings = table.column("face_embeddings").to_pylist()
            changed = 0
            for row, vectors in zip(labels, embeddings, strict=True):
                if row is None or row.get("facedetails") is None:
                    continue
                fresh = recognise(gallery, row["facedetails"], vectors)
                if fresh != row.get("celebrityrecognition"):
                    row["celebrityrecognition"] = fresh
                    changed += 1
            if changed:
                index = table.schema.get_field_index("image_labels")
                column = pa.array(labels, type=table.schema.field("image_labels").type)
                lake.rewrite(path, table.set_column(index, "image_labels", column))
                files_changed += 1
                rows_changed += changed
            progress.advance("files")
    return files_changed, rows_changed

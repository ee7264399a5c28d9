"""Rekognition's face collections, kept in the lake so that they outlive the server.

A brand team indexes the faces of its own people into a collection (``IndexFaces``)
and finds them again in new photos (``SearchFacesByImage``). Each collection is a
folder of the lake::

    <lake>/_collections/<CollectionId>/collection.json   id, ARN, creation time
    <lake>/_collections/<CollectionId>/faces.parquet     one row per indexed face

Both files are written whole through :meth:`Lake.write_bytes` (a rename on a local
lake, one PUT on an object store), so a reader sees the old faces or the new ones,
never half of them. Each face keeps its embedding (dlib's ResNet descriptor, the one
the known-people gallery uses, :mod:`socialsight.vision.embeddings`); a search ranks
the collection's faces by :func:`socialsight.vision.embeddings.similarity` of their
distance to the searched face. Writes from one server are serialised by a lock; as
with the rest of a remote lake, one server at a time writes to a collection.

Errors are AWS's: ``ResourceNotFoundException`` for an unknown collection,
``ResourceAlreadyExistsException`` when one is created twice, and
``InvalidParameterException`` for an id outside AWS's pattern ``[a-zA-Z0-9_.\\-]+`` (or
one of ``.`` and ``..``, which would name a folder outside the collection's own).
"""

from __future__ import annotations

import io
import posixpath
import re
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from socialsight.aws.core import AwsError
from socialsight.lake import state
from socialsight.lake.store import Lake
from socialsight.vision.analyze import MODEL_VERSIONS
from socialsight.vision.embeddings import similarity

FOLDER = state.path("collections")
META = "collection.json"
FACES = "faces.parquet"
FACE_MODEL_VERSION = MODEL_VERSIONS["known_people"]
ARN = "arn:aws:rekognition:local:000000000000:collection/{}"
COLLECTION_ID = re.compile(r"[a-zA-Z0-9_.\-]{1,255}")
FACE_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SCHEMA = pa.schema([
    ("face_id", pa.string()),
    ("image_id", pa.string()),
    ("external_image_id", pa.string()),
    ("left", pa.float64()),
    ("top", pa.float64()),
    ("width", pa.float64()),
    ("height", pa.float64()),
    ("confidence", pa.float64()),
    ("embedding", pa.list_(pa.float32())),
    ("indexed_at", pa.timestamp("ms", tz="UTC")),
])

_lock = threading.Lock()  # one writer at a time per server: read, change, write whole


@dataclass
class NewFace:
    """A face to index: where it is in its photo, and its embedding."""

    image_id: str
    external_image_id: str | None
    box: tuple[float, float, float, float]  # left, top, width, height (relative)
    confidence: float
    embedding: np.ndarray


def check_id(collection_id: Any) -> str:
    """A valid CollectionId; "." and ".." (AWS's pattern allows them) would name folders
    outside the collection's own, so they are refused too."""
    if not isinstance(collection_id, str) or not COLLECTION_ID.fullmatch(collection_id) or (
            collection_id in (".", "..")):
        raise AwsError("InvalidParameterException",
                       f"CollectionId {collection_id!r} must be 1 to 255 characters of "
                       "[a-zA-Z0-9_.-], other than . and ..")
    return collection_id


def face_record(row: dict[str, Any]) -> dict[str, Any]:
    """A stored face as Rekognition's ``Face`` structure."""
    face = {"FaceId": row["face_id"],
            "BoundingBox": {"Width": row["width"], "Height": row["height"],
                            "Left": row["left"], "Top": row["top"]},
            "ImageId": row["image_id"], "Confidence": row["confidence"],
            "IndexFacesModelVersion": FACE_MODEL_VERSION}
    if row["external_image_id"] is not None:
        face["ExternalImageId"] = row["external_image_id"]
    return face


class Collections:
    """The collections of one lake."""

    def __init__(self, lake: Lake) -> None:
        self.lake = lake

    def _path(self, collection_id: str, name: str = "") -> str:
        return self.lake.path(FOLDER, check_id(collection_id), *([name] if name else []))

    def _meta(self, collection_id: str) -> dict[str, Any]:
        try:
            meta: dict[str, Any] = orjson.loads(self.lake.fs.cat_file(
                self._path(collection_id, META)))
        except FileNotFoundError:
            raise AwsError("ResourceNotFoundException",
                           f"The collection id: {collection_id} does not exist") from None
        return meta

    def faces(self, collection_id: str) -> pa.Table:
        """Every face of the collection (ResourceNotFoundException if there is none)."""
        self._meta(collection_id)
        try:
            with self.lake.fs.open(self._path(collection_id, FACES), "rb") as handle:
                return pq.read_table(handle).cast(SCHEMA)
        except FileNotFoundError:
            return SCHEMA.empty_table()

    def _save(self, collection_id: str, faces: pa.Table) -> None:
        buffer = io.BytesIO()
        pq.write_table(faces, buffer, compression="zstd")
        self.lake.write_bytes(self._path(collection_id, FACES), buffer.getvalue())

    # --- the collection calls ------------------------------------------------------

    def create(self, collection_id: str) -> dict[str, Any]:
        with _lock:
            path = self._path(collection_id, META)
            if self.lake.fs.exists(path):
                raise AwsError("ResourceAlreadyExistsException",
                               f"The collection id: {collection_id} already exists")
            meta = {"CollectionId": collection_id, "CollectionArn": ARN.format(collection_id),
                    "CreationTimestamp": round(time.time(), 3),
                    "FaceModelVersion": FACE_MODEL_VERSION}
            self.lake.write_bytes(path, orjson.dumps(meta))
        return {"StatusCode": 200, "CollectionArn": meta["CollectionArn"],
                "FaceModelVersion": FACE_MODEL_VERSION}

    def ids(self) -> list[str]:
        pattern = self.lake.path(FOLDER, "*", META)
        return sorted(posixpath.basename(posixpath.dirname(p))
                      for p in self.lake.fs.glob(pattern))

    def describe(self, collection_id: str) -> dict[str, Any]:
        meta = self._meta(collection_id)
        return {"FaceCount": self.faces(collection_id).num_rows,
                "FaceModelVersion": meta["FaceModelVersion"],
                "CollectionARN": meta["CollectionArn"],
                "CreationTimestamp": meta["CreationTimestamp"], "UserCount": 0}

    def delete(self, collection_id: str) -> dict[str, Any]:
        with _lock:
            self._meta(collection_id)
            faces = self._path(collection_id, FACES)
            if self.lake.fs.exists(faces):
                self.lake.fs.rm(faces)
            self.lake.fs.rm(self._path(collection_id, META))
            if self.lake.local:
                self.lake.fs.rm(self._path(collection_id), recursive=True)
        return {"StatusCode": 200}

    # --- faces -----------------------------------------------------------------------

    def add(self, collection_id: str, new: list[NewFace]) -> list[dict[str, Any]]:
        """Index ``new`` faces; returns their ``Face`` structures, in order."""
        now = time.time()
        rows = [{"face_id": str(uuid.uuid4()), "image_id": f.image_id,
                 "external_image_id": f.external_image_id,
                 "left": f.box[0], "top": f.box[1], "width": f.box[2], "height": f.box[3],
                 "confidence": f.confidence,
                 "embedding": np.asarray(f.embedding, dtype=np.float32).tolist(),
                 "indexed_at": int(now * 1000)} for f in new]
        with _lock:
            faces = self.faces(collection_id)
            if rows:
                added = pa.Table.from_pylist(rows, schema=SCHEMA)
                self._save(collection_id, pa.concat_tables([faces, added]))
        return [face_record(r) for r in rows]

    def remove(self, collection_id: str, face_ids: list[str]) -> list[str]:
        """Delete these faces; returns the ids that were there."""
        with _lock:
            faces = self.faces(collection_id)
            present = faces.column("face_id").to_pylist()
            gone = [f for f in dict.fromkeys(face_ids) if f in set(present)]
            if gone:
                keep = pa.array([f not in gone for f in present], pa.bool_())
                self._save(collection_id, faces.filter(keep))
        return gone

    def search(self, collection_id: str, embedding: np.ndarray, threshold: float,
               max_faces: int, exclude: str | None = None) -> list[dict[str, Any]]:
        """``FaceMatches``: the faces at least ``threshold`` similar, most similar first."""
        faces = self.faces(collection_id)
        if not faces.num_rows:
            return []
        matrix = np.asarray(faces.column("embedding").to_pylist(), dtype=np.float32)
        distances = np.linalg.norm(matrix - np.asarray(embedding, dtype=np.float32), axis=1)
        rows = faces.drop_columns(["embedding"]).to_pylist()
        matches = []
        for index in np.argsort(distances, kind="stable"):
            row, score = rows[int(index)], similarity(float(distances[int(index)]))
            if score < threshold:
                break
            if row["face_id"] != exclude:
                matches.append({"Similarity": score, "Face": face_record(row)})
            if len(matches) == max_faces:
                break
        return matches

    def embedding(self, collection_id: str, face_id: str) -> np.ndarray:
        """The stored embedding of one face (InvalidParameterException if not there)."""
        faces = self.faces(collection_id)
        ids = faces.column("face_id").to_pylist()
        if face_id not in ids:
            raise AwsError("InvalidParameterException",
                           f"The face {face_id} is not in the collection {collection_id}")
        return np.asarray(faces.column("embedding")[ids.index(face_id)].as_py(),
                          dtype=np.float32)

"""socialsight from Python: the functions the ``socialsight`` command itself calls.

For analysts' notebooks::

    import socialsight

    lake = socialsight.open_lake("lake")            # a folder or s3://bucket/prefix
    top = lake.sql("SELECT label_name, count(*) AS n FROM media_image_labels_query "
                   "GROUP BY 1 ORDER BY n DESC LIMIT 10")   # a pyarrow Table
    lake.df("SELECT * FROM tweets LIMIT 5")         # pandas (if installed)
    lake.seed("top_labels")                         # one of the seed's queries
    socialsight.analyze_photo("photo.jpg")          # what `socialsight analyze` prints
    socialsight.analyze_text("What a lovely day!")  # what `socialsight analyze-text` prints
    lake.enrol("Ada Lovelace", ["ada1.jpg", "ada2.jpg"])
    lake.more_like("photo.jpg")                      # the lake's photos most like it
    lake.versions(sha256)                           # a photo's versions in the lake

Settings come from ./socialsight.toml and SOCIALSIGHT_* variables, as for the
command, unless a :class:`~socialsight.config.Settings` is given. Errors are
:class:`~socialsight.errors.SocialsightError` with the message the command prints.
Nothing here configures logging: that is the application's (or notebook's) choice.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from socialsight.config import Settings, load_settings
from socialsight.errors import InputError, LakeError

if TYPE_CHECKING:
    import pandas
    import polars
    import pyarrow as pa
    from PIL import Image

    from socialsight.lake.store import Lake
    from socialsight.query.engine import Engine, Rows
    from socialsight.vision.analyze import Analysis

log = logging.getLogger(__name__)

SHA256 = re.compile(r"[0-9a-f]{64}")
MORE_LIKE = 12  # photos "more like this" gives unless asked for another number
# Why "more like this" has nothing to give, when the photo has no embedding.
NO_EMBEDDING = ("photo {sha} has no embedding: it was analysed before embeddings were "
                "stored (enrich it again into a new lake to compare it)")
NOT_IN_LAKE = "no photo {sha} in the lake"

# What analyze_photo can be asked for, and the result's field for each (Rekognition's
# name, the lake's name). "people": the lake's known people among the faces.
ANALYSES: dict[str, tuple[str, str]] = {
    "labels": ("Labels", "labels"),
    "moderation": ("ModerationLabels", "moderationlabels"),
    "text": ("TextDetections", "textdetections"),
    "faces": ("FaceDetails", "facedetails"),
    "people": ("CelebrityRecognition", "celebrityrecognition"),
}


def seed_queries() -> dict[str, str]:
    """The seed's sample queries, by name, as the Athena SQL the blog post gives."""
    from socialsight.query.engine import seed_queries as queries

    return queries()


def _settings(settings: Settings | None, lake: str | Path | None) -> Settings:
    if settings is None:
        return load_settings(lake=None if lake is None else str(lake))
    return settings if lake is None else settings.model_copy(update={"lake": str(lake)})


def existing_lake(lake: str | Path | Lake) -> Lake:
    """The lake at a path or URL; a LakeError when there is none there (a mistyped path
    is not an empty lake). The one check, for the command and for :func:`open_lake`."""
    from socialsight.lake.store import Lake

    if not isinstance(lake, Lake):
        lake = Lake(str(lake))
    if not lake.fs.exists(lake.root):
        raise LakeError(f"no lake at {lake.url}; create one with `socialsight import FILE`")
    return lake


def open_lake(path_or_url: str | Path | None = None,
              settings: Settings | None = None) -> LakeHandle:
    """The lake at ``path_or_url`` (default: the ``lake`` setting), to query and enrol into.

    Nothing is read until the first query; a query on a lake that does not exist is a
    LakeError (a mistyped path is not an empty lake).
    """
    return LakeHandle(_settings(settings, path_or_url))


@dataclass(frozen=True)
class Enrolment:
    """A person enrolled by :meth:`LakeHandle.enrol`."""

    person_id: str
    photos: list[str]
    faces: list[int]  # faces found in each photo: the largest one was enrolled


class LakeHandle:
    """One lake: read-only SQL over its tables and the seed's views, and its known people.

    Use it as a context manager, or call :meth:`close`, to free the query engine (its
    DuckDB connections and spill folder).
    """

    def __init__(self, settings: Settings) -> None:
        from socialsight.lake.store import Lake

        self.settings = settings
        self.lake: Lake = Lake(settings.lake)
        self._engine: Engine | None = None

    def __repr__(self) -> str:
        return f"<socialsight lake {self.lake.url}>"

    def __enter__(self) -> LakeHandle:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None

    def refresh(self) -> None:
        """See tables that gained their first files since the first query."""
        self.close()

    def engine(self) -> Engine:
        """The query engine (made on first use); a LakeError when there is no lake."""
        from socialsight.query.engine import Engine

        if self._engine is None:
            existing_lake(self.lake)
            self._engine = Engine(self.lake, self.settings.query.timeout_seconds,
                                  self.settings.query)
        return self._engine

    def stream(self, sql: str, dialect: str | None = None) -> Rows:
        """Start a query; its rows come as Arrow record batches (``.schema``, then iterate).

        For results too large to hold: only the batch being read is in memory. Close it
        (or use it as a context manager) to stop early.
        """
        return self.engine().stream(sql, dialect or self.settings.query.dialect)

    def sql(self, sql: str, dialect: str | None = None) -> pa.Table:
        """Every row of one read-only statement, as a pyarrow Table.

        ``dialect``: athena (the default, ``query.dialect``), presto, trino or duckdb.
        Raises QueryError (SQLSyntaxError for a typo) with the command's one-line message.
        """
        import pyarrow as pa

        with self.stream(sql, dialect) as rows:
            return pa.Table.from_batches(list(rows), rows.schema)

    def df(self, sql: str, dialect: str | None = None) -> pandas.DataFrame:
        """:meth:`sql` as a pandas DataFrame (needs pandas)."""
        _need("pandas")
        return self.sql(sql, dialect).to_pandas()

    def pl(self, sql: str, dialect: str | None = None) -> polars.DataFrame:
        """:meth:`sql` as a Polars DataFrame (needs polars)."""
        frame: polars.DataFrame = _need("polars").from_arrow(self.sql(sql, dialect))
        return frame

    def seed(self, name: str) -> pa.Table:
        """Run one of the seed's queries by name (see :func:`seed_queries`)."""
        queries = seed_queries()
        if name not in queries:
            raise InputError(f"no seed query {name!r}; known: {', '.join(queries)}")
        return self.sql(queries[name], "athena")

    def tables(self) -> list[str]:
        """The tables and the seed's views a query can name (also as socialanalyticsblog.X)."""
        from socialsight.lake.photos import PHOTOS_VIEW
        from socialsight.lake.schema import TABLES
        from socialsight.query.brands import BRANDS_VIEW, MENTIONS_VIEW
        from socialsight.query.concepts import HITS_VIEW
        from socialsight.query.engine import VIEWS
        from socialsight.vision.lookalike import VERSIONS_VIEW

        return [*TABLES, *VIEWS, PHOTOS_VIEW, VERSIONS_VIEW, BRANDS_VIEW, MENTIONS_VIEW,
                HITS_VIEW]

    def enrol(self, name: str, photos: Sequence[str | Path],
              urls: Sequence[str] = ()) -> Enrolment:
        """Enrol ``name`` from photos of them (files or http(s) URLs), as
        ``socialsight people add`` does: the largest face of each photo.

        New photos are matched as they are analysed; ``socialsight people rematch``
        finds the person in photos analysed before. A photo without a face is an
        InputError naming it, and then nothing is enrolled.
        """
        from socialsight.media.photo import decode, read_bytes
        from socialsight.people import enrol

        fetch = self.settings.fetch

        def load(source: str) -> tuple[Any, str]:
            data = read_bytes(source, fetch)
            return decode(data, fetch, source), hashlib.sha256(data).hexdigest()

        sources = [str(p) for p in photos]
        person, done = enrol(self.lake, name, sources, list(urls), load,
                             self.settings.vision.threads, self.settings.vision.models_dir,
                             lock=True)  # the lock just for the write
        return Enrolment(person, [d.photo for d in done], [d.faces for d in done])


    def more_like(self, sha256_or_photo: str | Path | bytes,
                  k: int = MORE_LIKE) -> list[dict[str, Any]]:
        """The ``k`` photos of the lake most like a photo, most alike first: rows of
        sha256, tweetid, mediaid (its first post), media_url, similarity (the cosine of
        the embeddings, 1 for the same image) and version (within the look-alike rule).

        ``sha256_or_photo``: a photo of the lake by its sha256 (itself left out), or a
        photo file, URL or bytes, whose embedding is computed here. A photo of the lake
        analysed before embeddings were stored gives an empty list (and a logged note).
        """
        if not isinstance(k, int) or isinstance(k, bool) or k < 0:
            raise InputError(f"k is how many photos to give: a whole number, 0 or more, "
                             f"not {k!r:.40}")
        key = sha256_or_photo.strip().lower() if isinstance(sha256_or_photo, str) else ""
        if SHA256.fullmatch(key):
            found = more_like(self.engine(), key, k)
            if found.note:
                log.warning("%s", found.note)
            return found.rows
        if len(key) == 64 and not Path(str(sha256_or_photo)).exists():
            raise InputError(f"{key!r} is neither a photo's sha256 (64 hex digits) nor a file")
        from socialsight.concepts import embed
        from socialsight.vision.lookalike import phash

        image = _image(sha256_or_photo, self.settings)
        vector = embed([image], self.settings.vision.threads, self.settings.vision.models_dir)
        return similar(self.engine(), vector[0].tolist(), phash(image), None, k)

    def versions(self, sha256: str) -> list[dict[str, Any]]:
        """The versions of a photo of the lake (re-encoded, resized, cropped, captioned):
        the photos within the look-alike rule of it, closest first, as rows of sha256,
        tweetid, mediaid, media_url, bits (how many bits their hashes differ) and
        similarity. The whole lake's groups are the ``photo_versions`` view."""
        return versions(self.engine(), sha256)


@dataclass(frozen=True)
class Lookalikes:
    """"More like this" for one photo: its rows, or a note saying why there are none."""

    rows: list[dict[str, Any]]
    note: str | None = None


def more_like(engine: Engine, sha256: str, k: int = MORE_LIKE) -> Lookalikes:
    """The ``k`` photos most like the lake's photo ``sha256`` (see
    :meth:`LakeHandle.more_like`); none, with a note, when it has no embedding."""
    from socialsight.vision.lookalike import FINGERPRINTS_SQL

    if not SHA256.fullmatch(sha256 or ""):
        raise InputError(f"a photo's sha256 is 64 hex digits, not {str(sha256)[:70]!r}")
    found = engine.rows(FINGERPRINTS_SQL, {"sha256": sha256})
    if not found or not found[0]["analysed"]:
        return Lookalikes([], NOT_IN_LAKE.format(sha=sha256))
    if not found[0]["has_embedding"]:
        return Lookalikes([], NO_EMBEDDING.format(sha=sha256))
    return Lookalikes(similar(engine, found[0]["embedding"], found[0]["phash"], sha256, k))


def similar(engine: Engine, embedding: list[float], phash: int | None, leave_out: str | None,
            k: int = MORE_LIKE) -> list[dict[str, Any]]:
    """The ``k`` photos whose embeddings are most like ``embedding`` (a unit vector)."""
    from socialsight.vision.lookalike import COSINE, HASH_DISTANCE, MORE_LIKE_SQL

    if k < 1:
        return []
    rows = engine.rows(MORE_LIKE_SQL, {"embedding": list(embedding), "phash": phash,
                                       "sha256": leave_out, "k": int(k)})
    return [{"sha256": r["sha256"], "tweetid": str(r["tweetid"]), "mediaid": r["mediaid"],
             "media_url": r["media_url"], "similarity": round(float(r["similarity"]), 4),
             "version": (r["bits"] is not None and r["bits"] <= HASH_DISTANCE)
             or r["similarity"] >= COSINE} for r in rows]


def versions(engine: Engine, sha256: str) -> list[dict[str, Any]]:
    """The photos within the look-alike rule of the lake's photo ``sha256``."""
    from socialsight.vision.lookalike import COSINE, DUPLICATES_SQL, HASH_DISTANCE

    if not SHA256.fullmatch(sha256 or ""):
        raise InputError(f"a photo's sha256 is 64 hex digits, not {str(sha256)[:70]!r}")
    rows = engine.rows(DUPLICATES_SQL, {"sha256": sha256, "bits": HASH_DISTANCE,
                                        "cosine": COSINE})
    return [{"sha256": r["sha256"], "tweetid": str(r["tweetid"]), "mediaid": r["mediaid"],
             "media_url": r["media_url"], "bits": r["bits"],
             "similarity": None if r["similarity"] is None else round(float(r["similarity"]), 4)}
            for r in rows]


@dataclass
class PhotoResult:
    """One photo's analysis with the lake's known people among its faces."""

    analysis: Analysis
    celebrities: dict[str, Any] | None  # None: faces not looked for (or not asked for)
    wanted: frozenset[str]

    @property
    def errors(self) -> list[tuple[str, str]]:
        """(analysis, error) for each analysis that failed; the others still ran."""
        return self.analysis.errors

    def rekognition(self) -> dict[str, Any]:
        """Under Rekognition's field names, as ``socialsight analyze`` prints it."""
        return self._keep(self.analysis.rekognition(self.celebrities), 0)

    def image_labels(self) -> dict[str, Any]:
        """The ``media_rekognition.image_labels`` struct, as the lake stores it."""
        labels = self.analysis.image_labels()
        labels["celebrityrecognition"] = self.celebrities
        return self._keep(labels, 1)

    def _keep(self, body: dict[str, Any], which: int) -> dict[str, Any]:
        for name, fields in ANALYSES.items():
            if name not in self.wanted:
                body[fields[which]] = None  # null: not asked for
        return body


def _wanted(wanted: Collection[str] | None) -> frozenset[str]:
    if wanted is None:
        return frozenset(ANALYSES)
    unknown = sorted(set(wanted) - set(ANALYSES))
    if unknown:
        raise InputError(f"cannot analyse {', '.join(map(repr, unknown))}: choose from "
                         f"{', '.join(ANALYSES)}")
    return frozenset(wanted)


def _image(photo: str | Path | bytes, settings: Settings) -> Image.Image:
    from socialsight.media.photo import decode, load_photo

    if isinstance(photo, bytes | bytearray | memoryview):
        return decode(bytes(photo), settings.fetch)
    return load_photo(str(photo), settings.fetch)


def photo_result(photo: str | Path | bytes, wanted: Collection[str] | None = None,
                 settings: Settings | None = None) -> PhotoResult:
    """:func:`analyze_photo`, before it is shaped: the analysis and the known people."""
    from socialsight.lake.store import Lake
    from socialsight.people import Gallery, recognise
    from socialsight.vision.analyze import analyze

    asked = _wanted(wanted)
    s = settings or load_settings()
    analysis = analyze(_image(photo, s), s.vision, details=bool(asked & {"faces", "people"}))
    celebrities = None
    if "people" in asked:
        celebrities = recognise(Gallery.load(Lake(s.lake)),
                                analysis.image_labels()["facedetails"], analysis.embeddings)
    return PhotoResult(analysis, celebrities, asked)


def analyze_photo(photo: str | Path | bytes, wanted: Collection[str] | None = None,
                  settings: Settings | None = None,
                  shape: Literal["rekognition", "lake"] = "rekognition") -> dict[str, Any]:
    """What the local models see in one photo, as ``socialsight analyze`` prints it.

    ``photo``: a file, an http(s) URL (fetched through the pipeline's guards) or the
    photo's bytes. ``wanted``: some of labels, moderation, text, faces, people (default:
    all); what was not asked for is null, as is what was not looked for (text without
    a Text label, faces without a Person, when ``vision.gate`` is on). ``shape``:
    ``"rekognition"`` (Rekognition's field names, with ImageSize, ModelVersions and
    Errors) or ``"lake"`` (the image_labels struct as stored). Known people come from
    the gallery of the ``lake`` setting.
    """
    result = photo_result(photo, wanted, settings)
    return result.rekognition() if shape == "rekognition" else result.image_labels()


def analyze_text(text: str, lang: str | None = None,
                 key_phrases: bool = True) -> dict[str, Any]:
    """What the local text models see in one post, as ``socialsight analyze-text`` prints it:
    Comprehend's field names (Sentiment, SentimentScore, Entities, KeyPhrases, Languages,
    Skipped).

    ``lang``: the platform's language tag, used when the text is too short to tell.
    """
    from socialsight.language.analyze import analyse_texts

    return analyse_texts([text], [lang], key_phrases)[0].comprehend()


def _need(module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(f"this needs {module}, which is not installed: "
                          f"pip install {module}") from exc

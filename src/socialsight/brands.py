"""Brands: the logos and word marks a user enrols, found in every photo (Custom Labels).

A brand team's first question about photos is where its logo, its product and its
stores appear, above all when no text names them. ``socialsight brands add NAME
LOGO... --text WORD`` enrols a brand: each logo image's local features
(:mod:`socialsight.vision.logos`) and the brand's words (:mod:`socialsight.vision.wordmarks`).
The brands are one Parquet file in the lake (``_brands/brands.parquet``), rewritten whole
on every change under the lake's writer lock, like the people gallery.

Every photo is searched for every brand two ways — the logo mark among the photo's
local features, and the word mark in the text read in it — and what is found is the
photo's ``customlabels`` (Rekognition Custom Labels' shape, with ``kind`` logo or text)
in ``media_rekognition.image_labels``. :func:`attach` is the one place that is composed,
for ``enrich``, ``analyze`` and DetectCustomLabels alike. The photos' local features are
kept with their analysis (``media_rekognition.local_features``), so :func:`rescan` looks
for a newly enrolled brand in every past photo without fetching or analysing anything;
a row without them (analysed before, or with ``vision.local_features`` off) has its
photo read from the lake's photo store, and its features are kept from then on.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import io
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

from socialsight import names
from socialsight.errors import InputError, LakeBusyError, LakeError
from socialsight.lake import state
from socialsight.lake.store import Lake
from socialsight.media.upright import upright
from socialsight.progress import NO_PROGRESS, Progress

log = logging.getLogger(__name__)

STORE = state.path("brands", "brands.parquet")
RESCANNED = state.path("brands", "rescan.json")  # the last rescan: when, and its counts
LOCK_WAIT_SECONDS = 5.0
LOGO_SIDE = 1024  # a logo image is kept at most this large (its long side)
MAX_WORDS = 20
KINDS = ("logo", "text")  # what enrolled brands put in customlabels (concepts add "concept")
SCHEMA = pa.schema([
    ("id", pa.string()),
    ("name", pa.string()),
    ("words", pa.list_(pa.string())),
    ("logo", pa.string()),  # the logo's file name or URL, as given; null for words only
    ("logo_sha256", pa.string()),
    ("logo_png", pa.binary()),  # the logo as enrolled (PNG), to find its features again
    ("features", pa.binary()),  # socialsight.vision.logos.Logo.to_bytes()
    ("features_version", pa.string()),
    ("added_at", pa.timestamp("ms", tz="UTC")),
])


def brand_id(name: str) -> str:
    """A short, stable id for a brand's name (case and spacing do not matter)."""
    return hashlib.sha256(_norm(name).encode()).hexdigest()[:12]


def _norm(name: str) -> str:
    return " ".join(name.split()).casefold()


class BrandsBusy(LakeBusyError):
    """Another process is changing the lake; the brands were not changed."""


def writing(lake: Lake) -> contextlib.AbstractContextManager[None]:
    """The lake's writer lock, for a change to the brands (or a rescan)."""
    return lake.lock_within(LOCK_WAIT_SECONDS, BrandsBusy)


@dataclass(frozen=True)
class Brand:
    """One enrolled brand: its name, words and logos (their features)."""

    id: str
    name: str
    words: tuple[str, ...]
    logos: int
    added_at: datetime | None


class Brands:
    """The enrolled brands, as rows of ``_brands/brands.parquet`` (one row per logo, or
    one row with no logo for a brand enrolled by its words only)."""

    def __init__(self, rows: list[dict[str, Any]] | None = None) -> None:
        self.rows: list[dict[str, Any]] = rows or []

    @classmethod
    def load(cls, lake: Lake) -> Brands:
        return cls(lake.read_rows(STORE, SCHEMA, "the enrolled brands"))

    def save(self, lake: Lake) -> None:
        """Write the brands whole (the caller holds the lake's writer lock)."""
        lake.write_rows(STORE, SCHEMA, self.rows)

    def __len__(self) -> int:
        return len({row["id"] for row in self.rows})

    def brands(self) -> list[Brand]:
        """Each brand once, in the order enrolled."""
        out: dict[str, Brand] = {}
        for row in self.rows:
            seen = out.get(row["id"])
            logos = (seen.logos if seen else 0) + (row["features"] is not None)
            out[row["id"]] = Brand(row["id"], row["name"], tuple(row["words"] or ()), logos,
                                   seen.added_at if seen else row["added_at"])
        return list(out.values())

    def find_brand(self, who: str) -> Brand | None:
        """The brand named (or with the id) ``who``."""
        key = _norm(who)
        return next((b for b in self.brands() if _norm(b.name) == key or b.id == who), None)

    def add(self, name: str, words: Sequence[str],
            logos: Sequence[tuple[str, str, bytes, bytes]]) -> str:
        """Enrol ``name`` (or add to it): its ``words`` and ``logos`` as (file name or
        URL, sha256, PNG bytes, features bytes). Returns the brand's id."""
        name = names.check(name, "brand")
        if any(not w or not w.strip() for w in words):
            raise InputError("a brand's word cannot be blank")
        words = [names.tidy(w) for w in words]
        if len(words) > MAX_WORDS or any(len(w) > 100 for w in words):
            raise InputError(f"at most {MAX_WORDS} words a brand, each at most 100 characters")
        bid = brand_id(name)
        existing = self.find_brand(name)
        if existing is not None:
            name = existing.name
            words = list(dict.fromkeys([*existing.words, *words]))
            for row in self.rows:
                if row["id"] == bid:
                    row["words"] = words
        if not logos and existing is None and not words:
            words = [name]  # a brand enrolled by its name alone is found by its name
        now = datetime.now(UTC)
        known = {row["logo_sha256"] for row in self.rows if row["id"] == bid}
        from socialsight.vision.logos import LOGO_VERSION

        for source, sha256, png, features in logos:
            if sha256 in known:
                continue
            known.add(sha256)
            self.rows.append({"id": bid, "name": name, "words": words, "logo": source,
                              "logo_sha256": sha256, "logo_png": png, "features": features,
                              "features_version": LOGO_VERSION, "added_at": now})
        if not any(row["id"] == bid for row in self.rows):
            self.rows.append({"id": bid, "name": name, "words": words, "logo": None,
                              "logo_sha256": None, "logo_png": None, "features": None,
                              "features_version": None, "added_at": now})
        # a words-only row is no longer needed once the brand has a logo
        self.rows = [r for r in self.rows if r["id"] != bid or r["features"] is not None
                     or not any(o["id"] == bid and o["features"] is not None
                                for o in self.rows)]
        self._forget_cache()
        return bid

    def remove(self, who: str) -> Brand | None:
        """Forget a brand (by name or id); returns it, or None if none is enrolled so."""
        brand = self.find_brand(who)
        if brand is not None:
            self.rows = [row for row in self.rows if row["id"] != brand.id]
            self._forget_cache()
        return brand

    def _forget_cache(self) -> None:
        self.__dict__.pop("matcher", None)
        self.__dict__.pop("marks", None)

    @functools.cached_property
    def matcher(self) -> Any:
        """Every enrolled logo in one :class:`socialsight.vision.logos.Matcher`."""
        from socialsight.vision import logos

        by_name: dict[str, list[Any]] = {}
        for row in self.rows:
            if row["features"] is None:
                continue
            if row["features_version"] == logos.LOGO_VERSION:
                logo = logos.Logo.from_bytes(row["features"])
            else:  # features of an older kind: found again from the logo kept
                logo = logos.logo_features(Image.open(io.BytesIO(row["logo_png"])))
            by_name.setdefault(row["name"], []).append(logo)
        return logos.Matcher(by_name)

    @functools.cached_property
    def marks(self) -> dict[str, list[str]]:
        """Each brand's word marks: its words, or else its name."""
        out: dict[str, list[str]] = {}
        for brand in self.brands():
            out[brand.name] = list(brand.words) or [brand.name]
        return out


# --- finding the brands in a photo ---------------------------------------------------


def customlabels(brands: Brands, features: bytes | None,
                 textdetections: Sequence[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The enrolled brands a photo shows, as ``customlabels`` entries (most sure
    first): its logo among the photo's local ``features`` (if kept) and its word mark
    among the ``textdetections`` (if text was looked for)."""
    from socialsight.vision import logos, wordmarks

    out: list[dict[str, Any]] = []
    if features is not None and len(brands.matcher):
        try:
            photo = logos.Features.from_bytes(features)
        except InputError as exc:  # damaged: the word marks are still looked for
            log.warning("a photo's local features cannot be read: %s", exc)
        else:
            for found in brands.matcher.find(photo):
                out.append(_entry(found.name, found.confidence, found.box, "logo"))
    if textdetections:
        for mention in wordmarks.find(brands.marks, textdetections):
            out.append(_entry(mention.name, mention.confidence, mention.box, "text"))
    out.sort(key=lambda e: (-e["confidence"], e["name"], e["kind"]))
    return out


def _entry(name: str, confidence: float, box: tuple[float, float, float, float],
           kind: str) -> dict[str, Any]:
    left, top, width, height = box
    return {"name": name, "confidence": round(float(confidence), 3), "kind": kind,
            "geometry": {"boundingbox": {"left": left, "top": top, "width": width,
                                         "height": height}}}


def attach(labels: dict[str, Any], features: bytes | None, brands: Brands) -> dict[str, Any]:
    """A photo's ``image_labels`` with its ``customlabels``: the brands found in it, and
    whatever else (concepts) the entries already there hold."""
    kept = [e for e in labels.get("customlabels") or [] if e.get("kind") not in KINDS]
    found = customlabels(brands, features, labels.get("textdetections"))
    return labels | {"customlabels": found + kept}


# --- enrolment -----------------------------------------------------------------------


def logo_png(image: Image.Image) -> bytes:
    """A logo image as kept: RGBA PNG, its long side at most :data:`LOGO_SIDE`."""
    image = image.convert("RGBA")
    image.thumbnail((LOGO_SIDE, LOGO_SIDE), Image.Resampling.LANCZOS)
    sink = io.BytesIO()
    image.save(sink, format="PNG", optimize=True)
    return sink.getvalue()


def enrol(lake: Lake, name: str, logos: Sequence[str], words: Sequence[str],
          load: Callable[[str], tuple[Image.Image, str]]) -> str:
    """Enrol ``name`` with its ``logos`` (file names or URLs; ``load`` gives the image
    and the sha256 of its bytes) and ``words``, under the lake's writer lock. A logo
    with too little detail is an :class:`InputError` naming it, and nothing is saved."""
    from socialsight.vision import logos as logos_mod

    prepared = []
    for source in logos:
        image, sha256 = load(source)
        try:
            features = logos_mod.logo_features(image)
        except InputError as exc:
            raise InputError(f"{source}: {exc}") from exc
        prepared.append((source, sha256, logo_png(image), features.to_bytes()))
    with writing(lake):
        brands = Brands.load(lake)
        bid = brands.add(name, words, prepared)
        brands.save(lake)
    return bid


def forget(lake: Lake, who: str) -> Brand | None:
    """Forget a brand, under the lake's writer lock (its customlabels go at the next
    :func:`rescan`, which ``socialsight brands remove`` runs)."""
    with writing(lake):
        brands = Brands.load(lake)
        brand = brands.remove(who)
        if brand is not None:
            brands.save(lake)
    return brand


# --- applying the brands to past photos ----------------------------------------------


@dataclass
class Rescanned:
    files: int = 0  # media_rekognition files rewritten
    photos: int = 0  # rows looked at
    changed: int = 0  # rows whose customlabels changed
    decoded: int = 0  # rows whose photo had to be read (no features kept)
    missing: int = 0  # rows with neither features nor a stored photo


def rescan(lake: Lake, progress: Progress = NO_PROGRESS, lock: bool = True) -> Rescanned:
    """Look for every enrolled brand in every analysed photo again, from the features
    kept with each (or its stored photo), rewriting the ``media_rekognition`` files
    whose ``customlabels`` change. ``progress`` hears the "photos" done."""
    from socialsight.vision import logos

    done = Rescanned()
    with writing(lake) if lock else contextlib.nullcontext():
        brands = Brands.load(lake)
        paths = lake.files("media_rekognition")
        progress.start("photos", sum(_rows(lake, p) for p in paths))
        for path in paths:
            table = lake.read_file(path)
            if "local_features" not in table.column_names:
                table = table.append_column("local_features",
                                            pa.nulls(len(table), pa.binary()))
            labels = table.column("image_labels").to_pylist()
            features = table.column("local_features").to_pylist()
            shas = table.column("sha256").to_pylist()
            changed = kept = 0
            for i, row in enumerate(labels):
                done.photos += 1
                if row is None:
                    continue
                if not _readable(features[i]) and len(brands.matcher):
                    features[i] = _features_from_store(lake, shas[i], logos)
                    if features[i] is None:
                        done.missing += 1
                    else:
                        done.decoded += 1
                        kept += 1
                fresh = attach(row, features[i], brands)["customlabels"]
                if fresh != (row.get("customlabels") or []):
                    row["customlabels"] = fresh
                    changed += 1
            progress.advance("photos", len(labels))
            if changed or kept:
                index = table.schema.get_field_index("image_labels")
                table = table.set_column(index, "image_labels", pa.array(
                    labels, type=table.schema.field("image_labels").type))
                index = table.schema.get_field_index("local_features")
                table = table.set_column(index, "local_features",
                                         pa.array(features, type=pa.binary()))
                lake.rewrite(path, table)
                done.files += 1
                done.changed += changed
        # when, and what it did: written last, so what watches the brands folder (the
        # dashboard's views) sees the rows as rewritten
        record = dataclasses.asdict(done) | {"at": datetime.now(UTC).isoformat()}
        lake.write_bytes(lake.path(RESCANNED), json.dumps(record).encode())
    return done


def _readable(features: bytes | None) -> bool:
    """Whether a row's kept local features can be used (damaged ones are found again)."""
    from socialsight.vision import logos

    if features is None:
        return False
    try:
        logos.Features.from_bytes(features)
    except InputError:
        return False
    return True


def _rows(lake: Lake, path: str) -> int:
    with lake.fs.open(path, "rb") as handle:
        return int(pq.ParquetFile(handle).metadata.num_rows)


def _features_from_store(lake: Lake, sha256: str | None, logos: Any) -> bytes | None:
    """A stored photo's local features, found again; None when it is not stored."""
    if not sha256:
        return None
    from socialsight.media.store import EXTENSIONS, PhotoStore

    store = PhotoStore(lake)
    for mime in EXTENSIONS:
        try:
            if not store.has(sha256, mime):
                continue
            data = store.get(sha256, mime)
            with Image.open(io.BytesIO(data)) as image:
                image.load()  # as enrich decoded it (turned, 8 bits), so its boxes agree
                return bytes(logos.photo_features(upright(image)).to_bytes())
        except (LakeError, OSError, ValueError) as exc:
            log.warning("cannot read stored photo %s: %s", sha256[:12], exc)
            return None
    return None

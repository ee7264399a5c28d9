"""Retention windows: what the lake stops keeping once it is old enough.

Three settings (``retention.*``, each in days, unset by default: keep everything),
counted back from today (UTC) by the day a post was posted (its ``dt``):

- ``posts_days``: the posts go, every row of them (whole partitions: the tables'
  files of days past the window are removed), and their photos once no newer post
  shows them;
- ``photos_days``: the rows stay, but the photo's bytes, its embedding, perceptual
  hash and local features go (the photo page then has no photo; look-alikes, concepts
  and a brand enrolled later no longer see it), as do its cached analyses;
- ``faces_days``: the faces' embeddings and known-person matches go (boxes, ages,
  emotions stay), so no face from before the window can be matched again.

:func:`apply` runs them, each pass one atomic change with its audit record
(:mod:`socialsight.lake.audit`, action ``retention``); ``socialsight compact`` runs it,
and ``socialsight run`` once a day. Running it again the same day changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc

from socialsight.config import RetentionSettings
from socialsight.forget import done_marker, photo_files, shown_photos
from socialsight.lake import audit
from socialsight.lake.schema import TABLES
from socialsight.lake.store import Lake
from socialsight.progress import NO_PROGRESS, Progress

PHOTO_COLUMNS = ("embedding", "phash", "local_features")
FACE_COLUMNS = ("face_embeddings",)


@dataclass
class RetentionSummary:
    """What one pass removed."""

    partitions: list[str] = field(default_factory=list)  # days of posts removed
    rows: dict[str, int] = field(default_factory=dict)
    photos: int = 0  # photos whose bytes went
    photo_rows: int = 0  # rows whose embeddings and features went
    face_rows: int = 0  # rows whose face embeddings and matches went

    @property
    def changed(self) -> bool:
        return bool(self.partitions or self.photos or self.photo_rows or self.face_rows)


def cutoff(days: int, today: date | None = None) -> str:
    """The first ``dt`` kept by a window of ``days`` days."""
    return ((today or datetime.now(UTC).date()) - timedelta(days=days)).isoformat()


def apply(lake: Lake, settings: RetentionSettings, *, today: date | None = None,
          dry_run: bool = False, progress: Progress = NO_PROGRESS) -> RetentionSummary:
    """Apply the retention windows (the caller holds the lake's writer lock)."""
    summary = RetentionSummary()
    if settings.posts_days:
        _posts(lake, cutoff(settings.posts_days, today), summary, dry_run)
    if settings.photos_days or settings.faces_days:
        _strip(lake, settings, today, summary, dry_run, progress)
    return summary


def _posts(lake: Lake, first_kept: str, summary: RetentionSummary, dry_run: bool) -> None:
    remove: list[str] = []
    gone_media: list[str] = []
    days: set[str] = set()
    for table in TABLES:
        for dt in lake.partitions(table):
            if dt >= first_kept:
                continue
            files = lake.files(table, dt)
            days.add(dt)
            rows = sum(_count(lake, p) for p in files)
            summary.rows[table] = summary.rows.get(table, 0) + rows
            remove.extend(files)
            if table == "tweets":
                remove.extend(done_marker(lake, p) for p in files)
            if table == "media_rekognition":
                gone_media.extend(files)
    if not remove:
        return
    summary.partitions = sorted(days)
    shas: set[str] = set()
    for path in gone_media:
        shas.update(s for s in lake.read_file(path, ["sha256"]).column("sha256").to_pylist()
                    if s)
    still = shown_photos(lake, skip=gone_media) if shas else set()
    going = sorted(shas - still)
    summary.photos += len(going)
    if dry_run:
        return
    for sha in going:
        remove.extend(photo_files(lake, sha))
    record = audit.Record(action="retention",
                          reason=f"posts before {first_kept} (retention.posts_days)",
                          rows={k: v for k, v in summary.rows.items() if v},
                          files={"removed": len([p for p in remove if p.endswith(".parquet")])},
                          photos_removed=len(going))
    lake.change({record.path(lake): record.dump()}, remove)


def _count(lake: Lake, path: str) -> int:
    import pyarrow.parquet as pq

    with lake.fs.open(path, "rb") as handle:
        return int(pq.ParquetFile(handle).metadata.num_rows)


def _strip(lake: Lake, settings: RetentionSettings, today: date | None,
           summary: RetentionSummary, dry_run: bool, progress: Progress) -> None:
    """Null the photo and face columns of rows past their windows, and drop the photos'
    bytes (those no row within the photo window shows) and cached analyses."""
    photos_before = cutoff(settings.photos_days, today) if settings.photos_days else None
    faces_before = cutoff(settings.faces_days, today) if settings.faces_days else None
    files: dict[str, pa.Table | bytes] = {}
    stripped: set[str] = set()  # photos whose bytes and caches go
    kept: set[str] = set()  # photos a row within the photo window still shows
    paths = lake.files("media_rekognition")
    progress.start("files", len(paths))
    for path in paths:
        progress.advance("files")
        dt = path.rsplit("/dt=", 1)[1].split("/", 1)[0]
        old_photo = photos_before is not None and dt < photos_before
        old_face = faces_before is not None and dt < faces_before
        if not (old_photo or old_face):
            if photos_before is not None:
                kept.update(s for s in lake.read_file(path, ["sha256"]).column("sha256")
                            .to_pylist() if s)
            continue
        rows = lake.read_file(path)
        changed = False
        if old_photo:
            for name in PHOTO_COLUMNS:
                if name in rows.column_names and rows.column(name).null_count < rows.num_rows:
                    summary.photo_rows += rows.num_rows - rows.column(name).null_count
                    rows = _null(rows, name)
                    changed = True
        if old_face:
            if ("face_embeddings" in rows.column_names
                    and rows.column("face_embeddings").null_count < rows.num_rows):
                summary.face_rows += rows.num_rows - rows.column("face_embeddings").null_count
                rows = _null(rows, "face_embeddings")
                changed = True
            labels = rows.column("image_labels").combine_chunks()
            celebs = pc.struct_field(labels, "celebrityrecognition")
            if celebs.null_count < len(celebs):
                rows = rows.set_column(rows.schema.get_field_index("image_labels"),
                                       "image_labels", _without_celebrities(labels))
                changed = True
        if changed:  # photos already stripped are not looked for again
            files[path] = rows
            # their bytes (past the photo window) and cached analyses (which keep the
            # embeddings and face embeddings too) go
            stripped.update(s for s in rows.column("sha256").to_pylist() if s)
    going = sorted(stripped)
    photo_bytes = set(going) - kept if photos_before is not None else set()
    removes: list[str] = []
    for sha in going:
        held = photo_files(lake, sha)
        removes += [f for f in held if "/analysis/" in f or sha in photo_bytes]
        summary.photos += sha in photo_bytes and any("/analysis/" not in f for f in held)
    if dry_run or not (files or removes):
        return
    record = audit.Record(action="retention",
                          reason="photos and faces past retention.photos_days / faces_days",
                          rows={"media_rekognition": len(files)},
                          files={"rewritten": len(files)}, photos_removed=len(photo_bytes))
    files[record.path(lake)] = record.dump()
    lake.change(files, removes)


def _null(rows: pa.Table, name: str) -> pa.Table:
    index = rows.schema.get_field_index(name)
    return rows.set_column(index, name, pa.nulls(rows.num_rows, rows.schema.field(name).type))


def _without_celebrities(labels: pa.StructArray) -> pa.Array:
    """``image_labels`` with no known-person matches (``celebrityrecognition`` null)."""
    values = labels.to_pylist()
    for value in values:
        if value is not None:
            value["celebrityrecognition"] = None
    return pa.array(values, labels.type)

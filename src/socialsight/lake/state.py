"""Every side folder of the lake, declared once.

Besides its tables (``<table>/dt=…/part-….parquet``), a lake keeps state in folders
whose names start with ``_``. Each is declared here — where it is, what it holds,
who writes it, and whether writing it changes :meth:`Lake.version` (what the
dashboard's caches watch) — and each module takes its path from :data:`FOLDERS`.
Small files in them are written whole through :meth:`Lake.write_bytes`.

A new kind of state (brands, concepts, deletions) adds a row here first; the tests
fail on a folder a lake has that this table does not declare.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass


@dataclass(frozen=True)
class SideFolder:
    """One side folder: its path under the lake's root, and what it is for."""

    name: str
    path: str
    holds: str
    writer: str
    versioned: bool  # writing into it changes Lake.version()

    def covers(self, path: str) -> bool:
        """Whether ``path`` (relative to the lake's root) is this folder or inside it."""
        return path == self.path or path.startswith(self.path + "/")


_TABLE = (
    SideFolder("staging", "_staging", "a batch's files while they are written",
               "socialsight.lake.store (Lake.commit)", False),
    SideFolder("journal", "_journal", "one journal per batch being published",
               "socialsight.lake.store (Lake.commit)", True),
    SideFolder("photos", "_media", "each distinct photo once, named by its sha256",
               "socialsight.media.store (PhotoStore)", False),
    SideFolder("analysis_cache", "_media/analysis",
               "<pack>/<ab>/<sha256>.json: one photo's finished analysis",
               "socialsight.enrich.cache (AnalysisCache)", False),
    SideFolder("enrich_done", "_state/enrich",
               "<dt>__<file>.done: one marker per tweets file whose photos are all analysed "
               "(done_marker)",
               "socialsight.enrich.plan; socialsight.lake.compact carries them to merged files",
               False),
    SideFolder("resolved", "_state/resolved", "error ids that a retry fixed",
               "socialsight.lake.errors (mark_resolved)", True),
    SideFolder("cursors", "_state/sources", "each source's resume point",
               "socialsight.collect (Cursors)", False),
    SideFolder("gallery", "_people", "gallery.parquet: the enrolled known people",
               "socialsight.people (Gallery.save, under the lake's lock)", True),
    SideFolder("brands", "_brands", "brands.parquet: the enrolled brands (logos, word marks)",
               "socialsight.brands (Brands.save, under the lake's lock)", True),
    SideFolder("concepts", "_concepts",
               "concepts.parquet: the learnt custom concepts (weights, examples' embeddings)",
               "socialsight.concepts (Concepts.save, under the lake's lock)", True),
    SideFolder("audit", "_audit",
               "<time>-<id>.json: one record per forget, edit or retention pass (ids and "
               "counts, never content); never rewritten",
               "socialsight.lake.audit (record, inside the change it describes)", True),
    SideFolder("collections", "_collections",
               "<CollectionId>/collection.json and faces.parquet: Rekognition collections",
               "socialsight.aws.collections (Collections)", False),
)

FOLDERS: dict[str, SideFolder] = {folder.name: folder for folder in _TABLE}

# The folders whose changes Lake.version() watches.
VERSIONED: tuple[str, ...] = tuple(f.path for f in _TABLE if f.versioned)


def path(name: str, *parts: str) -> str:
    """The path, relative to the lake's root, of side folder ``name`` (and ``parts``)."""
    return posixpath.join(FOLDERS[name].path, *parts)


def done_marker(table_file: str) -> str:
    """The path, relative to the lake's root, of the marker enrich writes once every photo
    of a ``tweets`` file is analysed: ``_state/enrich/<dt>__<file name>.done``.

    ``table_file``: the file's path as :meth:`Lake.files` lists it
    (``…/tweets/dt=YYYY-MM-DD/part-….parquet``). Enrich (which writes and reads markers)
    and compaction (which carries them to a merged file) both name markers here.
    """
    folder, name = posixpath.split(table_file)
    dt = posixpath.basename(folder).split("=", 1)[1]
    return path("enrich_done", f"{dt}__{name}.done")


def declared(relative: str) -> bool:
    """Whether a folder of the lake (relative to its root) is a declared side folder,
    inside one, or a parent of one (``_state``)."""
    relative = relative.strip("/")
    return any(f.covers(relative) or f.path.startswith(relative + "/") for f in _TABLE)

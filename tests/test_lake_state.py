"""The lake's side folders: every one a lake has is declared in ``lake/state.py``, and
``Lake.version()`` moves when the state the dashboard shows is written."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from socialsight.aws.collections import Collections
from socialsight.brands import Brands
from socialsight.collect import Cursors
from socialsight.config import load_settings
from socialsight.demo import run_demo
from socialsight.lake import state
from socialsight.lake.errors import mark_resolved
from socialsight.lake.store import Lake
from socialsight.people import Gallery


def side_folders(lake: Lake) -> list[str]:
    """Every folder under the lake's root whose path starts with ``_``, relative."""
    out = []
    for folder, dirs, _ in os.walk(lake.root):
        rel = Path(folder).relative_to(lake.root).as_posix()
        if rel.startswith("_"):
            out.append(rel)
        dirs[:] = [d for d in dirs if rel != "." or d.startswith("_")]
    return sorted(out)


def test_the_table_declares_each_folder_once_with_what_it_is_for() -> None:
    paths = [f.path for f in state.FOLDERS.values()]
    assert len(paths) == len(set(paths))
    assert all(p.startswith("_") and f.holds and f.writer
               for p, f in zip(paths, state.FOLDERS.values(), strict=True))
    assert state.declared("_state") and state.declared("_media/ab")
    assert not state.declared("_state/brands")  # a new kind of state is declared first
    assert state.declared("_brands") and state.declared("_concepts")
    assert not state.declared("_lookalikes")


@pytest.mark.slow
def test_every_side_folder_of_an_enriched_lake_is_declared(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SOCIALSIGHT_ENRICH_WORKERS", "1")
    settings = load_settings(lake=str(tmp_path / "demo-lake"))
    lake = Lake(settings.lake)
    status = run_demo(lake, settings)  # collects (cursors), enrols, enriches
    assert status.error is None
    mark_resolved(lake, ["0" * 24])
    Collections(lake).create("brand-team")

    found = side_folders(lake)
    undeclared = [f for f in found if not state.declared(f)]
    assert undeclared == [], f"declare these in socialsight.lake.state: {undeclared}"
    # and this lake has what the table says a collected, enriched lake keeps
    for name in ("journal", "photos", "analysis_cache", "enrich_done", "resolved",
                 "gallery", "collections"):
        assert state.FOLDERS[name].path in found, name
    assert not [p for p in Path(lake.root).rglob("*.tmp")]  # every write went whole


def _changes(lake: Lake, write) -> bool:
    before = lake.version()
    time.sleep(0.02)  # folder times tick coarser than a nanosecond
    write()
    return lake.version() != before


def test_version_moves_when_declared_state_the_pages_show_is_written(lake: Lake) -> None:
    assert lake.version() == 0
    assert _changes(lake, lambda: mark_resolved(lake, ["a" * 24]))
    assert _changes(lake, lambda: mark_resolved(lake, ["a" * 24]))  # the same file again

    gallery = Gallery.load(lake)
    gallery.add("Grace Hopper", "grace.jpg", "b" * 64, np.ones(128, np.float32))
    assert _changes(lake, lambda: gallery.save(lake))
    enrolled = Brands()
    enrolled.add("Acme", ["ACME"], [])
    assert _changes(lake, lambda: enrolled.save(lake))

    # state no page shows (a source's resume point) leaves the version alone
    assert not _changes(lake, lambda: Cursors(lake).save("x:search", "42"))
    assert Cursors(lake).load("x:search") == "42"


def test_every_versioned_folder_is_watched(lake: Lake) -> None:
    versioned = [f for f in state.FOLDERS.values() if f.versioned]
    assert {f.name for f in versioned} == {"journal", "resolved", "gallery", "brands",
                                               "concepts", "audit"}
    for folder in versioned:
        path = lake.path(folder.path, "probe.json")
        assert _changes(lake, lambda p=path: lake.write_bytes(p, b"{}")), folder.name

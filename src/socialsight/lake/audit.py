"""The lake's audit log: what was forgotten, when and why — ids and counts, never content.

One small JSON file per action under ``_audit/`` (``<UTC time>-<id>.json``), written in
the same atomic change as the rows it describes (:meth:`Lake.change`), so a forget and
its record land together or not at all; files are never rewritten (append-only, as
an object store can keep it too). A record holds:

- ``action``: ``forget`` (a user's request or a platform's deletion), ``edit`` (a post
  replaced by its edited version), ``retention`` (a retention window passed) or
  ``scrub_geo`` (a post's location removed, as X's compliance asks);
- ``reason``: why, in words ("deleted on the platform", "user request", ...);
- ``post_ids``, ``user_ids``, ``photo_sha256``, ``person_ids``: what went, by id only
  (a user named by handle is recorded by the ids it resolved to);
- ``rows`` (per table), ``files`` (rewritten, removed), ``photos_removed``.

The post ids and photos that a ``forget`` removed are a deny list: :func:`forgotten`
reads them back so that a re-import, a replayed stream or a later enrich does not bring
them back.
"""

from __future__ import annotations

import posixpath
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from socialsight.lake import state
from socialsight.lake.store import Lake

FOLDER = state.path("audit")
ACTIONS = ("forget", "edit", "retention", "scrub_geo")


@dataclass
class Record:
    """One action on the lake, as the audit log keeps it."""

    action: str
    reason: str
    post_ids: list[int] = field(default_factory=list)
    user_ids: list[str] = field(default_factory=list)
    photo_sha256: list[str] = field(default_factory=list)
    person_ids: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    files: dict[str, int] = field(default_factory=dict)
    photos_removed: int = 0
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def path(self, lake: Lake) -> str:
        """Where this record goes: named by its time, so the folder lists in order."""
        stamp = self.at.replace(":", "").replace("-", "").replace("+0000", "Z")
        return lake.path(FOLDER, f"{stamp}-{self.id}.json")

    def dump(self) -> bytes:
        return orjson.dumps(self.__dict__, option=orjson.OPT_SORT_KEYS)


def records(lake: Lake) -> list[dict[str, Any]]:
    """Every record of the audit log, oldest first (an unreadable one is skipped)."""
    folder = lake.path(FOLDER)
    try:
        names = sorted(p for p in lake.fs.ls(folder, detail=False) if p.endswith(".json"))
    except FileNotFoundError:
        return []
    out = []
    for name in names:
        try:
            body = orjson.loads(lake.fs.cat_file(name))
        except (OSError, orjson.JSONDecodeError):
            continue
        if isinstance(body, dict):
            body["file"] = posixpath.basename(name)
            out.append(body)
    return out


@dataclass
class Forgotten:
    """What ``forget`` removed, by id: never to come back."""

    posts: set[int] = field(default_factory=set)
    photos: set[str] = field(default_factory=set)


def forgotten(lake: Lake) -> Forgotten:
    """The post ids and photo sha256 that ``forget`` actions removed (not edits, and not
    retention: a post past its window may be imported again, and goes again)."""
    out = Forgotten()
    for record in records(lake):
        if record.get("action") != "forget":
            continue
        out.posts.update(int(i) for i in record.get("post_ids") or () if isinstance(i, int))
        out.photos.update(str(s) for s in record.get("photo_sha256") or ())
    return out

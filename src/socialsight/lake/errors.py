"""The lake's errors log: one row per thing that could not be read or analysed.

Every writer makes :class:`ErrorRow` rows and commits them through an
:class:`ErrorLog`, which writes each ``error_id`` once however often it recurs. A
retry that fixes a photo or a post leaves its error row in place and records its id
under ``_state/resolved`` (:func:`mark_resolved`); :func:`unresolved` is what is
still wrong — the one answer of both ``socialsight errors`` and the dashboard.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from socialsight.lake import state
from socialsight.lake.keys import KeyIndex
from socialsight.lake.schema import ERRORS, PARTITION, partitioned
from socialsight.lake.stages import PHOTO_STAGES, Stage
from socialsight.lake.store import Lake

log = logging.getLogger(__name__)

__all__ = ["PHOTO_STAGES", "ErrorLog", "ErrorRow", "Stage", "failed_photos", "failed_posts",
           "mark_resolved", "resolved_ids", "unresolved"]

RAW_LIMIT = 4096
RESOLVED = state.path("resolved")  # error ids that a retry fixed
ROWS = partitioned(ERRORS)


@dataclass
class ErrorRow:
    """Something that could not be read or analysed: what, where and why."""

    stage: Stage | str
    source: str
    reason: str
    line: int | None = None
    raw: str | None = None
    post_id: int | None = None
    error_class: str = "InputError"
    transient: bool = False
    occurred_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        self.stage = Stage(self.stage)  # a stage that does not exist is a bug: say so now

    @property
    def error_id(self) -> str:
        parts = (self.stage, self.source, self.line, self.post_id, self.raw)
        key = "\x1f".join(text(part) for part in parts)
        return hashlib.blake2b(key.encode(errors="replace"), digest_size=12).hexdigest()

    def as_row(self) -> dict[str, Any]:
        """The row of ``errors``; any value of any field fits (what does not is left out)."""
        raw = None if self.raw is None else text(self.raw[:RAW_LIMIT])
        return {
            "error_id": self.error_id, "stage": text(self.stage), "source": text(self.source),
            "line": bigint(self.line), "post_id": bigint(self.post_id),
            "reason": text(self.reason), "error_class": text(self.error_class),
            "transient": bool(self.transient), "raw": raw,
            "occurred_at": self.occurred_at, PARTITION: self.occurred_at.strftime("%Y-%m-%d"),
        }


def bigint(value: Any) -> int | None:
    """``value`` when it fits a bigint column; None otherwise (an id out of range, say)."""
    if isinstance(value, int) and not isinstance(value, bool) and -(1 << 63) <= value < 1 << 63:
        return value
    return None


def text(value: Any) -> str:
    """``value`` as text Parquet can hold (lone surrogates replaced)."""
    try:
        out = value if type(value) is str else str(value)  # a Stage: its value
    except ValueError:  # an int of more digits than Python writes out
        out = f"<{type(value).__name__} too long to write>"
    try:
        out.encode("utf-8")
    except UnicodeEncodeError:
        out = out.encode("utf-8", "replace").decode("utf-8")
    return out


class ErrorLog:
    """One writer's view of ``errors``: which rows the lake does not hold yet."""

    def __init__(self, lake: Lake) -> None:
        self._ids = KeyIndex(lake, "errors", "error_id", partitioned=False)

    def fresh(self, errors: Iterable[ErrorRow]) -> pa.Table:
        """The rows of ``errors`` to commit: each ``error_id`` once, none the lake holds
        (or that :meth:`logged` was told of)."""
        first: dict[str, ErrorRow] = {}
        for err in errors:
            first.setdefault(err.error_id, err)
        if first:
            seen = self._ids.seen("*", pa.array(list(first), pa.string())).to_pylist()
            first = {k: v for (k, v), old in zip(first.items(), seen, strict=True) if not old}
        return pa.Table.from_pylist([e.as_row() for e in first.values()], schema=ROWS)

    def logged(self, rows: pa.Table) -> None:
        """Note that ``rows`` (from :meth:`fresh`) are committed."""
        if rows.num_rows:
            self._ids.add("*", rows.column("error_id").combine_chunks())


# --- what retries fixed --------------------------------------------------------------------


def mark_resolved(lake: Lake, error_ids: list[str]) -> None:
    """Record that these error rows were fixed by a retry (they stay in ``errors``)."""
    ids = sorted(set(error_ids))
    name = hashlib.blake2b("\n".join(ids).encode(), digest_size=10).hexdigest()
    lake.write_bytes(lake.path(RESOLVED, f"{name}.json"),
                     orjson.dumps({"error_ids": ids, "at": datetime.now(UTC).isoformat()}))


def resolved_ids(lake: Lake) -> set[str]:
    """Every error id a retry has fixed."""
    folder = lake.path(RESOLVED)
    out: set[str] = set()
    if not lake.fs.exists(folder):
        return out
    for path in lake.fs.ls(folder, detail=False):
        if path.endswith(".tmp"):
            continue
        try:
            with lake.fs.open(path, "rb") as handle:
                out.update(orjson.loads(handle.read())["error_ids"])
        except (OSError, orjson.JSONDecodeError, KeyError) as exc:
            log.warning("ignoring unreadable %s: %s", path, exc)
    return out


def unresolved(lake: Lake, columns: list[str] | None = None, stage: Stage | None = None,
               include_resolved: bool = False) -> pa.Table:
    """The rows of ``errors`` still wrong (all of them with ``include_resolved``),
    of one ``stage`` or all."""
    wanted = None if columns is None else list(dict.fromkeys(["error_id", "stage", *columns]))
    rows = lake.read("errors", wanted)
    fixed = set() if include_resolved else resolved_ids(lake)
    if fixed:
        rows = rows.filter(pc.invert(pc.is_in(rows["error_id"], pa.array(sorted(fixed)))))
    if stage is not None:
        rows = rows.filter(pc.equal(rows["stage"], str(stage)))
    return rows if columns is None else rows.select(columns)


# --- what a retry would redo ---------------------------------------------------------------


def failed_posts(lake: Lake) -> int:
    """How many ``tweet_sentiments`` rows record a failed text analysis."""
    total = 0
    for path in lake.files("tweet_sentiments"):
        skipped = lake.read_file(path, ["skipped"]).column("skipped")
        total += int(pc.sum(pc.starts_with(pc.fill_null(skipped, ""), "error:")).as_py() or 0)
    return total


def failed_photos(lake: Lake) -> int:
    """How many ``media_rekognition`` rows carry an analysis error (what retry would redo)."""
    total = 0
    for path in lake.files("media_rekognition"):
        errors = lake.read_file(path, ["analysis_errors"]).column("analysis_errors")
        total += int(pc.sum(pc.greater(pc.fill_null(pc.list_value_length(errors), 0), 0))
                     .as_py() or 0)
    return total

"""What ``socialsight enrich`` has left to do, read from the lake itself.

The photos and video/GIF previews (:mod:`socialsight.lake.photos`) of every ``tweets``
file not yet marked done, less the (tweetid, mediaid) rows ``media_rekognition`` already
holds; and the posts of those files whose text ``tweet_sentiments`` does not hold yet.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from socialsight.lake import state
from socialsight.lake.photos import analysed_items, is_preview
from socialsight.lake.store import Lake


@dataclass(frozen=True)
class PhotoRef:
    """One photo (or video/GIF preview) of one post: a future ``media_rekognition`` row."""

    tweetid: int
    mediaid: str
    url: str
    text: str | None
    dt: str
    preview: bool | None = False  # a video's or GIF's preview image; None: not known


@dataclass
class PostBatch:
    """Posts of one tweets file whose text is not analysed yet."""

    dt: str
    ids: list[int]
    texts: list[str | None]
    langs: list[str | None]

    def __len__(self) -> int:
        return len(self.ids)

    def slice(self, start: int, stop: int) -> PostBatch:
        return PostBatch(self.dt, self.ids[start:stop], self.texts[start:stop],
                         self.langs[start:stop])


def photos_of(table: pa.Table, dt: str, previews: bool = True) -> list[PhotoRef]:
    """The photos, and (``previews``) the video/GIF previews, of the ``tweets`` rows in
    ``table`` (id, text, extended_entities)."""
    items, owners = analysed_items(table, previews)
    if len(items) == 0:
        return []
    https = pc.struct_field(items, "media_url_https").to_pylist()
    plain = pc.struct_field(items, "media_url").to_pylist()
    ids = pc.struct_field(items, "id_str").to_pylist()
    kinds = pc.struct_field(items, "type").to_pylist()
    tweet_ids = table.column("id").to_pylist()
    texts = table.column("text").to_pylist()
    out = []
    for i, owner in enumerate(owners):
        url = https[i] or plain[i]
        row = int(owner)
        out.append(PhotoRef(tweet_ids[row], ids[i] or url, url, texts[row], dt,
                            is_preview(kinds[i])))
    return out


def dt_of(path: str) -> str:
    """The partition (``dt``) of a table file's path."""
    return posixpath.basename(posixpath.dirname(path)).split("=", 1)[1]


def _marker(lake: Lake, path: str) -> str:
    """The done marker of tweets file ``path`` (named by :func:`state.done_marker`)."""
    return lake.path(state.done_marker(path))


class Plan:
    """What is left to analyse: the posts and photos of tweets files not marked done;
    ``previews``: the video/GIF previews too (``vision.previews``)."""

    def __init__(self, lake: Lake, previews: bool = True) -> None:
        self.lake = lake
        self.files: list[tuple[str, list[PhotoRef]]] = []
        self.posts: dict[str, PostBatch] = {}
        done_keys: dict[str, set[tuple[int, str]]] = {}
        done_posts: dict[str, set[int]] = {}
        for path in lake.files("tweets"):
            if lake.fs.exists(_marker(lake, path)):
                continue
            dt = dt_of(path)
            if dt not in done_keys:
                done_keys[dt] = _keys(lake, dt)
                done_posts[dt] = set(lake.read("tweet_sentiments", ["tweetid"], dt=dt)
                                     .column("tweetid").to_pylist())
            with lake.fs.open(path, "rb") as handle:
                table = pq.read_table(handle, columns=["id", "text", "lang",
                                                       "extended_entities"])
            refs = []
            for ref in photos_of(table, dt, previews):
                key = (ref.tweetid, ref.mediaid)
                if key not in done_keys[dt]:  # in the lake, or planned already: a medium
                    done_keys[dt].add(key)   # a post lists twice is one row
                    refs.append(ref)
            self.files.append((path, refs))
            ids, texts = table.column("id").to_pylist(), table.column("text").to_pylist()
            langs = table.column("lang").to_pylist()
            todo = [i for i, tid in enumerate(ids) if tid not in done_posts[dt]]
            self.posts[path] = PostBatch(dt, [ids[i] for i in todo], [texts[i] for i in todo],
                                         [langs[i] for i in todo])

    @property
    def total(self) -> int:
        """Photos (and previews) left to analyse."""
        return sum(len(refs) for _, refs in self.files)

    @property
    def total_posts(self) -> int:
        """Posts whose text is left to analyse."""
        return sum(len(batch) for batch in self.posts.values())

    def mark_done(self, path: str) -> None:
        photos = next((len(refs) for p, refs in self.files if p == path), 0)
        self.lake.write_bytes(_marker(self.lake, path), orjson.dumps(
            {"photos": photos, "at": datetime.now(UTC).isoformat()}))


def _keys(lake: Lake, dt: str) -> set[tuple[int, str]]:
    rows = lake.read("media_rekognition", ["tweetid", "mediaid"], dt=dt)
    return set(zip(rows.column("tweetid").to_pylist(), rows.column("mediaid").to_pylist(),
                   strict=True))

"""What counts as a photo of a post: defined here once, in Arrow and in SQL.

A post's media are ``extended_entities.media``; a *photo* is an item of type
``photo`` with a URL (``media_url_https``, or else ``media_url``). Videos and
animated GIFs are media too, but they are counted as what they are and not analysed.
Enrich's plan and the import summary use :func:`photo_items` and
:func:`count_photos`; the dashboard uses :data:`PHOTOS_SQL` and :data:`OTHER_MEDIA_SQL`
on a row of ``tweets``, and the query engine registers :data:`PHOTOS_VIEW` (one row per
photo, as enrich would analyse it) for SQL, so they always agree.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

PHOTO = "photo"

# The SQL twins of photo_items and count_photos, over a row of ``tweets``: the photos
# of the post, and how many of its media are not photos (videos and animated GIFs).
_URL = "coalesce(nullif(m.media_url_https, ''), nullif(m.media_url, ''))"
PHOTO_LIST_SQL = (f"list_filter(extended_entities.media, lambda m: m.type = '{PHOTO}' "
                  f"AND {_URL} IS NOT NULL)")
PHOTOS_SQL = f"coalesce(len({PHOTO_LIST_SQL}), 0)"
OTHER_MEDIA_SQL = (f"coalesce(len(extended_entities.media), 0) - {PHOTOS_SQL}")

# The view: one row per photo — the post, the media id enrich keys it by (its id_str, or
# else its URL, as media_rekognition.mediaid), the URL it is fetched from, the partition.
PHOTOS_VIEW = "tweet_photos"
PHOTOS_VIEW_SQL = (
    "SELECT tweetid, coalesce(nullif(m.id_str, ''), "
    f"{_URL}) AS mediaid, {_URL} AS media_url, m.type AS type, dt "
    f"FROM (SELECT id AS tweetid, dt, unnest({PHOTO_LIST_SQL}) AS m FROM tweets)")


def photo_items(posts: pa.Table) -> tuple[pa.Array, np.ndarray]:
    """The photos of the ``tweets`` rows in ``posts`` (a column ``extended_entities``):
    their media structs, and for each the index of the row it belongs to."""
    media = pc.struct_field(posts.column("extended_entities").combine_chunks(), "media")
    flat = pc.list_flatten(media)
    if len(flat) == 0:
        return flat, np.zeros(0, dtype=np.int64)
    owner = pc.list_parent_indices(media)
    keep = _is_photo(flat)
    return flat.filter(keep), owner.filter(keep).to_numpy(zero_copy_only=False)


def photo_url(item: dict[str, object]) -> str:
    """The URL a photo (one of :func:`photo_items`, as a dict) is fetched from."""
    return str(item.get("media_url_https") or item.get("media_url"))


def count_photos(posts: pa.Table) -> int:
    """How many photos the ``tweets`` rows of ``posts`` have."""
    return len(photo_items(posts)[0])


def _is_photo(flat: pa.Array) -> pa.Array:
    def present(name: str) -> pa.Array:
        url = pc.struct_field(flat, name)
        return pc.fill_null(pc.not_equal(url, ""), False)

    kind = pc.fill_null(pc.equal(pc.struct_field(flat, "type"), PHOTO), False)
    return pc.and_(kind, pc.or_(present("media_url_https"), present("media_url")))

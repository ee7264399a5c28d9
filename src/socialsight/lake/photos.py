"""What of a post's media is analysed: defined here once, in Arrow and in SQL.

A post's media are ``extended_entities.media``. A *photo* is an item of type
``photo`` with a URL (``media_url_https``, or else ``media_url``). A video or an
animated GIF (v1.1 types ``video`` and ``animated_gif``; the adapters map Mastodon's
``video``/``gifv`` and Bluesky's video embeds to them) has a URL there too: its
*preview* image, a still the platform serves. Enrich analyses photos and previews
alike (:func:`analysed_items`; previews may be switched off with ``vision.previews``)
and marks a preview's ``media_rekognition`` row ``preview = true``; a photo is still
a photo everywhere it is counted (:func:`count_photos`, :data:`PHOTOS_SQL`), and the
dashboard counts videos and GIFs apart (:data:`OTHER_MEDIA_SQL`). The query engine
registers :data:`PHOTOS_VIEW` (one row per photo or preview, as enrich would analyse
it, with ``type`` and ``preview``) for SQL, so they always agree.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

PHOTO = "photo"
# The v1.1 media types whose URL is a preview image of a moving picture.
PREVIEWS = ("video", "animated_gif")

# The SQL twins of analysed_items and count_photos, over a row of ``tweets``: the photos
# of the post, and how many of its media are not photos (videos and animated GIFs,
# whether they have a preview or not).
_URL = "coalesce(nullif(m.media_url_https, ''), nullif(m.media_url, ''))"
_PREVIEW_TYPES = ", ".join(f"'{kind}'" for kind in PREVIEWS)
PHOTO_LIST_SQL = (f"list_filter(extended_entities.media, lambda m: m.type = '{PHOTO}' "
                  f"AND {_URL} IS NOT NULL)")
PHOTOS_SQL = f"coalesce(len({PHOTO_LIST_SQL}), 0)"
OTHER_MEDIA_SQL = (f"coalesce(len(extended_entities.media), 0) - {PHOTOS_SQL}")
ANALYSED_LIST_SQL = (f"list_filter(extended_entities.media, lambda m: m.type IN "
                     f"('{PHOTO}', {_PREVIEW_TYPES}) AND {_URL} IS NOT NULL)")

# The view: one row per photo or preview — the post, the media id enrich keys it by (its
# id_str, or else its URL, as media_rekognition.mediaid), the URL it is fetched from, its
# type, whether it is a preview (as media_rekognition.preview), the partition.
PHOTOS_VIEW = "tweet_photos"
PHOTOS_VIEW_SQL = (
    "SELECT tweetid, coalesce(nullif(m.id_str, ''), "
    f"{_URL}) AS mediaid, {_URL} AS media_url, m.type AS type, "
    f"m.type <> '{PHOTO}' AS preview, dt "
    f"FROM (SELECT id AS tweetid, dt, unnest({ANALYSED_LIST_SQL}) AS m FROM tweets)")


def analysed_items(posts: pa.Table, previews: bool = True) -> tuple[pa.Array, np.ndarray]:
    """What enrich analyses of the ``tweets`` rows in ``posts`` (a column
    ``extended_entities``): the photos, and (``previews``) the videos' and GIFs' preview
    images; their media structs, and for each the index of the row it belongs to."""
    media = pc.struct_field(posts.column("extended_entities").combine_chunks(), "media")
    flat = pc.list_flatten(media)
    if len(flat) == 0:
        return flat, np.zeros(0, dtype=np.int64)
    owner = pc.list_parent_indices(media)
    keep = _analysed(flat, (PHOTO, *PREVIEWS) if previews else (PHOTO,))
    return flat.filter(keep), owner.filter(keep).to_numpy(zero_copy_only=False)


def photo_items(posts: pa.Table) -> tuple[pa.Array, np.ndarray]:
    """The photos (only) of the ``tweets`` rows in ``posts``, as :func:`analysed_items`."""
    return analysed_items(posts, previews=False)


def is_preview(kind: str | None) -> bool:
    """Whether a medium of this v1.1 ``type`` is analysed as a preview (not a photo)."""
    return kind in PREVIEWS


def photo_url(item: dict[str, object]) -> str:
    """The URL a photo or preview (one of :func:`analysed_items`, as a dict) is fetched from."""
    return str(item.get("media_url_https") or item.get("media_url"))


def count_photos(posts: pa.Table) -> int:
    """How many photos (not previews) the ``tweets`` rows of ``posts`` have."""
    return len(photo_items(posts)[0])


def _analysed(flat: pa.Array, kinds: tuple[str, ...]) -> pa.Array:
    def present(name: str) -> pa.Array:
        url = pc.struct_field(flat, name)
        return pc.fill_null(pc.not_equal(url, ""), False)

    kind = pc.fill_null(pc.is_in(pc.struct_field(flat, "type"), pa.array(kinds)), False)
    return pc.and_(kind, pc.or_(present("media_url_https"), present("media_url")))

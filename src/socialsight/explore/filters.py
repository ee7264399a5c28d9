"""The filters every page takes: a date range, a platform, a search term or #hashtag.

They narrow the posts first (the ``posts`` CTE); every other CTE and query reads
posts through it, so one set of filters means the same thing on every page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from socialsight.errors import InputError

# The platforms a post can come from, as ``tweets.platform`` names them, and their labels.
PLATFORMS: dict[str, str] = {"x": "X", "bluesky": "Bluesky", "mastodon": "Mastodon",
                             "file": "File"}
MAX_TERM = 200


@dataclass(frozen=True)
class Filters:
    """Posts from ``start`` to ``end`` (UTC days, inclusive), of one platform, matching ``q``."""

    start: date | None = None
    end: date | None = None
    platform: str | None = None
    q: str | None = None  # words in the text, or #tag for a hashtag

    @classmethod
    def parse(cls, start: str | None = None, end: str | None = None,
              platform: str | None = None, q: str | None = None) -> Filters:
        """Filters from a page's query string; an InputError says which one is wrong."""
        first, last = _day(start, "start"), _day(end, "end")
        if first and last and first > last:
            raise InputError(f"the date range ends ({last}) before it starts ({first})")
        platform = (platform or "").strip().lower() or None
        if platform and platform not in PLATFORMS:
            raise InputError(f"unknown platform {platform!r}: use one of "
                             + ", ".join(PLATFORMS))
        term = (q or "").strip() or None
        if term and len(term) > MAX_TERM:
            raise InputError(f"the search term is longer than {MAX_TERM} characters")
        return cls(first, last, platform, term)

    @property
    def hashtag(self) -> str | None:
        if self.q and self.q.startswith("#") and len(self.q) > 1 and " " not in self.q:
            return self.q[1:]
        return None

    def params(self) -> dict[str, str]:
        """The filters as a query string's parameters (the ones that are set)."""
        out = {"start": self.start.isoformat() if self.start else None,
               "end": self.end.isoformat() if self.end else None,
               "platform": self.platform, "q": self.q}
        return {k: v for k, v in out.items() if v}

    def query_string(self) -> str:
        return urlencode(self.params())

    def as_dict(self) -> dict[str, Any]:
        return {"start": self.start.isoformat() if self.start else None,
                "end": self.end.isoformat() if self.end else None,
                "platform": self.platform, "q": self.q}

    def ctes(self) -> tuple[str, dict[str, object]]:
        """``posts`` (the filtered tweets) and ``photos`` (their analysed photos), as CTEs.

        ``photos`` has one row per analysed photo (or video/GIF preview) of a post in
        ``posts``, with ``sensitive``: the platform or its author marked the post, or the
        photo has a moderation label; and ``preview``: it is a video's or GIF's preview
        (false for the rows of files written before previews were analysed: photos).
        """
        where = ["TRUE"]
        params: dict[str, object] = {}
        if self.start:
            where.append("dt >= $start")
            params["start"] = self.start.isoformat()
        if self.end:
            where.append("dt <= $end")
            params["end"] = self.end.isoformat()
        if self.platform:
            where.append("platform = $platform")
            params["platform"] = self.platform
        if self.hashtag:
            where.append("list_contains(list_transform(entities.hashtags, "
                         "lambda h: lower(h.text)), lower($tag))")
            params["tag"] = self.hashtag
        elif self.q:
            where.append("contains(lower(text), lower($q))")
            params["q"] = self.q
        sql = (
            f"posts AS NOT MATERIALIZED (SELECT * FROM tweets WHERE {' AND '.join(where)}), "
            "photos AS NOT MATERIALIZED (SELECT m.tweetid, m.mediaid, m.sha256, m.media_url, "
            "m.width, "
            "m.height, m.image_labels, coalesce(m.preview, false) AS preview, "
            "p.dt, p.platform, p.created_at, p.timestamp_ms, "
            "coalesce(p.possibly_sensitive, false) "
            "OR coalesce(len(m.image_labels.moderationlabels), 0) > 0 AS sensitive "
            "FROM media_rekognition m JOIN posts p ON p.id = m.tweetid)"
        )
        return sql, params


def _day(value: str | None, name: str) -> date | None:
    if not value or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise InputError(f"{name} must be a date like 2024-07-01, not {value!r}") from exc


def photo_card(row: dict[str, Any]) -> dict[str, Any]:
    """What a photo grid needs of one photo (row from ``photos``)."""
    tweetid, mediaid, sha = str(row["tweetid"]), str(row["mediaid"]), row.get("sha256")
    return {"tweetid": tweetid, "mediaid": mediaid, "sha256": sha,
            "sensitive": bool(row.get("sensitive")),
            "src": f"/photos/{sha}" if sha else None,
            "href": f"/photo/{tweetid}/{mediaid}"}

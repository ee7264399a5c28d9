"""The enrolled brands as SQL: a ``brands`` view and ``brand_mentions``.

``brands`` is one row per enrolled brand (id, name, words: what names it, its name when
it was enrolled without words), read from the lake's ``_brands/brands.parquet``.
``brand_mentions`` is one row per mention of a brand in a post, in its photos beside in
its text, so a brand team can see how much of its presence only photos show:

- ``place = 'photo'``: ``found`` is ``logo`` (its logo mark, by local features) or
  ``text`` (its word mark read in the photo), from ``media_rekognition``'s
  ``customlabels``, with the confidence and box;
- ``place = 'text'``: ``found`` is ``word`` (a brand word as whole words of the post's
  text, hashtags, handles and links left out), ``hashtag``, ``handle`` (an @mention)
  or ``link`` (a label of a linked domain: ``acme`` in ``shop.acme.com``); ``matched``
  is what matched (one row a post, brand and way, however often it matched).
"""

from __future__ import annotations

BRANDS_VIEW = "brands"
MENTIONS_VIEW = "brand_mentions"

# Lower case, every run of what is not a letter or digit one space.
_WORDS = "trim(regexp_replace(lower({x}), '[^[:alnum:]]+', ' ', 'g'))"
_SQUASHED = "regexp_replace(lower({x}), '[^[:alnum:]]+', '', 'g')"

EMPTY_BRANDS_SQL = ("SELECT * FROM (VALUES (NULL::VARCHAR, NULL::VARCHAR, NULL::VARCHAR[])) "
                    "t(id, name, words) WHERE false")


def brands_sql(source: str) -> str:
    """The ``brands`` view over ``source`` (a ``read_parquet(...)`` of the brands file)."""
    return ("SELECT id, any_value(name) AS name, "
            "any_value(CASE WHEN len(words) > 0 THEN words ELSE [name] END) AS words "
            f"FROM {source} GROUP BY id")


_NO_PHOTO_MENTIONS = """in_photos AS (
  SELECT CAST(NULL AS BIGINT) AS tweetid, CAST(NULL AS VARCHAR) AS brand,
         'photo' AS place, CAST(NULL AS VARCHAR) AS found, CAST(NULL AS VARCHAR) AS matched,
         CAST(NULL AS VARCHAR) AS mediaid, CAST(NULL AS VARCHAR) AS media_url,
         CAST(NULL AS DOUBLE) AS confidence,
         CAST(NULL AS STRUCT(width DOUBLE, top DOUBLE, "left" DOUBLE, height DOUBLE))
           AS boundingbox
  WHERE false
),"""


def mentions_sql(custom_labels: bool) -> str:
    """The ``brand_mentions`` view; ``custom_labels``: whether the lake's
    ``media_rekognition`` files have ``customlabels`` at all (files written before
    brands existed do not, and then no photo mentions anything)."""
    if custom_labels:
        return _MENTIONS_SQL
    start = _MENTIONS_SQL.index("in_photos AS (")
    end = _MENTIONS_SQL.index("in_text AS (")
    return _MENTIONS_SQL[:start] + _NO_PHOTO_MENTIONS + "\n" + _MENTIONS_SQL[end:]


_MENTIONS_SQL = f"""
WITH brand_words AS (
  SELECT name AS brand, word, {_WORDS.format(x="word")} AS spaced,
         {_SQUASHED.format(x="word")} AS squashed
  FROM (SELECT name, unnest(words) AS word FROM {BRANDS_VIEW})
),
posts AS (
  SELECT id AS tweetid, platform, timestamp_ms, dt, entities,
         ' ' || {_WORDS.format(
             x="regexp_replace(coalesce(text, ''), '(https?://[^ ]+|[#@][[:alnum:]_]+)', ' ', 'g')"
         )} || ' ' AS spaced
  FROM tweets
),
in_photos AS (
  SELECT m.tweetid, c.name AS brand, 'photo' AS place, c.kind AS found,
         CAST(NULL AS VARCHAR) AS matched, m.mediaid, m.media_url, c.confidence,
         c.geometry.boundingbox AS boundingbox
  FROM media_rekognition m, unnest(m.image_labels.customlabels) AS t(c)
  WHERE c.kind IN ('logo', 'text')
),
in_text AS (
  SELECT p.tweetid, b.brand, 'word' AS found, b.word AS matched
  FROM posts p JOIN brand_words b
    ON b.spaced <> '' AND contains(p.spaced, ' ' || b.spaced || ' ')
  UNION ALL
  SELECT p.tweetid, b.brand, 'hashtag', '#' || h.text
  FROM (SELECT tweetid, unnest(entities.hashtags) AS h FROM posts) p
  JOIN brand_words b ON b.squashed <> '' AND lower(p.h.text) = b.squashed
  UNION ALL
  SELECT p.tweetid, b.brand, 'handle', '@' || p.u.screen_name
  FROM (SELECT tweetid, unnest(entities.user_mentions) AS u FROM posts) p
  JOIN brand_words b ON b.squashed <> '' AND lower(p.u.screen_name) = b.squashed
  UNION ALL
  SELECT p.tweetid, b.brand, 'link', url_extract_host(p.l.expanded_url)
  FROM (SELECT tweetid, unnest(entities.urls) AS l FROM posts) p
  JOIN brand_words b ON b.squashed <> ''
    AND list_contains(list_transform(
          string_split(lower(coalesce(url_extract_host(p.l.expanded_url), '')), '.'),
          lambda label: regexp_replace(label, '[^[:alnum:]]+', '', 'g')), b.squashed)
),
mentions AS (
  SELECT tweetid, brand, place, found, matched, mediaid, media_url, confidence, boundingbox
  FROM in_photos
  UNION ALL
  SELECT tweetid, brand, 'text', found, min(matched), NULL, NULL, CAST(100.0 AS DOUBLE), NULL
  FROM in_text GROUP BY tweetid, brand, found
)
SELECT m.tweetid, p.platform, to_timestamp(p.timestamp_ms / 1000) AS ts, p.dt, m.brand,
       m.place, m.found, m.matched, m.mediaid, m.media_url, m.confidence, m.boundingbox
FROM mentions m JOIN posts p ON p.tweetid = m.tweetid
"""

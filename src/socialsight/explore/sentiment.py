"""Sentiment and entities: how posts feel over time, what they name, what was skipped.

Sentiment over time means what the seed's ``sentiment_over_time.sql`` means (posts
per sentiment per bucket) with the Overview's buckets; entities count as
``top_entities.sql`` counts them (score above 0.5), case-folded.
"""

from __future__ import annotations

from typing import Any

from socialsight.explore.filters import Filters
from socialsight.explore.overview import HOURLY_UP_TO_DAYS
from socialsight.language.redaction import FAMILY
from socialsight.query.engine import Engine

SENTIMENTS = ("POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED")
MIN_SCORE = 0.5  # as top_entities.sql: entities the model is less sure of are left out
PER_TYPE = 10  # entities shown per type
KEYPHRASES = 20
# Entity types in the order Comprehend lists them; any other type follows.
ENTITY_TYPES = ("PERSON", "LOCATION", "ORGANIZATION", "COMMERCIAL_ITEM", "EVENT", "DATE",
                "QUANTITY", "TITLE", "OTHER")
SCORED = "posts p JOIN tweet_sentiments s ON s.tweetid = p.id"


def sentiment(engine: Engine, filters: Filters) -> dict[str, Any]:
    """Everything the Sentiment page shows."""
    ctes, params = filters.ctes()
    unit = time_unit(engine, filters)
    over_time = engine.rows(
        f"WITH {ctes} SELECT strftime(date_trunc('{unit}', "
        "make_timestamp(p.timestamp_ms * 1000)), '%Y-%m-%dT%H:%M') AS t, s.sentiment, "
        f"count(*) AS posts FROM {SCORED} WHERE s.sentiment IS NOT NULL "
        "AND p.timestamp_ms IS NOT NULL GROUP BY ALL ORDER BY t, s.sentiment", params)
    split = {r["sentiment"]: int(r["posts"]) for r in engine.rows(
        f"WITH {ctes} SELECT s.sentiment, count(*) AS posts FROM {SCORED} "
        "WHERE s.sentiment IS NOT NULL GROUP BY ALL", params)}
    return {
        "filters": filters.as_dict(),
        "unit": unit,
        "sentiments": list(SENTIMENTS),
        "over_time": over_time,
        "split": [{"sentiment": name, "posts": split.get(name, 0)} for name in
                  (*SENTIMENTS, *sorted(set(split) - set(SENTIMENTS)))],
        "totals": totals(engine, filters),
        "skipped": skipped(engine, filters),
        "entities": entities(engine, filters),
        "keyphrases": keyphrases(engine, filters),
    }


def time_unit(engine: Engine, filters: Filters) -> str:
    """Hours while the filtered posts span a few days, days after (the Overview's rule)."""
    ctes, params = filters.ctes()
    span = engine.rows(f"WITH {ctes} SELECT min(timestamp_ms) AS first, "
                       "max(timestamp_ms) AS last FROM posts", params)[0]
    days = ((span["last"] or 0) - (span["first"] or 0)) / 86_400_000
    return "hour" if days <= HOURLY_UP_TO_DAYS else "day"


def totals(engine: Engine, filters: Filters) -> dict[str, int]:
    """Posts, those with a sentiment, those skipped, and those not analysed yet."""
    ctes, params = filters.ctes()
    row = engine.rows(
        f"WITH {ctes} SELECT count(*) AS posts, count(s.tweetid) AS analysed, "
        "count(s.sentiment) AS scored, count(s.skipped) AS skipped "
        "FROM posts p LEFT JOIN tweet_sentiments s ON s.tweetid = p.id", params)[0]
    out = {key: int(value) for key, value in row.items()}
    return {**out, "waiting": out["posts"] - out["analysed"]}


def skipped(engine: Engine, filters: Filters) -> list[dict[str, Any]]:
    """Why the text of some posts was not analysed, by posts."""
    ctes, params = filters.ctes()
    return engine.rows(
        f"WITH {ctes} SELECT s.skipped AS reason, count(*) AS posts, "
        "list(DISTINCT s.lang ORDER BY s.lang) FILTER (WHERE s.lang IS NOT NULL) AS langs "
        f"FROM {SCORED} WHERE s.skipped IS NOT NULL GROUP BY ALL "
        "ORDER BY posts DESC, reason", params)


def entities(engine: Engine, filters: Filters, per_type: int = PER_TYPE) -> dict[str, Any]:
    """The most mentioned entities of each type, case-folded, in their most common form."""
    ctes, params = filters.ctes()
    rows = engine.rows(
        f"WITH {ctes} SELECT e.type, mode(e.entity) AS entity, count(*) AS mentions, "
        "count(DISTINCT e.tweetid) AS posts FROM tweet_entities e JOIN posts p "
        "ON p.id = e.tweetid WHERE e.score > $score AND trim(e.entity) <> '' "
        "AND NOT starts_with(e.type, $pii) "
        "GROUP BY e.type, lower(e.entity) "
        "QUALIFY row_number() OVER (PARTITION BY e.type ORDER BY count(*) DESC, "
        "lower(e.entity)) <= $per_type ORDER BY e.type, mentions DESC, lower(e.entity)",
        {**params, "score": MIN_SCORE, "per_type": per_type, "pii": FAMILY})
    found = {row["type"] for row in rows}
    order = [t for t in ENTITY_TYPES if t in found] + sorted(found - set(ENTITY_TYPES))
    return {
        "types": order,
        "by_type": {t: [{**r, "mentions": int(r["mentions"]), "posts": int(r["posts"])}
                        for r in rows if r["type"] == t] for t in order},
    }


def keyphrases(engine: Engine, filters: Filters,
               limit: int = KEYPHRASES) -> list[dict[str, Any]]:
    """The key phrases found in most posts, case-folded, in their most common form."""
    ctes, params = filters.ctes()
    return engine.rows(
        f"WITH {ctes} SELECT mode(k.keyphrase) AS keyphrase, count(*) AS mentions, "
        "count(DISTINCT k.tweetid) AS posts FROM tweet_keyphrases k JOIN posts p "
        "ON p.id = k.tweetid WHERE trim(k.keyphrase) <> '' GROUP BY lower(k.keyphrase) "
        "ORDER BY posts DESC, mentions DESC, lower(k.keyphrase) LIMIT $limit",
        {**params, "limit": limit})

"""twarc2 flattened lines (``twarc2 flatten``) → canonical posts.

A flattened line is one v2 tweet with its expansions inlined: ``author``,
``in_reply_to_user``, ``attachments.media``, the referenced tweets merged into
``referenced_tweets`` (each flattened the same way), user objects merged into
``entities.mentions`` and the place merged into ``geo``; ``__twarc`` records where
and when it was fetched. This adapter gathers those inline objects into the same
:class:`~socialsight.posts.twitter_v2.Includes` a v2 response gives, and lets the v2
mapping do the rest. The importer keeps the line itself as ``raw_json``. An edited
tweet's older versions become deletions beside it, as for a v2 response
(:func:`~socialsight.posts.twitter_v2.edit_deletions`).
"""

from __future__ import annotations

from typing import Any

from socialsight.posts import twitter_v2
from socialsight.posts.canonical import Conversion, Post, as_dict, checked_id
from socialsight.posts.twitter_v2 import JSON, Includes

# Keys twarc2 adds to the geo object when it merges the place in.
_GEO_OWN_KEYS = ("place_id", "coordinates")
# Keys twarc2 merges into a mention from the user object; one marks a known user.
_MENTION_POSITION_KEYS = ("start", "end")


def is_twarc2(obj: Any) -> bool:
    """A flattened twarc2 tweet (not a whole response page, which has ``data``)."""
    if not isinstance(obj, dict) or "data" in obj:
        return False
    return "__twarc" in obj or ("author_id" in obj and isinstance(obj.get("author"), dict))


def _add_place(inc: Includes, geo: Any) -> None:
    if not isinstance(geo, dict) or geo.get("place_id") is None:
        return
    place = {k: v for k, v in geo.items() if k not in _GEO_OWN_KEYS}
    if place:
        place.setdefault("id", geo["place_id"])
        inc.places.setdefault(str(geo["place_id"]), place)


def _add_mentions(inc: Includes, tweet: JSON) -> None:
    sources = (tweet.get("entities"), as_dict(tweet.get("note_tweet")).get("entities"))
    for entities in sources:
        mentions = entities.get("mentions") if isinstance(entities, dict) else None
        for mention in twitter_v2.dicts(mentions):
            if "name" in mention:  # merged with its user object
                user = {k: v for k, v in mention.items() if k not in _MENTION_POSITION_KEYS}
                if user.get("id") is not None and str(user["id"]) not in inc.users:
                    inc.add_user(user)


def _add_users(inc: Includes, tweet: JSON) -> None:
    for key in ("author", "in_reply_to_user"):
        user = tweet.get(key)
        if isinstance(user, dict) and user.get("id") is not None:
            inc.add_user(user)
    _add_mentions(inc, tweet)


def _add_media(inc: Includes, tweet: JSON) -> None:
    attachments = tweet.get("attachments")
    media = attachments.get("media") if isinstance(attachments, dict) else None
    for item in twitter_v2.dicts(media):
        if item.get("media_key") is not None:
            inc.media.setdefault(str(item["media_key"]), item)


def gather(tweet: JSON, inc: Includes | None = None, depth: int = 0) -> Includes:
    """The includes a flattened tweet carries inline, its referenced tweets' included."""
    inc = inc if inc is not None else Includes()
    _add_users(inc, tweet)
    _add_media(inc, tweet)
    _add_place(inc, tweet.get("geo"))
    for ref in twitter_v2.dicts(tweet.get("referenced_tweets")):
        if "text" not in ref or ref.get("id") is None:
            continue  # twarc2 found no referenced tweet to merge in
        inc.tweets.setdefault(str(ref["id"]), ref)
        if depth < 2:
            gather(ref, inc, depth + 1)
    return inc


def from_twarc2(obj: dict[str, Any], platform: str = "x") -> Post:
    """One flattened twarc2 tweet as a canonical post; InputError when it has no id."""
    checked_id(obj.get("id"), "twarc2 tweet")
    return twitter_v2.to_post(obj, gather(obj), platform)


def convert_twarc2(obj: dict[str, Any], platform: str = "x") -> Conversion:
    """A flattened twarc2 tweet as a post, and the older versions it replaces as deletions."""
    post = from_twarc2(obj, platform)
    deletions, problems = twitter_v2.edit_deletions(obj, post["id"])
    return Conversion(posts=[post], problems=problems, deletions=deletions)

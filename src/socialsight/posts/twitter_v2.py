"""Twitter/X API v2 responses (search, timelines, lookups, stream lines) → canonical posts.

A v2 response keeps each tweet lean and puts what it points at (authors, media,
referenced tweets, places) once per page under ``includes``. This adapter joins
them back and rewrites the result in the v1.1 status shape: ``username`` becomes
``screen_name``, ``public_metrics`` spread into ``*_count`` fields, entity
``start``/``end`` pairs become ``indices``, media keys become media ids, and a
retweet's text becomes ``RT @author: <the original's full text>``.

The joins go through :class:`Includes`, which twarc2's flattened lines fill from
their inline objects, so both formats share this one mapping.

Edits. X gives each version of an edited post a new id, and every version lists the
whole chain in ``edit_history_tweet_ids``, oldest first
(https://docs.x.com/x-api/fundamentals/edit-posts); the API answers with the latest
version. The ids in that list older than the post's own are versions it replaces:
each becomes a :class:`~socialsight.posts.canonical.Deletion` with reason
``edited`` beside the post (:func:`edit_deletions`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from socialsight.errors import InputError
from socialsight.posts.canonical import (
    Conversion,
    Deletion,
    Post,
    as_dict,
    as_int,
    as_text,
    checked_id,
    checked_time,
    format_v1_time,
    parse_iso_time,
    v1_time_of_iso,
)

JSON = dict[str, Any]

# Keys a v2 response may carry beside "data".
RESPONSE_KEYS = frozenset({"data", "includes", "meta", "errors", "matching_rules", "__twarc"})
# Tweet fields that only v2 has: one of them marks a bare v2 tweet.
V2_TWEET_KEYS = frozenset(
    {"author_id", "edit_history_tweet_ids", "public_metrics", "attachments",
     "referenced_tweets", "conversation_id", "note_tweet", "edit_controls", "reply_settings"}
)
# Keys that only v1.1 statuses have.
V1_KEYS = frozenset({"user", "id_str", "full_text", "extended_tweet", "retweeted_status"})

# Plain renames, v2 name → v1.1 name.
TWEET_FIELDS = {"lang": "lang", "possibly_sensitive": "possibly_sensitive", "source": "source"}
TWEET_METRICS = {
    "retweet_count": "retweet_count",
    "reply_count": "reply_count",
    "like_count": "favorite_count",
    "quote_count": "quote_count",
}
USER_FIELDS = {
    "name": "name",
    "username": "screen_name",
    "description": "description",
    "location": "location",
    "url": "url",
    "verified": "verified",
    "protected": "protected",
    "profile_image_url": "profile_image_url_https",
}
USER_METRICS = {
    "followers_count": "followers_count",
    "following_count": "friends_count",
    "tweet_count": "statuses_count",
    "listed_count": "listed_count",
    "like_count": "favourites_count",
}
URL_FIELDS = {"url": "url", "expanded_url": "expanded_url", "display_url": "display_url"}
MEDIA_FIELDS = {"type": "type", "alt_text": "ext_alt_text"}
PLACE_FIELDS = {
    "id": "id",
    "name": "name",
    "full_name": "full_name",
    "country": "country",
    "country_code": "country_code",
    "place_type": "place_type",
}
# v2 entity list → (v1.1 entity list, v2 key of the text it holds).
TAG_ENTITIES = {"hashtags": ("hashtags", "tag"), "cashtags": ("symbols", "tag")}

# Twitter snowflake ids carry their creation time: (id >> 22) + this epoch, in ms.
SNOWFLAKE_EPOCH_MS = 1288834974657
_SNOWFLAKE_MIN = 1 << 40


@dataclass
class Includes:
    """The objects a tweet's ids point at, indexed the way tweets refer to them."""

    users: dict[str, JSON] = field(default_factory=dict)
    usernames: dict[str, JSON] = field(default_factory=dict)
    media: dict[str, JSON] = field(default_factory=dict)
    tweets: dict[str, JSON] = field(default_factory=dict)
    places: dict[str, JSON] = field(default_factory=dict)
    polls: dict[str, JSON] = field(default_factory=dict)

    @classmethod
    def of(cls, includes: Any) -> Includes:
        """Index a response's ``includes`` object."""
        inc = cls()
        if not isinstance(includes, dict):
            return inc
        for user in dicts(includes.get("users")):
            inc.add_user(user)
        for key, index, id_key in (
            ("media", inc.media, "media_key"),
            ("tweets", inc.tweets, "id"),
            ("places", inc.places, "id"),
            ("polls", inc.polls, "id"),
        ):
            for item in dicts(includes.get(key)):
                _put(index, item, id_key)
        return inc

    def add_user(self, user: JSON) -> None:
        _put(self.users, user, "id")
        name = user.get("username")
        if isinstance(name, str):
            self.usernames.setdefault(name.lower(), user)

    def user(self, user_id: Any) -> JSON | None:
        return self.users.get(str(user_id)) if user_id is not None else None

    def user_named(self, username: Any) -> JSON | None:
        return self.usernames.get(username.lower()) if isinstance(username, str) else None


def _put(index: dict[str, JSON], item: JSON, id_key: str) -> None:
    key = item.get(id_key)
    if key is not None:
        index.setdefault(str(key), item)


def dicts(items: Any) -> list[JSON]:
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _rename(source: Any, table: Mapping[str, str]) -> JSON:
    """The fields of ``source`` named in ``table``, under their new names."""
    src = source if isinstance(source, dict) else {}
    return {new: src.get(old) for old, new in table.items()}


def _http(url: Any) -> str | None:
    return "http://" + url[len("https://"):] if isinstance(url, str) and url.startswith(
        "https://") else url


def _indices(item: JSON) -> list[int] | None:
    start, end = as_int(item.get("start")), as_int(item.get("end"))
    return None if start is None or end is None else [start, end]


# --- detection ----------------------------------------------------------------------


def is_v2_response(obj: Any) -> bool:
    """A v2 response page or stream line: ``data`` (a tweet list or one tweet) and friends."""
    if not isinstance(obj, dict) or not set(obj) <= RESPONSE_KEYS:
        return False
    data = obj.get("data")
    if data is None:
        # an empty page: {"meta": {"result_count": 0}}, maybe with errors
        return "meta" in obj or "errors" in obj
    return isinstance(data, list) or (isinstance(data, dict) and "id" in data)


def is_v2_tweet(obj: Any) -> bool:
    """A bare v2 tweet object, outside any response."""
    return (
        isinstance(obj, dict)
        and "id" in obj
        and "text" in obj
        and not V1_KEYS.intersection(obj)
        and bool(V2_TWEET_KEYS.intersection(obj))
    )


# --- pieces of a post ---------------------------------------------------------------


def _timestamp(tweet: JSON, post_id: int) -> int:
    """Its ``created_at``, else the time in its snowflake id; InputError when neither."""
    created = tweet.get("created_at")
    if isinstance(created, str):
        try:
            return checked_time(parse_iso_time(created))
        except (ValueError, InputError):
            pass
    if post_id >= _SNOWFLAKE_MIN:
        return (post_id >> 22) + SNOWFLAKE_EPOCH_MS
    if created is not None:
        raise InputError(f"not an ISO 8601 timestamp: {created!r}")
    raise InputError(f"tweet {post_id} has no created_at and its id holds no time "
                     "(ask the X API for tweet.fields=created_at)")


def _v1_time(value: Any) -> str | None:
    return v1_time_of_iso(value)


def own_text(tweet: JSON) -> str:
    """A tweet's whole text: the note_tweet's for long posts, else ``text``."""
    note = tweet.get("note_tweet")
    if isinstance(note, dict) and isinstance(note.get("text"), str):
        return str(note["text"])
    return str(tweet.get("text") or "")


def _own_entities(tweet: JSON) -> JSON:
    note = tweet.get("note_tweet")
    if isinstance(note, dict) and isinstance(note.get("entities"), dict):
        return dict(note["entities"])
    entities = tweet.get("entities")
    return entities if isinstance(entities, dict) else {}


def references(tweet: JSON) -> dict[str, str]:
    """Referenced tweet ids by type: ``retweeted``, ``quoted``, ``replied_to``."""
    out: dict[str, str] = {}
    for ref in dicts(tweet.get("referenced_tweets")):
        if isinstance(ref.get("type"), str) and ref.get("id") is not None:
            out.setdefault(ref["type"], str(ref["id"]))
    return out


def _user(user_id: Any, user: JSON | None) -> JSON | None:
    uid = as_int((user or {}).get("id", user_id))
    if user is None and uid is None:
        return None
    out = _rename(user, USER_FIELDS)
    out.update(_rename((user or {}).get("public_metrics"), USER_METRICS))
    out["id"] = uid
    out["id_str"] = None if uid is None else str(uid)
    out["created_at"] = _v1_time((user or {}).get("created_at"))
    out["profile_image_url"] = _http(out["profile_image_url_https"])
    return out


def _tags(items: Any, key: str) -> list[JSON]:
    return [{"text": item.get(key), "indices": _indices(item)} for item in dicts(items)]


def _mention(item: JSON, inc: Includes) -> JSON:
    user = inc.user_named(item.get("username")) or inc.user(item.get("id")) or {}
    uid = as_int(item.get("id", user.get("id")))
    return {
        "id": uid,
        "id_str": None if uid is None else str(uid),
        "screen_name": item.get("username", user.get("username")),
        "name": user.get("name"),
        "indices": _indices(item),
    }


def _url(item: JSON) -> JSON:
    return {**_texts(_rename(item, URL_FIELDS)), "indices": _indices(item)}


def _texts(fields: JSON) -> JSON:
    """``fields`` with a value that is no string (a number, a list) as none: the lake
    keeps them as strings, and one odd field must not lose the post."""
    return {name: as_text(value) for name, value in fields.items()}


def _entities(tweet: JSON, inc: Includes) -> JSON:
    ents = _own_entities(tweet)
    out: JSON = {new: _tags(ents.get(old), key) for old, (new, key) in TAG_ENTITIES.items()}
    out["user_mentions"] = [_mention(m, inc) for m in dicts(ents.get("mentions"))]
    out["urls"] = [_url(u) for u in dicts(ents.get("urls")) if "media_key" not in u]
    return out


def _media_links(tweet: JSON) -> dict[str, JSON]:
    """The ``pic.twitter.com`` url entities of a tweet, by the media_key they show."""
    links: dict[str, JSON] = {}
    for source in (tweet.get("entities"), as_dict(tweet.get("note_tweet")).get("entities")):
        for item in dicts(as_dict(source).get("urls")):
            if isinstance(item.get("media_key"), str):
                links.setdefault(item["media_key"], item)
    return links


def media_keys(tweet: JSON) -> list[str]:
    attachments = tweet.get("attachments")
    keys = attachments.get("media_keys") if isinstance(attachments, dict) else None
    return [str(k) for k in keys] if isinstance(keys, list) else []


def _one_media(item: JSON, link: JSON | None) -> JSON:
    key = str(item.get("media_key") or "")
    native = key.split("_", 1)[1] if "_" in key else key or None
    image = as_text(item.get("url") if item.get("type") == "photo"
                    else item.get("preview_image_url"))  # a number or a list: none
    width, height = as_int(item.get("width")), as_int(item.get("height"))
    size = None if width is None or height is None else {"w": width, "h": height, "resize": "fit"}
    return {
        **_texts(_rename(item, MEDIA_FIELDS)),
        **_url(link or {}),
        "id": native,
        "id_str": native,
        "media_url_https": image,
        "media_url": _http(image),
        "sizes": {"large": size},
    }


def _media(tweet: JSON, inc: Includes) -> list[JSON]:
    links = _media_links(tweet)
    return [
        _one_media(inc.media[key], links.get(key)) for key in media_keys(tweet) if key in inc.media
    ]


def _coordinates(geo: Any) -> tuple[JSON | None, JSON | None]:
    """v1.1 ``coordinates`` ([lon, lat]) and ``geo`` ([lat, lon]) of a v2 ``geo``."""
    point = geo.get("coordinates") if isinstance(geo, dict) else None
    pair = point.get("coordinates") if isinstance(point, dict) else None
    if not (isinstance(pair, list) and len(pair) == 2):
        return None, None
    lon, lat = pair
    return (
        {"type": "Point", "coordinates": [lon, lat]},
        {"type": "Point", "coordinates": [lat, lon]},
    )


def _place(place: JSON | None) -> JSON | None:
    if place is None:
        return None
    out = _rename(place, PLACE_FIELDS)
    bbox = as_dict(place.get("geo")).get("bbox")
    if isinstance(bbox, list) and len(bbox) == 4:
        west, south, east, north = bbox
        ring = [[west, south], [east, south], [east, north], [west, north]]
        out["bounding_box"] = {"type": "Polygon", "coordinates": [ring]}
    return out


def _place_id(tweet: JSON) -> str | None:
    geo = tweet.get("geo")
    pid = geo.get("place_id") if isinstance(geo, dict) else None
    return None if pid is None else str(pid)


# --- the post -----------------------------------------------------------------------


def _tweet_id(tweet: JSON) -> int:
    return checked_id(tweet.get("id"), "v2 tweet")


def _retweet_text(original: JSON, inc: Includes) -> str:
    author = inc.user(original.get("author_id")) or {}
    return f"RT @{author.get('username') or ''}: {own_text(original)}"


def _text_fields(tweet: JSON, refs: dict[str, str], inc: Includes) -> JSON:
    """text and truncated; a retweet quotes its original's whole text when it is known."""
    if "retweeted" not in refs:
        return {"text": own_text(tweet), "truncated": False}
    original = inc.tweets.get(refs["retweeted"])
    if original is None:
        return {"text": own_text(tweet), "truncated": None}
    return {"text": _retweet_text(original, inc), "truncated": False}


def _reply_fields(tweet: JSON, refs: dict[str, str], inc: Includes, mentions: list[JSON]) -> JSON:
    parent = inc.tweets.get(refs.get("replied_to", ""), {})
    status_id = as_int(refs.get("replied_to"))
    user_id = as_int(tweet.get("in_reply_to_user_id", parent.get("author_id")))
    user = inc.user(user_id) or {}
    name = user.get("username") or next(
        (m["screen_name"] for m in mentions if user_id is not None and m["id"] == user_id), None)
    return {
        "in_reply_to_status_id": status_id,
        "in_reply_to_status_id_str": None if status_id is None else str(status_id),
        "in_reply_to_user_id": user_id,
        "in_reply_to_user_id_str": None if user_id is None else str(user_id),
        "in_reply_to_screen_name": name,
    }


def _quote_fields(refs: dict[str, str], inc: Includes, platform: str) -> JSON:
    quoted_id = as_int(refs.get("quoted"))
    quoted = inc.tweets.get(refs.get("quoted", ""))
    return {
        "is_quote_status": quoted_id is not None,
        "quoted_status_id": quoted_id,
        "quoted_status_id_str": None if quoted_id is None else str(quoted_id),
        "quoted_status": _embedded(quoted, inc, platform),
    }


def _embedded(tweet: JSON | None, inc: Includes, platform: str) -> Post | None:
    if tweet is None or as_int(tweet.get("id")) is None:
        return None
    return to_post(tweet, inc, platform, embed=False)


def to_post(tweet: JSON, inc: Includes, platform: str = "x", embed: bool = True) -> Post:
    """One v2 tweet, joined with ``inc``, as a canonical post (without ``raw_json``).

    ``embed`` adds the retweeted and quoted tweets as ``retweeted_status`` and
    ``quoted_status``; embedded posts do not embed further.
    """
    post_id = _tweet_id(tweet)
    refs = references(tweet)
    ts = _timestamp(tweet, post_id)
    post: Post = {"id": post_id, "id_str": str(post_id), "platform": platform}
    post.update(_rename(tweet, TWEET_FIELDS))
    post.update(_rename(tweet.get("public_metrics"), TWEET_METRICS))
    post.update(_text_fields(tweet, refs, inc))
    post["timestamp_ms"] = ts
    post["created_at"] = format_v1_time(ts)
    post["user"] = _user(tweet.get("author_id"), inc.user(tweet.get("author_id")))
    post["entities"] = _entities(tweet, inc)
    original = inc.tweets.get(refs.get("retweeted", ""))
    media = _media(tweet, inc) or (_media(original, inc) if original else [])
    post["extended_entities"] = {"media": media}
    post.update(_reply_fields(tweet, refs, inc, post["entities"]["user_mentions"]))
    post["coordinates"], post["geo"] = _coordinates(tweet.get("geo"))
    post["place"] = _place(inc.places.get(_place_id(tweet) or ""))
    if embed:
        post.update(_quote_fields(refs, inc, platform))
        post["retweeted_status"] = _embedded(original, inc, platform)
    return post


# --- raw_json: a tweet with just the includes it points at ---------------------------


def _referenced_tweets(tweet: JSON, inc: Includes) -> list[JSON]:
    return [inc.tweets[i] for i in references(tweet).values() if i in inc.tweets]


def _users_of(tweet: JSON) -> Iterable[str]:
    for key in ("author_id", "in_reply_to_user_id"):
        if tweet.get(key) is not None:
            yield str(tweet[key])
    for mention in dicts(_own_entities(tweet).get("mentions")):
        if mention.get("id") is not None:
            yield str(mention["id"])


def _poll_ids(tweet: JSON) -> list[str]:
    ids = as_dict(tweet.get("attachments")).get("poll_ids")
    return [str(i) for i in ids] if isinstance(ids, list) else []


def own_includes(tweet: JSON, inc: Includes) -> JSON:
    """The part of a response's ``includes`` that one tweet refers to."""
    tweets = [tweet, *_referenced_tweets(tweet, inc)]
    mentioned = [
        inc.user_named(m.get("username"))
        for t in tweets for m in dicts(_own_entities(t).get("mentions"))
    ]
    picked: dict[str, dict[str, JSON]] = {"users": {}, "tweets": {}, "places": {}, "media": {},
                                          "polls": {}}
    for t in tweets:
        picked["users"].update({u: inc.users[u] for u in _users_of(t) if u in inc.users})
        picked["media"].update({k: inc.media[k] for k in media_keys(t) if k in inc.media})
        picked["polls"].update({p: inc.polls[p] for p in _poll_ids(t) if p in inc.polls})
        pid = _place_id(t)
        if pid is not None and pid in inc.places:
            picked["places"][pid] = inc.places[pid]
    for user in mentioned:
        if user is not None:
            picked["users"].setdefault(str(user.get("id")), user)
    picked["tweets"] = {str(t["id"]): t for t in tweets[1:]}
    return {key: list(items.values()) for key, items in picked.items() if items}


def _raw_json(tweet: JSON, inc: Includes, extra: JSON) -> str:
    record: JSON = {"data": tweet}
    includes = own_includes(tweet, inc)
    if includes:
        record["includes"] = includes
    record.update(extra)
    return orjson.dumps(record).decode()


# --- edits ------------------------------------------------------------------------


def edit_deletions(tweet: JSON, post_id: int) -> tuple[list[Deletion], list[str]]:
    """The older versions an edited tweet replaces, as deletions (reason ``edited``),
    and the entries of its ``edit_history_tweet_ids`` that are no post id."""
    history = tweet.get("edit_history_tweet_ids")
    deletions: list[Deletion] = []
    problems: list[str] = []
    for entry in history if isinstance(history, list) else []:
        try:
            old = checked_id(entry, "edit history")
        except InputError as exc:
            problems.append(f"tweet {post_id}: {exc}")
            continue
        # Older versions only: a newer one (where X answered with an old version)
        # is not replaced by this post.
        if old < post_id and all(d.post_id != old for d in deletions):
            deletions.append(Deletion("x", old, str(old), reason="edited"))
    return deletions, problems


def _with_edits(conversion: Conversion, tweet: JSON, post: Post) -> Conversion:
    deletions, problems = edit_deletions(tweet, post["id"])
    conversion.deletions += deletions
    conversion.problems += problems
    return conversion


# --- public entry points -----------------------------------------------------------


def _data(obj: JSON) -> list[Any]:
    data = obj.get("data")
    if isinstance(data, dict):
        return [data]
    return data if isinstance(data, list) else []


def describe_errors(body: Any) -> str:
    """X's problem text: ``title: detail`` of the body and of each of its ``errors``."""
    if not isinstance(body, dict):
        return str(body)[:500]
    parts = [": ".join(str(body[k]) for k in ("title", "detail") if body.get(k))]
    errors = body.get("errors")
    for error in errors if isinstance(errors, list) else []:
        if isinstance(error, dict):
            words = [error.get(k) for k in ("title", "message", "detail", "value")]
            details = error.get("details")
            words += [str(d) for d in details] if isinstance(details, list) else []
            parts.append(": ".join(str(w) for w in words if w))
    text = "; ".join(p for p in parts if p)
    if text:
        return text
    try:
        return orjson.dumps(body).decode()[:500]
    except TypeError:  # nested too deep to write back
        return "errors without a title or detail"


def from_v2_response(obj: dict[str, Any], platform: str = "x") -> Conversion:
    """Every tweet of a v2 response page or stream line, joined with its includes.

    Tweets that cannot be read become problems; the response's partial ``errors``
    (deleted or protected referenced tweets, say) are not posts and are skipped. A
    response with errors and no tweets is a problem that names the errors; one with
    neither (an empty page) is a control message.
    """
    if not _data(obj):
        if obj.get("errors"):
            reason = f"X API error, no tweets: {describe_errors(obj)}"
            return Conversion(problems=[reason if len(reason) <= 1000 else reason[:999] + "…"])
        return Conversion(control=True)
    inc = Includes.of(obj.get("includes"))
    extra: JSON = {k: obj[k] for k in ("matching_rules", "__twarc") if k in obj}
    conversion = Conversion()
    for number, tweet in enumerate(_data(obj), 1):
        if not isinstance(tweet, dict):
            conversion.problems.append(f"v2 tweet #{number} is not an object")
            continue
        if tweet.get("id") is None:
            conversion.problems.append(f"v2 tweet #{number} has no id")
            continue
        try:
            post = to_post(tweet, inc, platform)
        except InputError as exc:
            conversion.problems.append(f"v2 tweet #{number}: {exc}")
            continue
        post["raw_json"] = _raw_json(tweet, inc, extra)
        conversion.posts.append(post)
        _with_edits(conversion, tweet, post)
    return conversion


def from_v2_tweet(obj: dict[str, Any], platform: str = "x") -> Post:
    """A bare v2 tweet, without includes: its user is only the author's id."""
    post = to_post(obj, Includes(), platform)
    post["raw_json"] = orjson.dumps(obj).decode()
    return post


def convert_v2_tweet(obj: dict[str, Any], platform: str = "x") -> Conversion:
    """A bare v2 tweet as a post, and the older versions it replaces as deletions."""
    post = from_v2_tweet(obj, platform)
    return _with_edits(Conversion(posts=[post]), obj, post)

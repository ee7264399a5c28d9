"""The table contract: the seed's four tables, column for column, as Arrow schemas.

Names are lower case and nested exactly as the seed's Athena DDL declares them, so
its views and queries run unchanged. Additions to the seed are marked ``# added``.
Every table is partitioned Hive-style by ``dt`` (the post's UTC date, YYYY-MM-DD);
``dt`` is a directory name, not a column inside the Parquet files.
"""

from __future__ import annotations

import pyarrow as pa

PARTITION = "dt"
DATABASE = "socialanalyticsblog"

_s = pa.string()
_i64 = pa.int64()
_i32 = pa.int32()
_f64 = pa.float64()
_b = pa.bool_()


def _struct(**fields: pa.DataType) -> pa.StructType:
    return pa.struct([pa.field(name, typ) for name, typ in fields.items()])


def _list(item: pa.DataType) -> pa.ListType:
    return pa.list_(item)


# --- tweets ---------------------------------------------------------------------------

POINT = _struct(type=_s, coordinates=_list(_f64))
SIZE = _struct(w=_i32, h=_i32, resize=_s)
MEDIA = _struct(
    id=_s,
    id_str=_s,
    indices=_list(_i64),
    media_url=_s,
    media_url_https=_s,
    url=_s,
    display_url=_s,
    expanded_url=_s,
    type=_s,
    sizes=_struct(thumb=SIZE, large=SIZE, medium=SIZE, small=SIZE),
    ext_alt_text=_s,  # added: the alt text the author wrote, where the platform has it
)
HASHTAG = _struct(text=_s, indices=_list(_i64))
URL = _struct(url=_s, expanded_url=_s, display_url=_s, indices=_list(_i64))
MENTION = _struct(id=_i64, id_str=_s, screen_name=_s, name=_s, indices=_list(_i64))
USER = _struct(
    id=_i64,
    id_str=_s,
    name=_s,
    screen_name=_s,
    location=_s,
    url=_s,
    description=_s,
    translator_type=_s,
    protected=_b,
    verified=_b,
    followers_count=_i64,
    friends_count=_i64,
    listed_count=_i64,
    favourites_count=_i64,
    statuses_count=_i64,
    created_at=_s,
    utc_offset=_i64,
    time_zone=_s,
    geo_enabled=_b,
    lang=_s,
    contributors_enabled=_b,
    is_translator=_b,
    profile_background_color=_s,
    profile_background_image_url=_s,
    profile_background_image_url_https=_s,
    profile_background_tile=_b,
    profile_link_color=_s,
    profile_sidebar_border_color=_s,
    profile_sidebar_fill_color=_s,
    profile_text_color=_s,
    profile_use_background_image=_b,
    profile_image_url=_s,
    profile_image_url_https=_s,
    profile_banner_url=_s,
    default_profile=_b,
    default_profile_image=_b,
)
PLACE = _struct(
    id=_s,
    url=_s,
    place_type=_s,
    name=_s,
    full_name=_s,
    country_code=_s,
    country=_s,
    bounding_box=_struct(type=_s, coordinates=_list(_list(_list(pa.float32())))),
)
# A retweeted or quoted post, kept whole enough to query; raw_json has the rest.
EMBEDDED = _struct(
    id=_i64,
    id_str=_s,
    text=_s,
    created_at=_s,
    lang=_s,
    user=_struct(id=_i64, id_str=_s, name=_s, screen_name=_s, followers_count=_i64,
                 verified=_b),
    retweet_count=_i64,
    favorite_count=_i64,
    entities=_struct(hashtags=_list(HASHTAG), urls=_list(URL)),
    extended_entities=_struct(media=_list(MEDIA)),
)

TWEETS = pa.schema(
    [
        ("coordinates", POINT),
        ("retweeted", _b),
        ("source", _s),
        (
            "entities",
            _struct(
                hashtags=_list(HASHTAG),
                urls=_list(URL),
                user_mentions=_list(MENTION),  # added (v1.1 has it; the seed left it out)
                symbols=_list(HASHTAG),  # added
            ),
        ),
        ("reply_count", _i64),
        ("favorite_count", _i64),
        ("geo", POINT),
        ("id_str", _s),
        ("timestamp_ms", _i64),
        ("truncated", _b),
        ("text", _s),
        ("retweet_count", _i64),
        ("id", _i64),
        ("possibly_sensitive", _b),
        ("filter_level", _s),
        ("created_at", _s),
        ("place", PLACE),
        (
            "extended_entities",
            _struct(
                media=_list(MEDIA),
                favorited=_b,
                retweeted=_b,
                possibly_sensitive=_b,
                filter_level=_s,
                lang=_s,
            ),
        ),
        ("favorited", _b),
        ("lang", _s),
        ("in_reply_to_screen_name", _s),
        ("is_quote_status", _b),
        ("in_reply_to_user_id_str", _s),
        ("user", USER),
        ("quote_count", _i64),
        # added below this line
        ("in_reply_to_status_id", _i64),
        ("in_reply_to_status_id_str", _s),
        ("in_reply_to_user_id", _i64),
        ("quoted_status_id", _i64),
        ("quoted_status_id_str", _s),
        ("retweeted_status", EMBEDDED),
        ("quoted_status", EMBEDDED),
        ("platform", _s),  # x | bluesky | mastodon | file
        ("raw_json", _s),  # the object as received: nothing is lost
    ]
)

# --- tweet_sentiments / tweet_entities ------------------------------------------------

TWEET_SENTIMENTS = pa.schema(
    [
        ("tweetid", _i64),
        ("text", _s),
        ("originaltext", _s),
        ("sentiment", _s),
        ("sentimentposscore", _f64),
        ("sentimentnegscore", _f64),
        ("sentimentneuscore", _f64),
        ("sentimentmixedscore", _f64),
        ("lang", _s),  # added: the dominant language, detected (or the platform's tag)
        ("model", _s),  # added
        ("langscore", _f64),  # added: how sure the language detector was, 0-1
        ("skipped", _s),  # added: why sentiment and entities were not run, if they were not
    ]
)

TWEET_ENTITIES = pa.schema(
    [
        ("tweetid", _i64),
        ("entity", _s),
        ("type", _s),
        ("score", _f64),
        ("beginoffset", _i32),  # added
        ("endoffset", _i32),  # added
    ]
)

# Added: Comprehend's DetectKeyPhrases, one row per phrase (score is null: the local
# tagger gives none).
TWEET_KEYPHRASES = pa.schema(
    [
        ("tweetid", _i64),
        ("keyphrase", _s),
        ("score", _f64),
        ("beginoffset", _i32),
        ("endoffset", _i32),
    ]
)

# --- media_rekognition ----------------------------------------------------------------

BOX = _struct(width=_f64, top=_f64, left=_f64, height=_f64)
XY = _struct(x=_f64, y=_f64)
LANDMARK = _struct(x=_f64, y=_f64, type=_s)
POSE = _struct(yaw=_f64, roll=_f64, pitch=_f64)
QUALITY = _struct(sharpness=_f64, brightness=_f64)
BOOL_ATTR = _struct(confidence=_f64, value=_b)
CONF = _struct(confidence=_f64, type=_s)
FACE = _struct(
    boundingbox=BOX,
    confidence=_f64,
    landmarks=_list(LANDMARK),
    pose=POSE,
    quality=QUALITY,
)
FACE_DETAIL = _struct(
    confidence=_f64,
    eyeglasses=BOOL_ATTR,
    sunglasses=BOOL_ATTR,
    gender=_struct(confidence=_f64, value=_s),
    landmarks=_list(LANDMARK),
    pose=POSE,
    emotions=_list(CONF),
    agerange=_struct(high=_i32, low=_i32),
    eyesopen=BOOL_ATTR,
    boundingbox=BOX,
    smile=BOOL_ATTR,
    mouthopen=BOOL_ATTR,
    quality=QUALITY,
    mustache=BOOL_ATTR,
    beard=BOOL_ATTR,
)
IMAGE_LABELS = _struct(
    labels=_list(
        _struct(
            instances=_list(_struct(boundingbox=BOX, confidence=_f64)),
            confidence=_f64,
            parents=_list(_struct(name=_s)),
            name=_s,
            # Rekognition v3 (issue 16); files written before read these as NULL
            aliases=_list(_struct(name=_s)),
            categories=_list(_struct(name=_s)),
        )
    ),
    textdetections=_list(
        _struct(
            geometry=_struct(boundingbox=BOX, polygon=_list(XY)),
            confidence=_f64,
            detectedtext=_s,
            type=_s,
            id=_i32,
            parentid=_i32,
        )
    ),
    facedetails=_list(FACE_DETAIL),
    celebrityrecognition=_struct(
        unrecognizedfaces=_list(FACE),
        celebrityfaces=_list(
            _struct(face=FACE, urls=_list(_s), name=_s, id=_s, matchconfidence=_f64)
        ),
        orientationcorrection=_s,
    ),
    moderationlabels=_list(_struct(confidence=_f64, name=_s, parentname=_s)),
    labelmodelversion=_s,
    # Rekognition Custom Labels' shape, for the brands and concepts a user enrols (issue
    # 17); ``kind`` (added) says what found it: logo, text (the word mark, read in the
    # photo) or concept. Files written before read NULL.
    customlabels=_list(_struct(name=_s, confidence=_f64, geometry=_struct(boundingbox=BOX),
                               kind=_s)),
)
MEDIA_REKOGNITION = pa.schema(
    [
        ("image_labels", IMAGE_LABELS),
        ("tweetid", _i64),
        ("mediaid", _s),
        ("text", _s),
        ("media_url", _s),
        # added below this line
        ("sha256", _s),
        ("width", _i32),
        ("height", _i32),
        ("model_versions", pa.map_(_s, _s)),
        ("analysis_errors", _list(_struct(analysis=_s, error=_s))),
        # one embedding per facedetails entry, so known people can be matched again
        ("face_embeddings", _list(_list(pa.float32()))),
        # the photo's local features (socialsight.vision.logos), so an enrolled logo can be
        # looked for in every past photo without decoding a photo again (issue 17)
        ("local_features", pa.binary()),
        ("preview", _b),  # added: a video's or GIF's preview image, not a photo
        # the photo's embedding (unit length) and 64-bit perceptual hash, for custom
        # concepts and look-alikes (socialsight.vision.lookalike, issue 17)
        ("embedding", _list(pa.float32())),
        ("phash", _i64),
    ]
)

# --- errors: what could not be read or analysed, and why ------------------------------

ERRORS = pa.schema(
    [
        ("error_id", _s),  # stable hash of (stage, source, location, raw): dedupes retries
        ("stage", _s),  # import | fetch | decode | analyse | ...
        ("source", _s),  # the file, URL or source the record came from
        ("line", _i64),  # 1-based line (or record number) in the source, if any
        ("post_id", _i64),
        ("reason", _s),
        ("error_class", _s),
        ("transient", _b),
        ("raw", _s),  # the offending input, cut to 4 KiB
        ("occurred_at", pa.timestamp("ms", tz="UTC")),
    ]
)

TABLES: dict[str, pa.Schema] = {
    "tweets": TWEETS,
    "tweet_sentiments": TWEET_SENTIMENTS,
    "tweet_entities": TWEET_ENTITIES,
    "tweet_keyphrases": TWEET_KEYPHRASES,
    "media_rekognition": MEDIA_REKOGNITION,
    "errors": ERRORS,
}



def partitioned(schema: pa.Schema) -> pa.Schema:
    """``schema`` with the partition column, as rows carry it on their way to the lake."""
    return schema.append(pa.field(PARTITION, pa.string()))


# A row of ``tweets`` on its way to the lake: the columns plus its partition.
TWEET_ROWS = partitioned(TWEETS)

# The column that identifies a row for de-duplication, per table.
KEYS: dict[str, tuple[str, ...]] = {
    "tweets": ("id",),
    "tweet_sentiments": ("tweetid",),
    "tweet_entities": ("tweetid", "beginoffset", "endoffset", "type"),
    "tweet_keyphrases": ("tweetid", "beginoffset", "endoffset"),
    "media_rekognition": ("tweetid", "mediaid"),
    "errors": ("error_id",),
}

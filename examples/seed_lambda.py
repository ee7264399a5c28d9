"""The seed's Lambda as a plain boto3 script, pointed at ``socialsight serve``.

The blog post's Lambda (``seed/exploring-images-on-social-media.txt``) reads new
tweets, and for each one:

- sends its text to Comprehend (DetectSentiment, DetectEntities);
- for each photo of ``extended_entities.media`` with a .jpg or .png name: DetectLabels,
  DetectText if a label is Text, DetectFaces and RecognizeCelebrities if a label is
  Person, DetectModerationLabels always; the answers go into one record.

This script does the same with stock boto3 — the only change from code written for AWS
is ``endpoint_url`` — reading the posts of a socialsight lake's ``tweets`` table and
writing ``tweet_sentiments``, ``tweet_entities`` and ``media_rekognition`` as
``socialsight enrich`` writes them (Parquet under ``<table>/dt=YYYY-MM-DD/``, the
lake's own column types, so ``socialsight query --lake OUT`` reads them)::

    socialsight serve --lake lake &                  # answers on 127.0.0.1:8000
    python examples/seed_lambda.py lake --out seed-out

boto3 signs with the usual AWS credentials (environment, profile); on loopback the
server accepts any key pair, elsewhere the one in ``serve.aws_access_key_id``.

Where the result differs from ``socialsight enrich`` on the same lake, and why:

- ``tweet_sentiments.text``: enrich stores the text its models read (the retweet
  prefix and links removed); Comprehend does not return it, so this script stores
  the post's text, as the seed did without a translation. ``model`` is null (the API
  does not name its model) and ``skipped`` says only that the language is not English.
- ``media_rekognition``: ``sha256`` is the downloaded photo's; ``width``, ``height``,
  ``model_versions`` and ``face_embeddings`` are null (the API does not return them);
  ``analysis_errors`` names the call that failed, with AWS's error message.
- The gates differ a little: the seed reads text only when DetectLabels says Text and
  looks for faces only when it says Person; enrich decides with its detectors, so
  where one looked and found nothing the other may not have looked (an empty list
  against null for ``textdetections``, ``facedetails``, ``celebrityrecognition``).
- Photos whose name does not end in .jpg or .png are skipped, as the seed skips them;
  enrich analyses every photo and judges it by its bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

log = logging.getLogger("seed_lambda")

PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png")
SURE = 0.5  # a detected language this sure wins over the platform's tag (as enrich)


def lower(value: Any) -> Any:
    """An AWS response with the lake's lower-case field names (Athena's JSON SerDe reads
    the seed's records case-insensitively, which comes to the same)."""
    if isinstance(value, dict):
        return {k.lower(): lower(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [lower(v) for v in value]
    return value


def posts(lake: str) -> Iterator[dict[str, Any]]:
    """Every post of the lake's ``tweets`` table: id, text, lang, photos and its dt."""
    tweets = ds.dataset(os.path.join(lake, "tweets"), format="parquet", partitioning="hive")
    for batch in tweets.to_batches(columns=["id", "text", "lang", "extended_entities", "dt"]):
        yield from batch.to_pylist()


# --- the Lambda's calls --------------------------------------------------------------


def analyse_text(comprehend: Any, post: dict[str, Any]) -> tuple[dict[str, Any], list[dict]]:
    """The post's ``tweet_sentiments`` row and its ``tweet_entities`` rows."""
    text = post["text"] or ""
    row: dict[str, Any] = {"tweetid": post["id"], "text": text, "originaltext": text,
                           "sentiment": None, "lang": None, "langscore": None,
                           "model": None, "skipped": None, "dt": post["dt"]}
    if not text.strip():
        row["skipped"] = "no text to analyse"
        return row, []
    languages = comprehend.detect_dominant_language(Text=text)["Languages"]
    lang, score = (languages[0]["LanguageCode"], languages[0]["Score"]) if languages else (
        None, 0.0)
    tag = post.get("lang")
    if (lang is None or score < SURE) and tag and tag not in ("und", "zxx", "qme"):
        lang = tag.split("-")[0].lower()
    row.update(lang=lang, langscore=score)
    if lang != "en":
        row["skipped"] = f"language {lang!r} is not English"
        return row, []
    sentiment = comprehend.detect_sentiment(Text=text, LanguageCode="en")
    scores = sentiment["SentimentScore"]
    row.update(sentiment=sentiment["Sentiment"], sentimentposscore=scores["Positive"],
               sentimentnegscore=scores["Negative"], sentimentneuscore=scores["Neutral"],
               sentimentmixedscore=scores["Mixed"])
    entities = comprehend.detect_entities(Text=text, LanguageCode="en")["Entities"]
    return row, [{"tweetid": post["id"], "entity": e["Text"], "type": e["Type"],
                  "score": e["Score"], "beginoffset": e.get("BeginOffset"),
                  "endoffset": e.get("EndOffset"), "dt": post["dt"]} for e in entities]


def analyse_photo(rekognition: Any, data: bytes) -> dict[str, Any]:
    """The seed's calls for one photo, combined into one ``image_labels`` record."""
    image = {"Bytes": data}
    found = rekognition.detect_labels(Image=image)
    names = {label["Name"] for label in found["Labels"]}
    record: dict[str, Any] = {"labels": lower(found["Labels"]),
                              "labelmodelversion": found.get("LabelModelVersion")}
    if "Text" in names:
        record["textdetections"] = lower(rekognition.detect_text(Image=image)["TextDetections"])
    if "Person" in names:
        faces = rekognition.detect_faces(Image=image, Attributes=["ALL"])
        record["facedetails"] = lower(faces["FaceDetails"])
        record["celebrityrecognition"] = lower(rekognition.recognize_celebrities(Image=image))
    record["moderationlabels"] = lower(
        rekognition.detect_moderation_labels(Image=image)["ModerationLabels"])
    return record


def photos_of(post: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(media id, URL) of the post's photos with a .jpg or .png name, as the seed."""
    for media in (post.get("extended_entities") or {}).get("media") or []:
        url = media.get("media_url_https") or media.get("media_url")
        if media.get("type") == "photo" and url and url.lower().endswith(PHOTO_SUFFIXES):
            yield media.get("id_str") or url, url


def media_row(rekognition: Any, post: dict[str, Any], mediaid: str, url: str,
              timeout: float) -> dict[str, Any]:
    row: dict[str, Any] = {"tweetid": post["id"], "mediaid": mediaid, "text": post["text"],
                           "media_url": url, "image_labels": None, "sha256": None,
                           "analysis_errors": [], "dt": post["dt"]}
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            data = response.read()
    except OSError as exc:
        row["analysis_errors"] = [{"analysis": "fetch", "error": str(exc)}]
        return row
    row["sha256"] = hashlib.sha256(data).hexdigest()
    try:
        row["image_labels"] = analyse_photo(rekognition, data)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        row["analysis_errors"] = [{"analysis": exc.operation_name,
                                   "error": f"{error.get('Code')}: {error.get('Message')}"}]
    return row


# --- the output ----------------------------------------------------------------------


def write(out: str, table: str, rows: list[dict[str, Any]]) -> None:
    """The rows of one table as Parquet, one file per dt, each written whole."""
    from socialsight.lake.schema import TABLES  # the lake's column types

    schema = TABLES[table]
    for dt in sorted({r["dt"] for r in rows}):
        folder = os.path.join(out, table, f"dt={dt}")
        os.makedirs(folder, exist_ok=True)
        part = pa.Table.from_pylist([r for r in rows if r["dt"] == dt], schema=schema)
        temp = os.path.join(folder, f".{uuid.uuid4().hex}.tmp")
        pq.write_table(part, temp, compression="zstd")
        os.replace(temp, os.path.join(folder, "part-seed-lambda.parquet"))


def run(lake: str, out: str, endpoint_url: str, region: str, timeout: float) -> dict[str, int]:
    config = Config(retries={"max_attempts": 3}, read_timeout=300)
    rekognition = boto3.client("rekognition", endpoint_url=endpoint_url, region_name=region,
                               config=config)
    comprehend = boto3.client("comprehend", endpoint_url=endpoint_url, region_name=region,
                              config=config)
    sentiments: list[dict[str, Any]] = []
    entities: list[dict[str, Any]] = []
    media: list[dict[str, Any]] = []
    for post in posts(lake):
        try:
            row, found = analyse_text(comprehend, post)
        except (ClientError, BotoCoreError) as exc:
            log.warning("post %s: %s", post["id"], exc)
            continue
        sentiments.append(row)
        entities += found
        media += [media_row(rekognition, post, mediaid, url, timeout)
                  for mediaid, url in photos_of(post)]
    write(out, "tweet_sentiments", sentiments)
    write(out, "tweet_entities", entities)
    write(out, "media_rekognition", media)
    return {"tweet_sentiments": len(sentiments), "tweet_entities": len(entities),
            "media_rekognition": len(media)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lake", help="the socialsight lake (a folder) whose posts to read")
    parser.add_argument("--out", required=True, help="folder for the output tables")
    parser.add_argument("--endpoint-url", default="http://127.0.0.1:8000",
                        help="where socialsight serve answers (default: %(default)s)")
    parser.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    parser.add_argument("--timeout", type=float, default=20.0,
                        help="seconds to wait for a photo download")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    counts = run(args.lake, args.out, args.endpoint_url, args.region, args.timeout)
    for table, rows in counts.items():
        log.info("%s: %d rows", table, rows)


if __name__ == "__main__":
    main()

"""The seed's Lambda, as a plain boto3 script against socialsight serve, writes what enrich writes.

A lake of real posts with real photos (served on loopback) is enriched by
``socialsight enrich``; then ``examples/seed_lambda.py`` runs on the same posts against a
server on the same lake (so the same known-people gallery), and the two sets of tables
are compared row for row on the columns both produce (the example's docstring says
which columns differ, and why).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import ImageOps

from socialsight.config import load_settings
from socialsight.lake.store import Lake
from tests.aws.conftest import ACCESS_KEY, SECRET_KEY, start_server
from tests.conftest import status, write_jsonl
from tests.test_enrich import PhotoHandler, enrich_env, photos  # noqa: F401
from tests.test_vision_labels import package_photo

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "seed_lambda.py"


def present(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: present(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [present(v) for v in value]
    return value


def comparable(labels: dict[str, Any] | None) -> dict[str, Any] | None:
    """``image_labels`` with null members dropped, and "not looked" the same as "none
    found" (the seed's gate and enrich's can differ on a photo with nothing to find)."""
    if labels is None:
        return None
    out = present(labels)
    out.setdefault("textdetections", [])
    out.setdefault("facedetails", [])
    out.setdefault("celebrityrecognition", {"celebrityfaces": [], "unrecognizedfaces": []})
    return out


def table(lake: Path, name: str, key: tuple[str, ...]) -> dict[tuple[Any, ...], dict]:
    rows = Lake(str(lake)).read(name).to_pylist()
    by_key = {tuple(r[k] for k in key): r for r in rows}
    assert len(by_key) == len(rows), f"{name} has duplicate rows"
    return by_key


@pytest.mark.slow
def test_the_seed_lambda_on_socialsight_writes_the_tables_enrich_writes(
        cli, tmp_path, photos, enrich_env):  # noqa: F811
    posts = write_jsonl(tmp_path / "posts.jsonl", [
        status(1, "Morning fuel at Blue Bottle Coffee in San Francisco #coffee",
               photos=[f"{photos}/coffee.png"]),
        status(2, "Launch day! So proud of Eileen Collins and the NASA crew",
               photos=[f"{photos}/astronaut.png"]),
        status(3, "Read the fine print", photos=[f"{photos}/page.png"]),
        status(4, "My cat and my ride, what a terrible Monday",
               photos=[f"{photos}/chelsea.png", f"{photos}/motorcycle_left.png"]),
        status(5, "Me encanta este café por la mañana, es delicioso",
               photos=[f"{photos}/rocket.jpg"]),
        status(6, "No photo here, just a note about Paris and London"),
        status(7, "Sign in to see the deal", photos=[f"{photos}/login.jpg"]),
    ])
    assert cli("import", str(posts)).exit_code == 0
    portrait = tmp_path / "eileen.jpg"  # another photo of her than the one posted
    ImageOps.mirror(package_photo("astronaut.png").convert("RGB")).crop(
        (100, 0, 512, 400)).save(portrait, quality=90)
    assert cli("people", "add", "Eileen Collins", str(portrait)).exit_code == 0
    enriched = cli("enrich")
    assert enriched.exit_code == 0, enriched.output

    lake = Lake(str(tmp_path / "lake"))
    uv, thread, url = start_server(lake, load_settings(lake=lake.url))
    out = tmp_path / "seed-out"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "SOCIALSIGHT_"))}
    env.update(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
               AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE=os.devnull,
               AWS_SHARED_CREDENTIALS_FILE=os.devnull, NO_PROXY="*")
    try:
        ran = subprocess.run([sys.executable, str(EXAMPLE), lake.root, "--out", str(out),
                              "--endpoint-url", url], env=env, capture_output=True,
                             text=True, timeout=600)
    finally:
        uv.should_exit = True
        thread.join(10)
    assert ran.returncode == 0, ran.stderr
    assert "media_rekognition: 7 rows" in ran.stderr

    # media_rekognition: one row per (post, photo), the same analysis of each photo.
    ours = table(out, "media_rekognition", ("tweetid", "mediaid"))
    theirs = table(Path(lake.root), "media_rekognition", ("tweetid", "mediaid"))
    assert sorted(ours) == sorted(theirs) == [
        (1, "10"), (2, "20"), (3, "30"), (4, "40"), (4, "41"), (5, "50"), (7, "70")]
    for key, row in theirs.items():
        mine = ours[key]
        for column in ("text", "media_url"):
            assert mine[column] == row[column], (key, column)
        assert bool(mine["analysis_errors"]) == bool(row["analysis_errors"]), key
        if row["analysis_errors"]:  # the login page: no image, an error row on both sides
            assert mine["image_labels"] is row["image_labels"] is None
            continue
        assert mine["sha256"] == row["sha256"], key
        assert comparable(mine["image_labels"]) == comparable(row["image_labels"]), key
    # The comparison covered every part of the record: text, faces, a known person.
    labels = {key: comparable(row["image_labels"]) for key, row in ours.items()}
    assert any(t["detectedtext"] == "Region-based segmentation"
               for t in labels[3, "30"]["textdetections"])
    assert labels[2, "20"]["facedetails"][0]["gender"]["value"] == "Female"
    assert [c["name"] for c in labels[2, "20"]["celebrityrecognition"]["celebrityfaces"]] == [
        "Eileen Collins"]
    assert "Coffee" in {lb["name"] for lb in labels[1, "10"]["labels"]}

    # tweet_sentiments: every post; the same language, sentiment and scores.
    ours_s = table(out, "tweet_sentiments", ("tweetid",))
    theirs_s = table(Path(lake.root), "tweet_sentiments", ("tweetid",))
    assert sorted(ours_s) == sorted(theirs_s) == [(i,) for i in range(1, 8)]
    for key, row in theirs_s.items():
        mine = ours_s[key]
        for column in ("originaltext", "sentiment", "sentimentposscore", "sentimentnegscore",
                       "sentimentneuscore", "sentimentmixedscore", "lang", "langscore"):
            assert mine[column] == row[column], (key, column)
        assert (mine["skipped"] is None) == (row["skipped"] is None), key
    assert ours_s[5,]["lang"] == "es" and ours_s[5,]["sentiment"] is None
    assert ours_s[4,]["sentiment"] == "NEGATIVE"

    # tweet_entities: the same entities at the same offsets (the seed's Lambda calls
    # DetectEntities only; enrich's PII rows, type 'PII:…', are socialsight's own).
    columns = ("tweetid", "entity", "type", "score", "beginoffset", "endoffset")
    mine_e = sorted(tuple(r[c] for c in columns)
                    for r in Lake(str(out)).read("tweet_entities").to_pylist())
    enrich_e = sorted(tuple(r[c] for c in columns)
                      for r in lake.read("tweet_entities").to_pylist()
                      if not r["type"].startswith("PII:"))
    assert mine_e == enrich_e
    assert ("San Francisco", "LOCATION") in {(e[1], e[2]) for e in mine_e}


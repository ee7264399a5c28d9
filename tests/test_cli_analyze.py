"""`socialsight analyze`: one photo's result as JSON, from a file or a guarded URL."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import status, write_jsonl
from tests.test_enrich import _skimage_data, enrich_env, photos, rows  # noqa: F401
from tests.test_media_fetch import server  # noqa: F401 (the loopback photo server)
from tests.test_people import portrait  # noqa: F401 (a second photo of the astronaut)
from tests.test_vision_labels import package_photo


def _photo_file(tmp_path: Path, name: str) -> str:
    path = tmp_path / name
    package_photo(name).save(path)
    return str(path)


def test_a_photo_file_gives_rekognition_shaped_json(cli, tmp_path):
    result = cli("analyze", _photo_file(tmp_path, "coffee.png"))
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    labels = {label["Name"]: label for label in body["Labels"]}
    assert [p["Name"] for p in labels["Espresso"]["Parents"]] == ["Coffee", "Beverage"]
    assert body["ModerationLabels"] == [] and body["Errors"] == []
    assert body["ImageSize"] == {"Width": 600, "Height": 400}


def test_the_lake_format_is_the_image_labels_struct(cli, tmp_path):
    result = cli("analyze", _photo_file(tmp_path, "page.png"), "--format", "lake",
                 "--max-labels", "3")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert set(body) == {"labels", "moderationlabels", "textdetections", "facedetails",
                         "celebrityrecognition", "labelmodelversion"}
    # No person in the page: faces were not looked for (gating), so they are null.
    assert len(body["labels"]) <= 3 and body["facedetails"] is None
    assert body["celebrityrecognition"] is None
    first = next(t for t in body["textdetections"] if t["type"] == "LINE" and t["id"] == 0)
    assert first["detectedtext"] == "Region-based segmentation"


def test_what_is_not_a_photo_is_a_one_line_error(cli, tmp_path):
    page = tmp_path / "login.jpg"
    page.write_text("<!DOCTYPE html><html><body>sign in</body></html>")
    result = cli("analyze", str(page))
    assert result.exit_code == 1
    assert "not a JPEG, PNG, GIF or WebP image (an HTML page)" in result.stderr
    assert "Traceback" not in result.output


def test_urls_go_through_the_fetch_guards(cli, monkeypatch, server):  # noqa: F811
    refused = cli("analyze", "http://127.0.0.1:9/photo.jpg")
    assert refused.exit_code == 1 and "non-public address" in refused.stderr
    monkeypatch.setenv("SOCIALSIGHT_FETCH_ALLOW_HOSTS", "localhost")
    fetched = cli("analyze", f"http://{server}/photo.jpg")
    assert fetched.exit_code == 0, fetched.output
    assert json.loads(fetched.stdout)["ImageSize"] == {"Width": 64, "Height": 48}


def test_a_portrait_has_a_face_and_the_person_labels(cli, tmp_path):
    result = cli("analyze", _photo_file(tmp_path, "astronaut.png"))
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert len(body["FaceDetails"]) == 1
    face = body["FaceDetails"][0]
    assert face["Confidence"] > 99
    assert face["Gender"]["Value"] == "Female" and face["Smile"]["Value"] is True
    assert face["Emotions"][0]["Type"] == "HAPPY"
    assert face["AgeRange"]["Low"] < face["AgeRange"]["High"]
    for unknown in ("Eyeglasses", "Beard", "Mustache"):
        assert face[unknown] is None  # no offline model: null, never guessed
    assert face["Sunglasses"]["Value"] is False
    labels = {label["Name"]: label for label in body["Labels"]}
    assert {"Person", "Face"} <= set(labels)
    person = labels["Person"]["Instances"]
    assert len(person) == 1 and person[0]["BoundingBox"]["Height"] > 0.8
    # No one is enrolled: the face is unrecognised.
    assert body["CelebrityRecognition"]["CelebrityFaces"] == []
    assert len(body["CelebrityRecognition"]["UnrecognizedFaces"]) == 1


def test_gating_can_be_switched_off_for_one_photo(cli, tmp_path):
    result = cli("analyze", _photo_file(tmp_path, "page.png"), "--no-gate")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["FaceDetails"] == []  # looked for, none found


def test_a_cut_off_or_missing_photo_is_a_one_line_error(cli, tmp_path):
    whole = Path(_photo_file(tmp_path, "coffee.png")).read_bytes()
    cut = tmp_path / "cut.png"
    cut.write_bytes(whole[: len(whole) // 4])
    result = cli("analyze", str(cut))
    assert result.exit_code == 1 and "cannot decode" in result.stderr
    missing = cli("analyze", str(tmp_path / "nope.jpg"))
    assert missing.exit_code == 1 and "No such file" in missing.stderr


def test_known_people_are_the_same_in_analyze_and_in_the_enriched_row(
        cli, tmp_path, photos, enrich_env, portrait):  # noqa: F811
    """celebrityrecognition is composed once: null where faces were not looked for (the
    coffee, no person), the same match where they were (the astronaut, enrolled)."""
    assert cli("people", "add", "Eileen Collins", str(portrait)).exit_code == 0
    posts = write_jsonl(tmp_path / "posts.jsonl", [
        status(1, "Launch day!", photos=[f"{photos}/astronaut.png"]),
        status(2, "Coffee", photos=[f"{photos}/coffee.png"]),
    ])
    cli("import", str(posts))
    assert cli("enrich").exit_code == 0
    astronaut, coffee = rows(tmp_path / "lake")
    for row, name in ((astronaut, "astronaut.png"), (coffee, "coffee.png")):
        result = cli("analyze", str(_skimage_data() / name), "--format", "lake")
        assert result.exit_code == 0, result.output
        analyzed = json.loads(result.stdout)["celebrityrecognition"]
        assert row["image_labels"]["celebrityrecognition"] == analyzed
    assert coffee["image_labels"]["celebrityrecognition"] is None
    match = astronaut["image_labels"]["celebrityrecognition"]["celebrityfaces"]
    assert [m["name"] for m in match] == ["Eileen Collins"]

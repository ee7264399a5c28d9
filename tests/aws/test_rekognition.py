"""Rekognition's image calls through boto3 itself, on real photos, against socialsight serve.

Every response is checked against botocore's own output shape for the operation, and
for the same photo the answers are what ``socialsight enrich`` writes into
``media_rekognition.image_labels`` (its lower-case columns).
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
import orjson
import pytest
from PIL import Image, ImageDraw, ImageFont, ImageOps

from socialsight.config import load_settings
from socialsight.enrich import analyse_bytes
from tests.aws.shapes import check_shape
from tests.test_enrich import _skimage_data


def photo(name: str) -> bytes:
    """A sample photo of scikit-image's data folder, as its file's bytes."""
    return (_skimage_data() / name).read_bytes()


def image(data: bytes) -> dict[str, Any]:
    return {"Bytes": data}


def png(picture: Image.Image) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue()


def lower(value: Any) -> Any:
    """A response in the lake's spelling: lower-case keys, nothing null."""
    if isinstance(value, dict):
        return {k.lower(): lower(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [lower(v) for v in value]
    return value


@pytest.fixture(scope="module")
def rekognition(aws_client: Callable[[str], Any]) -> Any:
    return aws_client("rekognition")


def test_labels_of_a_cup_of_coffee(rekognition):
    answer = rekognition.detect_labels(Image=image(photo("coffee.png")))
    check_shape(answer, "rekognition", "DetectLabels")
    names = [label["Name"] for label in answer["Labels"]]
    assert {"Coffee", "Cup"} <= set(names)
    assert answer["LabelModelVersion"]
    coffee = next(lb for lb in answer["Labels"] if lb["Name"] == "Coffee")
    assert {"Beverage"} <= {p["Name"] for p in coffee["Parents"]}
    cup = next(lb for lb in answer["Labels"] if lb["Name"] == "Cup")
    assert cup["Instances"] and 0 < cup["Instances"][0]["BoundingBox"]["Width"] <= 1
    confidences = [label["Confidence"] for label in answer["Labels"]]
    assert confidences == sorted(confidences, reverse=True)

    top = rekognition.detect_labels(Image=image(photo("coffee.png")), MaxLabels=2)
    assert [lb["Name"] for lb in top["Labels"]] == names[:2]
    sure = rekognition.detect_labels(Image=image(photo("coffee.png")), MinConfidence=90)
    assert sure["Labels"] and all(lb["Confidence"] >= 90 for lb in sure["Labels"])
    assert len(sure["Labels"]) < len(answer["Labels"])


def test_labels_carry_v3_aliases_and_categories_and_filters_select_them(rekognition):
    data = photo("coffee.png")
    every = rekognition.detect_labels(Image=image(data))["Labels"]
    coffee = next(lb for lb in every if lb["Name"] == "Coffee")
    assert {"Name": "Food and Beverage"} in coffee["Categories"]
    assert all("Aliases" in lb and "Categories" in lb for lb in every)

    def names(**general: list[str]) -> list[str]:
        answer = rekognition.detect_labels(Image=image(data),
                                           Settings={"GeneralLabels": general})
        check_shape(answer, "rekognition", "DetectLabels")
        return [lb["Name"] for lb in answer["Labels"]]

    food = names(LabelCategoryInclusionFilters=["Food and Beverage"])
    assert "Coffee" in food and "Cup" not in food
    assert names(LabelInclusionFilters=["Cup", "Dog"]) == ["Cup"]
    without = names(LabelExclusionFilters=["Cup"])
    assert "Cup" not in without and "Coffee" in without
    assert "Coffee" not in names(LabelCategoryExclusionFilters=["Food and Beverage"])
    # inclusion by name or by category, then exclusion
    assert set(names(LabelInclusionFilters=["Cup"],
                     LabelCategoryInclusionFilters=["Food and Beverage"],
                     LabelExclusionFilters=["Beverage"])) == set(food) - {"Beverage"} | {"Cup"}
    errors = rekognition.exceptions
    with pytest.raises(errors.InvalidParameterException):
        names(LabelInclusionFilters=["Cup"] * 101)
    with pytest.raises(errors.InvalidParameterException):
        rekognition.detect_labels(Image=image(data), Features=["IMAGE_PROPERTIES"])
    assert rekognition.detect_labels(Image=image(data), Features=["GENERAL_LABELS"])["Labels"]


@pytest.mark.parametrize("name", ["coffee.png", "astronaut.png", "page.png",
                                  "motorcycle_left.png"])
def test_each_call_answers_what_enrich_writes_for_the_same_photo(rekognition, name):
    data = photo(name)
    settings = load_settings()
    enriched = analyse_bytes(data, settings.vision, settings.fetch.max_pixels)["image_labels"]
    labels = rekognition.detect_labels(Image=image(data))["Labels"]
    assert lower(labels) == lower(enriched["labels"])
    moderation = rekognition.detect_moderation_labels(Image=image(data))
    check_shape(moderation, "rekognition", "DetectModerationLabels")
    assert [{k: v for k, v in m.items() if k != "TaxonomyLevel"}
            for m in lower(moderation["ModerationLabels"])] == enriched["moderationlabels"]
    if enriched["textdetections"] is not None:  # enrich read text: the same text
        text = rekognition.detect_text(Image=image(data))["TextDetections"]
        assert lower(text) == lower(enriched["textdetections"])
    if enriched["facedetails"] is not None:  # enrich looked for faces: the same faces
        faces = rekognition.detect_faces(Image=image(data), Attributes=["ALL"])
        assert lower(faces["FaceDetails"]) == lower(enriched["facedetails"])


def test_a_portrait_has_one_face_whose_details_follow_attributes(rekognition):
    data = photo("astronaut.png")
    default = rekognition.detect_faces(Image=image(data))
    check_shape(default, "rekognition", "DetectFaces")
    [face] = default["FaceDetails"]
    assert set(face) == {"BoundingBox", "Confidence", "Landmarks", "Pose", "Quality"}
    assert face["Confidence"] > 95
    assert {m["Type"] for m in face["Landmarks"]} == {
        "eyeLeft", "eyeRight", "nose", "mouthLeft", "mouthRight"}
    assert set(face["Pose"]) == {"Roll", "Yaw", "Pitch"}
    box = face["BoundingBox"]
    assert 0.3 < box["Left"] < 0.5 and 0.05 < box["Top"] < 0.2  # her face, upper middle

    [every] = rekognition.detect_faces(Image=image(data), Attributes=["ALL"])["FaceDetails"]
    check_shape({"FaceDetails": [every]}, "rekognition", "DetectFaces")
    assert every["BoundingBox"] == box and every["Pose"] == face["Pose"]
    assert every["Gender"]["Value"] == "Female"
    assert every["Smile"]["Value"] is True
    assert every["Emotions"][0]["Type"] == "HAPPY"
    assert every["AgeRange"]["Low"] < 40 < every["AgeRange"]["High"] + 15
    assert every["EyesOpen"]["Value"] is True
    # What the model pack cannot tell is left out, not made up.
    assert not {"Eyeglasses", "Beard", "Mustache"} & set(every)
    assert every["Sunglasses"]["Value"] is False

    [aged] = rekognition.detect_faces(Image=image(data), Attributes=["AGE_RANGE"])[
        "FaceDetails"]
    assert set(aged) == set(face) | {"AgeRange"}

    assert rekognition.detect_faces(Image=image(photo("coffee.png")))["FaceDetails"] == []


def test_faces_are_looked_for_even_where_no_person_label_would_send_enrich(rekognition):
    # A face alone on a grey canvas: the object detector sees no person in it, so
    # enrich (gated as the seed) does not look for faces; DetectFaces is asked to.
    canvas = Image.new("RGB", (800, 800), (200, 200, 200))
    face = Image.open(io.BytesIO(photo("astronaut.png"))).convert("RGB").crop(
        (170, 60, 280, 170)).resize((120, 120))
    canvas.paste(face, (500, 500))
    data = png(canvas)
    settings = load_settings()
    assert analyse_bytes(data, settings.vision, settings.fetch.max_pixels)[
        "image_labels"]["facedetails"] is None
    labels = {lb["Name"] for lb in rekognition.detect_labels(Image=image(data))["Labels"]}
    assert not labels & {"Person", "Human", "Face"}
    found = rekognition.detect_faces(Image=image(data))["FaceDetails"]
    assert len(found) == 1
    assert 0.6 < found[0]["BoundingBox"]["Left"] < 0.8


def test_text_in_a_photo_reads_as_lines_and_words(rekognition):
    answer = rekognition.detect_text(Image=image(photo("page.png")))
    check_shape(answer, "rekognition", "DetectText")
    found = answer["TextDetections"]
    lines = [d for d in found if d["Type"] == "LINE"]
    words = [d for d in found if d["Type"] == "WORD"]
    assert lines[0]["DetectedText"] == "Region-based segmentation"
    assert all("ParentId" not in d for d in lines)
    by_id = {d["Id"]: d for d in lines}
    assert words and all(w["DetectedText"] in by_id[w["ParentId"]]["DetectedText"]
                         for w in words)
    assert all(len(d["Geometry"]["Polygon"]) == 4 for d in found)
    assert answer["TextModelVersion"]

    sure = rekognition.detect_text(Image=image(photo("page.png")),
                                   Filters={"WordFilter": {"MinConfidence": 99.9}})
    assert 0 < len(sure["TextDetections"]) < len(found)
    assert all(d["Confidence"] >= 99.9 for d in sure["TextDetections"])
    top = rekognition.detect_text(Image=image(photo("page.png")), Filters={
        "RegionsOfInterest": [{"BoundingBox": {"Left": 0, "Top": 0, "Width": 1,
                                               "Height": 0.2}}]})
    assert {d["DetectedText"] for d in top["TextDetections"] if d["Type"] == "LINE"} == {
        "Region-based segmentation"}


def test_text_written_on_a_photo_is_read(rekognition):
    cat = Image.open(io.BytesIO(photo("chelsea.png"))).convert("RGB")
    draw = ImageDraw.Draw(cat)
    draw.rectangle((20, 20, 430, 100), fill="white")
    draw.text((30, 25), "SALE 50%", fill="black", font=ImageFont.load_default(size=60))
    found = rekognition.detect_text(Image=image(png(cat)))["TextDetections"]
    assert "SALE 50%" in [d["DetectedText"] for d in found if d["Type"] == "LINE"]
    assert {"SALE", "50%"} <= {d["DetectedText"] for d in found if d["Type"] == "WORD"}
    labels = rekognition.detect_labels(Image=image(png(cat)))["Labels"]
    assert {"Text", "Cat"} <= {label["Name"] for label in labels}
    assert rekognition.detect_text(Image=image(photo("chelsea.png")))["TextDetections"] == []


def test_a_cup_of_coffee_is_safe_and_low_thresholds_show_the_taxonomy(rekognition):
    safe = rekognition.detect_moderation_labels(Image=image(photo("coffee.png")))
    check_shape(safe, "rekognition", "DetectModerationLabels")
    assert safe["ModerationLabels"] == [] and safe["ModerationModelVersion"]
    everything = rekognition.detect_moderation_labels(Image=image(photo("coffee.png")),
                                                      MinConfidence=0)
    check_shape(everything, "rekognition", "DetectModerationLabels")
    found = everything["ModerationLabels"]
    assert "Explicit Nudity" in {m["Name"] for m in found}
    tops = {m["Name"] for m in found if m["ParentName"] == ""}
    assert all(m["ParentName"] in tops for m in found if m["ParentName"])
    assert all(m["TaxonomyLevel"] == (1 if m["ParentName"] == "" else 2) for m in found)
    assert all(m["Confidence"] < 50 for m in found)



def test_enrolled_people_are_recognised_as_celebrities(own_server, tmp_path):
    from socialsight import people
    from socialsight.media.photo import load_photo

    lake, rekognition = own_server
    posted = photo("astronaut.png")
    before = rekognition.recognize_celebrities(Image=image(posted))
    check_shape(before, "rekognition", "RecognizeCelebrities")
    assert before["CelebrityFaces"] == [] and len(before["UnrecognizedFaces"]) == 1

    portrait = tmp_path / "eileen.jpg"  # another photo of her: mirrored and cropped
    ImageOps.mirror(Image.open(io.BytesIO(posted)).convert("RGB")).crop(
        (100, 0, 512, 400)).save(portrait, quality=90)
    settings = load_settings(lake=lake.url)
    people.enrol(lake, "Eileen Collins", [str(portrait)],
                 ["https://en.wikipedia.org/wiki/Eileen_Collins"],
                 lambda p: (load_photo(p, settings.fetch), "sha-" + p))
    after = rekognition.recognize_celebrities(Image=image(posted))
    check_shape(after, "rekognition", "RecognizeCelebrities")
    [star] = after["CelebrityFaces"]
    assert star["Name"] == "Eileen Collins" and star["Id"] == people.person_id("Eileen Collins")
    assert star["Urls"] == ["https://en.wikipedia.org/wiki/Eileen_Collins"]
    assert star["MatchConfidence"] > 80
    assert star["Face"]["BoundingBox"] == before["UnrecognizedFaces"][0]["BoundingBox"]
    assert after["UnrecognizedFaces"] == []
    nobody = rekognition.recognize_celebrities(Image=image(photo("chelsea.png")))
    assert nobody["CelebrityFaces"] == [] and nobody["UnrecognizedFaces"] == []


def bomb(width: int, height: int) -> bytes:
    """A real, tiny PNG whose header claims ``width`` x ``height`` pixels."""
    data = bytearray(png(Image.new("RGB", (8, 8))))
    data[16:24] = struct.pack(">II", width, height)  # IHDR's width and height
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def test_what_is_not_a_usable_image_is_refused_with_aws_errors(rekognition):
    errors = rekognition.exceptions
    with pytest.raises(errors.InvalidImageFormatException):
        rekognition.detect_labels(Image=image(b"this is not a photo at all"))
    with pytest.raises(errors.InvalidImageFormatException):  # GIF: AWS takes PNG and JPEG
        rekognition.detect_text(Image=image(photo("no_time_for_that_tiny.gif")))
    with pytest.raises(errors.InvalidImageFormatException):  # a PNG cut short
        rekognition.detect_faces(Image=image(photo("coffee.png")[:5000]))
    with pytest.raises(errors.InvalidImageFormatException) as header_only:  # a bare header
        rekognition.detect_labels(Image=image(b"\x89PNG\r\n\x1a\n" + bytes(100)))
    message = header_only.value.response["Error"]["Message"]
    assert "cannot identify image file" in message and "object at 0x" not in message
    with pytest.raises(errors.ImageTooLargeException):  # a decompression bomb
        rekognition.detect_labels(Image=image(bomb(100_000, 100_000)))
    with pytest.raises(errors.ImageTooLargeException):  # over fetch.max_pixels (50 M)
        rekognition.detect_labels(Image=image(bomb(10_000, 6_000)))
    noise = np.random.default_rng(8).integers(0, 256, (1400, 1400, 3), dtype=np.uint8)
    big = png(Image.fromarray(noise))
    assert len(big) > 5 * 1024 * 1024
    with pytest.raises(errors.ImageTooLargeException):
        rekognition.detect_labels(Image=image(big))
    with pytest.raises(errors.InvalidParameterException) as bad:
        rekognition.detect_faces(Image=image(photo("astronaut.png")), Attributes=["NOSE"])
    assert bad.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


@pytest.mark.s3
def test_an_s3_object_is_read_from_the_s3_endpoint(tmp_path, monkeypatch, rekognition):
    from tests.s3server import moto_server, new_bucket

    with moto_server() as s3:
        bucket = new_bucket(s3, monkeypatch)
        s3.client().put_object(Bucket=bucket, Key="in/coffee.png",
                               Body=photo("coffee.png"))
        answer = rekognition.detect_labels(
            Image={"S3Object": {"Bucket": bucket, "Name": "in/coffee.png"}})
        check_shape(answer, "rekognition", "DetectLabels")
        assert "Coffee" in {label["Name"] for label in answer["Labels"]}
        with pytest.raises(rekognition.exceptions.InvalidS3ObjectException):
            rekognition.detect_labels(
                Image={"S3Object": {"Bucket": bucket, "Name": "in/missing.png"}})


@pytest.mark.parametrize("setting", ["no credentials", "no endpoint"])
def test_an_s3_object_that_cannot_be_read_is_the_clients_error(setting, tmp_path, monkeypatch,
                                                               rekognition):
    # AWS's own image example reads a photo from a bucket: without credentials, or with no
    # S3 to reach, that is InvalidS3ObjectException (400), not an internal error (500).
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    if setting == "no endpoint":
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example-secret")
        monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens
    with pytest.raises(rekognition.exceptions.InvalidS3ObjectException) as error:
        rekognition.detect_moderation_labels(
            Image={"S3Object": {"Bucket": "console-sample-images", "Name": "yoga.jpg"}})
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "s3://console-sample-images/yoga.jpg" in error.value.response["Error"]["Message"]


def test_each_call_runs_only_the_models_it_needs(rekognition):
    from socialsight.vision import body_parts
    from socialsight.vision.analyze import runs

    data = photo("astronaut.png")
    nudenet = {"objects", "body_parts"} if body_parts.available() else set()
    calls = {
        # the Text, Person and Face labels need the text and face detectors, gated, and
        # Woman, Man or Sunglasses a face's gender, age and eyewear
        "detect_labels": {"labels", "objects", "text", "faces", "face_attributes"},
        # open_nsfw takes the classifier's hints (and nudenet looks where there is a person)
        "detect_moderation_labels": {"labels", "moderation"} | nudenet,
        "detect_text": {"text"},
        "detect_faces": {"faces", "face_attributes"},
        "recognize_celebrities": {"faces", "face_attributes", "embeddings"},
    }
    for call, needed in calls.items():
        before = runs()
        getattr(rekognition, call)(Image=image(data))
        assert set(runs() - before) == needed, call


@pytest.mark.parametrize("name", ["astronaut.png", "page.png"])
def test_each_call_answers_what_socialsight_analyze_prints(rekognition, cli, tmp_path, name):
    path = tmp_path / name
    path.write_bytes(photo(name))
    result = cli("analyze", str(path))
    assert result.exit_code == 0, result.output
    analyzed = orjson.loads(result.stdout)
    data = photo(name)
    moderation = rekognition.detect_moderation_labels(Image=image(data))["ModerationLabels"]
    assert [{k: v for k, v in m.items() if k != "TaxonomyLevel"} for m in moderation] == \
        analyzed["ModerationLabels"]
    labels = rekognition.detect_labels(Image=image(data))["Labels"]
    assert lower(labels) == lower(analyzed["Labels"])
    if analyzed["TextDetections"] is not None:
        text = rekognition.detect_text(Image=image(data))["TextDetections"]
        assert lower(text) == lower(analyzed["TextDetections"])
    if analyzed["FaceDetails"] is not None:
        faces = rekognition.detect_faces(Image=image(data), Attributes=["ALL"])["FaceDetails"]
        assert faces and lower(faces) == lower(analyzed["FaceDetails"])

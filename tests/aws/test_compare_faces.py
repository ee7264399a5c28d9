"""CompareFaces and GetCelebrityInfo through boto3, as an image-detection script calls them.

A reference face is compared with a group photo: the same person is matched, the others
are not. The group is made here from real photos of different people side by side —
face_recognition 1.3.0's test photos (Barack Obama, Joe Biden, unpacked under
``<venv>/test-photos/``), scikit-image's astronaut (Eileen Collins), matplotlib's Grace
Hopper —, and insightface's group of six stands for a crowd where nobody is the
reference. Every answer is checked against botocore's output shape.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from botocore.exceptions import ClientError
from PIL import Image, ImageOps

from socialsight.config import load_settings
from tests.aws.shapes import check_shape
from tests.test_vision_embeddings import face_recognition_photo, photo_in
from tests.test_vision_labels import package_photo

HEIGHT = 800  # each person's photo in the group, scaled to this height: faces of 96 pixels
# (Obama) to 244 (Hopper), so that QualityFilter HIGH (80 pixels) keeps every one
GAP = 24
DEFAULT_FACE = {"BoundingBox", "Confidence", "Landmarks", "Pose", "Quality"}


def jpeg(picture: Image.Image, quality: int = 92) -> bytes:
    buffer = io.BytesIO()
    picture.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def png(picture: Image.Image) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue()


def side_by_side(*pictures: Image.Image) -> tuple[Image.Image, list[tuple[float, float]]]:
    """The pictures in a row, each scaled to :data:`HEIGHT`, on grey; with each one's
    (left, right) edges as fractions of the row's width."""
    scaled = [p.convert("RGB").resize((round(p.width * HEIGHT / p.height), HEIGHT),
                                      Image.Resampling.LANCZOS) for p in pictures]
    width = sum(p.width for p in scaled) + GAP * (len(scaled) + 1)
    canvas = Image.new("RGB", (width, HEIGHT + 2 * GAP), (128, 128, 128))
    spans, x = [], GAP
    for picture in scaled:
        canvas.paste(picture, (x, GAP))
        spans.append((x / width, (x + picture.width) / width))
        x += picture.width + GAP
    return canvas, spans


def centre(face: dict[str, Any]) -> float:
    box = face["BoundingBox"]
    return float(box["Left"] + box["Width"] / 2)


def within(face: dict[str, Any], span: tuple[float, float]) -> bool:
    return span[0] <= centre(face) <= span[1]


@pytest.fixture(scope="module")
def rekognition(aws_client: Callable[[str], Any]) -> Any:
    return aws_client("rekognition")


@pytest.fixture(scope="module")
def reference() -> dict[str, bytes]:
    return {"Bytes": jpeg(face_recognition_photo("obama.jpg"))}


@pytest.fixture(scope="module")
def group() -> tuple[dict[str, bytes], list[tuple[float, float]]]:
    """Obama (another photo than the reference), Biden, Eileen Collins, Grace Hopper."""
    canvas, spans = side_by_side(face_recognition_photo("obama3.jpg"),
                                 face_recognition_photo("biden.jpg"),
                                 package_photo("astronaut.png"),
                                 photo_in("matplotlib", "mpl-data/sample_data/grace_hopper.jpg"))
    return {"Bytes": jpeg(canvas)}, spans


def test_the_reference_face_is_found_in_a_group_and_no_one_else(rekognition, reference,
                                                                group):
    target, (obama, biden, collins, hopper) = group
    answer = rekognition.compare_faces(SourceImage=reference, TargetImage=target)
    check_shape(answer, "rekognition", "CompareFaces")
    source = answer["SourceImageFace"]
    assert set(source) == {"BoundingBox", "Confidence"} and source["Confidence"] > 90
    assert 0 < source["BoundingBox"]["Width"] < 1 and 0 < source["BoundingBox"]["Height"] < 1
    [match] = answer["FaceMatches"]
    assert within(match["Face"], obama) and match["Similarity"] > 90
    assert set(match["Face"]) == DEFAULT_FACE
    assert set(match["Face"]["Pose"]) == {"Roll", "Yaw", "Pitch"}
    others = answer["UnmatchedFaces"]
    assert len(others) == 3 and all(set(f) == DEFAULT_FACE for f in others)
    for span in (biden, collins, hopper):
        assert sum(within(f, span) for f in others) == 1
    # AWS always leaves the orientation corrections null, so boto3 never shows them.
    assert "SourceImageOrientationCorrection" not in answer
    assert "TargetImageOrientationCorrection" not in answer



def test_similarity_is_the_one_a_collection_search_gives(rekognition, reference, group):
    """The group's faces indexed, the reference searched: the same four similarities."""
    target, _ = group
    compared = rekognition.compare_faces(SourceImage=reference, TargetImage=target,
                                         SimilarityThreshold=0)
    rekognition.create_collection(CollectionId="compare-faces-group")
    try:
        rekognition.index_faces(CollectionId="compare-faces-group", Image=target,
                                QualityFilter="NONE")
        searched = rekognition.search_faces_by_image(CollectionId="compare-faces-group",
                                                     Image=reference, FaceMatchThreshold=0)
    finally:
        rekognition.delete_collection(CollectionId="compare-faces-group")
    ours = [m["Similarity"] for m in compared["FaceMatches"]]
    theirs = [m["Similarity"] for m in searched["FaceMatches"]]
    assert len(ours) == 4 and ours == pytest.approx(theirs, abs=0.01)


def test_only_the_face_models_run(rekognition, reference, group):
    from socialsight.vision.analyze import runs

    before = runs()
    rekognition.compare_faces(SourceImage=reference, TargetImage=group[0])
    # The detector on both, and the attributes for the target's Pose: no labels, text or
    # moderation. (The embeddings of the compared faces alone are made outside the runs
    # counted here, as for IndexFaces and SearchFacesByImage.)
    assert set(runs() - before) == {"faces", "face_attributes"}


def test_nobody_in_a_crowd_of_strangers_matches(rekognition, reference):
    crowd = photo_in("insightface", "data/images/t1.jpg")
    answer = rekognition.compare_faces(SourceImage=reference, TargetImage={"Bytes": jpeg(crowd)})
    check_shape(answer, "rekognition", "CompareFaces")
    assert answer["FaceMatches"] == [] and len(answer["UnmatchedFaces"]) == 6


def test_the_similarity_threshold_decides_what_matches(rekognition, reference, group):
    target, _ = group
    everyone = rekognition.compare_faces(SourceImage=reference, TargetImage=target,
                                         SimilarityThreshold=0)
    check_shape(everyone, "rekognition", "CompareFaces")
    similarities = [m["Similarity"] for m in everyone["FaceMatches"]]
    assert len(similarities) == 4 and everyone["UnmatchedFaces"] == []
    assert similarities == sorted(similarities, reverse=True)
    assert similarities[0] > 90 and all(s < 80 for s in similarities[1:])
    best = similarities[0]
    above = rekognition.compare_faces(SourceImage=reference, TargetImage=target,
                                      SimilarityThreshold=min(100.0, best + 0.01))
    assert above["FaceMatches"] == [] and len(above["UnmatchedFaces"]) == 4
    at = rekognition.compare_faces(SourceImage=reference, TargetImage=target,
                                   SimilarityThreshold=best)  # at least the threshold
    assert [m["Similarity"] for m in at["FaceMatches"]] == [best]
    # The same photo on both sides: the same face, as similar as can be.
    itself = rekognition.compare_faces(SourceImage=reference, TargetImage=reference,
                                       SimilarityThreshold=99)
    assert itself["FaceMatches"][0]["Similarity"] > 99.9


def halved(image: dict[str, bytes]) -> dict[str, bytes]:
    picture = Image.open(io.BytesIO(image["Bytes"]))
    return {"Bytes": png(picture.resize((picture.width // 2, picture.height // 2),
                                        Image.Resampling.LANCZOS))}


def test_the_quality_filter_leaves_small_faces_out(rekognition, reference, group):
    target, (obama, _, _, hopper) = group
    kept = rekognition.compare_faces(SourceImage=reference, TargetImage=target,
                                     QualityFilter="HIGH")  # every face 80 pixels or more
    assert len(kept["FaceMatches"]) == 1 and len(kept["UnmatchedFaces"]) == 3
    small = halved(target)  # faces of 48 (Obama) to 122 pixels (Hopper)
    unfiltered = rekognition.compare_faces(SourceImage=reference, TargetImage=small)
    assert [within(m["Face"], obama) for m in unfiltered["FaceMatches"]] == [True]
    assert len(unfiltered["UnmatchedFaces"]) == 3
    none = rekognition.compare_faces(SourceImage=reference, TargetImage=small,
                                     QualityFilter="NONE")  # the default
    assert none["FaceMatches"] == unfiltered["FaceMatches"]
    assert none["UnmatchedFaces"] == unfiltered["UnmatchedFaces"]
    high = rekognition.compare_faces(SourceImage=reference, TargetImage=small,
                                     QualityFilter="HIGH")
    check_shape(high, "rekognition", "CompareFaces")
    # Only Grace Hopper's face is big enough to be compared: Obama's is not even tried.
    assert high["FaceMatches"] == []
    assert [within(f, hopper) for f in high["UnmatchedFaces"]] == [True]
    # A source whose only face falls short of the filter has nothing to compare.
    thumbnail = halved(halved(halved(reference)))
    assert rekognition.compare_faces(SourceImage=thumbnail, TargetImage=target)[
        "FaceMatches"]  # compared without the filter
    with pytest.raises(rekognition.exceptions.InvalidParameterException) as filtered:
        rekognition.compare_faces(SourceImage=thumbnail, TargetImage=target,
                                  QualityFilter="HIGH")
    assert "QualityFilter" in filtered.value.response["Error"]["Message"]


def test_an_image_without_a_face_is_refused_as_aws_refuses_it(rekognition, reference):
    coffee = {"Bytes": png(package_photo("coffee.png").convert("RGB"))}
    errors = rekognition.exceptions
    with pytest.raises(errors.InvalidParameterException) as no_source:
        rekognition.compare_faces(SourceImage=coffee, TargetImage=reference)
    assert "no faces in the source image" in no_source.value.response["Error"]["Message"]
    with pytest.raises(errors.InvalidParameterException) as no_target:
        rekognition.compare_faces(SourceImage=reference, TargetImage=coffee)
    assert "no faces in the target image" in no_target.value.response["Error"]["Message"]


def code_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_bad_images_and_parameters_get_aws_errors(rekognition, reference):
    errors = rekognition.exceptions
    with pytest.raises(ClientError) as empty:  # AWS's request validation: no model's error
        rekognition.compare_faces(SourceImage={"Bytes": b""}, TargetImage=reference)
    assert code_of(empty) == ("ValidationException", 400)
    assert "'sourceImage.bytes'" in empty.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as empty_target:
        rekognition.compare_faces(SourceImage=reference, TargetImage={"Bytes": b""})
    assert "'targetImage.bytes'" in empty_target.value.response["Error"]["Message"]
    with pytest.raises(errors.InvalidImageFormatException):
        rekognition.compare_faces(SourceImage={"Bytes": b"not a photo at all"},
                                  TargetImage=reference)
    gif = io.BytesIO()
    Image.open(io.BytesIO(reference["Bytes"])).save(gif, "GIF")
    with pytest.raises(errors.InvalidImageFormatException):  # PNG and JPEG only, as AWS
        rekognition.compare_faces(SourceImage=reference, TargetImage={"Bytes": gif.getvalue()})
    noise = np.random.default_rng(19).integers(0, 256, (1400, 1400, 3), dtype=np.uint8)
    big = png(Image.fromarray(noise))
    assert len(big) > 5 * 1024 * 1024
    with pytest.raises(errors.ImageTooLargeException):
        rekognition.compare_faces(SourceImage=reference, TargetImage={"Bytes": big})
    # Two images of nearly 5 MB each, as AWS allows: a body of 13 MB is answered.
    padded = {"Bytes": reference["Bytes"] + bytes(5 * 1024 * 1024 - 64 - len(
        reference["Bytes"]))}  # zeros after the JPEG's end, which decoders ignore
    both = rekognition.compare_faces(SourceImage=padded, TargetImage=padded)
    assert both["FaceMatches"][0]["Similarity"] > 99
    with pytest.raises(errors.InvalidParameterException):  # over 100 (boto3 checks < 0)
        rekognition.compare_faces(SourceImage=reference, TargetImage=reference,
                                  SimilarityThreshold=100.5)
    with pytest.raises(errors.InvalidParameterException):
        rekognition.compare_faces(SourceImage=reference, TargetImage=reference,
                                  QualityFilter="BEST")
    with pytest.raises(errors.InvalidParameterException):  # one of Bytes and S3Object
        rekognition.compare_faces(
            SourceImage={**reference, "S3Object": {"Bucket": "photos", "Name": "n.jpg"}},
            TargetImage=reference)


def raw(url: str, body: bytes) -> tuple[int, str, str]:
    """CompareFaces with a body boto3 would refuse to send: (status, __type, Message)."""
    response = httpx.post(url + "/", content=body, timeout=60, headers={
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "RekognitionService.CompareFaces"})
    return response.status_code, response.json()["__type"], response.json()["Message"]


def test_missing_members_and_wrong_types_as_aws_answers_them(aws_server):
    status, code, message = raw(aws_server, b'{"TargetImage": {"Bytes": "aGk="}}')
    assert (status, code) == (400, "ValidationException")
    assert "'sourceImage'" in message and "must not be null" in message
    status, code, message = raw(aws_server, b'{"SourceImage": {"Bytes": "aGk="}}')
    assert (status, code) == (400, "ValidationException") and "'targetImage'" in message
    status, code, _ = raw(aws_server, b'{"SourceImage": "aGk=", "TargetImage": {}}')
    assert (status, code) == (400, "SerializationException")
    status, code, _ = raw(aws_server, b'{"SourceImage": {"Bytes": 5}, "TargetImage": {}}')
    assert (status, code) == (400, "SerializationException")
    status, code, _ = raw(aws_server, b'{"SourceImage": {"Bytes": "aGk="}, '
                                      b'"TargetImage": {"Bytes": "aGk="}, '
                                      b'"SimilarityThreshold": "high"}')
    assert (status, code) == (400, "InvalidParameterException")
    status, code, _ = raw(aws_server, b'{"SourceImage": {"Bytes": "aGk="}, '
                                      b'"TargetImage": {"Bytes": "aGk="}, '
                                      b'"SimilarityThreshold": -1}')
    assert (status, code) == (400, "InvalidParameterException")


@pytest.mark.s3
def test_images_may_come_from_s3(rekognition, reference, group, monkeypatch):
    from tests.s3server import moto_server, new_bucket

    target, (obama, *_) = group
    with moto_server() as s3:
        bucket = new_bucket(s3, monkeypatch)
        s3.client().put_object(Bucket=bucket, Key="people/obama.jpg",  # type: ignore[attr-defined]
                               Body=reference["Bytes"])
        answer = rekognition.compare_faces(
            SourceImage={"S3Object": {"Bucket": bucket, "Name": "people/obama.jpg"}},
            TargetImage=target)
        check_shape(answer, "rekognition", "CompareFaces")
        assert [within(m["Face"], obama) for m in answer["FaceMatches"]] == [True]
        with pytest.raises(rekognition.exceptions.InvalidS3ObjectException):
            rekognition.compare_faces(
                SourceImage=reference,
                TargetImage={"S3Object": {"Bucket": bucket, "Name": "people/missing.jpg"}})


# --- GetCelebrityInfo --------------------------------------------------------------------



def test_an_enrolled_person_has_celebrity_info(own_server, tmp_path):
    from socialsight import people
    from socialsight.media.photo import load_photo

    lake, rekognition = own_server
    errors = rekognition.exceptions
    portrait = tmp_path / "eileen.jpg"  # another photo of her than the one posted
    ImageOps.mirror(package_photo("astronaut.png").convert("RGB")).crop(
        (100, 0, 512, 400)).save(portrait, quality=90)
    settings = load_settings(lake=lake.url)
    people.enrol(lake, "Eileen Collins", [str(portrait)],
                 ["https://en.wikipedia.org/wiki/Eileen_Collins"],
                 lambda p: (load_photo(p, settings.fetch), "sha-" + p))
    seen = rekognition.recognize_celebrities(
        Image={"Bytes": png(package_photo("astronaut.png").convert("RGB"))})
    [star] = seen["CelebrityFaces"]
    info = rekognition.get_celebrity_info(Id=star["Id"])
    check_shape(info, "rekognition", "GetCelebrityInfo")
    assert info["Name"] == "Eileen Collins" == star["Name"]
    assert info["Urls"] == ["https://en.wikipedia.org/wiki/Eileen_Collins"] == star["Urls"]
    assert "KnownGender" not in info  # the gallery holds none; never guessed from the face

    people.enrol(lake, "Barack Obama", [str(face_recognition_photo_path("obama.jpg"))], [],
                 lambda p: (load_photo(p, settings.fetch), "sha-" + p))
    obama = rekognition.get_celebrity_info(Id=people.person_id("Barack Obama"))
    assert obama["Name"] == "Barack Obama" and obama["Urls"] == []

    with pytest.raises(errors.ResourceNotFoundException):
        rekognition.get_celebrity_info(Id="0123abcd")
    with pytest.raises(ClientError) as pattern:
        rekognition.get_celebrity_info(Id="not-an-id!")
    assert code_of(pattern) == ("ValidationException", 400)
    with pytest.raises(errors.InvalidParameterException):
        rekognition.get_celebrity_info(Id="")
    people.forget(lake, "Eileen Collins")
    with pytest.raises(errors.ResourceNotFoundException):
        rekognition.get_celebrity_info(Id=star["Id"])


def face_recognition_photo_path(name: str) -> Path:
    from tests.test_vision_embeddings import FACE_RECOGNITION_PHOTOS

    face_recognition_photo(name)  # skips when the photos are not unpacked
    return FACE_RECOGNITION_PHOTOS / name

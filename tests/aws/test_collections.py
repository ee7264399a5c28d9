"""Face collections through boto3: a brand team indexes its people and finds them again.

Photos: face_recognition 1.3.0's test images (three of Barack Obama, one of Joe Biden,
unpacked under ``<venv>/test-photos/``), insightface's group of six, scikit-image's coffee.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from socialsight.config import load_settings
from socialsight.lake.store import Lake
from tests.aws.conftest import boto_client, start_server
from tests.aws.shapes import check_shape
from tests.test_enrich import _skimage_data
from tests.test_vision_embeddings import FACE_RECOGNITION_PHOTOS

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def person(name: str) -> dict[str, Any]:
    path = FACE_RECOGNITION_PHOTOS / name
    if not path.is_file():
        pytest.skip("face_recognition 1.3.0's test photos are not unpacked in the venv")
    return {"Bytes": path.read_bytes()}


def group() -> dict[str, Any]:
    spec = importlib.util.find_spec("insightface")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("insightface (test photos) is not installed")
    folder = Path(next(iter(spec.submodule_search_locations)))
    return {"Bytes": (folder / "data" / "images" / "t1.jpg").read_bytes()}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Lake, Callable[[], Any]]]:
    """A lake of the test's own, and a factory of boto3 clients for a server on it."""
    lake = Lake(str(tmp_path / "lake"))
    servers = []

    def client() -> Any:
        uv, thread, url = start_server(lake, load_settings(lake=lake.url))
        servers.append((uv, thread))
        return boto_client("rekognition", url)

    yield lake, client
    for uv, thread in servers:
        uv.should_exit = True
        thread.join(10)


@pytest.mark.slow
def test_a_collection_round_trip(served):
    lake, client = served
    rekognition = client()
    errors = rekognition.exceptions
    created = rekognition.create_collection(CollectionId="brand.people-2024")
    check_shape(created, "rekognition", "CreateCollection")
    assert created["StatusCode"] == 200
    assert created["CollectionArn"].endswith(":collection/brand.people-2024")
    with pytest.raises(errors.ResourceAlreadyExistsException):
        rekognition.create_collection(CollectionId="brand.people-2024")
    for bad in ("no spaces/or slashes", ".."):  # ".." would be the lake's own folder
        with pytest.raises(errors.InvalidParameterException):
            rekognition.create_collection(CollectionId=bad)
        with pytest.raises(errors.InvalidParameterException):
            rekognition.delete_collection(CollectionId=bad)

    first = rekognition.index_faces(CollectionId="brand.people-2024", Image=person("obama.jpg"),
                                    ExternalImageId="obama-1")
    check_shape(first, "rekognition", "IndexFaces")
    [record] = first["FaceRecords"]
    assert UUID.fullmatch(record["Face"]["FaceId"]) and UUID.fullmatch(record["Face"]["ImageId"])
    assert record["Face"]["ExternalImageId"] == "obama-1"
    assert record["Face"]["BoundingBox"] == record["FaceDetail"]["BoundingBox"]
    assert set(record["FaceDetail"]) == {"BoundingBox", "Confidence", "Landmarks", "Pose",
                                         "Quality"}
    assert first["UnindexedFaces"] == [] and first["FaceModelVersion"]
    second = rekognition.index_faces(CollectionId="brand.people-2024",
                                     Image=person("obama2.jpg"), ExternalImageId="obama-2",
                                     DetectionAttributes=["ALL"])
    check_shape(second, "rekognition", "IndexFaces")
    assert second["FaceRecords"][0]["FaceDetail"]["Gender"]["Value"] == "Male"
    ids = {first["FaceRecords"][0]["Face"]["FaceId"], second["FaceRecords"][0]["Face"]["FaceId"]}

    found = rekognition.search_faces_by_image(CollectionId="brand.people-2024",
                                              Image=person("obama3.jpg"))
    check_shape(found, "rekognition", "SearchFacesByImage")
    assert {m["Face"]["ExternalImageId"] for m in found["FaceMatches"]} == {"obama-1", "obama-2"}
    assert all(m["Similarity"] > 90 for m in found["FaceMatches"])
    similarities = [m["Similarity"] for m in found["FaceMatches"]]
    assert similarities == sorted(similarities, reverse=True)
    assert found["SearchedFaceConfidence"] > 90 and found["SearchedFaceBoundingBox"]["Width"] > 0
    one = rekognition.search_faces_by_image(CollectionId="brand.people-2024",
                                            Image=person("obama3.jpg"), MaxFaces=1)
    assert one["FaceMatches"] == found["FaceMatches"][:1]
    other = rekognition.search_faces_by_image(CollectionId="brand.people-2024",
                                              Image=person("biden.jpg"))
    assert other["FaceMatches"] == []
    with pytest.raises(errors.InvalidParameterException):  # no face to search with
        rekognition.search_faces_by_image(CollectionId="brand.people-2024",
                                          Image={"Bytes": (_skimage_data() / "coffee.png")
                                                 .read_bytes()})
    by_id = rekognition.search_faces(CollectionId="brand.people-2024",
                                     FaceId=first["FaceRecords"][0]["Face"]["FaceId"])
    check_shape(by_id, "rekognition", "SearchFaces")
    assert [m["Face"]["ExternalImageId"] for m in by_id["FaceMatches"]] == ["obama-2"]

    listed = rekognition.list_faces(CollectionId="brand.people-2024")
    check_shape(listed, "rekognition", "ListFaces")
    assert {f["FaceId"] for f in listed["Faces"]} == ids and "NextToken" not in listed
    page = rekognition.list_faces(CollectionId="brand.people-2024", MaxResults=1)
    rest = rekognition.list_faces(CollectionId="brand.people-2024", MaxResults=1,
                                  NextToken=page["NextToken"])
    assert {page["Faces"][0]["FaceId"], rest["Faces"][0]["FaceId"]} == ids
    assert "NextToken" not in rest
    described = rekognition.describe_collection(CollectionId="brand.people-2024")
    check_shape(described, "rekognition", "DescribeCollection")
    assert described["FaceCount"] == 2
    collections = rekognition.list_collections()
    check_shape(collections, "rekognition", "ListCollections")
    assert collections["CollectionIds"] == ["brand.people-2024"]

    # The collection lives in the lake: a restarted server has the same faces.
    again = client().list_faces(CollectionId="brand.people-2024")
    assert again["Faces"] == listed["Faces"]
    assert (Path(lake.root) / "_collections" / "brand.people-2024" / "faces.parquet").is_file()

    gone_id = first["FaceRecords"][0]["Face"]["FaceId"]
    unknown = "00000000-0000-4000-8000-000000000000"
    deleted = rekognition.delete_faces(CollectionId="brand.people-2024",
                                       FaceIds=[gone_id, unknown])
    check_shape(deleted, "rekognition", "DeleteFaces")
    assert deleted["DeletedFaces"] == [gone_id]
    assert deleted["UnsuccessfulFaceDeletions"] == [{"FaceId": unknown,
                                                     "Reasons": ["FACE_NOT_FOUND"]}]
    left = rekognition.list_faces(CollectionId="brand.people-2024")["Faces"]
    assert [f["ExternalImageId"] for f in left] == ["obama-2"]
    assert [m["Face"]["ExternalImageId"] for m in rekognition.search_faces_by_image(
        CollectionId="brand.people-2024", Image=person("obama3.jpg"))["FaceMatches"]] == [
        "obama-2"]

    assert rekognition.delete_collection(CollectionId="brand.people-2024")["StatusCode"] == 200
    assert rekognition.list_collections()["CollectionIds"] == []
    with pytest.raises(errors.ResourceNotFoundException):
        rekognition.list_faces(CollectionId="brand.people-2024")
    with pytest.raises(errors.ResourceNotFoundException):
        rekognition.delete_collection(CollectionId="brand.people-2024")


def test_an_unknown_collection_is_resource_not_found(aws_client):
    rekognition = aws_client("rekognition")
    with pytest.raises(rekognition.exceptions.ResourceNotFoundException) as missing:
        rekognition.search_faces_by_image(CollectionId="nobody-made-this",
                                          Image=person("obama.jpg"))
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(rekognition.exceptions.ResourceNotFoundException):
        rekognition.index_faces(CollectionId="nobody-made-this", Image=person("obama.jpg"))
    with pytest.raises(rekognition.exceptions.ResourceNotFoundException):
        rekognition.describe_collection(CollectionId="nobody-made-this")


def test_index_faces_keeps_the_largest_faces_up_to_max_faces(served):
    _, client = served
    rekognition = client()
    rekognition.create_collection(CollectionId="crowd")
    everyone = rekognition.index_faces(CollectionId="crowd", Image=group(), MaxFaces=2,
                                       QualityFilter="NONE")
    check_shape(everyone, "rekognition", "IndexFaces")
    kept, skipped = everyone["FaceRecords"], everyone["UnindexedFaces"]
    assert len(kept) == 2 and len(skipped) == 4
    assert all(s["Reasons"] == ["EXCEEDS_MAX_FACES"] for s in skipped)

    def area(box: dict[str, float]) -> float:
        return box["Width"] * box["Height"]

    smallest_kept = min(area(r["Face"]["BoundingBox"]) for r in kept)
    assert all(area(s["FaceDetail"]["BoundingBox"]) <= smallest_kept for s in skipped)
    # Both faces come from one photo: they share its ImageId.
    assert len({r["Face"]["ImageId"] for r in kept}) == 1
    assert len(rekognition.list_faces(CollectionId="crowd")["Faces"]) == 2


@pytest.mark.s3
@pytest.mark.slow
def test_collections_live_in_an_s3_lake_too(monkeypatch):
    import s3fs

    from tests.s3server import moto_server, new_bucket

    with moto_server() as s3:
        s3fs.S3FileSystem.clear_instance_cache()  # no client made for another endpoint
        bucket = new_bucket(s3, monkeypatch)
        lake = Lake(f"s3://{bucket}/lake")
        uv, thread, url = start_server(lake, load_settings(lake=lake.url))
        try:
            rekognition = boto_client("rekognition", url)
            rekognition.create_collection(CollectionId="team")
            indexed = rekognition.index_faces(CollectionId="team", Image=person("obama.jpg"))
            face_id = indexed["FaceRecords"][0]["Face"]["FaceId"]
            assert [f["FaceId"] for f in rekognition.list_faces(CollectionId="team")[
                "Faces"]] == [face_id]
            keys = [o["Key"] for o in s3.client().list_objects_v2(  # type: ignore[attr-defined]
                Bucket=bucket)["Contents"]]
            assert "lake/_collections/team/faces.parquet" in keys
            match = rekognition.search_faces_by_image(CollectionId="team",
                                                      Image=person("obama2.jpg"))
            assert [m["Face"]["FaceId"] for m in match["FaceMatches"]] == [face_id]
            assert rekognition.list_collections()["CollectionIds"] == ["team"]
            rekognition.delete_collection(CollectionId="team")
            assert rekognition.list_collections()["CollectionIds"] == []
        finally:
            uv.should_exit = True
            thread.join(10)
            s3fs.S3FileSystem.clear_instance_cache()

"""docs/aws-api.md's table of operations against botocore's models and the server itself.

Every Rekognition operation and every real-time Comprehend operation (``Detect*``,
``BatchDetect*``, ``Contains*``, ``ClassifyDocument``) of botocore's models has one row;
a row marked served is an operation the server answers, a row marked not served one it
answers ``UnknownOperationException`` with a message that names it and points to the
table. A newer botocore with another operation fails here until the table (and
:data:`socialsight.aws.protocol.REKOGNITION_OPERATIONS` / ``COMPREHEND_OPERATIONS``)
gives it its answer.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import botocore.session
import httpx
import pytest
from botocore.exceptions import ClientError

from socialsight.aws.protocol import OPERATIONS_TABLE, SERVICES
from tests.aws.conftest import boto_client

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = {"rekognition": "### Rekognition", "comprehend": "### Comprehend"}
PREFIXES = {"rekognition": "RekognitionService", "comprehend": "Comprehend_20171127"}
STATUSES = ("served", "served with differences", "not served")
REAL_TIME = re.compile(r"(Batch)?Detect\w+|Contains\w+|ClassifyDocument")
OPERATION = re.compile(r"`([A-Z][A-Za-z]+)`")


@cache
def botocore_operations(service: str) -> frozenset[str]:
    return frozenset(botocore.session.get_session().get_service_model(service)
                     .operation_names)


def in_scope(service: str) -> set[str]:
    """The operations the table must have: all of Rekognition, Comprehend's real-time."""
    names = botocore_operations(service)
    if service == "rekognition":
        return set(names)
    return {n for n in names if REAL_TIME.fullmatch(n)}


@cache
def table(service: str) -> dict[str, tuple[str, str]]:
    """operation → (status, why) for each row of the service's table."""
    text = (ROOT / OPERATIONS_TABLE).read_text()
    start = text.index(SECTIONS[service])
    end = text.find("\n#", start + 1)
    rows: dict[str, tuple[str, str]] = {}
    for line in text[start:end if end > 0 else None].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) != 3 or cells[1] in ("here", "---"):
            continue
        names, status, why = cells
        assert status in STATUSES, f"{line!r}: the status must be one of {STATUSES}"
        assert status != "not served" or why, f"{line!r}: say why it is not served"
        for name in OPERATION.findall(names):
            assert name not in rows, f"{name} has two rows in {OPERATIONS_TABLE}"
            rows[name] = (status, why)
    return rows


@pytest.mark.parametrize("service", ["rekognition", "comprehend"])
def test_the_protocol_knows_every_operation_of_botocore(service):
    known = SERVICES[PREFIXES[service]].aws_operations
    assert known == botocore_operations(service), (
        f"botocore's {service} model changed: update socialsight.aws.protocol's list and "
        f"{OPERATIONS_TABLE}; new {sorted(botocore_operations(service) - known)}, gone "
        f"{sorted(known - botocore_operations(service))}")


@pytest.mark.parametrize("service", ["rekognition", "comprehend"])
def test_the_table_has_every_operation_once_and_only_real_ones(service):
    rows = table(service)
    assert not in_scope(service) - set(rows), f"{OPERATIONS_TABLE} lacks these rows"
    assert not set(rows) - botocore_operations(service), "rows for no real operation"


@pytest.mark.parametrize("service", ["rekognition", "comprehend"])
def test_served_rows_are_the_operations_the_server_answers(service):
    rows = table(service)
    served = set(SERVICES[PREFIXES[service]].operations)
    marked = {name for name, (status, _) in rows.items() if status != "not served"}
    assert served - marked == set(), "served, but the table says not"
    assert marked - served == set(), "the table says served, but the server does not answer"


@pytest.mark.parametrize("service", ["rekognition", "comprehend"])
def test_every_operation_not_served_says_so(aws_server, service):
    prefix = PREFIXES[service]
    unserved = botocore_operations(service) - set(SERVICES[prefix].operations)
    with httpx.Client(base_url=aws_server, timeout=60) as http:  # one kept-alive connection
        for name in sorted(unserved):
            response = http.post("/", content=b"{}", headers={
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": f"{prefix}.{name}"})
            assert response.status_code == 400
            body = response.json()
            assert body["__type"] == "UnknownOperationException"
            assert body["Message"].startswith(f"{name} is an Amazon ")
            assert "does not serve" in body["Message"] and OPERATIONS_TABLE in body["Message"]


def test_boto3_hears_which_operation_is_not_served(aws_server):
    rekognition = boto_client("rekognition", aws_server)
    with pytest.raises(ClientError) as video:
        rekognition.start_label_detection(Video={"S3Object": {"Bucket": "videos", "Name": "v.mp4"}})
    error = video.value.response["Error"]
    assert error["Code"] == "UnknownOperationException"
    assert error["Message"] == ("StartLabelDetection is an Amazon Rekognition operation that "
                                "socialsight does not serve; docs/aws-api.md lists the "
                                "operations served here, and why the others are not")
    comprehend = boto_client("comprehend", aws_server)
    with pytest.raises(ClientError) as toxic:
        comprehend.detect_toxic_content(TextSegments=[{"Text": "hello"}], LanguageCode="en")
    assert toxic.value.response["Error"]["Message"].startswith(
        "DetectToxicContent is an Amazon Comprehend operation that socialsight does not serve")


@pytest.mark.parametrize(("target", "message"), [
    ("RekognitionService.DetectLabelz", "Unknown operation 'RekognitionService.DetectLabelz'"),
    # a Comprehend operation named to Rekognition is no Rekognition operation
    ("RekognitionService.DetectSentiment",
     "Unknown operation 'RekognitionService.DetectSentiment'"),
    ("DynamoDB_20120810.GetItem", "Unknown operation 'DynamoDB_20120810.GetItem'"),
])
def test_a_truly_unknown_target_keeps_its_plain_message(aws_server, target, message):
    response = httpx.post(aws_server + "/", content=b"{}", timeout=60, headers={
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target})
    assert response.status_code == 400
    assert response.json() == {"__type": "UnknownOperationException", "Message": message}

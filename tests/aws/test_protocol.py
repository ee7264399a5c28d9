"""The AWS JSON 1.1 endpoint of socialsight serve: errors, limits and who may call it.

boto3 is the client wherever a user's code would be; raw HTTP only where boto3 cannot
send the request (bad JSON, no target, a forged Host).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from socialsight.aws import comprehend
from socialsight.aws.core import AwsContext, AwsError
from socialsight.config import load_settings
from socialsight.errors import ConfigError, InputError, LakeBusyError, MediaError, NotFoundError
from socialsight.lake.store import Lake
from socialsight.web.app import create_app
from tests.aws.conftest import ACCESS_KEY, SECRET_KEY, boto_client, start_server

JSON = "application/x-amz-json-1.1"
POST = "Loving the new Foot Locker store in Boston, the staff were great!"
TOKEN = "dashboard-token-0123456789"


def post(url: str, target: str | None, body: bytes | Any = b"{}", **headers: str,
         ) -> httpx.Response:
    sent = {"Content-Type": JSON, **headers}
    if target is not None:
        sent["X-Amz-Target"] = target
    return httpx.post(url + "/", content=body, headers=sent, timeout=60)


def aws_error(response: httpx.Response) -> tuple[int, str]:
    assert response.headers["content-type"] == JSON
    assert response.headers["x-amzn-requestid"]
    code = response.json()["__type"]
    assert response.headers["x-amzn-errortype"] == code
    assert response.json()["Message"]
    return response.status_code, code


def still_answers(url: str) -> None:
    client = boto_client("comprehend", url)
    languages = client.detect_dominant_language(Text=POST)["Languages"]
    assert languages[0]["LanguageCode"] == "en"


def code_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


@contextmanager
def server(lake: Lake, **serve: Any) -> Iterator[str]:
    uv, thread, url = start_server(lake, load_settings(lake=lake.url, serve=serve))
    try:
        yield url
    finally:
        uv.should_exit = True
        thread.join(10)


def test_a_successful_answer_is_aws_json(aws_server: str) -> None:
    response = post(aws_server, "Comprehend_20171127.DetectDominantLanguage",
                    b'{"Text": "Bonjour tout le monde, quelle belle journ\\u00e9e !"}')
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON
    assert response.headers["x-amzn-requestid"]
    assert response.json()["Languages"][0]["LanguageCode"] == "fr"


@pytest.mark.parametrize(("target", "body", "expected"), [
    ("Comprehend_20171127.DetectSarcasm", b"{}", (400, "UnknownOperationException")),
    ("RekognitionService.DetectLabelz", b"{}", (400, "UnknownOperationException")),
    ("DynamoDB_20120810.GetItem", b"{}", (400, "UnknownOperationException")),
    (None, b"{}", (400, "UnknownOperationException")),
    ("Comprehend_20171127.DetectSentiment", b'{"Text": "hi", ', (400, "SerializationException")),
    ("Comprehend_20171127.DetectSentiment", b'["Text", "hi"]', (400, "SerializationException")),
    ("Comprehend_20171127.DetectSentiment", b'{"Text": 5, "LanguageCode": "en"}',
     (400, "SerializationException")),
])
def test_requests_it_cannot_answer(aws_server: str, target: str | None, body: bytes,
                                   expected: tuple[int, str]) -> None:
    assert aws_error(post(aws_server, target, body)) == expected
    still_answers(aws_server)


def test_unknown_operation_through_boto3(aws_server: str) -> None:
    client = boto_client("comprehend", aws_server)
    with pytest.raises(ClientError) as excinfo:
        client.detect_toxic_content(TextSegments=[{"Text": POST}], LanguageCode="en")
    assert code_of(excinfo) == ("UnknownOperationException", 400)


def test_huge_bodies_are_refused_with_the_services_error(aws_server: str) -> None:
    comprehend_client = boto_client("comprehend", aws_server)
    with pytest.raises(comprehend_client.exceptions.TextSizeLimitExceededException):
        comprehend_client.detect_sentiment(Text="spam " * 2_000_000, LanguageCode="en")
    rekognition = boto_client("rekognition", aws_server)
    with pytest.raises(rekognition.exceptions.ImageTooLargeException) as excinfo:
        rekognition.detect_labels(Image={"Bytes": b"\xff\xd8" + bytes(8 * 1024 * 1024)})
    assert code_of(excinfo) == ("ImageTooLargeException", 400)
    still_answers(aws_server)


def test_a_huge_body_without_content_length_is_cut_off(aws_server: str) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"Text": "'
        for _ in range(100):
            yield b"x" * 1024 * 1024
        yield b'", "LanguageCode": "en"}'

    response = post(aws_server, "Comprehend_20171127.DetectSentiment", chunks())
    assert aws_error(response) == (400, "TextSizeLimitExceededException")
    still_answers(aws_server)


def test_a_failing_operation_answers_500_without_its_traceback(
        aws_server: str, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    def broken(params: dict[str, Any], ctx: AwsContext) -> dict[str, Any]:
        raise RuntimeError("secret detail of /srv/models/vader.txt")

    monkeypatch.setitem(comprehend.OPERATIONS, "DetectSentiment", broken)
    client = boto_client("comprehend", aws_server)
    with caplog.at_level(logging.ERROR, logger="socialsight.aws.protocol"), \
            pytest.raises(ClientError) as excinfo:
        client.detect_sentiment(Text=POST, LanguageCode="en")
    assert code_of(excinfo) == ("InternalServerException", 500)
    assert "secret detail" not in str(excinfo.value)
    assert "Traceback" not in str(excinfo.value.response)
    assert any("secret detail" in (r.exc_text or str(r.exc_info)) for r in caplog.records)
    monkeypatch.undo()
    still_answers(aws_server)


@pytest.mark.parametrize(("error", "code"), [
    (NotFoundError("no photo with that id"), "ResourceNotFoundException"),
    (LakeBusyError("another socialsight process is writing to the lake"),
     "ThrottlingException"),
    (MediaError("not a photo"), "InvalidImageFormatException"),
    (InputError("a bad value"), "InvalidParameterException"),
])
def test_socialsight_errors_answer_as_aws_names_them(
        aws_server: str, monkeypatch: pytest.MonkeyPatch, error: Exception,
        code: str) -> None:
    """One table (aws.protocol.AWS_ERRORS) maps the exception tree onto AWS's names."""
    def failing(params: dict[str, Any], ctx: AwsContext) -> dict[str, Any]:
        raise error

    monkeypatch.setitem(comprehend.OPERATIONS, "DetectSentiment", failing)
    client = boto_client("comprehend", aws_server)
    with pytest.raises(ClientError) as excinfo:
        client.detect_sentiment(Text=POST, LanguageCode="en")
    assert code_of(excinfo) == (code, 400)
    assert excinfo.value.response["Error"]["Message"] == str(error)
    monkeypatch.undo()
    still_answers(aws_server)


def test_operations_run_off_the_event_loop(aws_server: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A slow analysis must not stop the server from answering anyone else."""
    others_answered = threading.Event()

    def slow(params: dict[str, Any], ctx: AwsContext) -> dict[str, Any]:
        if not others_answered.wait(60):
            raise AwsError("InternalServerException", "nobody else was answered", 500)
        return {"Languages": []}

    monkeypatch.setitem(comprehend.OPERATIONS, "DetectDominantLanguage", slow)
    client = boto_client("comprehend", aws_server)
    result: dict[str, Any] = {}
    waiting = threading.Thread(target=lambda: result.update(
        client.detect_dominant_language(Text=POST)))
    waiting.start()
    try:
        answer = boto_client("comprehend", aws_server).detect_sentiment(
            Text=POST, LanguageCode="en")
        assert answer["Sentiment"] == "POSITIVE"
    finally:
        others_answered.set()
        waiting.join(60)
    assert result["Languages"] == []


def test_at_most_aws_concurrency_operations_run_at_once(
        aws_lake: Lake, monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests beyond serve.aws_concurrency wait their turn: many clients cannot
    multiply the memory one analysis takes."""
    lock = threading.Lock()
    running = [0, 0]  # now, most at once

    def slow(params: dict[str, Any], ctx: AwsContext) -> dict[str, Any]:
        with lock:
            running[0] += 1
            running[1] = max(running)
        time.sleep(0.3)  # long enough for the other requests to arrive
        with lock:
            running[0] -= 1
        return {"Languages": []}

    monkeypatch.setitem(comprehend.OPERATIONS, "DetectDominantLanguage", slow)
    with server(aws_lake, aws_concurrency=2) as url, ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: post(
            url, "Comprehend_20171127.DetectDominantLanguage", b'{"Text": "hi"}'), range(6)))
    assert [a.status_code for a in answers] == [200] * 6
    assert running[1] == 2


def test_another_host_name_is_refused_on_loopback(aws_server: str) -> None:
    # DNS rebinding: a web page whose name resolves to 127.0.0.1 must not reach the API.
    response = post(aws_server, "Comprehend_20171127.DetectDominantLanguage",
                    b'{"Text": "hello"}', Host="attacker.example")
    assert response.status_code == 421
    response = post(aws_server, "Comprehend_20171127.DetectDominantLanguage",
                    b'{"Text": "hello"}', Origin="http://attacker.example")
    assert response.status_code == 403


def test_with_a_key_pair_every_request_must_be_signed_with_it(aws_lake: Lake) -> None:
    with server(aws_lake, aws_access_key_id=ACCESS_KEY,
                aws_secret_access_key=SECRET_KEY) as url:
        still_answers(url)
        wrong = boto_client("comprehend", url, secret_key="not-the-secret-at-all")
        with pytest.raises(ClientError) as excinfo:
            wrong.detect_sentiment(Text=POST, LanguageCode="en")
        assert code_of(excinfo) == ("InvalidSignatureException", 403)
        stranger = boto_client("comprehend", url, access_key="AKIDSTRANGER")
        with pytest.raises(ClientError) as excinfo:
            stranger.detect_sentiment(Text=POST, LanguageCode="en")
        assert code_of(excinfo) == ("UnrecognizedClientException", 400)
        unsigned = post(url, "Comprehend_20171127.DetectDominantLanguage", b'{"Text": "hi"}')
        assert aws_error(unsigned) == (403, "MissingAuthenticationTokenException")


def test_beyond_loopback_the_key_pair_lets_boto3_in_and_the_token_guards_the_rest(
        aws_lake: Lake) -> None:
    with server(aws_lake, host="0.0.0.0", token=TOKEN, aws_access_key_id=ACCESS_KEY,
                aws_secret_access_key=SECRET_KEY) as url:
        client = boto_client("comprehend", url)
        result = client.detect_sentiment(Text=POST, LanguageCode="en")
        assert result["Sentiment"] == "POSITIVE"
        wrong = boto_client("comprehend", url, secret_key="not-the-secret-at-all")
        with pytest.raises(ClientError) as excinfo:
            wrong.detect_sentiment(Text=POST, LanguageCode="en")
        assert code_of(excinfo) == ("InvalidSignatureException", 403)
        assert httpx.get(url + "/api/openapi.json").status_code == 401
        assert httpx.get(url + "/api/openapi.json",
                         headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_beyond_loopback_without_a_key_pair_the_api_is_off(aws_lake: Lake) -> None:
    with server(aws_lake, host="0.0.0.0", token=TOKEN) as url:
        client = boto_client("comprehend", url)
        with pytest.raises(ClientError) as excinfo:
            client.detect_sentiment(Text=POST, LanguageCode="en")
        assert code_of(excinfo) == ("AccessDeniedException", 403)
        assert "aws_access_key_id" in str(excinfo.value)


@pytest.mark.parametrize(("serve", "message"), [
    ({"aws_access_key_id": ACCESS_KEY}, "together"),
    ({"aws_secret_access_key": SECRET_KEY}, "together"),
    ({"aws_access_key_id": ACCESS_KEY, "aws_secret_access_key": "short"}, "16 characters"),
    ({"aws_access_key_id": "AKID/2024", "aws_secret_access_key": SECRET_KEY}, "'/'"),
])
def test_a_half_or_weak_key_pair_is_refused_at_start(aws_lake: Lake, serve: dict[str, str],
                                                     message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        create_app(aws_lake, load_settings(lake=aws_lake.url, serve=serve))


"""SigV4 as socialsight checks it, against botocore's own signer.

botocore signs a request; :func:`socialsight.aws.sigv4.verify` must accept it as
signed, and refuse it once anything the signature covers has changed.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from socialsight.aws import sigv4
from socialsight.aws.core import AwsError

KEY, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
KEYS = {KEY: SECRET}
BODY = b'{"Text":"I love these shoes","LanguageCode":"en"}'
TARGET = "Comprehend_20171127.DetectSentiment"


def signed(url: str = "http://127.0.0.1:8000/", body: bytes = BODY, method: str = "POST",
           headers: dict[str, str] | None = None, secret: str = SECRET,
           service: str = "comprehend", region: str = "us-east-1") -> sigv4.Request:
    """A request as botocore signs it, in the form the server sees it."""
    request = AWSRequest(method=method, url=url, data=body, headers={
        "X-Amz-Target": TARGET, "Content-Type": "application/x-amz-json-1.1",
        **(headers or {})})
    SigV4Auth(Credentials(KEY, secret), service, region).add_auth(request)
    path, _, query = url.split("/", 3)[3].partition("?")
    host = url.split("/")[2]
    sent = [("Host", host), *request.headers.items()]
    return sigv4.Request(method, "/" + path, query, sent, body)


def refusal(request: sigv4.Request, keys: dict[str, str] = KEYS, **kwargs: object) -> str:
    with pytest.raises(AwsError) as excinfo:
        sigv4.verify(request, keys, **kwargs)  # type: ignore[arg-type]
    return excinfo.value.code


def with_header(request: sigv4.Request, name: str, value: str) -> sigv4.Request:
    kept = [(k, v) for k, v in request.headers if k.lower() != name.lower()]
    return replace(request, headers=[*kept, (name, value)])


def test_botocore_signatures_verify() -> None:
    credential = sigv4.verify(signed(), KEYS)
    assert (credential.key_id, credential.region, credential.service) == (
        KEY, "us-east-1", "comprehend")


@pytest.mark.parametrize("url", [
    "http://localhost:8000/",
    "http://127.0.0.1:9/some%20path/with~tilde/",
    "http://127.0.0.1:9/a/./b/../c?b=2&a=1&a=0&space=a%20b&empty=",
    "http://[::1]:8000/?X=%E2%9C%93",
])
def test_paths_and_queries_canonicalised_as_botocore_does(url: str) -> None:
    assert sigv4.verify(signed(url), KEYS).key_id == KEY


def test_header_values_with_runs_of_spaces() -> None:
    request = signed(headers={"X-Custom": "  a   b  c "})
    assert sigv4.verify(request, KEYS).key_id == KEY


@pytest.mark.parametrize(("tamper", "code"), [
    (lambda r: replace(r, body=r.body.replace(b"love", b"hate")), "InvalidSignatureException"),
    (lambda r: with_header(r, "X-Amz-Target", "Comprehend_20171127.DetectEntities"),
     "InvalidSignatureException"),
    (lambda r: with_header(r, "Host", "127.0.0.1:8001"), "InvalidSignatureException"),
    (lambda r: replace(r, method="PUT"), "InvalidSignatureException"),
    (lambda r: replace(r, query="extra=1"), "InvalidSignatureException"),
    (lambda r: with_header(r, "X-Amz-Date", "20200101T000000Z"), "InvalidSignatureException"),
    (lambda r: with_header(r, "Authorization", "Bearer abc"), "IncompleteSignatureException"),
    (lambda r: with_header(r, "Authorization", "AWS4-HMAC-SHA256 Signature=00"),
     "IncompleteSignatureException"),
    (lambda r: replace(r, headers=[(k, v) for k, v in r.headers if k != "Authorization"]),
     "MissingAuthenticationTokenException"),
])
def test_any_change_to_what_was_signed_is_refused(tamper: object, code: str) -> None:
    assert refusal(tamper(signed())) == code  # type: ignore[operator]


def test_a_wrong_secret_or_an_unknown_key_is_refused() -> None:
    assert refusal(signed(secret="not-the-secret")) == "InvalidSignatureException"
    assert refusal(signed(), {"AKIDOTHER": SECRET}) == "UnrecognizedClientException"


def test_signatures_older_or_newer_than_15_minutes_are_refused() -> None:
    request = signed()
    now = datetime.now(UTC)
    assert sigv4.verify(request, KEYS, now=now + timedelta(minutes=14)).key_id == KEY
    for skew in (timedelta(minutes=16), -timedelta(minutes=16)):
        with pytest.raises(AwsError, match="Signature expired") as excinfo:
            sigv4.verify(request, KEYS, now=now + skew)
        assert excinfo.value.status == 403


def test_the_operation_header_must_be_signed() -> None:
    # Signed without the target, which is added afterwards: it could be swapped in transit.
    aws = AWSRequest(method="POST", url="http://127.0.0.1:8000/", data=BODY,
                     headers={"Content-Type": "application/x-amz-json-1.1"})
    SigV4Auth(Credentials(KEY, SECRET), "comprehend", "us-east-1").add_auth(aws)
    sent = [("Host", "127.0.0.1:8000"), *aws.headers.items(), ("X-Amz-Target", TARGET)]
    assert refusal(sigv4.Request("POST", "/", "", sent, BODY)) == \
        "IncompleteSignatureException"


def test_a_signature_for_another_service_is_refused() -> None:
    request = signed(service="rekognition")
    assert refusal(request, service="comprehend") == "InvalidSignatureException"
    assert sigv4.verify(request, KEYS, service="rekognition").service == "rekognition"


def test_policy_loopback_without_keys_trusts_any_signature() -> None:
    anything = signed(secret="whatever-the-user-typed")
    sigv4.authenticate(anything, None, None, loopback=True)
    sigv4.authenticate(replace(anything, headers=[]), None, None, loopback=True)
    with pytest.raises(AwsError) as excinfo:
        sigv4.authenticate(anything, None, None, loopback=False)
    assert (excinfo.value.code, excinfo.value.status) == ("AccessDeniedException", 403)


def test_policy_with_keys_checks_every_request_on_loopback_too() -> None:
    sigv4.authenticate(signed(), KEY, SECRET, loopback=True)
    sigv4.authenticate(signed(), KEY, SECRET, loopback=False)
    for loopback in (True, False):
        with pytest.raises(AwsError, match="signature we calculated"):
            sigv4.authenticate(signed(secret="guess"), KEY, SECRET, loopback=loopback)

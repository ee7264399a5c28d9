"""Who may call the AWS API: AWS Signature Version 4, checked on every request.

A request signed by boto3 (or any AWS SDK) carries::

    Authorization: AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/comprehend/aws4_request,
                   SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=<hex>
    X-Amz-Date: 20250101T120000Z

:func:`verify` rebuilds the canonical request from what arrived (method, path, query,
the signed headers, the SHA-256 of the body), the string to sign and the signing key
derived from the secret, and compares signatures in constant time. The date must be
within :data:`MAX_SKEW` of this machine's clock, and ``host``, ``x-amz-date`` and
``x-amz-target`` must be among the signed headers.

:func:`authenticate` is the policy (see docs/aws-api.md):

- with ``serve.aws_access_key_id`` and its secret set, every request must be signed
  with that pair, on loopback too;
- without them, a server on loopback accepts any signature (boto3 always signs; users
  pass throw-away keys), and a server beyond loopback refuses every request.

Failures are :class:`~socialsight.aws.core.AwsError` with AWS's own names:
MissingAuthenticationTokenException, IncompleteSignatureException,
UnrecognizedClientException, InvalidSignatureException, AccessDeniedException.
"""

from __future__ import annotations

import hashlib
import hmac
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, unquote

from socialsight.aws.core import AwsError

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW = timedelta(minutes=15)
TIME_FORMAT = "%Y%m%dT%H%M%SZ"
# Headers that must be signed when present: the host (stops replays to another
# server), the date (stops replays later) and the operation (stops swapping it).
MUST_SIGN = ("host", "x-amz-date", "x-amz-target")
_FIELD = re.compile(r"\s*(Credential|SignedHeaders|Signature)\s*=\s*([^,\s]*)\s*")


@dataclass(frozen=True)
class Credential:
    """The signer's key id and the scope it signed for."""

    key_id: str
    date: str  # YYYYMMDD
    region: str
    service: str

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


@dataclass(frozen=True)
class Signed:
    """An ``Authorization`` header taken apart."""

    credential: Credential
    signed_headers: tuple[str, ...]
    signature: str


@dataclass(frozen=True)
class Request:
    """What a signature covers, as the server received it."""

    method: str
    raw_path: str  # as sent, still percent-encoded
    query: str  # as sent, still percent-encoded
    headers: list[tuple[str, str]]  # every header, names in any case, repeats allowed
    body: bytes

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name]
        return ",".join(values) if values else None


def parse_authorization(value: str | None) -> Signed:
    """The parts of an ``AWS4-HMAC-SHA256`` Authorization header."""
    if not value:
        raise AwsError("MissingAuthenticationTokenException", "Missing Authentication Token",
                       403)
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise AwsError("IncompleteSignatureException",
                       f"Unsupported authorization type: {algorithm!r} (use {ALGORITHM})")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        match = _FIELD.fullmatch(part)
        if match:
            fields[match.group(1)] = match.group(2)
    missing = [k for k in ("Credential", "SignedHeaders", "Signature") if not fields.get(k)]
    if missing:
        raise AwsError("IncompleteSignatureException",
                       f"Authorization header requires {', '.join(missing)}")
    scope = fields["Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request" or not all(scope):
        raise AwsError("IncompleteSignatureException",
                       "Credential must have the form KEY/YYYYMMDD/REGION/SERVICE/aws4_request")
    return Signed(Credential(*scope[:4]), tuple(fields["SignedHeaders"].split(";")),
                  fields["Signature"].lower())


def canonical_request(request: Request, signed_headers: Iterable[str]) -> str:
    """The canonical request of the spec, with the body's own SHA-256."""
    lines = [request.method.upper(), _canonical_path(request.raw_path),
             _canonical_query(request.query)]
    names = sorted({h.lower() for h in signed_headers})
    lines += [f"{name}:{_trim(request.header(name) or '')}" for name in names]
    lines += ["", ";".join(names), hashlib.sha256(request.body).hexdigest()]
    return "\n".join(lines)


def string_to_sign(amz_date: str, scope: str, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return "\n".join((ALGORITHM, amz_date, scope, digest))


def signing_key(secret: str, credential: Credential) -> bytes:
    key = _hmac(f"AWS4{secret}".encode(), credential.date)
    for part in (credential.region, credential.service, "aws4_request"):
        key = _hmac(key, part)
    return key


def signature(secret: str, credential: Credential, amz_date: str, canonical: str) -> str:
    key = signing_key(secret, credential)
    sts = string_to_sign(amz_date, credential.scope, canonical)
    return hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()


def verify(request: Request, keys: dict[str, str], now: datetime | None = None,
           service: str | None = None) -> Credential:
    """The request's credential if its signature is valid for one of ``keys``
    (key id → secret); an :class:`AwsError` saying what is wrong otherwise."""
    signed = parse_authorization(request.header("authorization"))
    credential = signed.credential
    secret = keys.get(credential.key_id)
    if secret is None:
        raise AwsError("UnrecognizedClientException",
                       "The security token included in the request is invalid.")
    amz_date = _check_date(request, credential, now or datetime.now(UTC))
    unsigned = [h for h in MUST_SIGN if request.header(h) is not None
                and h not in signed.signed_headers]
    if unsigned:
        raise AwsError("IncompleteSignatureException",
                       f"These headers must be signed: {', '.join(unsigned)}")
    if service is not None and credential.service != service:
        raise AwsError("InvalidSignatureException",
                       f"Credential should be scoped to correct service: '{service}'.", 403)
    expected = signature(secret, credential, amz_date,
                         canonical_request(request, signed.signed_headers))
    if not hmac.compare_digest(expected.encode(), signed.signature.encode()):
        raise AwsError("InvalidSignatureException",
                       "The request signature we calculated does not match the signature "
                       "you provided. Check your AWS Secret Access Key and signing method.",
                       403)
    return credential


def authenticate(request: Request, key_id: str | None, secret: str | None,
                 loopback: bool, service: str | None = None) -> None:
    """The server's policy: its key pair when configured, loopback trust otherwise."""
    if key_id and secret:
        verify(request, {key_id: secret}, service=service)
    elif not loopback:
        raise AwsError("AccessDeniedException",
                       "The AWS API is off on this server: it listens beyond loopback and "
                       "has no key pair (set serve.aws_access_key_id and "
                       "serve.aws_secret_access_key).", 403)


def _check_date(request: Request, credential: Credential, now: datetime) -> str:
    amz_date = request.header("x-amz-date")
    if amz_date is None:
        raise AwsError("IncompleteSignatureException",
                       "Authorization header requires an X-Amz-Date header.")
    try:
        when = datetime.strptime(amz_date, TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise AwsError("IncompleteSignatureException",
                       f"X-Amz-Date must be YYYYMMDDTHHMMSSZ, not {amz_date!r}") from None
    if amz_date[:8] != credential.date:
        raise AwsError("InvalidSignatureException",
                       f"Date in Credential scope does not match YYYYMMDD from X-Amz-Date: "
                       f"{credential.date} != {amz_date[:8]}", 403)
    if abs(now - when) > MAX_SKEW:
        raise AwsError("InvalidSignatureException",
                       f"Signature expired: {amz_date} is not within 15 minutes of "
                       f"{now.strftime(TIME_FORMAT)}.", 403)
    return amz_date


def _canonical_path(raw_path: str) -> str:
    path = posixpath.normpath(raw_path or "/")
    if path.startswith("//"):  # normpath keeps a leading double slash
        path = "/" + path.lstrip("/")
    if raw_path.endswith("/") and not path.endswith("/"):
        path += "/"
    return quote(path, safe="/~")


def _canonical_query(query: str) -> str:
    pairs = []
    for part in query.split("&") if query else ():
        key, _, value = part.partition("=")
        pairs.append((_encode(unquote(key)), _encode(unquote(value))))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _encode(value: str) -> str:
    return quote(value, safe="-_.~")


def _trim(value: str) -> str:
    return " ".join(value.split())


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()
